#include "shapes.h"

int main(void)
{
	struct shape sq = { "square", 4, { { 0, 0 }, { 2, 0 }, { 2, 2 }, { 0, 2 } } };

	return shape_area(&sq) == 4 ? 0 : 1;
}
