#ifndef SHAPES_H
#define SHAPES_H

struct point {
	int x, y;
};

struct shape {
	const char *name;
	unsigned int sides : 4;
	struct point corners[4];
};

int shape_area(const struct shape *s);

#endif
