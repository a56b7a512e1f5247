/* Fixture for finalize's end-to-end test; see build.sh. */
#define PERCPU __attribute__((section(".data..percpu")))

struct rq {
	long nr;
	int cpu;
	char name[16];
};

PERCPU struct rq runqueues;
PERCPU static int cpu_number = 1;
PERCPU int fixed_first = 2;
PERCPU int zero_sized[0];
int global_data = 5;

extern int decl_only(int);

static __attribute__((noinline)) int helper(int x)
{
	return x * global_data + cpu_number;
}

__attribute__((noinline)) int ext_func(struct rq *r, int n)
{
	return helper(n) + r->cpu;
}

__attribute__((weak, noinline)) int weak_fn(int a)
{
	return a + 1;
}

static inline int inl(int a)
{
	return a << 1;
}

int use_inl(int v)
{
	return inl(v) + decl_only(v) + weak_fn(v) + zero_sized[0];
}
