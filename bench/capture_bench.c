/* bench-capture: how fast capture is, against what the memory system allows.
 *
 * Starts a private 1920x1080 Xvfb with the probe fixture full screen, then
 * measures, each over N repetitions:
 *   1. one MIT-SHM grab of the whole screen beside a memcpy of as many bytes
 *      between buffers that are not cache-resident, and the GetImage
 *      fallback grab for comparison (goal: grab within 2x of memcpy);
 *   2. dp_changemap_compute on two 1080p frames beside memcmp of two equal
 *      buffers of the same size (goal: change map within 1.5x of memcmp);
 *   3. settle overhead: how long after the probe's last draw, less the
 *      quiet window, dp_capture_settle returns; and how often it returned
 *      before that draw (premature: should be 0).
 * It prints numbers only: no pass/fail, no timed assertions.
 *
 * Run:  DP_PROBE=build/tests/probe build/bench/bench-capture [--quick] [--json FILE]
 * N is 200 for grab and change map and 20 for settle; --quick divides by 10. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "capture/capture.h"
#include "capture/changemap.h"
#include "engine/clock.h"
#include "tests/harness/xvfb.h"

#define SCREEN_W 1920
#define SCREEN_H 1080
#define FRAME_BYTES ((size_t)SCREEN_W * SCREEN_H * 4)
#define COLD_BUFFERS 4 /* 4 sources + 4 destinations: 66 MB, beyond the LLC */
#define WARMUP 5

enum metric { M_GRAB_SHM, M_GRAB_GETIMAGE, M_MEMCPY, M_MEMCPY_WARM, M_CHANGEMAP, M_MEMCMP, M_SETTLE, M_COUNT };

struct series {
	const char *key, *label, *unit;
	double div;   /* ns per unit */
	size_t n;
	int64_t *ns;  /* samples */
	double median, p10, p90, min, max;
};

static struct series series[M_COUNT] = {
	[M_GRAB_SHM] = { "grab_shm", "grab 1080p (MIT-SHM)", "us", 1e3 },
	[M_GRAB_GETIMAGE] = { "grab_getimage", "grab 1080p (GetImage)", "us", 1e3 },
	[M_MEMCPY] = { "memcpy_cold", "memcpy 8294400 B (cold)", "us", 1e3 },
	[M_MEMCPY_WARM] = { "memcpy_same", "memcpy 8294400 B (same bufs)", "us", 1e3 },
	[M_CHANGEMAP] = { "changemap", "dp_changemap_compute 1080p", "us", 1e3 },
	[M_MEMCMP] = { "memcmp", "memcmp 8294400 B (equal)", "us", 1e3 },
	[M_SETTLE] = { "settle_overhead", "settle overhead (quiet 75 ms)", "ms", 1e6 },
};

static const struct {
	const char *key, *label;
	enum metric num, den;
	double goal; /* 0: none */
} ratios[] = {
	{ "grab_shm_over_memcpy", "grab (SHM) / memcpy (cold)", M_GRAB_SHM, M_MEMCPY, 2.0 },
	{ "grab_shm_over_memcpy_same", "grab (SHM) / memcpy (same)", M_GRAB_SHM, M_MEMCPY_WARM, 0 },
	{ "grab_getimage_over_memcpy", "grab (GetImage) / memcpy (cold)", M_GRAB_GETIMAGE, M_MEMCPY, 0 },
	{ "changemap_over_memcmp", "changemap / memcmp", M_CHANGEMAP, M_MEMCMP, 1.5 },
};

static volatile int sink; /* keeps memcmp results alive */

struct bench {
	struct dp_xvfb xvfb;
	struct dp_probe probe;
	struct dp_capture *shm, *getimage, *cap; /* cap: the one being timed */
	uint8_t *buf[2 * COLD_BUFFERS];           /* memcpy sources, then destinations */
	struct dp_frame before, after, twin;      /* after: a few pixels differ; twin: equal */
	struct dp_changemap map;
	int premature, unsettled;
};

typedef int (*op_fn)(struct bench *b, size_t i);

static int fail(const char *what, const struct dp_error *err)
{
	fprintf(stderr, "bench-capture: %s: %s\n", what, err->message);
	return -1;
}

static int oom(void)
{
	fprintf(stderr, "bench-capture: out of memory\n");
	return -1;
}

static int grab_full(struct dp_capture *cap, struct dp_frame *frame)
{
	struct dp_error err = { 0 };

	return dp_capture_grab(cap, NULL, 0, frame, &err) < 0 ? fail("grab failed", &err) : 0;
}

/* Runs op WARMUP times untimed, then once per sample. */
static int time_op(struct bench *b, enum metric m, op_fn op)
{
	struct series *s = &series[m];

	for (size_t i = 0; i < WARMUP + s->n; i++) {
		int64_t t0 = dp_now_ns();

		if (op(b, i) < 0)
			return -1;
		if (i >= WARMUP)
			s->ns[i - WARMUP] = dp_now_ns() - t0;
	}
	return 0;
}

static int op_grab(struct bench *b, size_t i)
{
	struct dp_frame frame;

	(void)i;
	return grab_full(b->cap, &frame);
}

/* Each copy reads and writes buffers untouched for the last 3 copies. */
static int op_memcpy_cold(struct bench *b, size_t i)
{
	memcpy(b->buf[COLD_BUFFERS + i % COLD_BUFFERS], b->buf[(i + 1) % COLD_BUFFERS], FRAME_BYTES);
	return 0;
}

static int op_memcpy_warm(struct bench *b, size_t i)
{
	(void)i;
	memcpy(b->buf[COLD_BUFFERS], b->buf[0], FRAME_BYTES);
	return 0;
}

static int op_changemap(struct bench *b, size_t i)
{
	(void)i;
	return dp_changemap_compute(&b->map, &b->before, &b->after);
}

static int op_memcmp(struct bench *b, size_t i)
{
	(void)i;
	sink += memcmp(b->before.pixels, b->twin.pixels, FRAME_BYTES);
	return 0;
}

static int alloc_frame(struct dp_frame *f)
{
	*f = (struct dp_frame){ .width = SCREEN_W, .height = SCREEN_H, .stride = SCREEN_W * 4,
				.pixels = malloc(FRAME_BYTES) };
	return f->pixels ? 0 : -1;
}

/* Copies two grabbed frames into our own buffers; a few pixels of the
 * second are changed so the change map has something to find. */
static int prepare_frames(struct bench *b)
{
	struct dp_frame frame;

	if (alloc_frame(&b->before) < 0 || alloc_frame(&b->after) < 0 || alloc_frame(&b->twin) < 0)
		return oom();
	if (grab_full(b->shm, &frame) < 0)
		return -1;
	memcpy(b->before.pixels, frame.pixels, FRAME_BYTES);
	memcpy(b->twin.pixels, frame.pixels, FRAME_BYTES);
	if (grab_full(b->shm, &frame) < 0)
		return -1;
	memcpy(b->after.pixels, frame.pixels, FRAME_BYTES);
	for (int k = 0; k < 5; k++)
		b->after.pixels[((size_t)(100 + k * 211) * SCREEN_W + (size_t)(100 + k * 401)) * 4] ^= 0x5a;
	return 0;
}

static int bench_memory(struct bench *b)
{
	for (size_t i = 0; i < 2 * COLD_BUFFERS; i++) {
		b->buf[i] = malloc(FRAME_BYTES);
		if (!b->buf[i])
			return oom();
		memset(b->buf[i], (int)i, FRAME_BYTES); /* fault the pages in now */
	}
	if (time_op(b, M_MEMCPY, op_memcpy_cold) < 0 || time_op(b, M_MEMCPY_WARM, op_memcpy_warm) < 0)
		return -1;
	if (prepare_frames(b) < 0 || time_op(b, M_CHANGEMAP, op_changemap) < 0)
		return -1;
	if (b->map.changed == 0)
		fprintf(stderr, "bench-capture: warning: the change map saw no change\n");
	return time_op(b, M_MEMCMP, op_memcmp);
}

/* Waits out whatever is still drawing and takes a fresh grab, so the next
 * settle sees only the damage that comes after it. */
static int quiesce(struct bench *b)
{
	struct dp_settle_options o;
	struct dp_settle_result res;
	struct dp_error err = { 0 };
	struct dp_frame frame;

	dp_settle_options_default(&o);
	o.expect_change = false;
	if (dp_capture_settle(b->shm, &o, &res, &err) < 0)
		return fail("settle failed", &err);
	return grab_full(b->shm, &frame);
}

static int bench_settle(struct bench *b)
{
	struct series *s = &series[M_SETTLE];
	struct dp_settle_options o;
	struct dp_settle_result res;
	struct dp_error err = { 0 };
	char line[512];

	dp_settle_options_default(&o);
	for (size_t i = 0; i < s->n; i++) {
		int64_t returned, last_draw;

		if (quiesce(b) < 0)
			return -1;
		dp_probe_send(&b->probe, "redraw %d 3 20", 300 + rand() % 501);
		if (dp_capture_settle(b->shm, &o, &res, &err) < 0)
			return fail("settle failed", &err);
		returned = dp_now_ns();
		if (dp_probe_wait(&b->probe, "idle", 5000, line, sizeof(line)) < 0) {
			fprintf(stderr, "bench-capture: the probe never reported its redraw burst done\n");
			return -1;
		}
		last_draw = (int64_t)dp_json_int(line, "last_draw_ns");
		b->premature += returned < last_draw;
		b->unsettled += res.outcome != DP_SETTLE_SETTLED;
		s->ns[i] = returned - last_draw - (int64_t)o.quiet_ms * DP_NSEC_PER_MSEC;
	}
	return 0;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Linear interpolation between the closest ranks; samples must be sorted. */
static double percentile(const struct series *s, double p)
{
	double rank = p * (double)(s->n - 1);
	size_t lo = (size_t)rank;
	size_t hi = lo + 1 < s->n ? lo + 1 : lo;

	return ((double)s->ns[lo] + (rank - (double)lo) * (double)(s->ns[hi] - s->ns[lo])) / s->div;
}

static void summarize(struct series *s)
{
	qsort(s->ns, s->n, sizeof(*s->ns), cmp_i64);
	s->median = percentile(s, 0.5);
	s->p10 = percentile(s, 0.1);
	s->p90 = percentile(s, 0.9);
	s->min = (double)s->ns[0] / s->div;
	s->max = (double)s->ns[s->n - 1] / s->div;
}

static double ratio(size_t i)
{
	return series[ratios[i].num].median / series[ratios[i].den].median;
}

static void print_table(const struct bench *b)
{
	printf("%-34s %4s %5s %10s %10s %10s %10s %10s\n", "measure", "unit", "n", "median", "p10", "p90",
	       "min", "max");
	for (int m = 0; m < M_COUNT; m++) {
		const struct series *s = &series[m];

		printf("%-34s %4s %5zu %10.2f %10.2f %10.2f %10.2f %10.2f\n", s->label, s->unit, s->n,
		       s->median, s->p10, s->p90, s->min, s->max);
	}
	printf("\n");
	for (size_t i = 0; i < sizeof(ratios) / sizeof(ratios[0]); i++) {
		printf("%-34s %8.2fx", ratios[i].label, ratio(i));
		if (ratios[i].goal > 0)
			printf("   goal <= %.1fx", ratios[i].goal);
		printf("\n");
	}
	printf("%-34s %8d     of %zu (should be 0)\n", "settle premature returns", b->premature,
	       series[M_SETTLE].n);
	printf("%-34s %8d     of %zu\n", "settle not SETTLED", b->unsettled, series[M_SETTLE].n);
}

static int write_json(const char *path, const struct bench *b)
{
	FILE *f = fopen(path, "w");

	if (!f) {
		fprintf(stderr, "bench-capture: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	fprintf(f, "{\n  \"screen\": \"%dx%d\",\n  \"results\": {\n", SCREEN_W, SCREEN_H);
	for (int m = 0; m < M_COUNT; m++) {
		const struct series *s = &series[m];

		fprintf(f, "    \"%s\": {\"unit\": \"%s\", \"n\": %zu, \"median\": %.3f, \"p10\": %.3f, "
			"\"p90\": %.3f, \"min\": %.3f, \"max\": %.3f}%s\n", s->key, s->unit, s->n, s->median,
			s->p10, s->p90, s->min, s->max, m + 1 < M_COUNT ? "," : "");
	}
	fprintf(f, "  },\n  \"ratios\": {\n");
	for (size_t i = 0; i < sizeof(ratios) / sizeof(ratios[0]); i++)
		fprintf(f, "    \"%s\": {\"value\": %.3f, \"goal\": %.1f}%s\n", ratios[i].key, ratio(i),
			ratios[i].goal, i + 1 < sizeof(ratios) / sizeof(ratios[0]) ? "," : "");
	fprintf(f, "  },\n  \"settle_premature\": %d,\n  \"settle_not_settled\": %d\n}\n", b->premature,
		b->unsettled);
	return fclose(f) == 0 ? 0 : -1;
}

static int open_captures(struct bench *b)
{
	struct dp_capture_config config = { .display = b->xvfb.display };
	struct dp_error err = { 0 };

	if (dp_capture_create(&b->shm, &config, &err) < 0)
		return fail("cannot open the capture", &err);
	config.no_shm = true;
	if (dp_capture_create(&b->getimage, &config, &err) < 0)
		return fail("cannot open the GetImage capture", &err);
	return 0;
}

static int setup(struct bench *b)
{
	int r = dp_xvfb_start(&b->xvfb, SCREEN_W, SCREEN_H, NULL);

	if (r < 0) {
		fprintf(stderr, "bench-capture: cannot start Xvfb (is it installed and on PATH?): %s\n",
			strerror(-r));
		return -1;
	}
	if (!getenv("DP_PROBE")) {
		fprintf(stderr, "bench-capture: set DP_PROBE to the probe app (build/tests/probe)\n");
		return -1;
	}
	r = dp_probe_start(&b->probe, &b->xvfb, 0, 0, SCREEN_W, SCREEN_H);
	if (r < 0) {
		fprintf(stderr, "bench-capture: cannot start the probe %s: %s\n", getenv("DP_PROBE"),
			strerror(-r));
		return -1;
	}
	return open_captures(b);
}

static void teardown(struct bench *b)
{
	if (b->getimage)
		dp_capture_destroy(b->getimage);
	if (b->shm)
		dp_capture_destroy(b->shm);
	if (b->probe.pid > 0)
		dp_probe_stop(&b->probe);
	if (b->xvfb.pid > 0)
		dp_xvfb_stop(&b->xvfb);
	for (size_t i = 0; i < 2 * COLD_BUFFERS; i++)
		free(b->buf[i]);
	free(b->before.pixels);
	free(b->after.pixels);
	free(b->twin.pixels);
	dp_changemap_release(&b->map);
}

static int parse_args(int argc, char **argv, size_t *scale_div, const char **json)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick")) {
			*scale_div = 10;
		} else if (!strcmp(argv[i], "--json") && i + 1 < argc) {
			*json = argv[++i];
		} else {
			fprintf(stderr, "usage: %s [--quick] [--json FILE]\n", argv[0]);
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct bench b = { 0 };
	const char *json = NULL;
	size_t div = 1;
	int r = -1;

	if (parse_args(argc, argv, &div, &json) < 0)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	srand((unsigned)time(NULL));
	for (int m = 0; m < M_COUNT; m++) {
		series[m].n = (m == M_SETTLE ? 20 : 200) / div;
		series[m].ns = calloc(series[m].n, sizeof(int64_t));
		if (!series[m].ns)
			return oom(), 1;
	}
	if (setup(&b) < 0)
		goto out;
	b.cap = b.shm;
	if (time_op(&b, M_GRAB_SHM, op_grab) < 0)
		goto out;
	b.cap = b.getimage;
	if (time_op(&b, M_GRAB_GETIMAGE, op_grab) < 0 || bench_memory(&b) < 0 || bench_settle(&b) < 0)
		goto out;
	for (int m = 0; m < M_COUNT; m++)
		summarize(&series[m]);
	print_table(&b);
	r = json ? write_json(json, &b) : 0;
out:
	teardown(&b);
	for (int m = 0; m < M_COUNT; m++)
		free(series[m].ns);
	return r < 0 ? 1 : 0;
}
