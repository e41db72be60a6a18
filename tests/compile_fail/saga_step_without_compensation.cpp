// expect: the previous step has no compensation; add .compensate\(fn\) or .no_compensation\(\) before the next step
#include "txflow/saga/saga.hpp"
void f(txflow::saga::StepContext&);
auto saga = txflow::Saga("transfer").step("debit", f).step("credit", f, f).build();
int main() { return 0; }
