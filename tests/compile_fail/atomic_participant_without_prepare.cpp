// expect: a participant needs .prepare\(fn\) first, then .commit\(fn\) and .abort\(fn\)
#include "txflow/saga/atomic.hpp"
void f(txflow::atomic::Context&);
auto txn = txflow::Atomic("transfer").participant("a").commit(f);
int main() {
    return 0;
}
