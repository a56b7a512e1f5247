extern void __attribute__((cold)) slow(const char *);
extern int g;
int tramp(int *strong_a, long strong_b)
{
	if (__builtin_expect(strong_b == 12345, 0)) { slow("x"); slow("y"); g = 3; return -1; }
	return *strong_a + (int)strong_b;
}
int plain(int pa) { return pa + g; }
