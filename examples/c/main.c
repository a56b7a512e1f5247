/* The example program: calls into both units, so that the linked binary keeps them. */
#include <stdio.h>
#include <stdlib.h>

#include "types.h"

extern struct table global_table;

static int compare_tables(const void *a, const void *b)
{
	return a == b;
}

int main(int argc, char **argv)
{
	struct buffer *b = malloc(sizeof(*b) + 16);
	struct opaque *o = opaque_new(argc);
	struct packet p = { .len = 4, .name = argv[0] };
	struct wire w = { .tag = 1, .value = 2, .stamp = 3 };
	long total;

	if (!b || !o)
		return 1;
	global_table.compare = compare_tables;
	total = table_sum(&global_table) + (long)buffer_fill(b, 7, 16) + percpu_add(argc);
	total += opaque_size(o) + packet_checksum(&p, &w) + (long)big_pick(argc);
	total += log_all("%d %d", 1, 2);
	printf("%ld\n", total);
	free(b);
	free(o);
	return 0;
}
