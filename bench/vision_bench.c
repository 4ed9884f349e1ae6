/* bench-vision: the model's view of a 1080p frame, per frame.
 *
 * Measures, over N repetitions each (after 5 untimed warm-up runs), with a
 * resizer whose weights are already made (the steady state of a task):
 *   1. the resize to M3's grid (1920x1080 -> 896x504), with AVX2 where the
 *      processor has it and with the plain C loops;
 *   2. the image for the model: resize + RGB to BGRX + JPEG (quality 85);
 *   3. the patch rows (2304 x 1176 float32) from the resized image.
 * Goals: the image for the model under 5 ms, the patch rows under 10 ms.
 * It prints numbers only: no pass/fail, no timed assertions.
 *
 * The frame is a synthetic screen (windows, lines of glyph-like marks,
 * made the same way every run), or --image FILE.png|.jpg.
 *
 * Run: build/bench/bench-vision [--quick] [--json FILE] [--image FILE] [--results]
 * N is 200; --quick divides it by 10. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/clock.h"
#include "engine/image_jpeg.h"
#include "engine/image_read.h"
#include "engine/vision.h"
#include "stats.h"

#define SCREEN_W 1920
#define SCREEN_H 1080
#define WARMUP 5
#define JPEG_QUALITY 85
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

enum metric { M_RESIZE, M_RESIZE_C, M_TO_BGRX, M_JPEG, M_IMAGE, M_PATCHES, M_COUNT };

struct series {
	const char *key, *label;
	double goal_ms; /* 0: none */
	size_t n;
	int64_t *ns;
	double median, p10, p90, min, max;
};

static struct series series[M_COUNT] = {
	[M_RESIZE] = { "resize", "resize 1080p -> 896x504 (auto)", 0 },
	[M_RESIZE_C] = { "resize_c", "resize 1080p -> 896x504 (plain C)", 0 },
	[M_TO_BGRX] = { "rgb_to_bgrx", "RGB -> BGRX 896x504", 0 },
	[M_JPEG] = { "jpeg", "JPEG q85 896x504", 0 },
	[M_IMAGE] = { "image_for_model", "image for the model (resize+JPEG)", 5.0 },
	[M_PATCHES] = { "patch_rows", "patch rows 2304 x 1176", 10.0 },
};

struct bench {
	struct dp_frame frame, sent;
	struct dp_vision_profile profile;
	struct dp_resizer *rs, *rs_c;
	int32_t out_w, out_h;
	uint8_t *rgb, *bgrx;
	float *rows;
	size_t jpeg_bytes;
};

static int fail(const char *what, const char *why)
{
	fprintf(stderr, "bench-vision: %s: %s\n", what, why);
	return -1;
}

static uint32_t rnd(uint32_t *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return (*seed >> 16) & 0x7fff;
}

/* A screen-like frame: a desktop, a few windows with title bars, and
 * lines of 5x9 glyph-like marks (a quarter of their pixels inked) in dark
 * on light, from a fixed generator so that every run sees the same
 * pixels. */
static void synth_screen(struct dp_frame *f)
{
	uint32_t seed = 12345;
	uint32_t *px;

#define RAND() rnd(&seed)
	for (int32_t y = 0; y < f->height; y++) {
		px = (uint32_t *)(void *)(f->pixels + (size_t)y * (size_t)f->stride);
		for (int32_t x = 0; x < f->width; x++)
			px[x] = 0x203040u + (uint32_t)((x * 64 / f->width) << 8);
	}
	for (int win = 0; win < 6; win++) {
		int32_t x0 = (int32_t)(RAND() % (unsigned)(f->width - 400)), y0 = (int32_t)(RAND() % (unsigned)(f->height - 300));
		int32_t w = 300 + (int32_t)(RAND() % 700), h = 200 + (int32_t)(RAND() % 500);

		if (x0 + w > f->width)
			w = f->width - x0;
		if (y0 + h > f->height)
			h = f->height - y0;
		for (int32_t y = y0; y < y0 + h; y++) {
			px = (uint32_t *)(void *)(f->pixels + (size_t)y * (size_t)f->stride);
			for (int32_t x = x0; x < x0 + w; x++)
				px[x] = y < y0 + 24 ? 0x3060a0u : (x == x0 || x == x0 + w - 1 || y == y0 + h - 1) ? 0 : 0xf6f6f6u;
		}
		for (int32_t y = y0 + 30; y + 9 < y0 + h; y += 14) {
			for (int32_t x = x0 + 6; x + 6 < x0 + w - 6; x += 6) {
				uint32_t glyph = RAND() & RAND();

				glyph |= (RAND() & RAND()) << 15;

				if (glyph % 7 == 0)
					continue; /* a space */
				for (int gy = 0; gy < 9; gy++) {
					px = (uint32_t *)(void *)(f->pixels + (size_t)(y + gy) * (size_t)f->stride);
					for (int gx = 0; gx < 5; gx++)
						if ((glyph >> ((gy * 5 + gx) % 30)) & 1)
							px[x + gx] = 0x101010u;
				}
			}
		}
	}
#undef RAND
}

static int jpeg_once(struct bench *b)
{
	struct dp_error err = { 0 };
	uint8_t *data = NULL;
	size_t size = 0;

	if (dp_jpeg_encode(&b->sent, JPEG_QUALITY, &data, &size, &err) < 0)
		return fail("JPEG", err.message);
	b->jpeg_bytes = size;
	free(data);
	return 0;
}

static int run_once(struct bench *b, enum metric m)
{
	size_t n = (size_t)b->out_w * (size_t)b->out_h;

	switch (m) {
	case M_RESIZE:
		return dp_resizer_run(b->rs, &b->frame, b->out_w, b->out_h, b->rgb);
	case M_RESIZE_C:
		return dp_resizer_run(b->rs_c, &b->frame, b->out_w, b->out_h, b->rgb);
	case M_TO_BGRX:
		dp_vision_rgb_to_bgrx(b->rgb, n, b->bgrx);
		return 0;
	case M_JPEG:
		return jpeg_once(b);
	case M_IMAGE:
		if (dp_resizer_run(b->rs, &b->frame, b->out_w, b->out_h, b->rgb) < 0)
			return -1;
		dp_vision_rgb_to_bgrx(b->rgb, n, b->bgrx);
		return jpeg_once(b);
	case M_PATCHES:
		return dp_vision_patches(b->rgb, b->out_w, b->out_h, &b->profile, b->rows, NULL);
	default:
		return -1;
	}
}

static int time_metric(struct bench *b, enum metric m)
{
	struct series *s = &series[m];

	for (size_t i = 0; i < WARMUP + s->n; i++) {
		int64_t t0 = dp_now_ns();

		if (run_once(b, m) < 0)
			return fail(s->label, "failed");
		if (i >= WARMUP)
			s->ns[i - WARMUP] = dp_now_ns() - t0;
	}
	return 0;
}

static void summarize(struct series *s)
{
	struct dp_stats st;

	dp_stats_summarize(s->ns, s->n, 1e6, &st);
	s->median = st.median;
	s->p10 = st.p10;
	s->p90 = st.p90;
	s->min = st.min;
	s->max = st.max;
}

static void print_table(const struct bench *b)
{
	printf("frame %dx%d -> %dx%d, %s, JPEG %zu bytes\n\n", b->frame.width, b->frame.height, b->out_w, b->out_h,
	       dp_resizer_uses_avx2(b->rs) ? "AVX2" : "no AVX2", b->jpeg_bytes);
	printf("%-38s %4s %4s %8s %8s %8s %8s %8s\n", "measure", "unit", "n", "median", "p10", "p90", "min", "max");
	for (int m = 0; m < M_COUNT; m++) {
		const struct series *s = &series[m];

		printf("%-38s %4s %4zu %8.3f %8.3f %8.3f %8.3f %8.3f", s->label, "ms", s->n, s->median, s->p10,
		       s->p90, s->min, s->max);
		if (s->goal_ms > 0)
			printf("   goal < %.0f ms (%.2fx of it)", s->goal_ms, s->median / s->goal_ms);
		printf("\n");
	}
}

static int write_json(const char *path, const struct bench *b)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return fail(path, strerror(errno));
	fprintf(f, "{\n  \"frame\": \"%dx%d\",\n  \"model_image\": \"%dx%d\",\n  \"avx2\": %s,\n  \"jpeg_bytes\": %zu,\n"
		"  \"results\": {\n", b->frame.width, b->frame.height, b->out_w, b->out_h,
		dp_resizer_uses_avx2(b->rs) ? "true" : "false", b->jpeg_bytes);
	for (int m = 0; m < M_COUNT; m++) {
		const struct series *s = &series[m];

		fprintf(f, "    \"%s\": {\"unit\": \"ms\", \"n\": %zu, \"median\": %.4f, \"p10\": %.4f, \"p90\": %.4f, "
			"\"min\": %.4f, \"max\": %.4f", s->key, s->n, s->median, s->p10, s->p90, s->min, s->max);
		if (s->goal_ms > 0)
			fprintf(f, ", \"goal\": %.1f", s->goal_ms);
		fprintf(f, "}%s\n", m + 1 < M_COUNT ? "," : "");
	}
	fprintf(f, "  }\n}\n");
	return fclose(f) == 0 ? 0 : fail(path, strerror(errno));
}

static int setup(struct bench *b, const char *image)
{
	struct dp_error err = { 0 };
	size_t n;

	dp_vision_profile_m3(&b->profile);
	if (image) {
		if (dp_image_read(image, &b->frame, &err) < 0)
			return fail("--image", err.message);
	} else {
		b->frame = (struct dp_frame){ .width = SCREEN_W, .height = SCREEN_H, .stride = SCREEN_W * 4 };
		if (!(b->frame.pixels = malloc((size_t)SCREEN_W * SCREEN_H * 4)))
			return fail("frame", "out of memory");
		synth_screen(&b->frame);
	}
	if (dp_smart_resize(b->frame.height, b->frame.width, &b->profile, &b->out_h, &b->out_w, &err) < 0)
		return fail("size", err.message);
	n = (size_t)b->out_w * (size_t)b->out_h;
	b->rgb = malloc(n * 3);
	b->bgrx = malloc(n * 4);
	b->rows = malloc((size_t)(n / 196) * dp_vision_row_len(&b->profile) * sizeof(float));
	if (!b->rgb || !b->bgrx || !b->rows || dp_resizer_create(&b->rs) < 0 || dp_resizer_create(&b->rs_c) < 0)
		return fail("buffers", "out of memory");
	dp_resizer_set_simd(b->rs_c, DP_VISION_SIMD_NONE);
	b->sent = (struct dp_frame){ .width = b->out_w, .height = b->out_h, .stride = b->out_w * 4, .pixels = b->bgrx };
	return 0;
}

int main(int argc, char **argv)
{
	static struct bench b;
	const char *json = NULL, *image = NULL;
	size_t div = 1;
	bool results = false;
	int r = -1;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick"))
			div = 10;
		else if (!strcmp(argv[i], "--results"))
			results = true;
		else if (!strcmp(argv[i], "--json") && i + 1 < argc)
			json = argv[++i];
		else if (!strcmp(argv[i], "--image") && i + 1 < argc)
			image = argv[++i];
		else
			return fprintf(stderr, "usage: %s [--quick] [--json FILE] [--image FILE] [--results]\n", argv[0]), 2;
	}
	for (int m = 0; m < M_COUNT; m++) {
		series[m].n = (m == M_RESIZE_C ? 50 : 200) / div;
		if (!(series[m].ns = calloc(series[m].n, sizeof(int64_t))))
			return fail("samples", "out of memory"), 1;
	}
	if (setup(&b, image) == 0) {
		r = 0;
		/* The C loops first: the later runs leave b.rgb as the AVX2 code made it. */
		static const enum metric order[] = { M_RESIZE_C, M_RESIZE, M_TO_BGRX, M_JPEG, M_IMAGE, M_PATCHES };

		for (size_t i = 0; i < ARRAY_LEN(order) && r == 0; i++)
			r = time_metric(&b, order[i]);
	}
	if (r == 0) {
		for (int m = 0; m < M_COUNT; m++)
			summarize(&series[m]);
		print_table(&b);
		for (int m = 0; results && m < M_COUNT; m++) {
			struct dp_stats st = { .median = series[m].median, .p10 = series[m].p10, .p90 = series[m].p90 };
			char name[64];

			snprintf(name, sizeof(name), "vision.%s", series[m].key);
			dp_stats_print_result(name, &st, "ms", -1);
		}
		if (json)
			r = write_json(json, &b);
	}
	dp_resizer_destroy(b.rs);
	dp_resizer_destroy(b.rs_c);
	free(b.frame.pixels);
	free(b.rgb);
	free(b.bgrx);
	free(b.rows);
	for (int m = 0; m < M_COUNT; m++)
		free(series[m].ns);
	return r < 0 ? 1 : 0;
}
