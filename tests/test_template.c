/* Template matching on synthetic frames (no X): templates cut from a frame
 * are found again at their exact place whatever their alignment to the
 * search pyramid, in a region, through a PNG file, under a change of
 * brightness and contrast; a threshold not reached, a flat template and bad
 * arguments are errors that say why. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/image_png.h"
#include "engine/locate.h"
#include "tst.h"

#define W 640
#define H 400

static uint32_t seed = 1;

static uint32_t rnd(void)
{
	seed = seed * 1103515245u + 12345u;
	return seed >> 8;
}

static struct dp_frame new_frame(int32_t w, int32_t h)
{
	struct dp_frame f = { .width = w, .height = h, .stride = w * 4 + 8 };

	f.pixels = calloc((size_t)f.stride, (size_t)h);
	return f;
}

static void put(struct dp_frame *f, int32_t x, int32_t y, uint32_t bgrx)
{
	((uint32_t *)(void *)(f->pixels + (size_t)y * (size_t)f->stride))[x] = bgrx;
}

static uint32_t get(const struct dp_frame *f, int32_t x, int32_t y)
{
	return dp_frame_pixel(f, x, y);
}

static uint32_t grey(int v)
{
	v = v < 0 ? 0 : v > 255 ? 255 : v;
	return (uint32_t)v * 0x010101u;
}

/* Something like a screen: a soft gradient, panels, "text" strokes, noise. */
static struct dp_frame screen_like(void)
{
	struct dp_frame f = new_frame(W, H);

	for (int32_t y = 0; y < H; y++)
		for (int32_t x = 0; x < W; x++)
			put(&f, x, y, grey(200 + x / 20 - y / 30));
	for (int i = 0; i < 60; i++) {
		int32_t x0 = (int32_t)(rnd() % (W - 40)), y0 = (int32_t)(rnd() % (H - 20));
		int32_t w = 10 + (int32_t)(rnd() % 80), h = 6 + (int32_t)(rnd() % 30);
		uint32_t c = rnd() & 0xffffff;

		for (int32_t y = y0; y < y0 + h && y < H; y++)
			for (int32_t x = x0; x < x0 + w && x < W; x++)
				put(&f, x, y, c);
	}
	for (int i = 0; i < 4000; i++) { /* short strokes, like glyphs */
		int32_t x = (int32_t)(rnd() % (W - 4)), y = (int32_t)(rnd() % (H - 8)), v = (int32_t)(rnd() % 60);

		for (int k = 0; k < 5; k++)
			put(&f, x + (k & 1), y + k, grey(v));
	}
	for (int32_t y = 0; y < H; y++)
		for (int32_t x = 0; x < W; x++)
			if (rnd() % 7 == 0)
				put(&f, x, y, get(&f, x, y) ^ 0x030303u);
	return f;
}

static int find(const struct dp_frame *f, const struct dp_rect *cut, double threshold, const struct dp_rect *region,
		struct dp_match *m, struct dp_error *err)
{
	struct dp_template *t = NULL;
	int r = dp_template_from_frame(&t, f, cut, "cut", err);

	if (r == 0)
		r = dp_locate_template(f, t, threshold, region, m, err);
	dp_template_destroy(t);
	return r;
}

static void test_found_at_every_alignment(void)
{
	static const struct {
		int32_t w, h;
	} sizes[] = { { 12, 12 }, { 40, 16 }, { 64, 48 }, { 150, 90 }, { 7, 30 } };
	struct dp_frame f = screen_like();
	struct dp_error err = { 0 };
	int found = 0, tried = 0;

	/* Positions in all 16 phases of the coarsest pyramid level. */
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		for (int32_t k = 0; k < 16; k++) {
			struct dp_rect cut = { 100 + 37 * k + k % 16, 40 + 17 * k + (k * 5) % 16, sizes[s].w, sizes[s].h };
			struct dp_match m;

			if (cut.x + cut.width > W || cut.y + cut.height > H)
				continue;
			tried++;
			if (find(&f, &cut, 0.95, NULL, &m, &err) != 0) {
				fprintf(stderr, "  %dx%d at %d,%d: %s\n", cut.width, cut.height, cut.x, cut.y, err.message);
				continue;
			}
			if (m.box.x == cut.x && m.box.y == cut.y && m.box.width == cut.width &&
			    m.box.height == cut.height && m.score > 0.999f)
				found++;
			else
				fprintf(stderr, "  %dx%d at %d,%d: found at %d,%d score %.4f\n", cut.width, cut.height,
					cut.x, cut.y, m.box.x, m.box.y, m.score);
		}
	}
	TST_EQ_INT(found, tried);
	free(f.pixels);
}

static void test_region_and_reading_order(void)
{
	struct dp_frame f = screen_like();
	struct dp_rect a = { 50, 60, 48, 32 }, b = { 400, 300, 48, 32 };
	struct dp_error err = { 0 };
	struct dp_match m;

	/* Two identical copies: equal scores go to the first in reading order. */
	for (int32_t y = 0; y < a.height; y++)
		for (int32_t x = 0; x < a.width; x++)
			put(&f, b.x + x, b.y + y, get(&f, a.x + x, a.y + y));
	TST_EQ_INT(find(&f, &b, 0.9, NULL, &m, &err), 0);
	TST_EQ_INT(m.box.x, a.x);
	TST_EQ_INT(m.box.y, a.y);
	TST_EQ_INT(find(&f, &a, 0.9, &(struct dp_rect){ 300, 200, 300, 180 }, &m, &err), 0);
	TST_EQ_INT(m.box.x, b.x);
	TST_EQ_INT(m.box.y, b.y);
	TST_CHECK(m.score > 0.999f);
	/* Frames placed on the screen (a monitor's grab): screen coordinates. */
	f.x = 1920;
	f.y = 100;
	TST_EQ_INT(find(&f, &(struct dp_rect){ 1920 + a.x, 100 + a.y, a.width, a.height }, 0.9,
			&(struct dp_rect){ 1920 + 300, 100 + 200, 300, 180 }, &m, &err), 0);
	TST_EQ_INT(m.box.x, 1920 + b.x);
	TST_EQ_INT(m.box.y, 100 + b.y);
	free(f.pixels);
}

static void test_brightness_and_contrast_do_not_matter(void)
{
	struct dp_frame f = screen_like(), g = new_frame(W, H);
	struct dp_rect cut = { 210, 130, 60, 40 };
	struct dp_template *t = NULL;
	struct dp_error err = { 0 };
	struct dp_match m;

	/* The template from f, searched in g: f's grey levels * 0.7 + 40. */
	for (int32_t y = 0; y < H; y++)
		for (int32_t x = 0; x < W; x++)
			put(&g, x, y, grey((int)((get(&f, x, y) & 0xff) * 7 / 10 + 40)));
	for (int32_t y = 0; y < H; y++)
		for (int32_t x = 0; x < W; x++)
			put(&f, x, y, grey((int)(get(&f, x, y) & 0xff)));
	TST_REQUIRE(dp_template_from_frame(&t, &f, &cut, "grey", &err) == 0);
	TST_EQ_INT(dp_locate_template(&g, t, 0.98, NULL, &m, &err), 0);
	TST_EQ_INT(m.box.x, cut.x);
	TST_EQ_INT(m.box.y, cut.y);
	TST_CHECK(m.score > 0.99f);
	dp_template_destroy(t);
	free(f.pixels);
	free(g.pixels);
}

static void test_threshold_not_reached(void)
{
	struct dp_frame f = screen_like(), noise = new_frame(64, 64);
	struct dp_template *t = NULL;
	struct dp_error err = { 0 };
	struct dp_match m;

	for (int32_t y = 0; y < 64; y++)
		for (int32_t x = 0; x < 64; x++)
			put(&noise, x, y, rnd() & 0xffffff);
	TST_REQUIRE(dp_template_from_frame(&t, &noise, &(struct dp_rect){ 8, 8, 40, 30 }, "noise.png", &err) == 0);
	TST_EQ_INT(dp_locate_template(&f, t, 0.9, NULL, &m, &err), -ENOENT);
	TST_CHECK(strstr(err.message, "noise.png") != NULL);
	TST_CHECK(strstr(err.message, "best match") != NULL);
	TST_CHECK(strstr(err.message, "below the threshold 0.900") != NULL);
	fprintf(stderr, "  (%s)\n", err.message);
	/* Whatever the best was, threshold 0 accepts it. */
	TST_EQ_INT(dp_locate_template(&f, t, 0, NULL, &m, &err), 0);
	TST_CHECK(m.score < 0.9f);
	dp_template_destroy(t);
	free(f.pixels);
	free(noise.pixels);
}

static void test_refusals(void)
{
	struct dp_frame f = screen_like(), flat = new_frame(32, 32);
	struct dp_template *t = NULL;
	struct dp_error err = { 0 };
	struct dp_match m;

	for (int32_t y = 0; y < 32; y++)
		for (int32_t x = 0; x < 32; x++)
			put(&flat, x, y, 0x336699);
	TST_EQ_INT(dp_template_from_frame(&t, &flat, &(struct dp_rect){ 0, 0, 32, 32 }, "flat", &err), -EINVAL);
	TST_CHECK(strstr(err.message, "single colour") != NULL);
	TST_CHECK(t == NULL);
	TST_EQ_INT(dp_template_from_frame(&t, &f, &(struct dp_rect){ W - 10, 0, 20, 20 }, "out", &err), -EINVAL);
	TST_EQ_INT(dp_template_from_frame(&t, &f, &(struct dp_rect){ 10, 10, 100, 60 }, "ok", &err), 0);
	TST_EQ_INT(dp_locate_template(&f, t, 1.5, NULL, &m, &err), -EINVAL);
	TST_EQ_INT(dp_locate_template(&f, t, -0.1, NULL, &m, &err), -EINVAL);
	TST_EQ_INT(dp_locate_template(&f, t, 0.9, &(struct dp_rect){ 5000, 0, 10, 10 }, &m, &err), -EINVAL);
	TST_EQ_INT(dp_locate_template(&f, t, 0.9, &(struct dp_rect){ 0, 0, 90, 400 }, &m, &err), -ENOENT);
	TST_CHECK(strstr(err.message, "larger than the area") != NULL);
	dp_template_destroy(t);
	TST_EQ_INT(dp_template_load(&t, "/nonexistent/x.png", &err) < 0, 1);
	TST_CHECK(t == NULL);
	free(f.pixels);
	free(flat.pixels);
}

static void test_png_file(void)
{
	struct dp_frame f = screen_like(), part;
	struct dp_rect cut = { 333, 222, 50, 25 };
	struct dp_template *t = NULL;
	struct dp_error err = { 0 };
	char dir[64], path[96];
	struct dp_match m;

	snprintf(dir, sizeof(dir), "%s/dp-template-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	TST_REQUIRE(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/t.png", dir);
	part = (struct dp_frame){ .width = cut.width, .height = cut.height, .stride = f.stride,
				  .pixels = f.pixels + (size_t)cut.y * (size_t)f.stride + (size_t)cut.x * 4 };
	TST_REQUIRE(dp_png_write(path, &part, &err) == 0);
	TST_EQ_INT(dp_template_load(&t, path, &err), 0);
	TST_EQ_INT(dp_locate_template(&f, t, 0.99, NULL, &m, &err), 0);
	TST_EQ_INT(m.box.x, cut.x);
	TST_EQ_INT(m.box.y, cut.y);
	TST_EQ_STR(m.text, path);
	dp_template_destroy(t);
	unlink(path);
	rmdir(dir);
	free(f.pixels);
}

int main(void)
{
	TST_RUN(test_found_at_every_alignment);
	TST_RUN(test_region_and_reading_order);
	TST_RUN(test_brightness_and_contrast_do_not_matter);
	TST_RUN(test_threshold_not_reached);
	TST_RUN(test_refusals);
	TST_RUN(test_png_file);
	TST_EXIT();
}
