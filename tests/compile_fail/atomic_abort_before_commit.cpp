// expect: a participant needs .commit\(fn\) before .abort\(fn\)
#include "txflow/saga/atomic.hpp"
txflow::atomic::Vote p(txflow::atomic::Context&);
void f(txflow::atomic::Context&);
auto txn = txflow::Atomic("transfer").participant("a").prepare(p).abort(f);
int main() {
    return 0;
}
