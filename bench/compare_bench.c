/* bench-compare: one scripted task, four ways, side by side.
 *
 * On a private 1920x1080 Xvfb, two probe windows ("Form A" on the left half,
 * "Form B" on the right, 32x32 draw-counter stamps) in slow mode: they
 * react to input with draws, and 40% of the reactions to clicks, focus
 * changes and non-text keys come 300-1,500 ms late (seeded), as a legacy
 * app's do.  The task (50 steps; --quick: 5) switches windows, clicks
 * fields, types text with non-ASCII characters and presses keys.  It runs:
 *   a. deskpilot: dp_loop_run with the script policy in-process, settle on
 *      (defaults: first change within 2 s, then 75 ms quiet);
 *   b. a replica of the Anthropic computer-use demo's tool pipeline
 *      (computer_use_demo/tools/computer.py): one xdotool process per
 *      action (`mousemove --sync X Y click 1`, `key -- K`, `type --delay 12
 *      -- CHUNK` per 50 characters), its fixed 2.0 s sleep after every action
 *      but typing, then `scrot -p` (gnome-screenshot -f -p where present),
 *      `convert F -resize 1366x768! F`, the PNG read back as base64; the
 *      model's coordinates are in the 1366x768 image and scaled back as it
 *      does (Python's round);
 *   c. the same with the sleep at 0;
 *   d. a pyautogui-style pipeline: a new python3 per action
 *      (bench/pyautogui_step.py: python-xlib XTest input as pyautogui does,
 *      its 0.1 s PAUSE, PIL ImageGrab saved as PNG), read back as base64.
 * Switching windows: deskpilot's window action; xdotool `search --name
 * windowfocus --sync` for b and c; SetInputFocus for d.
 * Runs alternate a b c d a b c d ... (3 repetitions; --quick: 1), each
 * repetition with its own seed, the same for all four.
 *
 * Per step it times action to observation: from the start of the action
 * until the observation is in memory as it is sent (deskpilot: until its
 * policy is called with the settled frame and its JPEG; the others: until
 * the PNG is read and base64-encoded).  After each observation, untimed,
 * it asks the probes for their final stamp (the "quiet" command waits out
 * any late reaction), their committed text and the clicks they saw:
 *   premature: the stamp seen in the observation is older than the final
 *     one (for b, c, d read out of the PNG with the engine's PNG reader);
 *   typing error: a step after which a window's committed text is not
 *     what was sent to it;
 *   misplaced click: no single press of button 1 inside the target field
 *     (160x28 around the intended point).
 * The app's own time is what the probe reports for its late reactions
 * (from reading the event to its last draw); harness overhead is action
 * to observation less that (all of it, for a premature observation: none
 * of it was spent waiting for the app), and for deskpilot less the quiet
 * window too (a configured wait, reported apart).  Numbers only: no timed asserts.
 *
 * Run: bench/compare [--quick]   (installs what is missing, builds)
 * or   DP_PROBE=build/tests/probe build/bench/bench-compare [--quick]
 *        [--reps N] [--csv FILE] [--json FILE] [--results]
 * $DP_PYTHON names the interpreter with PIL and python-xlib (default
 * /usr/bin/python3, Debian's); $DP_PYAUTOGUI_STEP the helper script. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <xcb/xcb.h>

#include "engine/clock.h"
#include "engine/image_read.h"
#include "engine/loop.h"
#include "policies/script/script_policy.h"
#include "tests/harness/xvfb.h"
#include "stats.h"

#define SCREEN_W 1920
#define SCREEN_H 1080
#define WIN_W 960
#define STAMP 32
#define DEMO_W 1366 /* the demo's FWXGA target for 16:9 screens */
#define DEMO_H 768
#define DEMO_SIZE "1366x768!" /* convert -resize, aspect ratio ignored */
#define DEMO_DELAY_MS 2000
#define DEMO_TYPE_DELAY "12"
#define DEMO_CHUNK 50
#define SLOW_PERCENT 40
#define SLOW_MIN_MS 300
#define SLOW_MAX_MS 1500
#define FIELD_W 160
#define FIELD_H 28
#define MAX_STEPS 50
#define MAX_REPS 20
#define LINE 4096
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

enum pipeline { P_DESKPILOT, P_DEMO, P_DEMO_NODELAY, P_PYAUTOGUI, P_COUNT };
enum kind { S_FOCUS, S_CLICK, S_TYPE, S_KEY };

static const char *const pipeline_label[P_COUNT] = { "a. deskpilot (settle)", "b. demo replica (2 s sleep)",
						     "c. demo replica (no sleep)", "d. pyautogui-style" };
static const char *const pipeline_key[P_COUNT] = { "deskpilot", "demo", "demo_nodelay", "pyautogui" };
static const char *const title[2] = { "Form A", "Form B" };
static const char *const title_re[2] = { "^Form A$", "^Form B$" };

struct step {
	enum kind kind;
	int win;          /* the window it acts on */
	int x, y;         /* click: the intended point, screen pixels */
	const char *text; /* type: the text; key: the chord */
};

/* What one step of one run measured. */
struct sample {
	int64_t total_ns, app_ns;
	bool slow, premature;
	size_t bytes;
};

static struct result {
	bool available;
	char why[2 * PATH_MAX + 256]; /* when not available */
	struct sample samples[MAX_REPS * MAX_STEPS];
	size_t n;
	int64_t task_ns[MAX_REPS];
	size_t runs;
	int premature, typing_errors, misplaced, clicks, type_steps, observations;
	double max_offset; /* px, of a click that landed */
} results[P_COUNT];

struct bench {
	struct dp_xvfb xvfb;
	struct dp_probe probe[2];
	xcb_connection_t *conn; /* to put the pointer back between runs */
	struct step steps[MAX_STEPS];
	size_t n_steps;
	char dir[PATH_MAX]; /* screenshots */
	char python[PATH_MAX], helper[PATH_MAX];
	bool gnome_screenshot;
	int devnull;
	unsigned shots;
	uint32_t quiet_ms;
	/* deskpilot's own account of each step, per phase (ns) */
	int64_t phase_ns[DP_PHASE_COUNT][MAX_REPS * MAX_STEPS];
	size_t n_phase;
};

static int fail(const char *what, const char *why)
{
	fprintf(stderr, "bench-compare: %s: %s\n", what, why);
	return -1;
}

/* ---------- the task ---------- */

static const char *const texts[] = {
	"Grüße aus Köln",
	"Café crème, 2 × 4,50 €",
	"Zoë Brontë-Smith",
	"Bestellung 2024-118: Straßenbahn-Ersatzteile für Würzburg Süd",
	"Ærøskøbing 5970",
	"naïve façade № 7",
	"Łódź, ul. Piotrkowska 104",
	"Ελληνικά 123",
	"Приём заказа 42",
	"東京都 千代田区 1-1",
};

/* Four fields per window, at odd places (a scaled image does not map
 * them back exactly). */
static const int field_xy[4][2] = { { 183, 127 }, { 527, 127 }, { 183, 233 }, { 527, 233 } };

/* Blocks of ten steps, alternating the windows. */
static void make_task(struct bench *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct step *s = &b->steps[i];
		size_t block = i / 10, k = i % 10;
		int w = (int)(block % 2);

		s->win = w;
		switch (k) {
		case 0:
			s->kind = S_FOCUS;
			break;
		case 1:
		case 6:
			s->kind = S_CLICK;
			s->x = w * WIN_W + field_xy[(block + k) % 4][0];
			s->y = field_xy[(block + k) % 4][1];
			break;
		case 2:
		case 4:
		case 7:
			s->kind = S_TYPE;
			s->text = texts[(block * 3 + k) % ARRAY_LEN(texts)];
			break;
		default:
			s->kind = S_KEY;
			s->text = k == 3 ? "Tab" : k == 5 ? "Return" : k == 8 ? "ctrl+a" : "Escape";
			break;
		}
	}
	b->n_steps = n;
}

/* What a step adds to the committed text of its window. */
static const char *expected_text(const struct step *s)
{
	if (s->kind == S_TYPE)
		return s->text;
	return s->kind == S_KEY && !strcmp(s->text, "Return") ? "\n" : "";
}

/* ---------- processes ---------- */

/* Runs argv on the display with output to /dev/null; its exit status. */
static int spawn_wait(struct bench *b, const char *const *argv)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		setenv("DISPLAY", b->xvfb.display, 1);
		dup2(b->devnull, STDOUT_FILENO);
		dup2(b->devnull, STDERR_FILENO);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static bool on_path(const char *name)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];

	for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
		size_t len = strcspn(p, ":");

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)len, p, name);
		if (access(buf, X_OK) == 0)
			return true;
		p += len + (p[len] == ':');
	}
	return false;
}

/* ---------- the probes ---------- */

static int probe_line(struct dp_probe *p, char *line)
{
	return dp_probe_wait(p, "", 10000, line, LINE);
}

static int probe_cmd(struct dp_probe *p, const char *cmd, const char *reply)
{
	char line[LINE];

	dp_probe_send(p, "%s", cmd);
	return dp_probe_wait(p, reply, 10000, line, sizeof(line)) < 0 ? fail("probe", cmd) : 0;
}

/* Every run starts alike: no reactions, the focus on B (the task begins
 * by switching to A), empty texts, then
 * slow mode with this repetition's seeds. */
static int reset_probes(struct bench *b, size_t rep)
{
	const xcb_setup_t *xs = xcb_get_setup(b->conn);
	xcb_screen_t *screen = xcb_setup_roots_iterator(xs).data;

	/* The pointer away from every field: `xdotool mousemove --sync` to
	 * where the pointer already is waits for a motion that never comes. */
	xcb_warp_pointer(b->conn, XCB_NONE, screen->root, 0, 0, 0, 0, SCREEN_W / 2, SCREEN_H - 60);
	free(xcb_get_input_focus_reply(b->conn, xcb_get_input_focus(b->conn), NULL));
	for (int w = 0; w < 2; w++)
		dp_probe_send(&b->probe[w], "slow off");
	if (probe_cmd(&b->probe[1], "focus", "focused") < 0)
		return -1;
	for (int w = 0; w < 2; w++) {
		if (probe_cmd(&b->probe[w], "quiet", "quiet") < 0 || probe_cmd(&b->probe[w], "clear", "cleared") < 0)
			return -1;
		dp_probe_send(&b->probe[w], "slow %zu %d %d %d", 1 + rep * 2 + (size_t)w, SLOW_PERCENT, SLOW_MIN_MS,
			      SLOW_MAX_MS);
	}
	return 0;
}

/* The stamp of each window as the observation shows it; img_w x img_h is
 * the observation's size (scaled for the demo). */
static void read_stamps(const struct dp_frame *f, uint32_t stamp[2])
{
	for (int w = 0; w < 2; w++) {
		int x = (int)((int64_t)(w * WIN_W + STAMP / 2) * f->width / SCREEN_W);
		int y = (int)((int64_t)(STAMP / 2) * f->height / SCREEN_H);

		stamp[w] = dp_frame_pixel(f, x, y);
	}
}

/* After the observation, untimed: the final stamps, the late reactions,
 * the clicks and the texts; then the texts are emptied for the next step. */
static int check_step(struct bench *b, enum pipeline pl, const struct step *s, const uint32_t seen[2],
		      struct sample *out)
{
	struct result *r = &results[pl];
	char line[LINE], got[1024];
	int presses = 0, hits = 0;

	for (int w = 0; w < 2; w++)
		dp_probe_send(&b->probe[w], "quiet");
	for (int w = 0; w < 2; w++) {
		for (;;) {
			if (probe_line(&b->probe[w], line) < 0)
				return fail("probe", "no answer to quiet");
			if (getenv("DP_COMPARE_VERBOSE") && !strstr(line, "motion") && !strstr(line, "\"key\""))
				fprintf(stderr, "  %s: %s\n", title[w], line);
			if (strstr(line, "\"event\":\"quiet\"")) {
				uint32_t final = (uint32_t)dp_json_int(line, "counter") & 0xffffffu;

				out->premature |= seen[w] != final;
				r->premature += seen[w] != final;
				break;
			}
			if (strstr(line, "\"event\":\"react\"") && dp_json_int(line, "delay_ms") > 0) {
				int64_t app = dp_json_int(line, "drawn_ns") - dp_json_int(line, "received_ns");

				out->slow = true;
				out->app_ns = app > out->app_ns ? app : out->app_ns;
			}
			if (strstr(line, "\"event\":\"button\",\"press\":true")) {
				long dx = (long)dp_json_int(line, "root_x") - s->x, dy = (long)dp_json_int(line, "root_y") - s->y;
				double off = sqrt((double)(dx * dx + dy * dy));

				presses++;
				hits += labs(dx) <= FIELD_W / 2 && labs(dy) <= FIELD_H / 2;
				r->max_offset = off > r->max_offset ? off : r->max_offset;
			}
		}
	}
	r->observations++;
	if (getenv("DP_COMPARE_VERBOSE"))
		fprintf(stderr, "bench-compare: %s step %s: %.1f ms, app %.1f ms%s\n", pipeline_key[pl],
			s->kind == S_FOCUS ? "focus" : s->kind == S_CLICK ? "click" : s->kind == S_TYPE ? "type" : s->text,
			(double)out->total_ns / 1e6, (double)out->app_ns / 1e6, out->slow ? " (late)" : "");
	if (s->kind == S_CLICK) {
		r->clicks++;
		r->misplaced += presses != 1 || hits != 1;
	}
	r->type_steps += s->kind == S_TYPE;
	for (int w = 0; w < 2; w++) {
		const char *want = w == s->win ? expected_text(s) : "";

		if (dp_app_text(&b->probe[w], got, sizeof(got)) < 0)
			return fail("probe", "no text");
		if (strcmp(got, want) != 0) {
			r->typing_errors++;
			if (getenv("DP_COMPARE_VERBOSE"))
				fprintf(stderr, "bench-compare: %s: window %s has \"%s\", sent \"%s\"\n", pipeline_key[pl],
					title[w], got, want);
		}
		if (probe_cmd(&b->probe[w], "clear", "cleared") < 0)
			return -1;
	}
	return 0;
}

/* ---------- b, c, d: processes and PNG files ---------- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *base64(const uint8_t *data, size_t n)
{
	char *out = malloc((n + 2) / 3 * 4 + 1), *o = out;

	for (size_t i = 0; out && i < n; i += 3) {
		uint32_t v = (uint32_t)data[i] << 16 | (i + 1 < n ? (uint32_t)data[i + 1] << 8 : 0) |
			     (i + 2 < n ? data[i + 2] : 0);

		*o++ = b64[v >> 18];
		*o++ = b64[(v >> 12) & 63];
		*o++ = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		*o++ = i + 2 < n ? b64[v & 63] : '=';
	}
	if (o)
		*o = '\0';
	return out;
}

static int read_whole(const char *path, uint8_t **data, size_t *size)
{
	FILE *f = fopen(path, "rb");
	long len;

	if (!f)
		return -errno;
	if (fseek(f, 0, SEEK_END) < 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0 ||
	    !(*data = malloc((size_t)len + 1)) || fread(*data, 1, (size_t)len, f) != (size_t)len) {
		fclose(f);
		return -EIO;
	}
	*size = (size_t)len;
	fclose(f);
	return 0;
}

/* Python's round(): halves to even, as rint() does by default. */
static int py_round(double v)
{
	return (int)rint(v);
}

/* The demo's scale_coordinates: the model sees 1366x768 and answers in it. */
static void demo_point(const struct step *s, int *x, int *y)
{
	double fx = (double)DEMO_W / SCREEN_W, fy = (double)DEMO_H / SCREEN_H;
	int mx = py_round(s->x * fx), my = py_round(s->y * fy); /* what the model would say */

	*x = py_round(mx / fx);
	*y = py_round(my / fy);
}

/* Code points [from, from + n) of s, as a new string. */
static char *utf8_slice(const char *s, size_t from, size_t n, bool *more)
{
	const char *start, *end;
	size_t i = 0;

	for (start = s; *start && i < from; start++)
		i += ((unsigned char)start[1] & 0xc0) != 0x80;
	for (end = start, i = 0; *end && i < n; end++)
		i += ((unsigned char)end[1] & 0xc0) != 0x80;
	*more = *end != '\0';
	return strndup(start, (size_t)(end - start));
}

static int demo_act(struct bench *b, const struct step *s)
{
	char xs[16], ys[16];
	int x, y, r = 0;

	switch (s->kind) {
	case S_CLICK:
		demo_point(s, &x, &y);
		snprintf(xs, sizeof(xs), "%d", x);
		snprintf(ys, sizeof(ys), "%d", y);
		return spawn_wait(b, (const char *const[]){ "xdotool", "mousemove", "--sync", xs, ys, "click", "1", NULL });
	case S_KEY:
		return spawn_wait(b, (const char *const[]){ "xdotool", "key", "--", s->text, NULL });
	case S_FOCUS:
		return spawn_wait(b, (const char *const[]){ "xdotool", "search", "--name", title_re[s->win], "windowfocus",
							    "--sync", NULL });
	case S_TYPE:
		for (size_t from = 0;; from += DEMO_CHUNK) {
			bool more;
			char *chunk = utf8_slice(s->text, from, DEMO_CHUNK, &more);

			if (!chunk)
				return -ENOMEM;
			r = spawn_wait(b, (const char *const[]){ "xdotool", "type", "--delay", DEMO_TYPE_DELAY, "--",
								 chunk, NULL });
			free(chunk);
			if (r != 0 || !more)
				return r;
		}
	}
	return -EINVAL;
}

static int demo_screenshot(struct bench *b, const char *path)
{
	int r = b->gnome_screenshot ? spawn_wait(b, (const char *const[]){ "gnome-screenshot", "-f", path, "-p", NULL })
				    : spawn_wait(b, (const char *const[]){ "scrot", "-p", path, NULL });

	if (r == 0)
		r = spawn_wait(b, (const char *const[]){ "convert", path, "-resize", DEMO_SIZE, path, NULL });
	return r;
}

static int pyautogui_act(struct bench *b, const struct step *s, const char *path)
{
	char xs[16], ys[16];

	switch (s->kind) {
	case S_CLICK:
		snprintf(xs, sizeof(xs), "%d", s->x);
		snprintf(ys, sizeof(ys), "%d", s->y);
		return spawn_wait(b, (const char *const[]){ b->python, b->helper, path, "click", xs, ys, NULL });
	case S_KEY:
		return spawn_wait(b, (const char *const[]){ b->python, b->helper, path, "key", s->text, NULL });
	case S_TYPE:
		return spawn_wait(b, (const char *const[]){ b->python, b->helper, path, "type", s->text, NULL });
	case S_FOCUS:
		return spawn_wait(b, (const char *const[]){ b->python, b->helper, path, "focus", title[s->win], NULL });
	}
	return -EINVAL;
}

/* One step through processes: the action, the wait, the screenshot read
 * back as base64.  Timed from before the first process to the base64. */
static int process_step(struct bench *b, enum pipeline pl, const struct step *s, struct sample *out,
			struct dp_frame *seen)
{
	struct timespec delay = { DEMO_DELAY_MS / 1000, (DEMO_DELAY_MS % 1000) * 1000000L };
	struct dp_error err = { 0 };
	char path[PATH_MAX + 64], *text;
	uint8_t *png = NULL;
	size_t size = 0;
	int64_t t0;
	int r;

	snprintf(path, sizeof(path), "%s/screenshot_%06u.png", b->dir, ++b->shots);
	t0 = dp_now_ns();
	if (pl == P_PYAUTOGUI) {
		r = pyautogui_act(b, s, path);
	} else {
		r = demo_act(b, s);
		/* The demo sleeps after every action but typing, then looks. */
		if (r == 0 && pl == P_DEMO && s->kind != S_TYPE)
			nanosleep(&delay, NULL);
		if (r == 0)
			r = demo_screenshot(b, path);
	}
	if (r == 0)
		r = read_whole(path, &png, &size);
	text = r == 0 ? base64(png, size) : NULL;
	out->total_ns = dp_now_ns() - t0;
	out->bytes = size;
	if (!text) {
		free(png);
		return fail(pipeline_label[pl], r > 0 ? "a process failed (run it by hand to see why)" : "no screenshot");
	}
	free(text);
	r = dp_image_decode(png, size, path, seen, &err);
	free(png);
	unlink(path);
	return r < 0 ? fail("the screenshot does not decode", err.message) : 0;
}

static int run_processes(struct bench *b, enum pipeline pl, int64_t *task_ns)
{
	struct result *r = &results[pl];

	for (size_t i = 0; i < b->n_steps; i++) {
		struct sample *out = &r->samples[r->n];
		struct dp_frame seen;
		uint32_t stamp[2];

		*out = (struct sample){ 0 };
		if (process_step(b, pl, &b->steps[i], out, &seen) < 0)
			return -1;
		read_stamps(&seen, stamp);
		dp_image_free(&seen);
		if (check_step(b, pl, &b->steps[i], stamp, out) < 0)
			return -1;
		*task_ns += out->total_ns;
		r->n++;
	}
	return 0;
}

/* ---------- a: deskpilot's loop ---------- */

/* The script policy, wrapped: the time between its decisions is action to
 * observation; what it is shown is checked before it decides again. */
struct watcher {
	struct dp_policy base;
	struct dp_policy *script;
	struct bench *b;
	int64_t acted_ns;
	int64_t *task_ns;
	int error;
};

static int watch_decide(struct dp_policy *policy, const struct dp_observation *obs, struct dp_decision *d,
			struct dp_error *err)
{
	struct watcher *w = (struct watcher *)policy;
	int64_t now = dp_now_ns();
	int r;

	if (obs->step > 1 && obs->step - 1 <= w->b->n_steps && !w->error) {
		struct result *res = &results[P_DESKPILOT];
		struct sample *out = &res->samples[res->n];
		uint32_t stamp[2];

		*out = (struct sample){ .total_ns = now - w->acted_ns, .bytes = obs->jpeg_size };
		read_stamps(obs->frame, stamp);
		w->error = check_step(w->b, P_DESKPILOT, &w->b->steps[obs->step - 2], stamp, out);
		*w->task_ns += out->total_ns;
		res->n++;
	}
	r = w->script->impl->decide(w->script, obs, d, err);
	w->acted_ns = dp_now_ns();
	return r;
}

static const struct dp_policy_impl watcher_impl = { .name = "watcher", .decide = watch_decide };

/* The loop's phase timings of each task step (not the final "done"). */
static void on_step(void *data, const struct dp_step_record *rec)
{
	struct bench *b = data;

	if (rec->step > b->n_steps || b->n_phase >= MAX_REPS * MAX_STEPS)
		return;
	for (int p = 0; p < DP_PHASE_COUNT; p++)
		b->phase_ns[p][b->n_phase] = rec->phase_us[p] * 1000;
	b->n_phase++;
}

static int write_script(struct bench *b, const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return fail(path, strerror(errno));
	for (size_t i = 0; i < b->n_steps; i++) {
		const struct step *s = &b->steps[i];
		cJSON *o = cJSON_CreateObject();
		char *json;

		switch (s->kind) {
		case S_FOCUS:
			cJSON_AddStringToObject(o, "action", "window");
			cJSON_AddStringToObject(o, "op", "activate");
			cJSON_AddStringToObject(o, "title", title_re[s->win]);
			break;
		case S_CLICK:
			cJSON_AddStringToObject(o, "action", "click");
			cJSON_AddNumberToObject(o, "x", s->x);
			cJSON_AddNumberToObject(o, "y", s->y);
			break;
		case S_TYPE:
			cJSON_AddStringToObject(o, "action", "type");
			cJSON_AddStringToObject(o, "text", s->text);
			break;
		case S_KEY:
			cJSON_AddStringToObject(o, "action", "key");
			cJSON_AddStringToObject(o, "keys", s->text);
			break;
		}
		json = cJSON_PrintUnformatted(o);
		fprintf(f, "%s\n", json ? json : "");
		free(json);
		cJSON_Delete(o);
	}
	return fclose(f) == 0 ? 0 : fail(path, strerror(errno));
}

static int run_deskpilot(struct bench *b, int64_t *task_ns)
{
	struct dp_capture_config cc = { .display = b->xvfb.display };
	struct dp_actuator_config ac = { .display = b->xvfb.display };
	struct dp_loop_config lc = { .task_id = "compare", .instruction = "the compare task",
				     .max_steps = (uint32_t)b->n_steps + 1, .on_step = on_step, .on_step_data = b };
	struct watcher w = { .base.impl = &watcher_impl, .b = b, .task_ns = task_ns };
	struct dp_capture *capture = NULL;
	struct dp_actuator *actuator = NULL;
	struct dp_loop_result res = { 0 };
	struct dp_error err = { 0 };
	char path[PATH_MAX + 16];
	int r = -1;

	snprintf(path, sizeof(path), "%s/task.jsonl", b->dir);
	dp_settle_options_default(&lc.settle);
	b->quiet_ms = (uint32_t)lc.settle.quiet_ms;
	if (write_script(b, path) < 0)
		return -1;
	if (dp_script_policy_create(&w.script, path, &err) < 0 || dp_capture_create(&capture, &cc, &err) < 0 ||
	    dp_actuator_create(&actuator, &ac, &err) < 0) {
		fail("deskpilot", err.message);
		goto out;
	}
	if (dp_loop_run(&lc, capture, actuator, &w.base, NULL, &res, &err) < 0)
		fail("deskpilot", err.message);
	else if (w.error == 0 && res.outcome != DP_TASK_SUCCEEDED)
		fail("deskpilot's task did not succeed", res.message);
	else
		r = w.error;
out:
	if (w.script)
		w.script->impl->destroy(w.script);
	dp_actuator_destroy(actuator);
	dp_capture_destroy(capture);
	unlink(path);
	return r;
}

/* ---------- setup ---------- */

static void check_tools(struct bench *b)
{
	static const char *const demo_tools[] = { "xdotool", "convert" };
	const char *py = getenv("DP_PYTHON");
	char self[PATH_MAX] = "", *script = getenv("DP_PYAUTOGUI_STEP");

	results[P_DESKPILOT].available = true;
	b->gnome_screenshot = on_path("gnome-screenshot");
	results[P_DEMO].available = b->gnome_screenshot || on_path("scrot");
	if (!results[P_DEMO].available)
		snprintf(results[P_DEMO].why, sizeof(results[P_DEMO].why), "no scrot (apt-get install scrot)");
	for (size_t i = 0; i < ARRAY_LEN(demo_tools); i++) {
		if (!on_path(demo_tools[i])) {
			results[P_DEMO].available = false;
			snprintf(results[P_DEMO].why, sizeof(results[P_DEMO].why), "no %s (apt-get install %s)",
				 demo_tools[i], i ? "imagemagick" : "xdotool");
		}
	}
	results[P_DEMO_NODELAY] = results[P_DEMO];
	snprintf(b->python, sizeof(b->python), "%s", py ? py : "/usr/bin/python3");
	if (script)
		snprintf(b->helper, sizeof(b->helper), "%s", script);
	else if (readlink("/proc/self/exe", self, sizeof(self) - 1) > 0) /* build/bench -> bench/ */
		snprintf(b->helper, sizeof(b->helper), "%.4000s/../../bench/pyautogui_step.py", dirname(self));
	results[P_PYAUTOGUI].available =
		access(b->helper, R_OK) == 0 &&
		spawn_wait(b, (const char *const[]){ b->python, "-c", "import PIL.ImageGrab, Xlib.ext.xtest", NULL }) == 0;
	if (!results[P_PYAUTOGUI].available)
		snprintf(results[P_PYAUTOGUI].why, sizeof(results[P_PYAUTOGUI].why),
			 "%s lacks PIL or python-xlib (apt-get install python3-pil python3-xlib), or no %s", b->python,
			 b->helper);
}

static int setup(struct bench *b)
{
	char geometry[2][4][16];
	int r;

	if ((b->devnull = open("/dev/null", O_WRONLY | O_CLOEXEC)) < 0)
		return fail("/dev/null", strerror(errno));
	snprintf(b->dir, sizeof(b->dir), "%s/dp-compare-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(b->dir))
		return fail("mkdtemp", strerror(errno));
	if (!getenv("DP_PROBE"))
		return fail("DP_PROBE is not set", "point it at the probe app, e.g. build/tests/probe");
	if ((r = dp_xvfb_start(&b->xvfb, SCREEN_W, SCREEN_H, NULL)) < 0)
		return fail("cannot start Xvfb (apt-get install xvfb)", strerror(-r));
	check_tools(b);
	b->conn = xcb_connect(b->xvfb.display, NULL);
	if (xcb_connection_has_error(b->conn))
		return fail("cannot connect to Xvfb", b->xvfb.display);
	for (int w = 0; w < 2; w++) {
		const char *argv[] = { getenv("DP_PROBE"), "--x", geometry[w][0], "--y", "0", "--width", geometry[w][1],
				       "--height", geometry[w][2], "--title", title[w], "--override-redirect", "--stamp",
				       geometry[w][3], NULL };

		snprintf(geometry[w][0], 16, "%d", w * WIN_W);
		snprintf(geometry[w][1], 16, "%d", WIN_W);
		snprintf(geometry[w][2], 16, "%d", SCREEN_H);
		snprintf(geometry[w][3], 16, "%d", STAMP);
		if ((r = dp_app_start(&b->probe[w], &b->xvfb, argv)) < 0)
			return fail("cannot start the probe ($DP_PROBE)", strerror(-r));
	}
	return 0;
}

static void teardown(struct bench *b)
{
	char path[PATH_MAX + 16];

	for (int w = 0; w < 2; w++)
		dp_probe_stop(&b->probe[w]);
	if (b->conn)
		xcb_disconnect(b->conn);
	dp_xvfb_stop(&b->xvfb);
	if (b->dir[0]) {
		snprintf(path, sizeof(path), "%s", b->dir);
		rmdir(path);
	}
	if (b->devnull > 0)
		close(b->devnull);
}

/* ---------- report ---------- */

struct summary {
	struct dp_stats responsive, slow, overhead, overhead_less_quiet, task, bytes;
	size_t n_responsive, n_slow;
};

static void summarize(const struct bench *b, enum pipeline pl, struct summary *sm)
{
	const struct result *r = &results[pl];
	int64_t *resp = calloc(r->n + 1, sizeof(int64_t)), *slow = calloc(r->n + 1, sizeof(int64_t));
	int64_t *over = calloc(r->n + 1, sizeof(int64_t)), *less = calloc(r->n + 1, sizeof(int64_t));
	int64_t *bytes = calloc(r->n + 1, sizeof(int64_t)), task[MAX_REPS];
	int64_t quiet = pl == P_DESKPILOT ? (int64_t)b->quiet_ms * DP_NSEC_PER_MSEC : 0;

	*sm = (struct summary){ 0 };
	if (!resp || !slow || !over || !less || !bytes)
		goto out;
	for (size_t i = 0; i < r->n; i++) {
		const struct sample *s = &r->samples[i];

		if (s->slow)
			slow[sm->n_slow++] = s->total_ns;
		else
			resp[sm->n_responsive++] = s->total_ns;
		/* Seen before the app was done: none of it was waiting for the app. */
		over[i] = s->premature ? s->total_ns : s->total_ns - s->app_ns;
		less[i] = over[i] - quiet;
		bytes[i] = (int64_t)s->bytes;
	}
	memcpy(task, r->task_ns, sizeof(task));
	dp_stats_summarize(resp, sm->n_responsive, 1e6, &sm->responsive);
	dp_stats_summarize(slow, sm->n_slow, 1e6, &sm->slow);
	dp_stats_summarize(over, r->n, 1e6, &sm->overhead);
	dp_stats_summarize(less, r->n, 1e6, &sm->overhead_less_quiet);
	dp_stats_summarize(task, r->runs, 1e9, &sm->task);
	dp_stats_summarize(bytes, r->n, 1, &sm->bytes);
out:
	free(resp);
	free(slow);
	free(over);
	free(less);
	free(bytes);
}

static const char *yes(bool ok)
{
	return ok ? "yes" : "NO";
}

static void print_report(struct bench *b, const struct summary *sm, size_t reps, FILE *json)
{
	const struct summary *a = &sm[P_DESKPILOT], *demo = &sm[P_DEMO];
	const struct result *ra = &results[P_DESKPILOT];
	double ratio = demo->responsive.median / a->responsive.median;
	bool have_demo = results[P_DEMO].available && demo->n_responsive;

	printf("%zu steps x %zu repetitions, 1920x1080, %d%% of reactions to clicks, focus and keys %d-%d ms late\n\n",
	       b->n_steps, reps, SLOW_PERCENT, SLOW_MIN_MS, SLOW_MAX_MS);
	printf("%-28s %15s %17s %15s %14s %10s %9s %9s %9s %9s\n", "pipeline", "responsive ms", "slow ms",
	       "overhead ms", "task s", "premature", "typing", "misplaced", "bytes", "");
	printf("%-28s %15s %17s %15s %14s %10s %9s %9s %9s\n", "", "median / p90", "median / p90", "median / p90",
	       "median (min-max)", "", "errors", "clicks", "/ shot");
	for (int pl = 0; pl < P_COUNT; pl++) {
		const struct result *r = &results[pl];
		const struct summary *s = &sm[pl];
		char c[6][48];

		if (!r->available) {
			printf("%-28s skipped: %s\n", pipeline_label[pl], r->why);
			continue;
		}
		snprintf(c[0], 48, "%.1f / %.1f", s->responsive.median, s->responsive.p90);
		snprintf(c[1], 48, "%.0f / %.0f", s->slow.median, s->slow.p90);
		snprintf(c[2], 48, "%.1f / %.1f", s->overhead.median, s->overhead.p90);
		snprintf(c[3], 48, "%.1f (%.1f-%.1f)", s->task.median, s->task.min, s->task.max);
		snprintf(c[4], 48, "%d/%d", r->premature, r->observations);
		snprintf(c[5], 48, "%d/%d", r->misplaced, r->clicks);
		printf("%-28s %15s %17s %15s %14s %10s %9d %9s %9.0f\n", pipeline_label[pl], c[0], c[1], c[2], c[3], c[4],
		       r->typing_errors, c[5], s->bytes.median);
		if (json)
			fprintf(json, "%s\n    \"%s\": {\"responsive_median_ms\": %.3f, \"responsive_p90_ms\": %.3f, "
				"\"slow_median_ms\": %.3f, \"slow_p90_ms\": %.3f, \"overhead_median_ms\": %.3f, "
				"\"overhead_p90_ms\": %.3f, \"overhead_less_quiet_median_ms\": %.3f, \"task_median_s\": %.3f, "
				"\"task_min_s\": %.3f, \"task_max_s\": %.3f, \"premature\": %d, \"observations\": %d, "
				"\"typing_errors\": %d, \"type_steps\": %d, \"misplaced\": %d, \"clicks\": %d, "
				"\"max_click_offset_px\": %.2f, \"bytes_median\": %.0f, \"responsive_steps\": %zu, "
				"\"slow_steps\": %zu}", pl ? "," : "", pipeline_key[pl], s->responsive.median,
				s->responsive.p90, s->slow.median, s->slow.p90, s->overhead.median, s->overhead.p90,
				pl == P_DESKPILOT ? s->overhead_less_quiet.median : s->overhead.median, s->task.median,
				s->task.min, s->task.max, r->premature, r->observations, r->typing_errors, r->type_steps,
				r->misplaced, r->clicks, r->max_offset, s->bytes.median, s->n_responsive, s->n_slow);
	}
	printf("\nresponsive/slow: action to observation on steps where the app answered at once / late.\n"
	       "overhead: action to observation less the app's own time (its late reactions; all of it when premature).\n"
	       "typing errors: steps after which a window's text differed from what was sent (of %d typing steps).\n",
	       ra->type_steps);
	printf("\ngoals for deskpilot%s\n", b->n_steps < MAX_STEPS ? " (a short run: they are judged on the full 50-step task, "
					       "where typing, which the demo does not sleep after, is 15 steps of 50)" : "");
	printf("  %-52s %-22d %s\n", "no premature observations", ra->premature, yes(ra->premature == 0));
	printf("  %-52s %-22d %s\n", "no typing errors", ra->typing_errors, yes(ra->typing_errors == 0));
	printf("  %-52s %-22d %s\n", "no misplaced clicks", ra->misplaced, yes(ra->misplaced == 0));
	if (have_demo) {
		char v[2][64];

		snprintf(v[0], 64, "%.1fx (%.1f vs %.1f ms)", ratio, a->responsive.median, demo->responsive.median);
		snprintf(v[1], 64, "%.0f vs %.0f ms", a->slow.median, demo->slow.median);
		printf("  %-52s %-22s %s\n", "responsive steps >= 20x faster than b (medians)", v[0], yes(ratio >= 20));
		printf("  %-52s %-22s %s\n", "slow steps faster than b (medians)", v[1],
		       yes(a->n_slow && a->slow.median < demo->slow.median));
	}
	{
		char v[64];

		snprintf(v, 64, "%.1f ms (p90 %.1f)", a->overhead_less_quiet.median, a->overhead_less_quiet.p90);
		printf("  %-52s %-22s %s\n", "harness overhead < 15 ms (less the 75 ms quiet window)", v,
		       yes(a->overhead_less_quiet.median < 15));
	}
	printf("\ndeskpilot's steps by phase (medians, ms):");
	if (json)
		fprintf(json, "\n  },\n  \"deskpilot_phases_ms\": {");
	for (int p = 0; p < DP_PHASE_COUNT; p++) {
		struct dp_stats st;

		dp_stats_summarize(b->phase_ns[p], b->n_phase, 1e6, &st);
		printf(" %s %.2f", dp_phase_name((enum dp_phase)p), st.median);
		if (json)
			fprintf(json, "%s\"%s\": %.3f", p ? ", " : "", dp_phase_name((enum dp_phase)p), st.median);
	}
	printf("\n");
	if (json)
		fprintf(json, "},\n  \"goals\": {\"premature\": %s, \"typing_errors\": %s, \"misplaced\": %s, "
			"\"responsive_ratio_vs_demo\": %.2f, \"responsive_20x\": %s, \"slow_faster_than_demo\": %s, "
			"\"overhead_under_15ms\": %s}\n}\n", ra->premature ? "false" : "true",
			ra->typing_errors ? "false" : "true", ra->misplaced ? "false" : "true", have_demo ? ratio : 0.0,
			have_demo && ratio >= 20 ? "true" : "false",
			have_demo && a->slow.median < demo->slow.median ? "true" : "false",
			a->overhead_less_quiet.median < 15 ? "true" : "false");
}

static int write_csv(const char *path, const struct summary *sm)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return fail(path, strerror(errno));
	fprintf(f, "pipeline,available,responsive_median_ms,responsive_p90_ms,slow_median_ms,slow_p90_ms,"
		"overhead_median_ms,overhead_p90_ms,overhead_less_quiet_median_ms,task_median_s,task_min_s,task_max_s,"
		"premature,observations,typing_errors,type_steps,misplaced,clicks,bytes_median\n");
	for (int pl = 0; pl < P_COUNT; pl++) {
		const struct result *r = &results[pl];
		const struct summary *s = &sm[pl];

		fprintf(f, "%s,%d,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%d,%d,%d,%d,%d,%d,%.0f\n",
			pipeline_key[pl], r->available, s->responsive.median, s->responsive.p90, s->slow.median,
			s->slow.p90, s->overhead.median, s->overhead.p90, s->overhead_less_quiet.median, s->task.median,
			s->task.min, s->task.max, r->premature, r->observations, r->typing_errors, r->type_steps,
			r->misplaced, r->clicks, s->bytes.median);
	}
	return fclose(f) == 0 ? 0 : fail(path, strerror(errno));
}

static void print_results(const struct summary *sm)
{
	for (int pl = 0; pl < P_COUNT; pl++) {
		char name[96];

		if (!results[pl].available)
			continue;
		snprintf(name, sizeof(name), "compare.%s.responsive", pipeline_key[pl]);
		dp_stats_print_result(name, &sm[pl].responsive, "ms", -1);
		snprintf(name, sizeof(name), "compare.%s.slow", pipeline_key[pl]);
		dp_stats_print_result(name, &sm[pl].slow, "ms", -1);
		snprintf(name, sizeof(name), "compare.%s.overhead", pipeline_key[pl]);
		dp_stats_print_result(name, pl == P_DESKPILOT ? &sm[pl].overhead_less_quiet : &sm[pl].overhead, "ms", -1);
	}
}

int main(int argc, char **argv)
{
	static struct bench b;
	struct summary sm[P_COUNT];
	const char *csv = NULL, *json_path = NULL;
	size_t steps = MAX_STEPS, reps = 3;
	bool quick = false, want_results = false;
	int r = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick"))
			quick = true;
		else if (!strcmp(argv[i], "--results"))
			want_results = true;
		else if (!strcmp(argv[i], "--csv") && i + 1 < argc)
			csv = argv[++i];
		else if (!strcmp(argv[i], "--json") && i + 1 < argc)
			json_path = argv[++i];
		else if (!strcmp(argv[i], "--reps") && i + 1 < argc && atoi(argv[i + 1]) > 0 && atoi(argv[i + 1]) <= MAX_REPS)
			reps = (size_t)atoi(argv[++i]);
		else
			return fprintf(stderr, "usage: %s [--quick] [--reps 1-%d] [--csv FILE] [--json FILE] [--results]\n",
				       argv[0], MAX_REPS), 2;
	}
	if (quick) {
		steps = 5;
		reps = 1;
	}
	signal(SIGPIPE, SIG_IGN);
	make_task(&b, steps);
	if (setup(&b) < 0) {
		teardown(&b);
		return 1;
	}
	for (int pl = 0; pl < P_COUNT; pl++)
		if (!results[pl].available)
			printf("skipping %s: %s\n", pipeline_label[pl], results[pl].why);
	for (size_t rep = 0; rep < reps && r == 0; rep++) {
		for (int pl = 0; pl < P_COUNT && r == 0; pl++) {
			struct result *res = &results[pl];
			int64_t task = 0;

			if (!res->available)
				continue;
			fprintf(stderr, "bench-compare: repetition %zu of %zu: %s\n", rep + 1, reps, pipeline_label[pl]);
			r = reset_probes(&b, rep);
			if (r == 0)
				r = pl == P_DESKPILOT ? run_deskpilot(&b, &task) : run_processes(&b, pl, &task);
			res->task_ns[res->runs++] = task;
		}
	}
	if (r == 0) {
		FILE *json = json_path ? fopen(json_path, "w") : NULL;

		if (json_path && !json)
			r = fail(json_path, strerror(errno));
		for (int pl = 0; pl < P_COUNT; pl++)
			summarize(&b, pl, &sm[pl]);
		if (json)
			fprintf(json, "{\n  \"screen\": \"%dx%d\",\n  \"steps\": %zu,\n  \"repetitions\": %zu,\n"
				"  \"slow_percent\": %d,\n  \"slow_ms\": [%d, %d],\n  \"quiet_ms\": %u,\n  \"pipelines\": {",
				SCREEN_W, SCREEN_H, b.n_steps, reps, SLOW_PERCENT, SLOW_MIN_MS, SLOW_MAX_MS, b.quiet_ms);
		print_report(&b, sm, reps, json);
		if (json && fclose(json) != 0)
			r = fail(json_path, strerror(errno));
		if (csv && write_csv(csv, sm) < 0)
			r = -1;
		if (want_results)
			print_results(sm);
	}
	teardown(&b);
	return r < 0 ? 1 : 0;
}
