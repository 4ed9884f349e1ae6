/* bench-capture: capture speed beside what the memory system allows.
 *
 * Starts a private 1920x1080 Xvfb with the probe fixture full screen and
 * measures, over N repetitions each (after 5 untimed warm-up runs):
 *   1. a full-screen MIT-SHM grab beside a memcpy of as many bytes (between
 *      cold buffers, and between the same two buffers), and a GetImage grab;
 *   2. dp_changemap_compute on two 1080p frames beside memcmp of two equal
 *      buffers of that size (so memcmp reads every byte);
 *   3. settle overhead: when dp_capture_settle returns after the probe's last
 *      draw, less the quiet window; and premature returns (should be 0).
 * Goals: grab within 2x of memcpy, change map within 1.5x of memcmp.  It
 * prints numbers only: no pass/fail, no timed assertions.
 *
 * Run: DP_PROBE=build/tests/probe build/bench/bench-capture [--quick] [--json FILE] [--results]
 * (--results: RESULT lines for bench/run, a grab beside a cold memcpy of
 * its bytes, the change map beside memcmp)
 * N is 200 (20 for settle); --quick divides it by 10. */
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
#include "stats.h"

#define SCREEN_W 1920
#define SCREEN_H 1080
#define FRAME_BYTES ((size_t)SCREEN_W * SCREEN_H * 4)
#define COLD 4    /* memcpy rotates 4 sources and 4 destinations: 66 MB */
#define WARMUP 5
enum { BEFORE = 2 * COLD, AFTER, TWIN, N_BUFS }; /* AFTER: a few pixels differ; TWIN: equal */
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

enum metric { M_GRAB_SHM, M_GRAB_GETIMAGE, M_MEMCPY, M_MEMCPY_SAME, M_CHANGEMAP, M_MEMCMP, M_SETTLE, M_COUNT };

struct series {
	const char *key, *label, *unit;
	double div;  /* ns per unit */
	size_t n;
	int64_t *ns; /* samples */
	double median, p10, p90, min, max;
};

static struct series series[M_COUNT] = {
	[M_GRAB_SHM] = { "grab_shm", "grab 1080p (MIT-SHM)", "us", 1e3 },
	[M_GRAB_GETIMAGE] = { "grab_getimage", "grab 1080p (GetImage)", "us", 1e3 },
	[M_MEMCPY] = { "memcpy_cold", "memcpy 8294400 B (cold)", "us", 1e3 },
	[M_MEMCPY_SAME] = { "memcpy_same", "memcpy 8294400 B (same buffers)", "us", 1e3 },
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
	{ "grab_shm_over_memcpy_same", "grab (SHM) / memcpy (same buffers)", M_GRAB_SHM, M_MEMCPY_SAME, 0 },
	{ "grab_getimage_over_memcpy", "grab (GetImage) / memcpy (cold)", M_GRAB_GETIMAGE, M_MEMCPY, 0 },
	{ "changemap_over_memcmp", "changemap / memcmp", M_CHANGEMAP, M_MEMCMP, 1.5 },
};

static volatile int sink; /* keeps the memcmp results alive */

struct bench {
	struct dp_xvfb xvfb;
	struct dp_probe probe;
	struct dp_capture *shm, *getimage;
	uint8_t *buf[N_BUFS];
	struct dp_changemap map;
	int premature, unsettled;
};

static int fail(const char *what, const char *why)
{
	fprintf(stderr, "bench-capture: %s: %s\n", what, why);
	return -1;
}

static int grab_full(struct dp_capture *cap, struct dp_frame *frame)
{
	struct dp_error err = { 0 };

	return dp_capture_grab(cap, NULL, 0, frame, &err) < 0 ? fail("grab failed", err.message) : 0;
}

static struct dp_frame frame_of(uint8_t *pixels)
{
	return (struct dp_frame){ .width = SCREEN_W, .height = SCREEN_H, .stride = SCREEN_W * 4, .pixels = pixels };
}

/* One repetition of metric m; i counts repetitions. */
static int run_once(struct bench *b, enum metric m, size_t i)
{
	struct dp_frame frame, before = frame_of(b->buf[BEFORE]), after = frame_of(b->buf[AFTER]);

	switch (m) {
	case M_GRAB_SHM:
		return grab_full(b->shm, &frame);
	case M_GRAB_GETIMAGE:
		return grab_full(b->getimage, &frame);
	case M_MEMCPY: /* buffers untouched for the last 3 copies */
		memcpy(b->buf[COLD + i % COLD], b->buf[(i + 1) % COLD], FRAME_BYTES);
		return 0;
	case M_MEMCPY_SAME:
		memcpy(b->buf[COLD], b->buf[0], FRAME_BYTES);
		return 0;
	case M_CHANGEMAP:
		return dp_changemap_compute(&b->map, &before, &after);
	case M_MEMCMP:
		sink += memcmp(b->buf[BEFORE], b->buf[TWIN], FRAME_BYTES);
		return 0;
	default:
		return -1;
	}
}

static int time_metric(struct bench *b, enum metric m)
{
	struct series *s = &series[m];

	for (size_t i = 0; i < WARMUP + s->n; i++) {
		int64_t t0 = dp_now_ns();

		if (run_once(b, m, i) < 0)
			return -1;
		if (i >= WARMUP)
			s->ns[i - WARMUP] = dp_now_ns() - t0;
	}
	return 0;
}

/* Two grabbed frames in our own buffers; a few pixels of AFTER changed. */
static int prepare_frames(struct bench *b)
{
	struct dp_frame frame;

	if (grab_full(b->shm, &frame) < 0)
		return -1;
	memcpy(b->buf[BEFORE], frame.pixels, FRAME_BYTES);
	memcpy(b->buf[TWIN], frame.pixels, FRAME_BYTES);
	if (grab_full(b->shm, &frame) < 0)
		return -1;
	memcpy(b->buf[AFTER], frame.pixels, FRAME_BYTES);
	for (int k = 0; k < 5; k++)
		b->buf[AFTER][((size_t)(100 + k * 211) * SCREEN_W + (size_t)(100 + k * 401)) * 4] ^= 0x5a;
	return 0;
}

static int bench_settle(struct bench *b)
{
	struct series *s = &series[M_SETTLE];
	struct dp_settle_options o, quiet;
	struct dp_settle_result res;
	struct dp_error err = { 0 };
	struct dp_frame frame;
	char line[512];

	dp_settle_options_default(&o);
	quiet = o;
	quiet.expect_change = false;
	for (size_t i = 0; i < s->n; i++) {
		int64_t returned, last_draw;

		/* Wait out any drawing and grab, so settle sees only the redraw. */
		if (dp_capture_settle(b->shm, &quiet, &res, &err) < 0)
			return fail("settle failed", err.message);
		if (grab_full(b->shm, &frame) < 0)
			return -1;
		dp_probe_send(&b->probe, "redraw %d 3 20", 300 + rand() % 501);
		if (dp_capture_settle(b->shm, &o, &res, &err) < 0)
			return fail("settle failed", err.message);
		returned = dp_now_ns();
		if (dp_probe_wait(&b->probe, "idle", 5000, line, sizeof(line)) < 0)
			return fail("probe", "no idle event within 5 s of a redraw");
		last_draw = (int64_t)dp_json_int(line, "last_draw_ns");
		b->premature += returned < last_draw;
		b->unsettled += res.outcome != DP_SETTLE_SETTLED;
		s->ns[i] = returned - last_draw - (int64_t)o.quiet_ms * DP_NSEC_PER_MSEC;
	}
	return 0;
}

static int run_all(struct bench *b)
{
	for (size_t i = 0; i < N_BUFS; i++) {
		if (!(b->buf[i] = malloc(FRAME_BYTES)))
			return fail("buffers", "out of memory");
		memset(b->buf[i], (int)i, FRAME_BYTES); /* fault the pages in now */
	}
	for (enum metric m = M_GRAB_SHM; m < M_SETTLE; m++) {
		if (m == M_CHANGEMAP && prepare_frames(b) < 0)
			return -1;
		if (time_metric(b, m) < 0)
			return -1;
	}
	if (b->map.changed == 0)
		fprintf(stderr, "bench-capture: warning: the change map saw no change\n");
	return bench_settle(b);
}

static void summarize(struct series *s)
{
	struct dp_stats st;

	dp_stats_summarize(s->ns, s->n, s->div, &st);
	s->median = st.median;
	s->p10 = st.p10;
	s->p90 = st.p90;
	s->min = st.min;
	s->max = st.max;
}

static double ratio(size_t i)
{
	return series[ratios[i].num].median / series[ratios[i].den].median;
}

static void print_table(const struct bench *b)
{
	printf("%-35s %4s %4s %9s %9s %9s %9s %9s\n", "measure", "unit", "n", "median", "p10", "p90", "min",
	       "max");
	for (int m = 0; m < M_COUNT; m++) {
		const struct series *s = &series[m];

		printf("%-35s %4s %4zu %9.2f %9.2f %9.2f %9.2f %9.2f\n", s->label, s->unit, s->n, s->median,
		       s->p10, s->p90, s->min, s->max);
	}
	printf("\n");
	for (size_t i = 0; i < ARRAY_LEN(ratios); i++) {
		printf("%-35s %7.2fx", ratios[i].label, ratio(i));
		if (ratios[i].goal > 0)
			printf("   goal <= %.1fx", ratios[i].goal);
		printf("\n");
	}
	printf("%-35s %4d of %zu (should be 0)\n", "settle premature returns", b->premature, series[M_SETTLE].n);
	printf("%-35s %4d of %zu\n", "settle outcome not SETTLED", b->unsettled, series[M_SETTLE].n);
}

static void print_results(void)
{
	for (int m = 0; m < M_COUNT; m++) {
		const struct series *s = &series[m];
		struct dp_stats st = { .median = s->median, .p10 = s->p10, .p90 = s->p90 };
		char name[64];
		double floor = m == M_GRAB_SHM || m == M_GRAB_GETIMAGE ? series[M_MEMCPY].median
			       : m == M_CHANGEMAP			  ? series[M_MEMCMP].median
								  : -1;

		snprintf(name, sizeof(name), "capture.%s", s->key);
		dp_stats_print_result(name, &st, s->unit, floor);
	}
}

static int write_json(const char *path, const struct bench *b)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return fail(path, strerror(errno));
	fprintf(f, "{\n  \"screen\": \"%dx%d\",\n  \"results\": {\n", SCREEN_W, SCREEN_H);
	for (int m = 0; m < M_COUNT; m++) {
		const struct series *s = &series[m];

		fprintf(f, "    \"%s\": {\"unit\": \"%s\", \"n\": %zu, \"median\": %.3f, \"p10\": %.3f, "
			"\"p90\": %.3f, \"min\": %.3f, \"max\": %.3f}%s\n", s->key, s->unit, s->n, s->median,
			s->p10, s->p90, s->min, s->max, m + 1 < M_COUNT ? "," : "");
	}
	fprintf(f, "  },\n  \"ratios\": {\n");
	for (size_t i = 0; i < ARRAY_LEN(ratios); i++)
		fprintf(f, "    \"%s\": {\"value\": %.3f, \"goal\": %.1f}%s\n", ratios[i].key, ratio(i),
			ratios[i].goal, i + 1 < ARRAY_LEN(ratios) ? "," : "");
	fprintf(f, "  },\n  \"settle_premature\": %d,\n  \"settle_not_settled\": %d\n}\n", b->premature,
		b->unsettled);
	return fclose(f) == 0 ? 0 : fail(path, strerror(errno));
}

static int setup(struct bench *b)
{
	struct dp_capture_config config = { 0 };
	struct dp_error err = { 0 };
	int r = dp_xvfb_start(&b->xvfb, SCREEN_W, SCREEN_H, NULL);

	if (r < 0)
		return fail("cannot start Xvfb (is it installed and on PATH?)", strerror(-r));
	if (!getenv("DP_PROBE"))
		return fail("DP_PROBE is not set", "point it at the probe app, e.g. build/tests/probe");
	r = dp_probe_start(&b->probe, &b->xvfb, 0, 0, SCREEN_W, SCREEN_H);
	if (r < 0)
		return fail("cannot start the probe ($DP_PROBE)", strerror(-r));
	config.display = b->xvfb.display;
	if (dp_capture_create(&b->shm, &config, &err) < 0)
		return fail("cannot open the capture", err.message);
	config.no_shm = true;
	if (dp_capture_create(&b->getimage, &config, &err) < 0)
		return fail("cannot open the GetImage capture", err.message);
	return 0;
}

static void teardown(struct bench *b)
{
	dp_capture_destroy(b->getimage);
	dp_capture_destroy(b->shm);
	dp_probe_stop(&b->probe); /* both do nothing where nothing started */
	dp_xvfb_stop(&b->xvfb);
	for (size_t i = 0; i < N_BUFS; i++)
		free(b->buf[i]);
	dp_changemap_release(&b->map);
}

int main(int argc, char **argv)
{
	static struct bench b;
	const char *json = NULL;
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
		else
			return fprintf(stderr, "usage: %s [--quick] [--json FILE] [--results]\n", argv[0]), 2;
	}
	signal(SIGPIPE, SIG_IGN);
	srand((unsigned)time(NULL));
	for (int m = 0; m < M_COUNT; m++) {
		series[m].n = (m == M_SETTLE ? 20 : 200) / div;
		if (!(series[m].ns = calloc(series[m].n, sizeof(int64_t))))
			return fail("samples", "out of memory"), 1;
	}
	if (setup(&b) == 0 && run_all(&b) == 0) {
		for (int m = 0; m < M_COUNT; m++)
			summarize(&series[m]);
		print_table(&b);
		if (results)
			print_results();
		r = json ? write_json(json, &b) : 0;
	}
	teardown(&b);
	for (int m = 0; m < M_COUNT; m++)
		free(series[m].ns);
	return r < 0 ? 1 : 0;
}
