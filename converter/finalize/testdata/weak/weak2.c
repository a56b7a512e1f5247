int __attribute__((weak)) tramp(int *third_a, long third_b) { return third_b ? -22 : 1; }
