/* bench-ocr: reading and locating on a 1080p screen.
 *
 * Starts a private 1920x1080 Xvfb with a GTK window of 72 labels (13 px), a
 * small xterm (6x13 bitmap font, dark on light) full of a file listing and
 * a large one (DejaVu Sans Mono 14, light on dark), and measures, over N
 * repetitions each (after one untimed warm-up):
 *   1. OCR of the whole screen, cold (the cache emptied first);
 *   2. OCR of a new grab of the unchanged screen (the cache answers);
 *   3. OCR after a small change (one label's text replaced);
 *   4. locating a word on the unchanged screen, and in a 400x120 region
 *      with the cache cold;
 *   5. template matching over the whole frame: 32x32, 80x20 and 300x200
 *      templates cut from it.
 * It also prints what the cold read got right: label words read exactly
 * where GTK drew them, and terminal words read exactly in their cells.
 * Numbers only: no pass/fail, no timed assertions.
 *
 * Run: DP_GTK_LABELS=tests/apps/gtk_labels.py build/bench/bench-ocr
 *      [--quick] [--json FILE] [--results] [--scale N] [--psm sparse|auto] [--threads N] [--verbose] [--shot FILE.png]
 * N is 10 for cold reads, 20 for changes and cold regions, 50 otherwise;
 * --quick divides them by 5 (at least 2). */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <xcb/xcb.h>

#include "capture/capture.h"
#include "engine/clock.h"
#include "engine/image_png.h"
#include "engine/locate.h"
#include "engine/ocr.h"
#include "tests/harness/xvfb.h"
#include "stats.h"

#define SCREEN_W 1920
#define SCREEN_H 1080
#define N_LABELS 72
#define TERM_COLS 150
#define TERM_ROWS 30
#define BIG_COLS 60
#define BIG_ROWS 18
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

enum metric {
	M_COLD, M_UNCHANGED, M_CHANGE, M_LOCATE, M_LOCATE_REGION, M_TPL_SMALL, M_TPL_TEXT, M_TPL_LARGE, M_COUNT
};

struct series {
	const char *key, *label;
	size_t n_full; /* repetitions without --quick */
	size_t n;
	int64_t *ns;
	struct dp_stats st;
};

static struct series series[M_COUNT] = {
	[M_COLD] = { "ocr_cold", "OCR 1080p, cold", 10 },
	[M_UNCHANGED] = { "ocr_unchanged", "OCR 1080p, unchanged (cache)", 50 },
	[M_CHANGE] = { "ocr_small_change", "OCR 1080p, one label changed", 20 },
	[M_LOCATE] = { "locate_text", "locate a word, unchanged screen", 50 },
	[M_LOCATE_REGION] = { "locate_text_region_cold", "locate a word in 400x120, cold", 20 },
	[M_TPL_SMALL] = { "template_32x32", "template 32x32 on 1080p", 50 },
	[M_TPL_TEXT] = { "template_80x20", "template 80x20 on 1080p", 50 },
	[M_TPL_LARGE] = { "template_300x200", "template 300x200 on 1080p", 50 },
};

static const char *const vocabulary[] = {
	"Save", "Cancel", "Apply", "Delete", "Invoice", "Customer", "Number", "Address", "Quantity", "Price",
	"Total", "Discount", "Reference", "Shipping", "Billing", "Account", "Settings", "Preferences", "Help",
	"About", "Export", "Import", "Print", "Preview", "Search", "Filter", "Status", "Pending", "Approved",
	"Rejected", "Draft", "Archive", "Folder", "Report", "Summary", "Details", "Options", "Window", "Close",
	"Open", "Recent", "Edit", "Copy", "Paste", "Undo", "Redo", "Select", "Format", "Tools", "View", "Zoom",
	"12345", "2024-06-30", "EUR", "1,250.00", "INV-0042", "ACME", "GmbH", "Berlin", "Munich", "Order",
	"user@example.com", "v2.3.1", "100%", "09:45", "Supplier", "Warehouse", "Delivery", "Payment", "Credit",
	"Balance", "Journal",
};

struct label {
	char text[64];
	struct dp_rect ink;
};

struct term {
	pid_t pid;
	int32_t x, y, cw, ch;
	int cols, rows;
	char lines[TERM_ROWS][TERM_COLS + 1];
	int n_lines;
};

struct bench {
	bool verbose;     /* print the words not read */
	const char *shot; /* save the screen there (PNG) */
	struct dp_xvfb xvfb;
	struct dp_probe app;
	struct label labels[N_LABELS];
	struct term small, big;
	struct dp_capture *cap;
	struct dp_ocr *ocr;
	struct dp_ocr_options options;
	char tmpdir[64];
	uint64_t change_pixels, change_recognitions;
	size_t label_ok, term_words, term_ok, small_words, small_ok;
	size_t words_read;
};

static int fail(const char *what, const char *why)
{
	fprintf(stderr, "bench-ocr: %s: %s\n", what, why);
	return -1;
}

static int grab(struct bench *b, struct dp_frame *frame)
{
	struct dp_error err = { 0 };

	return dp_capture_grab(b->cap, NULL, 0, frame, &err) < 0 ? fail("grab failed", err.message) : 0;
}

static int settle(struct bench *b)
{
	struct dp_settle_options o;
	struct dp_settle_result res;
	struct dp_error err = { 0 };

	dp_settle_options_default(&o);
	o.expect_change = false;
	o.quiet_ms = 150;
	return dp_capture_settle(b->cap, &o, &res, &err) < 0 ? fail("settle", err.message) : 0;
}

/* ---------- the screen ---------- */

static int read_labels(struct bench *b)
{
	static char lines[N_LABELS + 4][512];
	size_t n = 0;
	int r = dp_app_collect(&b->app, lines, N_LABELS + 4, &n);

	for (size_t i = 0; r == 0 && i < n; i++) {
		cJSON *o = cJSON_Parse(lines[i]);
		cJSON *index = cJSON_GetObjectItem(o, "index");

		if (o && cJSON_IsNumber(index) && index->valueint >= 0 && index->valueint < N_LABELS) {
			struct label *l = &b->labels[index->valueint];

			snprintf(l->text, sizeof(l->text), "%s", cJSON_GetObjectItem(o, "text")->valuestring);
			l->ink = (struct dp_rect){ cJSON_GetObjectItem(o, "x")->valueint, cJSON_GetObjectItem(o, "y")->valueint,
						   cJSON_GetObjectItem(o, "width")->valueint,
						   cJSON_GetObjectItem(o, "height")->valueint };
		}
		cJSON_Delete(o);
	}
	return r;
}

static int measure_term(struct bench *b, struct term *t, uint32_t shell)
{
	xcb_connection_t *c = xcb_connect(b->xvfb.display, NULL);
	xcb_query_tree_reply_t *tree = xcb_query_tree_reply(c, xcb_query_tree(c, shell), NULL);
	xcb_window_t vt = tree && xcb_query_tree_children_length(tree) ? xcb_query_tree_children(tree)[0] : shell;
	xcb_get_geometry_reply_t *g = xcb_get_geometry_reply(c, xcb_get_geometry(c, vt), NULL);
	xcb_translate_coordinates_reply_t *tr = g ? xcb_translate_coordinates_reply(
		c, xcb_translate_coordinates(c, vt, g->root, 0, 0), NULL) : NULL;
	int r = -1;

	if (g && tr) { /* 2 pixels of internal border around the cells */
		t->cw = (g->width - 4) / t->cols;
		t->ch = (g->height - 4) / t->rows;
		t->x = tr->dst_x + 2;
		t->y = tr->dst_y + 2;
		r = 0;
	}
	free(tree);
	free(g);
	free(tr);
	xcb_disconnect(c);
	return r;
}

static int start_term(struct bench *b, struct term *t, const char *name, const char *const *font, int x, int y)
{
	char script[512], textfile[128], idfile[128], geometry[64];
	const char *argv[24];
	int n = 0;
	int64_t end = dp_now_ns() + 20 * DP_NSEC_PER_SEC;
	struct timespec tick = { 0, 20 * 1000 * 1000 };
	char *id = NULL;
	FILE *f;

	snprintf(textfile, sizeof(textfile), "%s/%s.txt", b->tmpdir, name);
	snprintf(idfile, sizeof(idfile), "%s/%s.id", b->tmpdir, name);
	if (!(f = fopen(textfile, "w")))
		return fail(textfile, strerror(errno));
	for (int i = 0; i < t->n_lines; i++)
		fprintf(f, "%s\n", t->lines[i]);
	fclose(f);
	snprintf(script, sizeof(script), "printf '\\033[?25l'; cat %s; echo $WINDOWID > %s; exec sleep 100000",
		 textfile, idfile);
	snprintf(geometry, sizeof(geometry), "%dx%d+%d+%d", t->cols, t->rows, x, y);
	argv[n++] = "xterm";
	for (int i = 0; font[i]; i++)
		argv[n++] = font[i];
	argv[n++] = "-geometry";
	argv[n++] = geometry;
	argv[n++] = "-e";
	argv[n++] = "/bin/sh";
	argv[n++] = "-c";
	argv[n++] = script;
	argv[n] = NULL;
	t->pid = dp_spawn_on(&b->xvfb, argv);
	/* The shell writes the file after printing; read it once its line is whole. */
	while (dp_now_ns() < end && (!(id = dp_read_file(idfile)) || !strchr(id, '\n'))) {
		free(id);
		id = NULL;
		nanosleep(&tick, NULL);
	}
	if (!id || !*id) {
		free(id);
		return fail("xterm did not start", "apt-get install xterm xfonts-base");
	}
	n = measure_term(b, t, (uint32_t)strtoul(id, NULL, 10));
	free(id);
	unlink(idfile);
	unlink(textfile);
	return n;
}

/* A file listing and some prose, the same every run. */
static void fill_terms(struct bench *b)
{
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun" };
	static const char *const prose[] = {
		"Invoice total due within thirty days", "Please review the pending orders",
		"Shipping address changed for customer", "Payment received from ACME GmbH",
		"Balance carried forward to next month", "Credit note issued for order 4711",
	};
	uint32_t seed = 7;

	b->small.cols = TERM_COLS;
	b->small.rows = TERM_ROWS;
	b->small.n_lines = TERM_ROWS - 1;
	for (int i = 0; i < b->small.n_lines; i++) {
		seed = seed * 1103515245u + 12345u;
		snprintf(b->small.lines[i], sizeof(b->small.lines[i]),
			 "-rw-r--r-- 1 user staff %6u %s %2u 09:%02u report_%s_%02d.csv  %s", (seed >> 12) % 900000,
			 months[i % 6], 1 + (seed >> 8) % 28, (seed >> 4) % 60, vocabulary[(seed >> 16) % 40], i,
			 prose[i % 6]);
	}
	b->big.cols = BIG_COLS;
	b->big.rows = BIG_ROWS;
	b->big.n_lines = BIG_ROWS - 1;
	for (int i = 0; i < b->big.n_lines; i++)
		snprintf(b->big.lines[i], sizeof(b->big.lines[i]), "%s %s", prose[(i + 3) % 6],
			 vocabulary[(i * 7) % 50]);
}

static int setup(struct bench *b)
{
	static const char *const small_font[] = { "-fn", "6x13", NULL };
	static const char *const big_font[] = { "-fa", "DejaVu Sans Mono", "-fs", "14", "-bg", "black", "-fg",
						"white", NULL };
	const char *argv[N_LABELS + 16];
	struct dp_capture_config config = { 0 };
	struct dp_error err = { 0 };
	int n = 0, r;

	snprintf(b->tmpdir, sizeof(b->tmpdir), "%s/dp-ocr-bench-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(b->tmpdir))
		return fail("mkdtemp", strerror(errno));
	r = dp_xvfb_start(&b->xvfb, SCREEN_W, SCREEN_H, NULL);
	if (r < 0)
		return fail("cannot start Xvfb (is it installed and on PATH?)", strerror(-r));
	config.display = b->xvfb.display;
	if (dp_capture_create(&b->cap, &config, &err) < 0)
		return fail("cannot open the capture", err.message);
	argv[n++] = getenv("DP_GTK_LABELS");
	if (!argv[0])
		return fail("DP_GTK_LABELS is not set", "point it at tests/apps/gtk_labels.py");
	argv[n++] = "--columns";
	argv[n++] = "6";
	argv[n++] = "--font-size";
	argv[n++] = "13";
	for (int i = 0; i < N_LABELS; i++)
		argv[n++] = vocabulary[i % ARRAY_LEN(vocabulary)];
	argv[n] = NULL;
	if (dp_app_start(&b->app, &b->xvfb, argv) < 0 || read_labels(b) < 0)
		return fail("cannot start the GTK labels app", "python3-gi and gir1.2-gtk-3.0 installed?");
	fill_terms(b);
	if (start_term(b, &b->small, "small", small_font, 0, 560) < 0 ||
	    start_term(b, &b->big, "big", big_font, 1000, 40) < 0 || settle(b) < 0)
		return -1;
	if (dp_ocr_create(&b->ocr, NULL, &err) < 0)
		return fail("ocr", err.message);
	if (dp_ocr_set_options(b->ocr, &b->options, &err) < 0)
		return fail("ocr options", err.message);
	return 0;
}

static void teardown(struct bench *b)
{
	dp_ocr_destroy(b->ocr);
	dp_capture_destroy(b->cap);
	dp_probe_stop(&b->app);
	dp_reap(b->small.pid);
	dp_reap(b->big.pid);
	dp_xvfb_stop(&b->xvfb);
	if (b->tmpdir[0])
		rmdir(b->tmpdir);
}

/* ---------- accuracy of a cold read ---------- */

static bool centre_in(struct dp_rect box, struct dp_rect area)
{
	int32_t cx = box.x + box.width / 2, cy = box.y + box.height / 2;

	return cx >= area.x && cy >= area.y && cx < area.x + area.width && cy < area.y + area.height;
}

static bool read_at(const struct dp_ocr_result *res, const char *text, struct dp_rect area)
{
	for (size_t i = 0; i < res->n_words; i++)
		if (!strcmp(res->words[i].text, text) && centre_in(res->words[i].box, area))
			return true;
	return false;
}

static void term_accuracy(struct bench *b, const struct term *t, const struct dp_ocr_result *res)
{
	for (int row = 0; row < t->n_lines; row++) {
		const char *line = t->lines[row];

		for (int col = 0; line[col];) {
			char word[TERM_COLS + 1];
			int len = 0;

			if (line[col] == ' ') {
				col++;
				continue;
			}
			while (line[col + len] && line[col + len] != ' ')
				len++;
			snprintf(word, sizeof(word), "%.*s", len, line + col);
			b->term_words++;
			if (read_at(res, word, (struct dp_rect){ t->x + col * t->cw - 1, t->y + row * t->ch - 1,
								 len * t->cw + 2, t->ch + 2 }))
				b->term_ok++;
			else if (b->verbose)
				fprintf(stderr, "not read: \"%s\" (terminal row %d, column %d)\n", word, row, col);
			col += len;
		}
	}
}

static void accuracy(struct bench *b, const struct dp_ocr_result *res)
{
	b->words_read = res->n_words;
	for (int i = 0; i < N_LABELS; i++) {
		struct dp_rect ink = b->labels[i].ink;

		if (read_at(res, b->labels[i].text, (struct dp_rect){ ink.x - 3, ink.y - 3, ink.width + 6, ink.height + 6 }))
			b->label_ok++;
		else if (b->verbose)
			fprintf(stderr, "not read: label \"%s\"\n", b->labels[i].text);
	}
	term_accuracy(b, &b->small, res);
	b->small_ok = b->term_ok;
	b->small_words = b->term_words;
	term_accuracy(b, &b->big, res);
}

/* ---------- the measures ---------- */

static int forget(struct bench *b)
{
	struct dp_error err = { 0 };

	return dp_ocr_set_options(b->ocr, &b->options, &err) < 0 ? fail("ocr options", err.message) : 0;
}

/* Grabs, then reads all of the screen from *t0 on (the grab is not timed). */
static int read_all(struct bench *b, struct dp_ocr_result *res, int64_t *t0)
{
	struct dp_error err = { 0 };
	struct dp_frame frame;

	if (grab(b, &frame) < 0)
		return -1;
	*t0 = dp_now_ns();
	return dp_ocr_read(b->ocr, &frame, NULL, res, &err) < 0 ? fail("ocr", err.message) : 0;
}

/* One repetition of metric m (i counts them); what is timed is between
 * *t0 and the return. */
static int run_once(struct bench *b, enum metric m, size_t i, int64_t *t0)
{
	static const char *const swaps[] = { "Archived", "Pending" };
	struct dp_text_query q = { .text = "Preferences", .match = DP_MATCH_EXACT };
	struct dp_ocr_result res = { 0 };
	struct dp_error err = { 0 };
	struct dp_ocr_stats before, after;
	struct dp_frame frame;
	struct dp_match match;
	char line[256];
	int r = 0;

	switch (m) {
	case M_COLD:
		if (forget(b) < 0)
			return -1;
		r = read_all(b, &res, t0);
			if (r == 0 && i == 0 && b->words_read == 0)
			accuracy(b, &res);
		if (r == 0 && i == 0 && b->verbose)
			for (size_t k = 0; k < res.n_lines; k++)
				fprintf(stderr, "line %d,%d: %s\n", res.lines[k].box.x, res.lines[k].box.y, res.lines[k].text);
		break;
	case M_UNCHANGED:
		r = read_all(b, &res, t0);
		break;
	case M_CHANGE:
		dp_probe_send(&b->app, "set 40 %s", swaps[i % 2]);
		if (dp_probe_wait(&b->app, "drawn", 5000, line, sizeof(line)) < 0 || settle(b) < 0)
			return fail("the GTK app", "did not redraw its label");
		dp_ocr_stats(b->ocr, &before);
		r = read_all(b, &res, t0);
		dp_ocr_stats(b->ocr, &after);
		b->change_pixels += after.pixels_read - before.pixels_read;
		b->change_recognitions += after.recognitions - before.recognitions;
		break;
	case M_LOCATE_REGION:
		if (forget(b) < 0)
			return -1;
		q.has_region = true;
		q.region = (struct dp_rect){ b->labels[17].ink.x - 20, b->labels[17].ink.y - 40, 400, 120 };
		/* fall through */
	case M_LOCATE:
		if (grab(b, &frame) < 0)
			return -1;
		*t0 = dp_now_ns();
		r = dp_locate_text(b->ocr, &frame, &q, &match, &err);
		if (r < 0)
			fail("locate \"Preferences\"", err.message);
		break;
	default:
		return -1;
	}
	dp_ocr_result_clear(&res);
	return r;
}

static int time_ocr(struct bench *b, enum metric m)
{
	struct series *s = &series[m];

	for (size_t i = 0; i < 1 + s->n; i++) {
		int64_t t0 = 0;

		if (run_once(b, m, i, &t0) < 0)
			return -1;
		if (i >= 1)
			s->ns[i - 1] = dp_now_ns() - t0;
	}
	return 0;
}

static int time_template(struct bench *b, enum metric m, struct dp_rect cut)
{
	struct series *s = &series[m];
	struct dp_template *t = NULL;
	struct dp_error err = { 0 };
	struct dp_frame frame;
	struct dp_match match;

	if (grab(b, &frame) < 0)
		return -1;
	if (dp_template_from_frame(&t, &frame, &cut, s->key, &err) < 0)
		return fail("template", err.message);
	for (size_t i = 0; i < 1 + s->n; i++) {
		int64_t t0 = dp_now_ns();
		int r = dp_locate_template(&frame, t, 0.9, NULL, &match, &err);

		if (r < 0 || match.box.x != cut.x || match.box.y != cut.y) {
			dp_template_destroy(t);
			return fail(s->key, r < 0 ? err.message : "found at the wrong place");
		}
		if (i >= 1)
			s->ns[i - 1] = dp_now_ns() - t0;
	}
	dp_template_destroy(t);
	return 0;
}

static int run_all(struct bench *b)
{
	const struct dp_rect ink = b->labels[13].ink;
	struct dp_error err = { 0 };
	struct dp_frame frame;

	if (b->shot && (grab(b, &frame) < 0 || dp_png_write(b->shot, &frame, &err) < 0))
		return fail("cannot save the screen", err.message);
	for (enum metric m = M_COLD; m <= M_LOCATE_REGION; m++)
		if (time_ocr(b, m) < 0)
			return -1;
	/* Icon-sized, word-sized and dialog-sized pieces of the screen (the
	 * listing's lines repeat, so not from there: the first copy would win). */
	if (time_template(b, M_TPL_SMALL, (struct dp_rect){ b->labels[5].ink.x - 4, b->labels[5].ink.y - 10, 32, 32 }) < 0 ||
	    time_template(b, M_TPL_TEXT, (struct dp_rect){ ink.x - 4, ink.y - 5, 80, 20 }) < 0 ||
	    time_template(b, M_TPL_LARGE, (struct dp_rect){ b->big.x + 20, b->big.y + 10, 300, 200 }) < 0)
		return -1;
	return 0;
}

/* ---------- output ---------- */

static void print_table(const struct bench *b)
{
	size_t n_change = series[M_CHANGE].n + 1;

	printf("OCR options: scale %d, page segmentation %s, threads %d (0: automatic)\n\n", b->options.scale,
	       b->options.psm == DP_OCR_PSM_AUTO ? "auto" : "sparse text", b->options.threads);
	printf("%-36s %4s %4s %9s %9s %9s %9s %9s\n", "measure", "unit", "n", "median", "p10", "p90", "min", "max");
	for (int m = 0; m < M_COUNT; m++) {
		const struct series *s = &series[m];

		printf("%-36s %4s %4zu %9.2f %9.2f %9.2f %9.2f %9.2f\n", s->label, "ms", s->n, s->st.median,
		       s->st.p10, s->st.p90, s->st.min, s->st.max);
	}
	printf("\n%-36s %zu\n", "words read (cold)", b->words_read);
	printf("%-36s %zu of %d\n", "label words read exactly, in place", b->label_ok, N_LABELS);
	printf("%-36s %zu of %zu (6x13: %zu of %zu, DejaVu 14: %zu of %zu)\n", "terminal words read exactly, in place",
	       b->term_ok, b->term_words, b->small_ok, b->small_words, b->term_ok - b->small_ok,
	       b->term_words - b->small_words);
	printf("%-36s %.0f pixels (%.1f%% of the screen), %.1f recognitions\n", "re-read per small change",
	       (double)b->change_pixels / (double)n_change,
	       100.0 * (double)b->change_pixels / (double)n_change / (SCREEN_W * SCREEN_H),
	       (double)b->change_recognitions / (double)n_change);
}

static int write_json(const char *path, const struct bench *b)
{
	FILE *f = fopen(path, "w");
	size_t n_change = series[M_CHANGE].n + 1;

	if (!f)
		return fail(path, strerror(errno));
	fprintf(f, "{\n  \"screen\": \"%dx%d\",\n  \"scale\": %d,\n  \"psm\": \"%s\",\n  \"results\": {\n", SCREEN_W,
		SCREEN_H, b->options.scale, b->options.psm == DP_OCR_PSM_AUTO ? "auto" : "sparse");
	for (int m = 0; m < M_COUNT; m++) {
		const struct series *s = &series[m];

		fprintf(f, "    \"%s\": {\"unit\": \"ms\", \"n\": %zu, \"median\": %.3f, \"p10\": %.3f, \"p90\": %.3f, "
			"\"min\": %.3f, \"max\": %.3f}%s\n", s->key, s->n, s->st.median, s->st.p10, s->st.p90, s->st.min,
			s->st.max, m + 1 < M_COUNT ? "," : "");
	}
	fprintf(f, "  },\n  \"words_read\": %zu,\n  \"label_words_exact\": [%zu, %d],\n"
		"  \"terminal_words_exact\": [%zu, %zu],\n  \"small_change_pixels\": %.0f\n}\n", b->words_read,
		b->label_ok, N_LABELS, b->term_ok, b->term_words, (double)b->change_pixels / (double)n_change);
	return fclose(f) == 0 ? 0 : fail(path, strerror(errno));
}

int main(int argc, char **argv)
{
	static struct bench b;
	const char *json = NULL;
	size_t div = 1;
	bool results = false;
	int r = -1;

	b.options = (struct dp_ocr_options){ .scale = 3, .psm = DP_OCR_PSM_SPARSE };
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick"))
			div = 5;
		else if (!strcmp(argv[i], "--verbose"))
			b.verbose = true;
		else if (!strcmp(argv[i], "--results"))
			results = true;
		else if (!strcmp(argv[i], "--shot") && i + 1 < argc)
			b.shot = argv[++i];
		else if (!strcmp(argv[i], "--json") && i + 1 < argc)
			json = argv[++i];
		else if (!strcmp(argv[i], "--scale") && i + 1 < argc)
			b.options.scale = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
			b.options.threads = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--psm") && i + 1 < argc && !strcmp(argv[i + 1], "auto"))
			b.options.psm = DP_OCR_PSM_AUTO, i++;
		else if (!strcmp(argv[i], "--psm") && i + 1 < argc && !strcmp(argv[i + 1], "sparse"))
			b.options.psm = DP_OCR_PSM_SPARSE, i++;
		else
			return fprintf(stderr, "usage: %s [--quick] [--json FILE] [--results] [--scale N] [--psm sparse|auto] [--threads N] [--verbose] [--shot FILE.png]\n",
				       argv[0]), 2;
	}
	signal(SIGPIPE, SIG_IGN);
	for (int m = 0; m < M_COUNT; m++) {
		series[m].n = series[m].n_full / div < 2 ? 2 : series[m].n_full / div;
		if (!(series[m].ns = calloc(series[m].n, sizeof(int64_t))))
			return fail("samples", "out of memory"), 1;
	}
	if (setup(&b) == 0 && run_all(&b) == 0) {
		for (int m = 0; m < M_COUNT; m++)
			dp_stats_summarize(series[m].ns, series[m].n, 1e6, &series[m].st);
		print_table(&b);
		for (int m = 0; results && m < M_COUNT; m++) {
			char name[64];

			snprintf(name, sizeof(name), "ocr.%s", series[m].key);
			dp_stats_print_result(name, &series[m].st, "ms", -1);
		}
		r = json ? write_json(json, &b) : 0;
	}
	teardown(&b);
	for (int m = 0; m < M_COUNT; m++)
		free(series[m].ns);
	return r < 0 ? 1 : 0;
}
