// expect: say .compensate\(fn\) or .no_compensation\(\) first, then the step's policies
#include <chrono>
#include "txflow/saga/saga.hpp"
void f(txflow::saga::StepContext&);
auto saga = txflow::Saga("transfer").step("debit", f).timeout(std::chrono::seconds(2)).no_compensation().build();
int main() { return 0; }
