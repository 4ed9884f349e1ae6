/* bench-input: deskpilot's input beside xdotool, timed and checked.
 *
 * On a private 1920x1080 Xvfb with the probe fixture full screen and focused,
 * N repetitions (the tools take turns: a b c a b c ..., so machine noise hits
 * them alike; one warm-up round) of: 1. a left click at 960,540; 2. the chord
 * ctrl+shift+a; 3. typing 1,000 ASCII characters and 1,000 mixed Unicode ones
 * (Latin-1, Greek, Hebrew, CJK, emoji: 60 symbols, and spaces).  Tools:
 * dp_actuator_perform in-process (returns after an X round trip), `deskpilot
 * act`, and xdotool (`click 1` after an untimed `mousemove`; `key`; `type` at
 * --delay 12, its default, and at --delay 0).  A process is timed from fork
 * to exit.  Each run is then checked on the probe: one press and release of
 * button 1 at the point; three key presses, the "A" with ctrl+shift; or the
 * committed text equal to the text sent.  Typing runs start from the
 * layout's own keyboard map: the in-process actuator is closed (untimed)
 * after each, as its cache of bound symbols would serve the next tool.
 * Goals: an in-process click under 1 ms, 1,000 chars/s or more, all exact.
 *
 * Run: DP_PROBE=build/tests/probe build/bench/bench-input [--quick] [--json FILE] [--results]
 * or meson test -C build --benchmark input.  $DP_DESKPILOT names the CLI
 * (default: ../daemon/deskpilot beside this binary).  N is 50, 5 with
 * --quick.  Without xdotool its rows are skipped. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "actuators/actuator.h"
#include "engine/clock.h"
#include "tests/harness/xvfb.h"
#include "stats.h"

#define SCREEN_W 1920
#define SCREEN_H 1080
#define CLICK_X 960
#define CLICK_Y 540
#define N_CHARS 1000
#define MAX_LINES 256
#define STR_(x) #x
#define STR(x) STR_(x) /* CLICK_X as "960" */

enum measure { M_CLICK, M_CHORD, M_ASCII, M_UNICODE, M_COUNT };
enum tool { T_INPROC, T_CLI, T_XDOTOOL, T_XDOTOOL_FAST, T_COUNT };

static const char *const measure_label[M_COUNT] = { "click 960,540", "key ctrl+shift+a", "type 1000 ASCII",
						    "type 1000 Unicode" };
static const char *const measure_key[M_COUNT] = { "click", "chord", "ascii", "unicode" };
static const char *const tool_label[T_COUNT] = { "deskpilot in-process", "deskpilot act", "xdotool",
						 "xdotool --delay 0" };
static const char *const tool_key[T_COUNT] = { "inprocess", "deskpilot", "xdotool", "xdotool_delay0" };

static struct row {
	int64_t *ns; /* samples */
	size_t exact;
	bool reported; /* the first inexact run was described */
	double median, p10, p90; /* ms */
} rows[M_COUNT][T_COUNT], *const all = &rows[0][0];
#define N_ROWS (M_COUNT * T_COUNT)

struct bench {
	struct dp_xvfb xvfb;
	struct dp_probe probe;
	struct dp_actuator *act;
	struct dp_action action[M_COUNT]; /* parsed once, performed each run */
	char *text[M_COUNT];              /* what typing sends */
	char deskpilot[PATH_MAX];
	bool xdotool;
	int devnull;
	size_t n_lines;
	char lines[MAX_LINES][512];
	char got[1 << 16];
};

static int fail(const char *what, const char *why)
{
	fprintf(stderr, "bench-input: %s: %s\n", what, why);
	return -1;
}

static bool is_xdotool(enum tool t)
{
	return t == T_XDOTOOL || t == T_XDOTOOL_FAST;
}

static bool in_use(const struct bench *b, enum measure m, enum tool t)
{
	return (t != T_XDOTOOL_FAST || m >= M_ASCII) && (b->xdotool || !is_xdotool(t));
}

/* N_CHARS characters of a fixed pseudo-random sequence: printable ASCII,
 * or the symbols below with a space now and then. */
static char *make_text(bool unicode)
{
	static const char *const symbols[60] = {
		"é", "ü", "ß", "ñ", "ç", "à", "ø", "å", "æ", "ö", "Ä", "Ø", "α", "β", "γ", "δ", "ε", "λ", "μ", "π",
		"σ", "ω", "Ω", "Δ", "א", "ב", "ג", "ד", "ה", "ו", "ש", "ל", "ם", "ע", "ק", "ת", "你", "好", "世", "界",
		"日", "本", "語", "中", "文", "字", "水", "火", "😀", "🚀", "🎉", "👍", "❤", "🔥", "✨", "🌍", "🍕", "🐍",
		"☕", "🌈",
	};
	char *s = malloc(N_CHARS * 4 + 1);
	uint32_t seed = unicode ? 4242 : 1717;
	size_t len = 0;

	for (int i = 0; s && i < N_CHARS; i++) {
		uint32_t r = (seed = seed * 1103515245u + 12345u) >> 16;
		char ascii[2] = { i == 0 ? 'T' : (char)(' ' + r % 95) }; /* not '-' first: an option */
		const char *c = !unicode ? ascii : i > 0 && (r / 60) % 8 == 0 ? " " : symbols[r % 60];

		len += (size_t)sprintf(s + len, "%s", c);
	}
	return s;
}

static int parse_action(struct bench *b, enum measure m, const char *json)
{
	struct dp_error err = { 0 };

	if (json && dp_action_parse(json, strlen(json), &b->action[m], &err) == 0)
		return 0;
	return fail(measure_label[m], json ? err.message : "out of memory");
}

/* Each measure's action, written as JSON and parsed like any other. */
static int prepare_actions(struct bench *b)
{
	if (parse_action(b, M_CLICK, "{\"action\":\"click\",\"x\":" STR(CLICK_X) ",\"y\":" STR(CLICK_Y) "}") < 0 ||
	    parse_action(b, M_CHORD, "{\"action\":\"key\",\"keys\":\"ctrl+shift+a\"}") < 0)
		return -1;
	for (enum measure m = M_ASCII; m <= M_UNICODE; m++) {
		cJSON *obj = cJSON_CreateObject();
		char *json;
		int r;

		if (!(b->text[m] = make_text(m == M_UNICODE)))
			return fail("text", "out of memory");
		cJSON_AddStringToObject(obj, "action", "type");
		cJSON_AddStringToObject(obj, "text", b->text[m]);
		json = cJSON_PrintUnformatted(obj);
		cJSON_Delete(obj);
		r = parse_action(b, m, json);
		free(json);
		if (r < 0)
			return -1;
	}
	return 0;
}

/* Runs argv on the display, stdout to /dev/null; the nanoseconds from fork
 * to exit go to *ns.  Returns the exit status (127: cannot run) or -1. */
static int run_process(struct bench *b, const char *const *argv, int64_t *ns)
{
	int64_t t0 = dp_now_ns();
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		setenv("DISPLAY", b->xvfb.display, 1);
		dup2(b->devnull, STDOUT_FILENO);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	*ns = dp_now_ns() - t0;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Process command lines; DP stands for the deskpilot CLI, TEXT for the text. */
static const char DP[] = "deskpilot", TEXT[] = "text";
static const char *const argv_of[M_COUNT][T_COUNT][7] = {
	[M_CLICK] = { [T_CLI] = { DP, "act", "click", STR(CLICK_X), STR(CLICK_Y) },
		      [T_XDOTOOL] = { "xdotool", "click", "1" } },
	[M_CHORD] = { [T_CLI] = { DP, "act", "key", "ctrl+shift+a" },
		      [T_XDOTOOL] = { "xdotool", "key", "ctrl+shift+a" } },
#define TYPING { [T_CLI] = { DP, "act", "type", TEXT },                        \
		 [T_XDOTOOL] = { "xdotool", "type", "--delay", "12", TEXT }, \
		 [T_XDOTOOL_FAST] = { "xdotool", "type", "--delay", "0", TEXT } }
	[M_ASCII] = TYPING,
	[M_UNICODE] = TYPING,
};

/* The timed part of one run; 0, or -1 when the tool failed. */
static int act(struct bench *b, enum measure m, enum tool t, int64_t *ns)
{
	struct dp_action_result res;
	struct dp_error err = { 0 };
	const char *argv[8];
	int64_t t0 = dp_now_ns();
	int status;

	if (t == T_INPROC) {
		status = dp_actuator_perform(b->act, &b->action[m], &res, &err);
		*ns = dp_now_ns() - t0;
		return status < 0 ? fail(measure_label[m], err.message) : 0;
	}
	for (int i = 0; i < 7; i++) { /* the template ends in NULL */
		const char *arg = argv_of[m][t][i];

		argv[i] = arg == DP ? b->deskpilot : arg == TEXT ? b->text[m] : arg;
	}
	if ((status = run_process(b, argv, ns)) != 0)
		fprintf(stderr, "bench-input: %s (%s) exited with %d\n", tool_label[t], measure_label[m], status);
	return status == 0 ? 0 : -1;
}

/* Untimed, before each run: the actuator open, the pointer at the point for
 * xdotool, the probe's event lines drained or its text emptied. */
static int prepare(struct bench *b, enum measure m, enum tool t)
{
	static const char *const move[] = { "xdotool", "mousemove", STR(CLICK_X), STR(CLICK_Y), NULL };
	struct dp_actuator_config config = { .display = b->xvfb.display };
	struct dp_error err = { 0 };
	char line[512];
	int64_t ns;

	if (t == T_INPROC && !b->act && dp_actuator_create(&b->act, &config, &err) < 0)
		return fail("cannot create the actuator", err.message);
	if (m == M_CLICK && is_xdotool(t) && run_process(b, move, &ns) != 0)
		return fail("xdotool mousemove", "failed");
	if (m < M_ASCII)
		return dp_app_collect(&b->probe, b->lines, MAX_LINES, &b->n_lines) < 0 ? fail("probe", "no synced") : 0;
	dp_probe_send(&b->probe, "clear");
	return dp_probe_wait(&b->probe, "cleared", 10000, line, sizeof(line)) < 0 ? fail("probe", "no cleared") : 0;
}

/* Collected lines holding needle; the last of them goes to *last. */
static size_t count(const struct bench *b, const char *needle, const char **last)
{
	size_t n = 0;

	for (size_t i = 0; i < b->n_lines; i++)
		if (strstr(b->lines[i], needle))
			n++, *last = b->lines[i];
	return n;
}

static bool at_point(const char *line)
{
	return strstr(line, "\"button\":1,") && dp_json_int(line, "root_x") == CLICK_X &&
	       dp_json_int(line, "root_y") == CLICK_Y;
}

/* Click: one press and one release of button 1, both at the point.  Chord:
 * three presses and three releases, the last press "A" with ctrl+shift. */
static bool events_arrived(struct bench *b, enum measure m)
{
	static const char *const needle[2][2] = {
		[M_CLICK] = { "\"event\":\"button\",\"press\":true", "\"event\":\"button\",\"press\":false" },
		[M_CHORD] = { "\"event\":\"key\",\"press\":true", "\"event\":\"key\",\"press\":false" },
	};
	const char *press = "", *release = "";
	size_t want = m == M_CLICK ? 1 : 3;

	if (dp_app_collect(&b->probe, b->lines, MAX_LINES, &b->n_lines) < 0 ||
	    count(b, needle[m][0], &press) != want || count(b, needle[m][1], &release) != want)
		return false;
	if (m == M_CLICK)
		return at_point(press) && at_point(release);
	return strstr(press, "\"name\":\"A\"") && (dp_json_int(press, "state") & 5) == 5; /* Shift|Control */
}

/* Polls the probe's text until it equals what was sent, stops changing
 * (the same length over 150 ms) or 30 s have passed. */
static bool text_arrived(struct bench *b, const char *sent)
{
	struct timespec tick = { 0, 50 * 1000 * 1000 };
	int64_t end = dp_now_ns() + 30 * DP_NSEC_PER_SEC;
	size_t last = (size_t)-1;

	for (int stable = 0; stable < 3 && dp_now_ns() < end; nanosleep(&tick, NULL)) {
		if (dp_app_text(&b->probe, b->got, sizeof(b->got)) < 0)
			return false;
		if (!strcmp(b->got, sent))
			return true;
		stable = strlen(b->got) == last ? stable + 1 : 0;
		last = strlen(b->got);
	}
	return false;
}

/* Characters (code points) in the first len bytes of s. */
static size_t chars_in(const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len && s[i]; i++)
		n += ((unsigned char)s[i] & 0xc0) != 0x80;
	return n;
}

/* Says, once per row, how its first inexact run went wrong. */
static void describe_miss(struct bench *b, enum measure m, enum tool t, long rep)
{
	size_t i = 0;

	if (rows[m][t].reported)
		return;
	rows[m][t].reported = true;
	fprintf(stderr, "bench-input: first miss: %s, %s, run %ld: ", measure_label[m], tool_label[t], rep + 1);
	if (m < M_ASCII) {
		fprintf(stderr, "%zu probe lines\n", b->n_lines);
		return;
	}
	while (b->text[m][i] && b->text[m][i] == b->got[i])
		i++;
	fprintf(stderr, "the probe has %zu characters of %d; the first wrong one is number %zu\n",
		chars_in(b->got, SIZE_MAX), N_CHARS, chars_in(b->text[m], i + 1));
}

/* One run of one tool; rep < 0: a warm-up, not recorded. */
static int run_one(struct bench *b, enum measure m, enum tool t, long rep)
{
	int64_t ns = 0;
	bool exact;

	if (prepare(b, m, t) < 0)
		return -1;
	exact = act(b, m, t, &ns) == 0 && (m < M_ASCII ? events_arrived(b, m) : text_arrived(b, b->text[m]));
	if (t == T_INPROC && m >= M_ASCII) { /* restores the keyboard map */
		dp_actuator_destroy(b->act);
		b->act = NULL;
	}
	if (rep >= 0) {
		rows[m][t].ns[rep] = ns;
		rows[m][t].exact += exact;
		if (!exact)
			describe_miss(b, m, t, rep);
	}
	return 0;
}

static int run_all(struct bench *b, long n)
{
	for (enum measure m = M_CLICK; m < M_COUNT; m++)
		for (long rep = -1; rep < n; rep++) /* one warm-up round */
			for (enum tool t = T_INPROC; t < T_COUNT; t++)
				if (in_use(b, m, t) && run_one(b, m, t, rep) < 0)
					return -1;
	return 0;
}

static double chars_per_s(const struct row *w)
{
	return N_CHARS / (w->median / 1e3);
}

static const char *goal_of(enum measure m, enum tool t)
{
	if (m >= M_ASCII)
		return ">= 1000 chars/s, all exact";
	return m == M_CLICK && t == T_INPROC ? "< 1 ms, all exact" : "all exact";
}

static void print_table(const struct bench *b, size_t n)
{
	printf("%-17s  %-20s  %3s  %9s  %9s  %9s  %7s  %5s   %s\n", "measure", "tool", "n", "median ms", "p10 ms",
	       "p90 ms", "chars/s", "exact", "goal");
	for (size_t i = 0; i < N_ROWS; i++) {
		enum measure m = i / T_COUNT;
		enum tool t = i % T_COUNT;
		char rate[16] = "-", exact[16];

		if (!in_use(b, m, t))
			continue;
		if (m >= M_ASCII)
			snprintf(rate, sizeof(rate), "%.0f", chars_per_s(&all[i]));
		snprintf(exact, sizeof(exact), "%zu/%zu", all[i].exact, n);
		printf("%-17s  %-20s  %3zu  %9.3f  %9.3f  %9.3f  %7s  %5s   %s\n", measure_label[m], tool_label[t], n,
		       all[i].median, all[i].p10, all[i].p90, rate, exact, goal_of(m, t));
	}
}

/* RESULT lines; a row with inexact runs says so in its name. */
static void print_results(const struct bench *b, size_t n)
{
	for (size_t i = 0; i < N_ROWS; i++) {
		enum measure m = i / T_COUNT;
		enum tool t = i % T_COUNT;
		struct dp_stats st = { .median = all[i].median, .p10 = all[i].p10, .p90 = all[i].p90 };
		char name[96];

		if (!in_use(b, m, t))
			continue;
		snprintf(name, sizeof(name), "input.%s.%s%s", measure_key[m], tool_key[t],
			 all[i].exact == n ? "" : ".NOT_EXACT");
		dp_stats_print_result(name, &st, "ms", -1);
	}
}

static int write_json(const char *path, const struct bench *b, size_t n)
{
	FILE *f = fopen(path, "w");
	const char *sep = "";

	if (!f)
		return fail(path, strerror(errno));
	fprintf(f, "{\n  \"screen\": \"%dx%d\",\n  \"repetitions\": %zu,\n  \"chars\": %d,\n  \"xdotool\": %s,\n"
		"  \"goals\": {\"click_inprocess_ms\": 1, \"chars_per_s\": 1000, \"exact_fraction\": 1},\n"
		"  \"results\": {", SCREEN_W, SCREEN_H, n, N_CHARS, b->xdotool ? "true" : "false");
	for (size_t i = 0; i < N_ROWS; i++) {
		enum measure m = i / T_COUNT;
		enum tool t = i % T_COUNT;

		if (!in_use(b, m, t))
			continue;
		fprintf(f, "%s\n    \"%s_%s\": {\"median_ms\": %.4f, \"p10_ms\": %.4f, \"p90_ms\": %.4f, ", sep,
			measure_key[m], tool_key[t], all[i].median, all[i].p10, all[i].p90);
		if (m >= M_ASCII)
			fprintf(f, "\"chars_per_s\": %.1f, ", chars_per_s(&all[i]));
		fprintf(f, "\"exact\": %zu}", all[i].exact);
		sep = ",";
	}
	fprintf(f, "\n  }\n}\n");
	return fclose(f) == 0 ? 0 : fail(path, strerror(errno));
}

/* $DP_DESKPILOT, or ../daemon/deskpilot beside this binary. */
static int find_deskpilot(struct bench *b)
{
	char self[PATH_MAX] = "";
	const char *env = getenv("DP_DESKPILOT");

	if (env)
		snprintf(b->deskpilot, sizeof(b->deskpilot), "%s", env);
	else if (readlink("/proc/self/exe", self, sizeof(self) - 1) > 0)
		snprintf(b->deskpilot, sizeof(b->deskpilot), "%.4000s/../daemon/deskpilot", dirname(self));
	return access(b->deskpilot, X_OK) == 0 ? 0 : fail("no deskpilot CLI here (set DP_DESKPILOT)", b->deskpilot);
}

static int setup(struct bench *b)
{
	static const char *const version[] = { "xdotool", "version", NULL };
	char line[512];
	int64_t ns;
	int r;

	if ((b->devnull = open("/dev/null", O_WRONLY | O_CLOEXEC)) < 0)
		return fail("/dev/null", strerror(errno));
	if (find_deskpilot(b) < 0 || prepare_actions(b) < 0)
		return -1;
	if (!getenv("DP_PROBE"))
		return fail("DP_PROBE is not set", "point it at the probe app, e.g. build/tests/probe");
	if ((r = dp_xvfb_start(&b->xvfb, SCREEN_W, SCREEN_H, NULL)) < 0)
		return fail("cannot start Xvfb (is it installed and on PATH?)", strerror(-r));
	if ((r = dp_probe_start(&b->probe, &b->xvfb, 0, 0, SCREEN_W, SCREEN_H)) < 0)
		return fail("cannot start the probe ($DP_PROBE)", strerror(-r));
	dp_probe_send(&b->probe, "focus"); /* no window manager gives it */
	if (dp_probe_wait(&b->probe, "focused", 5000, line, sizeof(line)) < 0 || strstr(line, "error"))
		return fail("probe", "cannot give it the focus");
	if (!(b->xdotool = run_process(b, version, &ns) == 0))
		printf("xdotool does not run: skipping its rows (apt-get install -y xdotool)\n");
	return 0;
}

static void teardown(struct bench *b)
{
	if (b->act)
		dp_actuator_destroy(b->act);
	dp_probe_stop(&b->probe); /* both do nothing where nothing started */
	dp_xvfb_stop(&b->xvfb);
	for (enum measure m = M_CLICK; m < M_COUNT; m++) {
		dp_action_clear(&b->action[m]);
		free(b->text[m]);
	}
	if (b->devnull > 0)
		close(b->devnull);
}

int main(int argc, char **argv)
{
	static struct bench b;
	const char *json = NULL;
	size_t n = 50;
	bool results = false;
	int r = -1;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick"))
			n = 5;
		else if (!strcmp(argv[i], "--results"))
			results = true;
		else if (!strcmp(argv[i], "--json") && i + 1 < argc)
			json = argv[++i];
		else
			return fprintf(stderr, "usage: %s [--quick] [--json FILE] [--results]\n", argv[0]), 2;
	}
	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; i < N_ROWS; i++)
		if (!(all[i].ns = calloc(n, sizeof(int64_t))))
			return fail("samples", "out of memory"), 1;
	if (setup(&b) == 0 && run_all(&b, (long)n) == 0) {
		for (size_t i = 0; i < N_ROWS; i++) {
			struct dp_stats st;

			dp_stats_summarize(all[i].ns, n, 1e6, &st);
			all[i].median = st.median;
			all[i].p10 = st.p10;
			all[i].p90 = st.p90;
		}
		print_table(&b, n);
		if (results)
			print_results(&b, n);
		r = json ? write_json(json, &b, n) : 0;
	}
	teardown(&b);
	for (size_t i = 0; i < N_ROWS; i++)
		free(all[i].ns);
	return r < 0 ? 1 : 0;
}
