/* Module b, object 2 of 2. */
#include "examples/c/types.h"
#include "mod_b.h"

u32_t mod_b_hash(const struct mod_b_dev *d, u32_t seed)
{
	return seed * 31u + (u32_t)(unsigned long)d;
}

int mod_b_walk(struct mod_b_dev *d, int (*visit)(struct mod_b_dev *))
{
	int n = 0;

	for (int i = mod_b_count(d); i > 0; i--)
		n += visit(d);
	return n;
}
