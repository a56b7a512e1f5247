/* Module b, object 1 of 2: the module's own struct is defined here and only declared in
 * mod_b_util.c, which the merge resolves; the rest comes from the base. */
#include "examples/c/types.h"
#include "mod_b.h"

struct mod_b_dev {
	const char *name;
	struct table *table;
	cmp_fn cmp;
	struct mod_b_dev *next;
	double load;
};

static struct mod_b_dev first = { .name = "first" };

struct mod_b_dev *mod_b_first(void)
{
	return &first;
}

int mod_b_count(const struct mod_b_dev *d)
{
	int n = 0;

	for (; d; d = d->next)
		n++;
	return n;
}
