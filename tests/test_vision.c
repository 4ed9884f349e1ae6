/* The model's view of a frame (engine/vision.h), the image reader and the
 * coordinate mapping.
 *
 * The reference is Hugging Face transformers 5.17's MiniMaxM3VLImageProcessor
 * (torchvision backend: the one AutoImageProcessor picks for M3), run on
 * the fixtures by tests/fixtures/vision/make_reference.py.  Measured patch
 * row error against it (max / mean absolute, over all values):
 *   noise_100x70          112x56    0 / 0   (checked here, .f32)
 *   screen_200x150        196x140   0 / 0   (checked here, .f32)
 *   xterm_1920x1080       896x504   0 / 0   (Xvfb screenshot; checked here by hash)
 *   synthetic screens 1920x1080, 2560x1440, 3840x2160, 2000x1125, 1680x1050,
 *     1280x800, 1024x768, 600x450, 333x177, 30x20, 10x10, 5x3, 1x1, 20x4000
 *                                   0 / 0   (not checked in)
 *   random noise 1920x1080, 1366x768, 112x84
 *                                   0 / 0   (not checked in)
 *   800x600 as grey PNG, palette PNG, RGBA PNG, JPEG q90 4:2:0, q95 4:4:4,
 *     progressive, grey JPEG (decoded here by libpng / TurboJPEG, there by PIL)
 *                                   0 / 0   (not checked in)
 * That is, bit for bit.  The tolerance here is 1e-6 on the floats, so that
 * a platform whose float division rounds differently still passes, and
 * exact on the resized bytes (integer arithmetic). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/coords.h"
#include "engine/image_read.h"
#include "engine/vision.h"
#include "tst.h"

#define FLOAT_TOLERANCE 1e-6

static const char *fixtures;
static struct dp_vision_profile m3;

static char *fixture_path(const char *name)
{
	static char path[4096];

	snprintf(path, sizeof(path), "%s/%s", fixtures, name);
	return path;
}

static void *read_all(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	void *data = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (data = malloc((size_t)n + 1)) && fread(data, 1, (size_t)n, f) == (size_t)n) {
		*size = (size_t)n;
	} else {
		free(data);
		data = NULL;
	}
	fclose(f);
	return data;
}

static uint64_t fnv1a64(const void *data, size_t n)
{
	const uint8_t *p = data;
	uint64_t h = 0xcbf29ce484222325u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3u;
	return h;
}

static void test_smart_resize_examples(void)
{
	static const struct { int32_t w, h, ow, oh; } cases[] = {
		{ 1920, 1080, 896, 504 }, { 1280, 800, 840, 504 }, { 1024, 768, 756, 560 },
		{ 2560, 1440, 896, 504 }, { 3840, 2160, 896, 504 },
		{ 100, 70, 112, 56 },   /* 70 / 28 = 2.5 rounds to 2 (half to even), then 56 * 112 >= 3136 */
		{ 112, 84, 112, 84 },   /* already on the grid */
		{ 1, 1, 56, 56 },       /* tiny images are scaled up to min_pixels, not refused */
		{ 20, 4000, 28, 4004 }, /* aspect ratio 200 is still allowed */
	};
	struct dp_error err = { 0 };
	int32_t oh, ow;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		TST_EQ_INT(dp_smart_resize(cases[i].h, cases[i].w, &m3, &oh, &ow, &err), 0);
		TST_EQ_INT(ow, cases[i].ow);
		TST_EQ_INT(oh, cases[i].oh);
	}
	TST_EQ_INT(dp_smart_resize(1000, 1, &m3, &oh, &ow, &err), -ERANGE);
	TST_CHECK(strstr(err.message, "aspect ratio") != NULL);
	TST_EQ_INT(dp_smart_resize(56, 11300, &m3, &oh, &ow, &err), -ERANGE); /* 201.8 */
	TST_EQ_INT(dp_smart_resize(0, 100, &m3, &oh, &ow, &err), -EINVAL);
}

/* 626 sizes, the reference's answers (make_reference.py). */
static void test_smart_resize_table(void)
{
	FILE *f = fopen(fixture_path("smart_resize.txt"), "r");
	char line[256];
	int n = 0;

	TST_REQUIRE(f != NULL);
	while (fgets(line, sizeof(line), f)) {
		int h, w, eh, ew, r;
		int32_t oh = -1, ow = -1;

		if (line[0] == '#' || sscanf(line, "%d %d %d %d", &h, &w, &eh, &ew) != 4)
			continue;
		r = dp_smart_resize(h, w, &m3, &oh, &ow, NULL);
		if (eh < 0) {
			TST_EQ_INT(r, -ERANGE);
		} else if (r != 0 || oh != eh || ow != ew) {
			fprintf(stderr, "smart_resize(%d, %d): got %d, %dx%d; the reference gives %dx%d\n", h, w, r,
				oh, ow, eh, ew);
			tst_failures++;
		}
		n++;
	}
	fclose(f);
	TST_EQ_INT(n, 626);
}

static void test_grid_and_tokens(void)
{
	struct dp_grid g = dp_vision_grid(896, 504, &m3);

	TST_EQ_INT(g.t, 1);
	TST_EQ_INT(g.h, 36);
	TST_EQ_INT(g.w, 64);
	TST_EQ_INT(dp_grid_rows(g), 2304);
	TST_EQ_INT(dp_grid_tokens(g, &m3), 576);
	TST_EQ_INT(dp_vision_row_len(&m3), 1176);
}

/* Reads a fixture, resizes it as the reference would (with or without
 * AVX2) and cuts it into patch rows.  *rgb and *rows are malloc'ed. */
static int encode_fixture(const char *name, enum dp_vision_simd simd, int32_t *w, int32_t *h, uint8_t **rgb,
			  float **rows, struct dp_grid *grid)
{
	struct dp_error err = { 0 };
	struct dp_resizer *rs = NULL;
	struct dp_frame frame;
	int r = dp_image_read(fixture_path(name), &frame, &err);

	*rgb = NULL;
	*rows = NULL;
	if (r < 0) {
		fprintf(stderr, "%s\n", err.message);
		return r;
	}
	r = dp_smart_resize(frame.height, frame.width, &m3, h, w, &err);
	if (r == 0)
		r = dp_resizer_create(&rs);
	if (r == 0) {
		dp_resizer_set_simd(rs, simd);
		*rgb = malloc((size_t)*w * (size_t)*h * 3);
		*rows = malloc((size_t)*w * (size_t)*h / 196 * dp_vision_row_len(&m3) * sizeof(float));
		r = *rgb && *rows ? dp_resizer_run(rs, &frame, *w, *h, *rgb) : -ENOMEM;
	}
	if (r == 0)
		r = dp_vision_patches(*rgb, *w, *h, &m3, *rows, grid);
	dp_resizer_destroy(rs);
	dp_image_free(&frame);
	return r;
}

static void check_rows_against(const char *png, const char *f32, int32_t ew, int32_t eh)
{
	for (int simd = 0; simd < 2; simd++) {
		struct dp_grid grid;
		int32_t w, h;
		uint8_t *rgb;
		float *rows, *ref;
		size_t size = 0, n;
		double max = 0, sum = 0;

		TST_EQ_INT(encode_fixture(png, simd ? DP_VISION_SIMD_AUTO : DP_VISION_SIMD_NONE, &w, &h, &rgb, &rows,
					  &grid), 0);
		ref = read_all(fixture_path(f32), &size);
		TST_CHECK(ref != NULL);
		if (rgb && rows && ref) {
			TST_EQ_INT(w, ew);
			TST_EQ_INT(h, eh);
			n = (size_t)dp_grid_rows(grid) * dp_vision_row_len(&m3);
			TST_EQ_INT(size, n * sizeof(float));
			for (size_t i = 0; size == n * sizeof(float) && i < n; i++) {
				double d = fabs((double)rows[i] - (double)ref[i]);

				sum += d;
				if (d > max)
					max = d;
			}
			if (max > FLOAT_TOLERANCE)
				fprintf(stderr, "%s (%s): max error %g, mean %g\n", png, simd ? "auto" : "plain C", max,
					sum / (double)n);
			TST_CHECK(max <= FLOAT_TOLERANCE);
		}
		free(rgb);
		free(rows);
		free(ref);
	}
}

static void test_rows_noise(void)
{
	check_rows_against("noise_100x70.png", "noise_100x70.f32", 112, 56);
}

static void test_rows_screen(void)
{
	check_rows_against("screen_200x150.png", "screen_200x150.f32", 196, 140);
}

/* A real 1080p screenshot: its resized bytes and rows hash as the
 * reference's do (reference.txt). */
static void test_rows_xterm_1080p(void)
{
	FILE *f = fopen(fixture_path("reference.txt"), "r");
	char line[512], name[64];
	unsigned long long rows_hash = 0, rgb_hash = 0;
	int found = 0;

	TST_REQUIRE(f != NULL);
	while (fgets(line, sizeof(line), f)) {
		int a, b, c, d, t, gh, gw;

		if (sscanf(line, "%63s %d %d %d %d %d %d %d %llx %llx", name, &a, &b, &c, &d, &t, &gh, &gw, &rows_hash,
			   &rgb_hash) == 10 &&
		    strcmp(name, "xterm_1920x1080") == 0) {
			found = 1;
			break;
		}
	}
	fclose(f);
	TST_REQUIRE(found);
	for (int simd = 0; simd < 2; simd++) {
		struct dp_grid grid;
		int32_t w, h;
		uint8_t *rgb;
		float *rows;

		TST_EQ_INT(encode_fixture("xterm_1920x1080.png", simd ? DP_VISION_SIMD_AUTO : DP_VISION_SIMD_NONE, &w,
					  &h, &rgb, &rows, &grid), 0);
		if (rgb && rows) {
			TST_EQ_INT(w, 896);
			TST_EQ_INT(h, 504);
			TST_EQ_INT(grid.h, 36);
			TST_EQ_INT(grid.w, 64);
			TST_CHECK(fnv1a64(rgb, (size_t)w * (size_t)h * 3) == rgb_hash);
			TST_CHECK(fnv1a64(rows, (size_t)dp_grid_rows(grid) * 1176 * sizeof(float)) == rows_hash);
		}
		free(rgb);
		free(rows);
	}
}

static uint32_t rng_state = 1;

static uint32_t rnd(void)
{
	rng_state = rng_state * 1664525u + 1013904223u;
	return rng_state >> 8;
}

/* The AVX2 passes give the C loops' bytes for sizes of every kind (odd
 * widths, tails, upscaling, strong downscaling, windows at the edges). */
static void test_simd_matches_c(void)
{
	static const int32_t sizes[][4] = {
		{ 1920, 1080, 896, 504 }, { 1366, 768, 896, 476 }, { 3840, 2160, 896, 504 }, { 100, 70, 112, 56 },
		{ 5, 3, 84, 56 },        { 333, 177, 336, 168 },  { 1023, 7, 13, 5 },      { 17, 301, 9, 30 },
		{ 640, 480, 641, 479 },  { 4000, 20, 2000, 20 },  { 20, 4000, 20, 1000 },  { 7, 9, 3, 2 },
	};
	struct dp_resizer *c = NULL, *v = NULL;

	TST_REQUIRE(dp_resizer_create(&c) == 0 && dp_resizer_create(&v) == 0);
	dp_resizer_set_simd(c, DP_VISION_SIMD_NONE);
	if (!dp_resizer_uses_avx2(v))
		fprintf(stderr, "  (no AVX2 here: both sides run the C loops)\n");
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		int32_t sw = sizes[k][0], sh = sizes[k][1], dw = sizes[k][2], dh = sizes[k][3];
		struct dp_frame f = { .width = sw, .height = sh, .stride = sw * 4 + 12 };
		size_t out = (size_t)dw * (size_t)dh * 3;
		uint8_t *a, *b;

		f.pixels = malloc((size_t)f.stride * (size_t)sh);
		a = malloc(out);
		b = malloc(out);
		TST_REQUIRE(f.pixels && a && b);
		for (size_t i = 0; i < (size_t)f.stride * (size_t)sh; i++)
			f.pixels[i] = (uint8_t)(rnd() % 7 == 0 ? 255 * (rnd() & 1) : rnd()); /* hard edges too */
		TST_EQ_INT(dp_resizer_run(c, &f, dw, dh, a), 0);
		TST_EQ_INT(dp_resizer_run(v, &f, dw, dh, b), 0);
		if (memcmp(a, b, out) != 0) {
			fprintf(stderr, "  %dx%d -> %dx%d: AVX2 and C differ\n", sw, sh, dw, dh);
			tst_failures++;
		}
		/* the same resizer again (cached weights) gives the same bytes */
		TST_EQ_INT(dp_resizer_run(v, &f, dw, dh, b), 0);
		TST_CHECK(memcmp(a, b, out) == 0);
		free(f.pixels);
		free(a);
		free(b);
	}
	dp_resizer_destroy(c);
	dp_resizer_destroy(v);
}

/* The layout of a row, on an image whose bytes say where they are. */
static void test_patch_layout(void)
{
	enum { W = 56, H = 56 };
	static uint8_t rgb[W * H * 3];
	static float rows[16 * 1176];
	struct dp_grid g;
	float zero_r, one_r;

	for (int y = 0; y < H; y++)
		for (int x = 0; x < W; x++) {
			rgb[(y * W + x) * 3] = (uint8_t)x;       /* R: column */
			rgb[(y * W + x) * 3 + 1] = (uint8_t)y;   /* G: row */
			rgb[(y * W + x) * 3 + 2] = 200;          /* B: constant */
		}
	TST_EQ_INT(dp_vision_patches(rgb, W, H, &m3, rows, &g), 0);
	TST_EQ_INT(g.h, 4);
	TST_EQ_INT(g.w, 4);
	zero_r = (0.0f - 0.48145466f * 255.0f) / (0.26862954f * 255.0f);
	one_r = (1.0f - 0.48145466f * 255.0f) / (0.26862954f * 255.0f);
	TST_CHECK(fabsf(rows[0] - zero_r) < 1e-6f);
	TST_CHECK(fabsf(rows[1] - one_r) < 1e-6f);            /* then along the patch row */
	TST_CHECK(fabsf(rows[196] - rows[0]) == 0.0f);        /* temporal copy of R */
	TST_CHECK(rows[392] != rows[0]);                       /* then G */
	/* Row 1: the top-right patch of the first 2x2 group: x starts at 14. */
	{
		float r14 = ((float)14 - 0.48145466f * 255.0f) / (0.26862954f * 255.0f);

		TST_CHECK(fabsf(rows[1176] - r14) < 1e-6f);
	}
	/* Row 2: bottom-left (G: y starts at 14); row 4: the next group (x 28). */
	{
		float g14 = ((float)14 - 0.4578275f * 255.0f) / (0.26130258f * 255.0f);
		float r28 = ((float)28 - 0.48145466f * 255.0f) / (0.26862954f * 255.0f);

		TST_CHECK(fabsf(rows[2 * 1176 + 392] - g14) < 1e-6f);
		TST_CHECK(fabsf(rows[4 * 1176] - r28) < 1e-6f);
	}
	TST_EQ_INT(dp_vision_patches(rgb, 50, 56, &m3, rows, &g), -EINVAL); /* not a multiple of 28 */
}

static void test_image_errors(void)
{
	struct dp_error err = { 0 };
	struct dp_frame f;
	static const uint8_t not_image[] = "hello, I am text";
	static const uint8_t png_head[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13 };
	static const uint8_t jpeg_head[] = { 0xff, 0xd8, 0xff, 0xe0, 0, 16 };

	TST_EQ_INT(dp_image_read(fixture_path("no-such-file.png"), &f, &err), -ENOENT);
	TST_CHECK(strstr(err.message, "no-such-file.png") != NULL);
	TST_EQ_INT(dp_image_decode(not_image, sizeof(not_image), "text.png", &f, &err), -EILSEQ);
	TST_CHECK(strstr(err.message, "not a PNG or JPEG") != NULL);
	TST_EQ_INT(dp_image_decode(not_image, 0, "empty.png", &f, &err), -EILSEQ);
	TST_EQ_INT(dp_image_decode(png_head, sizeof(png_head), "short.png", &f, &err), -EILSEQ);
	TST_CHECK(f.pixels == NULL);
	TST_EQ_INT(dp_image_decode(jpeg_head, sizeof(jpeg_head), "short.jpg", &f, &err), -EILSEQ);
	TST_CHECK(f.pixels == NULL);
	TST_EQ_INT(dp_image_read(fixture_path("noise_100x70.png"), &f, &err), 0);
	TST_EQ_INT(f.width, 100);
	TST_EQ_INT(f.height, 70);
	dp_image_free(&f);
}

/* Monitors 1920x1080+0+0 and 2560x1440+1920+0, each sent as 896x504. */
static void test_coords_two_monitors(void)
{
	static const struct dp_rect monitors[] = { { 0, 0, 1920, 1080 }, { 1920, 0, 2560, 1440 } };
	struct dp_error err = { 0 };

	for (size_t m = 0; m < 2; m++) {
		for (int space = 0; space < 2; space++) {
			struct dp_coord_map map;
			struct dp_rect r = monitors[m];
			int32_t sx, sy;
			double mx, my;

			TST_REQUIRE(dp_coords_map_init(&map, r, 896, 504, space ? DP_COORDS_NORM1000 : DP_COORDS_PIXELS,
						       &err) == 0);
			/* every screen pixel -> model -> the same pixel */
			for (int32_t y = r.y; y < r.y + r.height; y += 7) {
				for (int32_t x = r.x; x < r.x + r.width; x += 3) {
					TST_REQUIRE(dp_coords_to_model(&map, x, y, &mx, &my, &err) == 0);
					TST_REQUIRE(dp_coords_to_screen(&map, mx, my, &sx, &sy, &err) == 0);
					if (sx != x || sy != y) {
						fprintf(stderr, "  (%d, %d) came back as (%d, %d)\n", x, y, sx, sy);
						tst_failures++;
						return;
					}
				}
			}
			/* every whole model coordinate -> screen -> within one model unit
			 * and within one screen pixel of where it points */
			for (int32_t y = 0; y <= (space ? 1000 : 504); y++) {
				for (int32_t x = 0; x <= (space ? 1000 : 896); x++) {
					double ex = space ? 1000.0 : 896.0, ey = space ? 1000.0 : 504.0;
					double px = r.x + x * r.width / ex, py = r.y + y * r.height / ey;

					TST_REQUIRE(dp_coords_to_screen(&map, x, y, &sx, &sy, &err) == 0);
					TST_REQUIRE(sx >= r.x && sx < r.x + r.width && sy >= r.y && sy < r.y + r.height);
					TST_REQUIRE(fabs(sx - px) <= 1.0 && fabs(sy - py) <= 1.0);
					TST_REQUIRE(dp_coords_to_model(&map, sx, sy, &mx, &my, &err) == 0);
					TST_REQUIRE(fabs(mx - x) <= 1.0 && fabs(my - y) <= 1.0);
				}
			}
			/* the centre and the corners */
			TST_EQ_INT(dp_coords_to_screen(&map, space ? 500 : 448, space ? 500 : 252, &sx, &sy, &err), 0);
			TST_EQ_INT(sx, r.x + r.width / 2);
			TST_EQ_INT(sy, r.y + r.height / 2);
			TST_EQ_INT(dp_coords_to_screen(&map, 0, 0, &sx, &sy, &err), 0);
			TST_EQ_INT(sx, r.x);
			TST_EQ_INT(sy, r.y);
			TST_EQ_INT(dp_coords_to_screen(&map, space ? 1000 : 896, space ? 1000 : 504, &sx, &sy, &err), 0);
			TST_EQ_INT(sx, r.x + r.width - 1);
			TST_EQ_INT(sy, r.y + r.height - 1);
			TST_EQ_INT(dp_coords_to_screen(&map, -1, 10, &sx, &sy, &err), -ERANGE);
			TST_EQ_INT(dp_coords_to_screen(&map, 10, space ? 1000.5 : 504.5, &sx, &sy, &err), -ERANGE);
			TST_EQ_INT(dp_coords_to_model(&map, r.x - 1, r.y, &mx, &my, &err), -ERANGE);
			TST_EQ_INT(dp_coords_to_model(&map, r.x + r.width, r.y, &mx, &my, &err), -ERANGE);
		}
	}
}

/* A zoom region on the second monitor, sent at full resolution and
 * smart-resized; and a region asked for in model coordinates. */
static void test_coords_zoom(void)
{
	const struct dp_rect zoom = { 2100, 500, 400, 300 };
	struct dp_error err = { 0 };
	struct dp_coord_map map, full;
	struct dp_rect out;
	int32_t w, h, sx, sy;
	double mx, my;

	TST_EQ_INT(dp_smart_resize(zoom.height, zoom.width, &m3, &h, &w, &err), 0);
	TST_EQ_INT(w, 392);
	TST_EQ_INT(h, 308);
	TST_REQUIRE(dp_coords_map_init(&map, zoom, w, h, DP_COORDS_PIXELS, &err) == 0);
	for (int32_t y = zoom.y; y < zoom.y + zoom.height; y++)
		for (int32_t x = zoom.x; x < zoom.x + zoom.width; x++) {
			TST_REQUIRE(dp_coords_to_model(&map, x, y, &mx, &my, &err) == 0);
			TST_REQUIRE(dp_coords_to_screen(&map, mx, my, &sx, &sy, &err) == 0);
			TST_REQUIRE(sx == x && sy == y);
		}
	/* The model asks to zoom on (448, 252)-(548, 352) of the 896x504 image
	 * of monitor 1: screen 2560 x 1440 / 896 x 504 = 2.857 per unit. */
	TST_REQUIRE(dp_coords_map_init(&full, (struct dp_rect){ 1920, 0, 2560, 1440 }, 896, 504, DP_COORDS_PIXELS,
				       &err) == 0);
	TST_EQ_INT(dp_coords_rect_to_screen(&full, 448, 252, 548, 352, &out, &err), 0);
	TST_EQ_INT(out.x, 1920 + 1280);
	TST_EQ_INT(out.y, 720);
	TST_EQ_INT(out.width, 286); /* 285.7 rounded outwards */
	TST_EQ_INT(out.height, 286);
	TST_EQ_INT(dp_coords_rect_to_screen(&full, 10, 10, 5, 20, &out, &err), -ERANGE);
	TST_EQ_INT(dp_coords_map_init(&map, (struct dp_rect){ 0, 0, 0, 10 }, 896, 504, DP_COORDS_PIXELS, &err),
		   -EINVAL);
}

int main(void)
{
	fixtures = getenv("DP_VISION_FIXTURES");
	if (!fixtures) {
		fprintf(stderr, "set DP_VISION_FIXTURES to tests/fixtures/vision (meson test does)\n");
		return EXIT_FAILURE;
	}
	dp_vision_profile_m3(&m3);
	TST_RUN(test_smart_resize_examples);
	TST_RUN(test_smart_resize_table);
	TST_RUN(test_grid_and_tokens);
	TST_RUN(test_rows_noise);
	TST_RUN(test_rows_screen);
	TST_RUN(test_rows_xterm_1080p);
	TST_RUN(test_simd_matches_c);
	TST_RUN(test_patch_layout);
	TST_RUN(test_image_errors);
	TST_RUN(test_coords_two_monitors);
	TST_RUN(test_coords_zoom);
	TST_EXIT();
}
