/* A small "module": one object. Its types mix the base's (struct packet, struct flags,
 * enum color of examples/c/types.h, which the base BTF already has) with its own. */
#include "examples/c/types.h"

struct mod_a_state {
	struct packet *last;
	struct flags flags;
	enum color color;
	unsigned long hits;
};

static struct mod_a_state state;

int mod_a_handle(struct packet *p)
{
	state.last = p;
	state.hits++;
	return p->len;
}

enum color mod_a_color(void)
{
	return state.color;
}
