/* Fixture for finalize's end-to-end test; see build.sh. */
#define PERCPU __attribute__((section(".data..percpu")))

PERCPU static long cpu_number;
PERCPU const char *names[4];

static __attribute__((noinline)) int helper(long y, long z)
{
	return y - z + cpu_number;
}

int decl_only(int q)
{
	return helper(q, 1);
}

int weak_fn(int strong)
{
	return strong + 2;
}

int varargs_fn(int n, ...)
{
	return n + names[n] != 0;
}

void _start(void)
{
	for (;;)
		;
}
