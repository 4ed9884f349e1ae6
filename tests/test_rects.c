/* Rectangle sets (engine/rects.h), which the OCR cache keeps its read and
 * changed areas in: subtraction and difference cover exactly what they
 * should (checked pixel by pixel on a small grid), merging and dropping
 * contained rects. */
#include <stdlib.h>
#include <string.h>

#include "engine/rects.h"
#include "tst.h"

#define G 64

/* How many rects of s cover each pixel of a G x G grid. */
static void paint(const struct dp_rects *s, int *grid)
{
	memset(grid, 0, G * G * sizeof(*grid));
	for (size_t i = 0; i < s->n; i++)
		for (int32_t y = s->v[i].y; y < s->v[i].y + s->v[i].height; y++)
			for (int32_t x = s->v[i].x; x < s->v[i].x + s->v[i].width; x++)
				if (x >= 0 && y >= 0 && x < G && y < G)
					grid[y * G + x]++;
}

static uint32_t seed = 3;

static int32_t rnd(int32_t n)
{
	seed = seed * 1103515245u + 12345u;
	return (int32_t)((seed >> 8) % (uint32_t)n);
}

static struct dp_rect random_rect(void)
{
	int32_t x = rnd(G - 4), y = rnd(G - 4);

	return (struct dp_rect){ x, y, 1 + rnd(G - x), 1 + rnd(G - y) };
}

static void test_subtract_leaves_exactly_the_rest(void)
{
	static int before[G * G], after[G * G];
	int bad = 0;

	for (int round = 0; round < 300; round++) {
		struct dp_rects s = { 0 };
		struct dp_rect cut = random_rect();
		int n = 1 + rnd(5);

		for (int i = 0; i < n; i++)
			dp_rects_push(&s, random_rect());
		paint(&s, before);
		TST_EQ_INT(dp_rects_subtract(&s, cut), 0);
		paint(&s, after);
		for (int32_t y = 0; y < G; y++)
			for (int32_t x = 0; x < G; x++)
				bad += after[y * G + x] != (dp_rect_contains_point(cut, x, y) ? 0 : before[y * G + x]);
		for (size_t i = 0; i < s.n; i++)
			TST_CHECK(!dp_rect_empty(s.v[i]));
		dp_rects_free(&s);
	}
	TST_EQ_INT(bad, 0);
}

static void test_difference_covers_what_is_missing(void)
{
	static int covered[G * G], missing[G * G];
	int bad = 0;

	for (int round = 0; round < 300; round++) {
		struct dp_rects s = { 0 }, out = { 0 };
		struct dp_rect r = random_rect();
		int n = rnd(6);

		for (int i = 0; i < n; i++)
			dp_rects_push(&s, random_rect());
		TST_EQ_INT(dp_rects_difference(&out, r, &s), 0);
		paint(&s, covered);
		paint(&out, missing);
		for (int32_t y = 0; y < G; y++)
			for (int32_t x = 0; x < G; x++)
				bad += missing[y * G + x] != (dp_rect_contains_point(r, x, y) && !covered[y * G + x]);
		dp_rects_free(&s);
		dp_rects_free(&out);
	}
	TST_EQ_INT(bad, 0); /* each missing pixel exactly once, nothing else */
}

static void test_merge_and_contained(void)
{
	struct dp_rects s = { 0 };

	dp_rects_push(&s, (struct dp_rect){ 0, 0, 10, 10 });
	dp_rects_push(&s, (struct dp_rect){ 12, 0, 10, 10 });
	dp_rects_push(&s, (struct dp_rect){ 100, 100, 5, 5 });
	dp_rects_push(&s, (struct dp_rect){ 0, 0, 0, 5 }); /* empty: not kept */
	TST_EQ_INT(s.n, 3);
	dp_rects_merge(&s, 0);
	TST_EQ_INT(s.n, 3);
	dp_rects_merge(&s, 2); /* 2 pixels between them: still two */
	TST_EQ_INT(s.n, 3);
	dp_rects_merge(&s, 3); /* fewer than 3: one */
	TST_EQ_INT(s.n, 2);
	TST_EQ_INT(s.v[0].width, 22);
	TST_EQ_INT(dp_rects_find_intersecting(&s, (struct dp_rect){ 101, 101, 1, 1 }), 1);
	TST_EQ_INT(dp_rects_find_intersecting(&s, (struct dp_rect){ 50, 50, 1, 1 }), -1);
	dp_rects_push(&s, (struct dp_rect){ 2, 2, 3, 3 });
	dp_rects_push(&s, (struct dp_rect){ 100, 100, 5, 5 });
	dp_rects_drop_contained(&s);
	TST_EQ_INT(s.n, 2); /* inside the first; equal to the second */
	TST_CHECK(dp_rects_contain_point(&s, 104, 104));
	TST_CHECK(!dp_rects_contain_point(&s, 105, 104));
	dp_rects_free(&s);
}

int main(void)
{
	TST_RUN(test_subtract_leaves_exactly_the_rest);
	TST_RUN(test_difference_covers_what_is_missing);
	TST_RUN(test_merge_and_contained);
	TST_EXIT();
}
