// expect: the last step has no compensation; add .compensate\(fn\) or .no_compensation\(\) before build\(\)
#include "txflow/saga/saga.hpp"
void f(txflow::saga::StepContext&);
auto saga = txflow::Saga("transfer").step("debit", f, f).step("notify", f).build();
int main() { return 0; }
