/* Translation unit B: defines struct opaque (only declared in a.c), its own static helper,
 * and functions taking the packed and nested types. */
#include <stdlib.h>

#include "types.h"

struct opaque {
	int size;
	struct opaque *parent;
	union {
		long as_long;
		void *as_ptr;
	} u;
	char payload[];
};

struct packet global_packet = { .len = 8, .name = "pkt" };
struct wire global_wire;
handler_fn global_handler;

/* Same name as a.c's static helper, different prototype. */
static __attribute__((noinline)) int helper(int a, int b)
{
	return a * 31 + b + (global_handler != NULL);
}

struct opaque *opaque_new(int size)
{
	struct opaque *o = malloc(sizeof(*o) + (size_t)size);

	if (o) {
		o->size = size;
		o->parent = NULL;
		o->u.as_long = helper(size, 1);
	}
	return o;
}

int opaque_size(const struct opaque *o)
{
	return o->size;
}

int packet_checksum(const struct packet *p, const struct wire *w)
{
	int sum = p->len + p->type + p->code + p->peer.port + p->nibbles.a;

	for (int i = 0; i < 16; i++)
		sum += p->peer.addr6[i];
	return helper(sum, (int)(w->value + w->stamp));
}

enum big big_pick(int i)
{
	return i ? BIG_HUGE : BIG_TOP;
}
