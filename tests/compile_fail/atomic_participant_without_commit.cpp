// expect: the previous participant has no commit; add .commit\(fn\) and .abort\(fn\)
#include "txflow/saga/atomic.hpp"
txflow::atomic::Vote p(txflow::atomic::Context&);
auto txn = txflow::Atomic("transfer").participant("a").prepare(p).participant("b");
int main() {
    return 0;
}
