/* A module-like object on the program's BTF: struct shape comes from the base. */
#include "shapes.h"

struct ring {
	struct shape *shapes[8];
	unsigned int head;
};

int ring_push(struct ring *r, struct shape *s)
{
	r->shapes[r->head++ % 8] = s;
	return shape_area(s);
}
