// expect: every step needs .compensate\(fn\) or .no_compensation\(\)
#include "txflow/saga/saga.hpp"
void f(txflow::saga::StepContext&);
auto saga = txflow::Saga("fanout").parallel(txflow::step("a", f, f), txflow::step("b", f)).build();
int main() { return 0; }
