#include "frame.h"

static int32_t min32(int32_t a, int32_t b) { return a < b ? a : b; }
static int32_t max32(int32_t a, int32_t b) { return a > b ? a : b; }

struct dp_rect dp_rect_union(struct dp_rect a, struct dp_rect b)
{
	int32_t x0, y0, x1, y1;

	if (dp_rect_empty(a))
		return b;
	if (dp_rect_empty(b))
		return a;
	x0 = min32(a.x, b.x);
	y0 = min32(a.y, b.y);
	x1 = max32(a.x + a.width, b.x + b.width);
	y1 = max32(a.y + a.height, b.y + b.height);
	return (struct dp_rect){ x0, y0, x1 - x0, y1 - y0 };
}

struct dp_rect dp_rect_intersect(struct dp_rect a, struct dp_rect b)
{
	int32_t x0 = max32(a.x, b.x), y0 = max32(a.y, b.y);
	int32_t x1 = min32(a.x + a.width, b.x + b.width);
	int32_t y1 = min32(a.y + a.height, b.y + b.height);

	if (x1 <= x0 || y1 <= y0)
		return (struct dp_rect){ 0, 0, 0, 0 };
	return (struct dp_rect){ x0, y0, x1 - x0, y1 - y0 };
}
