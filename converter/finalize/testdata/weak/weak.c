int g;
void slow(const char *s) { (void)s; g++; }
int __attribute__((weak)) tramp(int *weak_a, long weak_b) { return weak_b ? -95 : 0; }
int __attribute__((weak)) plain(int pb) { return pb; }
int main(void) { int x = 1; return tramp(&x, 2) + plain(1); }
