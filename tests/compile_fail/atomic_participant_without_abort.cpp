// expect: the last participant has no abort; add .abort\(fn\) before build\(\)
#include "txflow/saga/atomic.hpp"
txflow::atomic::Vote p(txflow::atomic::Context&);
void f(txflow::atomic::Context&);
auto txn = txflow::Atomic("transfer").participant("a").prepare(p).commit(f).build();
int main() {
    return 0;
}
