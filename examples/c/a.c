/* Translation unit A: arrays, flexible arrays, a per-CPU variable, a static function named
 * like one in b.c, a varargs function, and struct opaque used only through a pointer. */
#include <stdarg.h>

#include "types.h"

/* A variable in the kernel's per-CPU section: the merge describes it in a DATASEC
 * ".data..percpu" with its offset, as pahole does for vmlinux. */
__attribute__((section(".data..percpu"))) long percpu_counter = 1;
__attribute__((section(".data..percpu"))) struct cacheline percpu_line;

/* Globals, so that every type of types.h appears in this unit's DWARF. */
struct table global_table = { .scale = 1.5f, .enabled = 1 };
struct flags global_flags = { .ready = 1, .mode = 5, .delta = -3, .wide = 1ULL << 35 };
enum signed_big global_sbig = SBIG_MIN;
const char *const names[2][3] = { { "a", "b", "c" }, { "d", "e", "f" } };
static int file_local_count;

/* Same name as b.c's static helper, different prototype. */
static __attribute__((noinline)) int helper(int x)
{
	file_local_count += x;
	return file_local_count * 3;
}

int table_sum(const struct table *t)
{
	int sum = 0;

	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 4; j++)
			sum += t->grid[i][j];
	if (t->compare)
		sum += t->compare(t, t->next);
	return helper(sum) + (t->priv != NULL);
}

size_t buffer_fill(struct buffer *b, unsigned char v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		b->data[i] = v;
	b->len = n;
	b->flags.ready = 1;
	return b->len;
}

long percpu_add(long v)
{
	percpu_counter += v;
	percpu_line.counter += helper((int)v);
	return percpu_counter;
}

int log_all(const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	va_start(ap, fmt);
	for (const char *p = fmt; *p; p++)
		if (*p == '%')
			n += va_arg(ap, int);
	va_end(ap);
	return n;
}
