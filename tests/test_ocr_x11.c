/* Text and templates on a real screen: a GTK window of labels (their ink
 * boxes reported by the app, as Pango lays them out), a small xterm (the
 * 6x13 bitmap font, dark on light) and a large one (DejaVu Sans Mono 14,
 * light on dark) on a private Xvfb, grabbed with capture/capture.h.
 *
 * Asserted: known words are found where the apps drew them (within a few
 * pixels), framed ones too; phrases, any-case, regex, nth, regions; several matches with
 * nth 0 is an error naming both places; a word not on screen is -ENOENT
 * naming the nearest text; the cache runs no recognition for an unchanged
 * screen and reads only a small band after a small change; a template cut
 * from the screen is found again exactly, and a threshold not reached is
 * -ENOENT with the best score. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <xcb/xcb.h>

#include "capture/capture.h"
#include "engine/clock.h"
#include "engine/image_png.h"
#include "engine/locate.h"
#include "engine/ocr.h"
#include "harness/xvfb.h"
#include "tst.h"

#define SCREEN_W 1280
#define SCREEN_H 800
#define TOL 3 /* pixels between an OCR box and the app's ink box */

static const char *const label_texts[] = {
	"Save", "Cancel", "New invoice",
	"Customer Number", "Save", "INV-2024-0042",
	"Delivery address", "Total: 1,234.56", "quantity",
	"Reference", "Due date", "Notes",
};
#define N_LABELS (sizeof(label_texts) / sizeof(label_texts[0]))

struct label {
	char text[64];
	struct dp_rect ink;
};

/* An xterm's text area: cell (row, col) is at origin + (col * cw, row * ch). */
struct term {
	pid_t pid;
	int32_t x, y, cw, ch;
};

/* A second window: its labels framed (1 px, 3 px around), as entries,
 * buttons with borders and focus rings frame text. */
static const char *const boxed_texts[] = { "19 %", "Approved", "Warehouse", "2024-06-30" };
#define N_BOXED (sizeof(boxed_texts) / sizeof(boxed_texts[0]))

static struct dp_xvfb xvfb;
static struct dp_probe app, boxed_app;
static struct label labels[N_LABELS], boxed[N_BOXED];
static struct term small_term, large_term;
static struct dp_capture *cap;
static struct dp_ocr *ocr; /* NULL when built without Tesseract */
static char tmpdir[64];

/* ---------- setup ---------- */

static int wait_quiet(void)
{
	struct dp_settle_options o;
	struct dp_settle_result res;
	struct dp_error err = { 0 };

	dp_settle_options_default(&o);
	o.expect_change = false;
	o.quiet_ms = 200;
	return dp_capture_settle(cap, &o, &res, &err);
}

static int grab(struct dp_frame *frame)
{
	struct dp_error err = { 0 };
	int r = dp_capture_grab(cap, NULL, 0, frame, &err);

	if (r < 0)
		fprintf(stderr, "grab: %s\n", err.message);
	return r;
}

static int collect_labels(struct dp_probe *p, struct label *out, size_t max)
{
	static char lines[N_LABELS + 4][512];
	size_t n = 0;
	int r = dp_app_collect(p, lines, N_LABELS + 4, &n);

	for (size_t i = 0; r == 0 && i < n; i++) {
		cJSON *o = cJSON_Parse(lines[i]);
		cJSON *index = cJSON_GetObjectItem(o, "index");

		if (o && cJSON_IsNumber(index) && index->valueint >= 0 && (size_t)index->valueint < max) {
			struct label *l = &out[index->valueint];

			snprintf(l->text, sizeof(l->text), "%s", cJSON_GetObjectItem(o, "text")->valuestring);
			l->ink = (struct dp_rect){ cJSON_GetObjectItem(o, "x")->valueint, cJSON_GetObjectItem(o, "y")->valueint,
						   cJSON_GetObjectItem(o, "width")->valueint,
						   cJSON_GetObjectItem(o, "height")->valueint };
		}
		cJSON_Delete(o);
	}
	return r;
}

static int read_labels(void)
{
	return collect_labels(&app, labels, N_LABELS);
}

/* The xterm's VT100 window (the only child of $WINDOWID) and its cells. */
static int measure_term(struct term *t, uint32_t shell, int cols, int rows)
{
	xcb_connection_t *c = xcb_connect(xvfb.display, NULL);
	xcb_query_tree_reply_t *tree = xcb_query_tree_reply(c, xcb_query_tree(c, shell), NULL);
	xcb_window_t vt = tree && xcb_query_tree_children_length(tree) ? xcb_query_tree_children(tree)[0] : shell;
	xcb_get_geometry_reply_t *g = xcb_get_geometry_reply(c, xcb_get_geometry(c, vt), NULL);
	xcb_translate_coordinates_reply_t *tr = g ? xcb_translate_coordinates_reply(
		c, xcb_translate_coordinates(c, vt, g->root, 0, 0), NULL) : NULL;
	int r = -1;

	if (g && tr) {
		/* xterm's internal border is 2 pixels; the window is exactly the cells. */
		t->cw = (g->width - 4) / cols;
		t->ch = (g->height - 4) / rows;
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

static int start_term(struct term *t, const char *name, const char *const *font, const char *geometry, int cols,
		      int rows, const char *text)
{
	char script[1024], idfile[128];
	const char *argv[24];
	int n = 0;
	int64_t end = dp_now_ns() + 20 * DP_NSEC_PER_SEC;
	struct timespec tick = { 0, 20 * 1000 * 1000 };
	char *id = NULL;

	snprintf(idfile, sizeof(idfile), "%s/%s.id", tmpdir, name);
	/* Hide the cursor (it would read as a letter), print, tell the window. */
	snprintf(script, sizeof(script), "printf '\\033[?25l%s'; echo $WINDOWID > %s; exec sleep 100000", text,
		 idfile);
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
	t->pid = dp_spawn_on(&xvfb, argv);
	/* The shell writes the file after printing; read it once its line is whole. */
	while (dp_now_ns() < end && (!(id = dp_read_file(idfile)) || !strchr(id, '\n'))) {
		free(id);
		id = NULL;
		nanosleep(&tick, NULL);
	}
	if (!id || !*id) {
		free(id);
		fprintf(stderr, "xterm %s did not start (apt-get install xterm xfonts-base)\n", name);
		return -1;
	}
	n = measure_term(t, (uint32_t)strtoul(id, NULL, 10), cols, rows);
	free(id);
	return n;
}

static int setup(void)
{
	static const char *const small_font[] = { "-fn", "6x13", NULL };
	static const char *const large_font[] = { "-fa", "DejaVu Sans Mono", "-fs", "14", "-bg", "black", "-fg",
						  "white", NULL };
	const char *argv[N_LABELS + 12];
	struct dp_capture_config config = { 0 };
	struct dp_error err = { 0 };
	int n = 0, r;

	snprintf(tmpdir, sizeof(tmpdir), "%s/dp-ocr-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmpdir))
		return fprintf(stderr, "mkdtemp failed\n"), -1;
	if (dp_xvfb_start(&xvfb, SCREEN_W, SCREEN_H, NULL) < 0)
		return fprintf(stderr, "cannot start Xvfb (apt-get install xvfb)\n"), -1;
	config.display = xvfb.display;
	if (dp_capture_create(&cap, &config, &err) < 0)
		return fprintf(stderr, "capture: %s\n", err.message), -1;
	argv[n++] = getenv("DP_GTK_LABELS");
	argv[n++] = "--x";
	argv[n++] = "20";
	argv[n++] = "--y";
	argv[n++] = "20";
	argv[n++] = "--font-size";
	argv[n++] = "12";
	for (size_t i = 0; i < N_LABELS; i++)
		argv[n++] = label_texts[i];
	argv[n] = NULL;
	if (!argv[0] || dp_app_start(&app, &xvfb, argv) < 0)
		return fprintf(stderr, "cannot start $DP_GTK_LABELS (python3-gi, gir1.2-gtk-3.0)\n"), -1;
	if (read_labels() < 0)
		return fprintf(stderr, "no label positions from the GTK app\n"), -1;
	n = 0;
	argv[n++] = getenv("DP_GTK_LABELS");
	for (const char *const *a = (const char *const[]){ "--x", "20", "--y", "480", "--font-size", "12", "--columns",
							  "4", "--boxed", NULL };
	     *a; a++)
		argv[n++] = *a;
	for (size_t i = 0; i < N_BOXED; i++)
		argv[n++] = boxed_texts[i];
	argv[n] = NULL;
	if (dp_app_start(&boxed_app, &xvfb, argv) < 0 || collect_labels(&boxed_app, boxed, N_BOXED) < 0)
		return fprintf(stderr, "cannot start the framed labels\n"), -1;
	if (start_term(&small_term, "small", small_font, "70x8+20+300", 70, 8,
		       "alpha bravo charlie\\nORDER 4711 shipped to Berlin\\nstatus: pending review\\n") < 0 ||
	    start_term(&large_term, "large", large_font, "40x5+600+300", 40, 5,
		       "delta echo foxtrot\\nInvoice total 99.50 EUR\\n") < 0)
		return -1;
	if (wait_quiet() < 0)
		return fprintf(stderr, "the screen did not settle\n"), -1;
	r = dp_ocr_create(&ocr, NULL, &err);
	if (r == -ENOTSUP)
		fprintf(stderr, "OCR tests skipped: %s\n", err.message);
	else if (r < 0)
		return fprintf(stderr, "ocr: %s\n", err.message), -1;
	return 0;
}

static void teardown(void)
{
	char path[128];

	dp_ocr_destroy(ocr);
	dp_capture_destroy(cap);
	dp_probe_stop(&app);
	dp_probe_stop(&boxed_app);
	dp_reap(small_term.pid);
	dp_reap(large_term.pid);
	dp_xvfb_stop(&xvfb);
	snprintf(path, sizeof(path), "%s/small.id", tmpdir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/large.id", tmpdir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/cancel.png", tmpdir);
	unlink(path);
	rmdir(tmpdir);
}

/* ---------- helpers ---------- */

static int locate(const char *text, enum dp_text_match match, uint32_t nth, const struct dp_rect *region,
		  struct dp_match *m, struct dp_error *err)
{
	struct dp_text_query q = { .text = text, .match = match, .nth = nth };
	struct dp_frame frame;
	int r;

	if (region) {
		q.has_region = true;
		q.region = *region;
	}
	memset(err, 0, sizeof(*err));
	r = grab(&frame);
	if (r == 0)
		r = dp_locate_text(ocr, &frame, &q, m, err);
	if (r < 0 && r != -ENOENT && r != -EINVAL)
		fprintf(stderr, "locate \"%s\": %s\n", text, err->message);
	return r;
}

static bool near_box(struct dp_rect got, struct dp_rect want, int tol)
{
	bool ok = abs(got.x - want.x) <= tol && abs(got.y - want.y) <= tol &&
		  abs(got.x + got.width - want.x - want.width) <= tol &&
		  abs(got.y + got.height - want.y - want.height) <= tol;

	if (!ok)
		fprintf(stderr, "  box %d,%d %dx%d, expected %d,%d %dx%d (+-%d)\n", got.x, got.y, got.width,
			got.height, want.x, want.y, want.width, want.height, tol);
	return ok;
}

/* The cells of text at (row, col) of an xterm: the box must lie in them
 * (a pixel of slack) and span most of their width. */
static bool in_cells(struct dp_rect got, const struct term *t, int row, int col, int len)
{
	struct dp_rect cells = { t->x + col * t->cw, t->y + row * t->ch, len * t->cw, t->ch };
	bool ok = got.x >= cells.x - 1 && got.y >= cells.y - 1 && got.x + got.width <= cells.x + cells.width + 1 &&
		  got.y + got.height <= cells.y + cells.height + 1 && got.width * 10 >= cells.width * 7;

	if (!ok)
		fprintf(stderr, "  box %d,%d %dx%d, expected inside the cells %d,%d %dx%d\n", got.x, got.y,
			got.width, got.height, cells.x, cells.y, cells.width, cells.height);
	return ok;
}

#define NEED_OCR()                                                                 \
	do {                                                                       \
		if (!ocr) {                                                        \
			fprintf(stderr, "skip %s: no OCR in this build\n", __func__); \
			return;                                                    \
		}                                                                  \
	} while (0)

/* ---------- text ---------- */

static void test_gtk_words_where_drawn(void)
{
	static const int single[] = { 1, 5, 8, 9, 11 }; /* Cancel, INV-2024-0042, quantity, Reference, Notes */
	struct dp_error err;
	struct dp_match m;

	NEED_OCR();
	for (size_t i = 0; i < sizeof(single) / sizeof(single[0]); i++) {
		const struct label *l = &labels[single[i]];

		TST_EQ_INT(locate(l->text, DP_MATCH_EXACT, 0, NULL, &m, &err), 0);
		TST_EQ_STR(m.text, l->text);
		TST_CHECK(near_box(m.box, l->ink, TOL));
		TST_CHECK(m.score > 0.5f);
	}
}

/* Framed text is read (Tesseract alone reads nothing in a frame), without
 * the frame's sides as letters. */
static void test_framed_text(void)
{
	struct dp_error err;
	struct dp_match m;

	NEED_OCR();
	for (size_t i = 0; i < N_BOXED; i++) {
		TST_EQ_INT(locate(boxed[i].text, DP_MATCH_EXACT, 0, NULL, &m, &err), 0);
		TST_EQ_STR(m.text, boxed[i].text);
		TST_CHECK(near_box(m.box, boxed[i].ink, TOL));
	}
	TST_EQ_INT(locate("^19 ?%$", DP_MATCH_REGEX, 0, NULL, &m, &err), 0);
}

static void test_gtk_phrases(void)
{
	struct dp_error err;
	struct dp_match m;

	NEED_OCR();
	TST_EQ_INT(locate("New invoice", DP_MATCH_EXACT, 0, NULL, &m, &err), 0);
	TST_EQ_STR(m.text, "New invoice");
	TST_CHECK(near_box(m.box, labels[2].ink, TOL));
	/* Whitespace in the query is collapsed. */
	TST_EQ_INT(locate("  Customer \t Number ", DP_MATCH_EXACT, 0, NULL, &m, &err), 0);
	TST_CHECK(near_box(m.box, labels[3].ink, TOL));
	/* One word of a phrase label: its box is the word's part of the label. */
	TST_EQ_INT(locate("address", DP_MATCH_EXACT, 0, NULL, &m, &err), 0);
	TST_CHECK(m.box.x > labels[6].ink.x + 20 && near_box((struct dp_rect){ labels[6].ink.x, m.box.y,
									  m.box.x + m.box.width - labels[6].ink.x,
									  m.box.height },
							    (struct dp_rect){ labels[6].ink.x, m.box.y,
									  labels[6].ink.width, m.box.height }, TOL));
	/* Words of two labels in one row are not one phrase. */
	TST_EQ_INT(locate("Save Cancel", DP_MATCH_EXACT, 0, NULL, &m, &err), -ENOENT);
	/* "Total:" is read with its colon; the query may leave it out. */
	TST_EQ_INT(locate("Total 1,234.56", DP_MATCH_EXACT, 0, NULL, &m, &err), 0);
	TST_CHECK(near_box(m.box, labels[7].ink, TOL));
}

static void test_any_case(void)
{
	struct dp_error err;
	struct dp_match m;

	NEED_OCR();
	TST_EQ_INT(locate("new INVOICE", DP_MATCH_EXACT, 0, NULL, &m, &err), -ENOENT);
	TST_EQ_INT(locate("new INVOICE", DP_MATCH_ICASE, 0, NULL, &m, &err), 0);
	TST_EQ_STR(m.text, "New invoice");
	TST_CHECK(near_box(m.box, labels[2].ink, TOL));
	TST_EQ_INT(locate("DUE DATE", DP_MATCH_ICASE, 0, NULL, &m, &err), 0);
	TST_CHECK(near_box(m.box, labels[10].ink, TOL));
}

static void test_regex(void)
{
	struct dp_error err;
	struct dp_match m;

	NEED_OCR();
	TST_EQ_INT(locate("INV-[0-9]{4}-[0-9]+", DP_MATCH_REGEX, 0, NULL, &m, &err), 0);
	TST_EQ_STR(m.text, "INV-2024-0042");
	TST_CHECK(near_box(m.box, labels[5].ink, TOL));
	/* A match inside a line covers the words it touches. */
	TST_EQ_INT(locate("[0-9],[0-9]{3}\\.[0-9]{2}$", DP_MATCH_REGEX, 0, NULL, &m, &err), 0);
	TST_EQ_STR(m.text, "1,234.56");
	TST_CHECK(m.box.x > labels[7].ink.x + 20 &&
		  abs(m.box.x + m.box.width - labels[7].ink.x - labels[7].ink.width) <= TOL);
	/* ^Save$: the two Save labels, not "Save" inside other text. */
	TST_EQ_INT(locate("^Sav[a-z]$", DP_MATCH_REGEX, 2, NULL, &m, &err), 0);
	TST_CHECK(near_box(m.box, labels[4].ink, TOL));
	TST_EQ_INT(locate("(unclosed", DP_MATCH_REGEX, 0, NULL, &m, &err), -EINVAL);
	TST_CHECK(strstr(err.message, "does not compile") != NULL);
}

static void test_nth_and_ambiguity(void)
{
	struct dp_match m, first, second;
	struct dp_error err;
	char place[64];

	NEED_OCR();
	TST_EQ_INT(locate("Save", DP_MATCH_EXACT, 1, NULL, &first, &err), 0);
	TST_CHECK(near_box(first.box, labels[0].ink, TOL));
	TST_EQ_INT(locate("Save", DP_MATCH_EXACT, 2, NULL, &second, &err), 0);
	TST_CHECK(near_box(second.box, labels[4].ink, TOL));
	TST_EQ_INT(locate("Save", DP_MATCH_EXACT, 3, NULL, &m, &err), -ENOENT);
	TST_CHECK(strstr(err.message, "only 2") != NULL);
	/* nth 0 wants exactly one: both places are named. */
	TST_EQ_INT(locate("Save", DP_MATCH_EXACT, 0, NULL, &m, &err), -EINVAL);
	TST_CHECK(strstr(err.message, "ambiguous") != NULL);
	snprintf(place, sizeof(place), "%d,%d %dx%d", first.box.x, first.box.y, first.box.width, first.box.height);
	TST_CHECK(strstr(err.message, place) != NULL);
	snprintf(place, sizeof(place), "%d,%d %dx%d", second.box.x, second.box.y, second.box.width,
		 second.box.height);
	TST_CHECK(strstr(err.message, place) != NULL);
	fprintf(stderr, "  (%s)\n", err.message);
}

static void test_region(void)
{
	struct dp_rect second_row = { labels[3].ink.x - 5, labels[3].ink.y - 5, 600, labels[3].ink.height + 10 };
	struct dp_rect terminals = { 0, 290, SCREEN_W, 200 };
	struct dp_error err;
	struct dp_match m;

	NEED_OCR();
	TST_EQ_INT(locate("Save", DP_MATCH_EXACT, 0, &second_row, &m, &err), 0);
	TST_CHECK(near_box(m.box, labels[4].ink, TOL));
	TST_EQ_INT(locate("Cancel", DP_MATCH_EXACT, 0, &second_row, &m, &err), -ENOENT);
	TST_CHECK(strstr(err.message, "in region") != NULL);
	/* "Total:" (GTK) and "total" (the large terminal): the region keeps one. */
	TST_EQ_INT(locate("total", DP_MATCH_ICASE, 0, &terminals, &m, &err), 0);
	TST_CHECK(in_cells(m.box, &large_term, 1, 8, 5));
	TST_EQ_INT(locate("Save", DP_MATCH_EXACT, 0, &(struct dp_rect){ 5000, 5000, 10, 10 }, &m, &err), -EINVAL);
}

static void test_missing_word_names_nearest(void)
{
	struct dp_error err;
	struct dp_match m;

	NEED_OCR();
	TST_EQ_INT(locate("Cancle", DP_MATCH_EXACT, 0, NULL, &m, &err), -ENOENT);
	TST_CHECK(strstr(err.message, "most similar") != NULL);
	TST_CHECK(strstr(err.message, "\"Cancel\"") != NULL);
	fprintf(stderr, "  (%s)\n", err.message);
	TST_EQ_INT(locate("Delivery adress", DP_MATCH_EXACT, 0, NULL, &m, &err), -ENOENT);
	TST_CHECK(strstr(err.message, "\"Delivery address\"") != NULL);
	TST_EQ_INT(locate("ORD-[0-9]+", DP_MATCH_REGEX, 0, NULL, &m, &err), -ENOENT);
}

static void test_xterm_small_font(void)
{
	static const struct {
		const char *text;
		int row, col;
	} words[] = { { "alpha", 0, 0 }, { "charlie", 0, 12 }, { "4711", 1, 6 }, { "Berlin", 1, 22 }, { "pending", 2, 8 } };
	struct dp_error err;
	struct dp_match m;

	NEED_OCR();
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		TST_EQ_INT(locate(words[i].text, DP_MATCH_EXACT, 0, NULL, &m, &err), 0);
		TST_CHECK(in_cells(m.box, &small_term, words[i].row, words[i].col, (int)strlen(words[i].text)));
	}
	TST_EQ_INT(locate("ORDER 4711 shipped to Berlin", DP_MATCH_EXACT, 0, NULL, &m, &err), 0);
	TST_CHECK(in_cells(m.box, &small_term, 1, 0, 28));
}

static void test_xterm_large_font_light_on_dark(void)
{
	struct dp_error err;
	struct dp_match m;

	NEED_OCR();
	TST_EQ_INT(locate("foxtrot", DP_MATCH_EXACT, 0, NULL, &m, &err), 0);
	TST_CHECK(in_cells(m.box, &large_term, 0, 11, 7));
	TST_EQ_INT(locate("Invoice total 99.50 EUR", DP_MATCH_EXACT, 0, NULL, &m, &err), 0);
	TST_CHECK(in_cells(m.box, &large_term, 1, 0, 23));
	TST_EQ_INT(locate("[0-9]+\\.[0-9]{2} EUR", DP_MATCH_REGEX, 0, NULL, &m, &err), 0);
	TST_EQ_STR(m.text, "99.50 EUR");
	TST_CHECK(in_cells(m.box, &large_term, 1, 14, 9));
}

static void test_language_errors(void)
{
	struct dp_ocr *o = NULL;
	struct dp_error err = { 0 };

	NEED_OCR();
	TST_EQ_INT(dp_ocr_create(&o, "qqq", &err), -ENOENT);
	TST_CHECK(strstr(err.message, "apt-get install tesseract-ocr-qqq") != NULL);
	TST_CHECK(o == NULL);
	TST_EQ_INT(dp_ocr_create(&o, "eng; rm -rf /", &err), -EINVAL);
	TST_EQ_INT(dp_ocr_create(&o, "", &err), -EINVAL);
}

/* ---------- the cache ---------- */

static void test_cache_skips_unchanged_screen(void)
{
	struct dp_ocr *fresh = NULL;
	struct dp_ocr_stats a, b;
	struct dp_ocr_result res;
	struct dp_error err = { 0 };
	struct dp_frame frame;

	NEED_OCR();
	TST_REQUIRE(dp_ocr_create(&fresh, NULL, &err) == 0);
	TST_REQUIRE(grab(&frame) == 0);
	TST_EQ_INT(dp_ocr_read(fresh, &frame, NULL, &res, &err), 0);
	TST_CHECK(res.n_words >= 20);
	dp_ocr_result_clear(&res);
	dp_ocr_stats(fresh, &a);
	TST_CHECK(a.recognitions >= 1);
	/* All of it once, and the margins where it was cut into bands for threads. */
	TST_CHECK(a.pixels_read >= (uint64_t)SCREEN_W * SCREEN_H && a.pixels_read < (uint64_t)SCREEN_W * SCREEN_H * 6 / 5);
	/* A new grab of the same screen: compared, not read. */
	TST_REQUIRE(grab(&frame) == 0);
	TST_EQ_INT(dp_ocr_read(fresh, &frame, NULL, &res, &err), 0);
	dp_ocr_stats(fresh, &b);
	TST_EQ_INT(b.recognitions, a.recognitions);
	TST_EQ_INT(b.pixels_read, a.pixels_read);
	TST_EQ_INT(b.cache_hits, a.cache_hits + 1);
	TST_CHECK(res.n_words >= 20);
	dp_ocr_result_clear(&res);
	/* A region of it: answered from the cache too. */
	TST_EQ_INT(dp_ocr_read(fresh, &frame, &(struct dp_rect){ 0, 0, 640, 200 }, &res, &err), 0);
	dp_ocr_stats(fresh, &b);
	TST_EQ_INT(b.recognitions, a.recognitions);
	TST_CHECK(res.n_words >= 10);
	for (size_t i = 0; i < res.n_words; i++)
		TST_CHECK(res.words[i].box.y < 200);
	dp_ocr_result_clear(&res);
	dp_ocr_destroy(fresh);
}

/* Regions read first, then the whole screen: the rest is read around them,
 * and every word comes once, where a cold read of the whole screen has it,
 * though the regions cut through words and lines.  (Tesseract reads a word
 * in another context a little differently at times, "19 %" as "19%" say:
 * words are matched by their centres, and their texts need only mostly
 * agree.) */
static void test_cache_regions_then_all(void)
{
	struct dp_rect cuts[] = {
		{ 0, 0, labels[3].ink.x + 30, labels[3].ink.y + 5 },        /* through "Customer" */
		{ 300, 310, 400, 30 },                                      /* through both terminals */
		{ 0, boxed[0].ink.y + 4, 1280, 100 },                       /* through the framed labels */
	};
	struct dp_ocr *pieces = NULL, *cold = NULL;
	struct dp_ocr_result a, b;
	struct dp_error err = { 0 };
	struct dp_frame frame;
	size_t once = 0, twice = 0, same_text = 0;

	NEED_OCR();
	TST_REQUIRE(dp_ocr_create(&pieces, NULL, &err) == 0 && dp_ocr_create(&cold, NULL, &err) == 0);
	TST_REQUIRE(grab(&frame) == 0);
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		TST_EQ_INT(dp_ocr_read(pieces, &frame, &cuts[i], &a, &err), 0);
		dp_ocr_result_clear(&a);
	}
	TST_EQ_INT(dp_ocr_read(pieces, &frame, NULL, &a, &err), 0);
	TST_EQ_INT(dp_ocr_read(cold, &frame, NULL, &b, &err), 0);
	for (size_t i = 0; i < b.n_words; i++) {
		const struct dp_rect *c = &b.words[i].box;
		size_t hits = 0, at = 0;

		for (size_t k = 0; k < a.n_words; k++) {
			if (dp_rect_empty(dp_rect_intersect(a.words[k].box, (struct dp_rect){ c->x + c->width / 2,
											    c->y + c->height / 2, 1, 1 })))
				continue;
			hits++;
			at = k;
		}
		once += hits == 1;
		twice += hits > 1;
		if (hits == 1 && !strcmp(a.words[at].text, b.words[i].text))
			same_text++;
		else
			fprintf(stderr, "  cold \"%s\" at %d,%d: %zu in the pieces' read%s%s%s\n", b.words[i].text, c->x,
				c->y, hits, hits ? " (\"" : "", hits ? a.words[at].text : "", hits ? "\")" : "");
	}
	TST_EQ_INT(twice, 0);                        /* no word read twice */
	TST_CHECK(once * 20 >= b.n_words * 19);      /* none missing, or next to none */
	TST_CHECK(same_text * 10 >= b.n_words * 9);
	TST_CHECK(a.n_words * 10 >= b.n_words * 9 && a.n_words * 10 <= b.n_words * 11);
	dp_ocr_result_clear(&a);
	dp_ocr_result_clear(&b);
	dp_ocr_destroy(pieces);
	dp_ocr_destroy(cold);
}

static void test_cache_rereads_only_the_change(void)
{
	struct dp_ocr_stats a, b;
	struct dp_error err = { 0 };
	struct dp_match m;
	char line[256];
	int64_t t0, t1;

	NEED_OCR();
	TST_REQUIRE(locate("Notes", DP_MATCH_EXACT, 0, NULL, &m, &err) == 0); /* all read and cached */
	dp_ocr_stats(ocr, &a);
	dp_probe_send(&app, "set 11 Archived");
	TST_REQUIRE(dp_probe_wait(&app, "drawn", 5000, line, sizeof(line)) == 0);
	TST_REQUIRE(wait_quiet() == 0);
	TST_REQUIRE(read_labels() == 0);
	t0 = dp_now_ns();
	TST_EQ_INT(locate("Archived", DP_MATCH_EXACT, 0, NULL, &m, &err), 0);
	t1 = dp_now_ns();
	TST_CHECK(near_box(m.box, labels[11].ink, TOL));
	dp_ocr_stats(ocr, &b);
	TST_CHECK(b.recognitions > a.recognitions && b.recognitions - a.recognitions <= 2);
	/* The label's row of blocks grown by the margins: a few percent of the screen. */
	TST_CHECK(b.pixels_read - a.pixels_read < (uint64_t)SCREEN_W * SCREEN_H / 20);
	fprintf(stderr, "  re-read %llu pixels (%.1f%% of the screen) in %.0f ms\n",
		(unsigned long long)(b.pixels_read - a.pixels_read),
		100.0 * (double)(b.pixels_read - a.pixels_read) / (SCREEN_W * SCREEN_H), (double)(t1 - t0) / 1e6);
	TST_EQ_INT(locate("Notes", DP_MATCH_EXACT, 0, NULL, &m, &err), -ENOENT);
	/* Everything else still there, from the cache. */
	TST_EQ_INT(locate("Cancel", DP_MATCH_EXACT, 0, NULL, &m, &err), 0);
	TST_CHECK(near_box(m.box, labels[1].ink, TOL));
	TST_EQ_INT(locate("quantity", DP_MATCH_EXACT, 0, NULL, &m, &err), 0);
	TST_EQ_INT(locate("foxtrot", DP_MATCH_EXACT, 0, NULL, &m, &err), 0);
	dp_ocr_stats(ocr, &a);
	TST_EQ_INT(a.recognitions, b.recognitions);
}

/* ---------- templates ---------- */

static void test_template_found_again_exactly(void)
{
	struct dp_rect cut = dp_rect_intersect((struct dp_rect){ labels[1].ink.x - 6, labels[1].ink.y - 6,
								 labels[1].ink.width + 12, labels[1].ink.height + 12 },
					       (struct dp_rect){ 0, 0, SCREEN_W, SCREEN_H });
	struct dp_template *from_frame = NULL, *from_png = NULL;
	struct dp_error err = { 0 };
	struct dp_frame frame, copy;
	struct dp_match m;
	char path[128];

	TST_REQUIRE(grab(&frame) == 0);
	TST_REQUIRE(dp_template_from_frame(&from_frame, &frame, &cut, "cancel", &err) == 0);
	TST_EQ_INT(dp_locate_template(&frame, from_frame, 0.9, NULL, &m, &err), 0);
	TST_CHECK(m.score > 0.99f);
	TST_EQ_INT(m.box.x, cut.x);
	TST_EQ_INT(m.box.y, cut.y);
	TST_EQ_INT(m.box.width, cut.width);
	TST_EQ_INT(m.box.height, cut.height);

	/* Through a PNG file, as flows load them. */
	copy = (struct dp_frame){ .width = cut.width, .height = cut.height, .stride = frame.stride,
				  .pixels = frame.pixels + (size_t)cut.y * (size_t)frame.stride + (size_t)cut.x * 4 };
	snprintf(path, sizeof(path), "%s/cancel.png", tmpdir);
	TST_REQUIRE(dp_png_write(path, &copy, &err) == 0);
	TST_REQUIRE(dp_template_load(&from_png, path, &err) == 0);
	TST_EQ_INT(dp_locate_template(&frame, from_png, 0.95, NULL, &m, &err), 0);
	TST_CHECK(m.score > 0.99f);
	TST_EQ_INT(m.box.x, cut.x);
	TST_EQ_INT(m.box.y, cut.y);

	/* Not in the terminals: the best there is far below the threshold. */
	TST_EQ_INT(dp_locate_template(&frame, from_png, 0.9, &(struct dp_rect){ 0, 290, SCREEN_W, 200 }, &m, &err),
		   -ENOENT);
	TST_CHECK(strstr(err.message, "best match") != NULL);
	fprintf(stderr, "  (%s)\n", err.message);
	dp_template_destroy(from_frame);
	dp_template_destroy(from_png);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	if (setup() < 0) {
		teardown();
		return EXIT_FAILURE;
	}
	TST_RUN(test_gtk_words_where_drawn);
	TST_RUN(test_framed_text);
	TST_RUN(test_gtk_phrases);
	TST_RUN(test_any_case);
	TST_RUN(test_regex);
	TST_RUN(test_nth_and_ambiguity);
	TST_RUN(test_region);
	TST_RUN(test_missing_word_names_nearest);
	TST_RUN(test_xterm_small_font);
	TST_RUN(test_xterm_large_font_light_on_dark);
	TST_RUN(test_language_errors);
	TST_RUN(test_cache_skips_unchanged_screen);
	TST_RUN(test_cache_regions_then_all);
	TST_RUN(test_template_found_again_exactly);
	TST_RUN(test_cache_rereads_only_the_change); /* last: it changes the screen */
	teardown();
	TST_EXIT();
}
