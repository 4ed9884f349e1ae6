/* Exact Unicode typing, byte for byte, in clients that read the keyboard
 * map themselves: an xterm (its pty feeds `cat > file`) and a GTK entry,
 * under the us and de layouts, three times each. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xcb/xcb.h>

#include "actuators/actuator.h"
#include "engine/clock.h"
#include "harness/xvfb.h"
#include "tst.h"

static struct dp_xvfb xvfb;
static struct dp_actuator *act;
static struct dp_probe gtk, gtk_multiline;
static pid_t xterm_pid;
static char xterm_file[256], xterm_id_file[256];
static uint32_t xterm_window;
static size_t xterm_written; /* bytes the xterm's cat has written so far */

static const char *const texts[] = {
	"The quick brown fox jumps over the lazy dog 0123456789 !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
	"Latin-1: àáâãäåæçèéêëìíîïðñòóôõöøùúûüýþÿ ÀÉÎÕÜ ß ¡¿ £¥§©®°±µ¶·",
	"Greek: Ωμέγα αβγδεζηθικλμνξοπρστυφχψω ΑΒΓΔΕΖΗΘ",
	"Hebrew: שלום עולם אבגדהוזחטיכלמנסעפצקרשת",
	"CJK: 你好世界 日本語のテキスト 한국어 텍스트",
	"Emoji: 😀🎉🚀❤️👍🏽🇩🇪",
	"Combining: e\xcc\x81 a\xcc\x8a n\xcc\x83 o\xcc\x88 Z\xcc\x8c",
};

/* 5,000 characters drawn (deterministically) from all of the above, in
 * lines of 100 (typed as Return). */
static char *mixed_text(void)
{
	static const char *const pool[] = { "a", "Z", "7", " ", "ä", "ß", "Ω", "λ", "ש", "ל", "你", "好", "語",
					    "😀", "🚀", "e\xcc\x81", "@", "€", "{", "|", "~", "ñ", "ç", "Ж", "я" };
	size_t n_pool = sizeof(pool) / sizeof(pool[0]);
	char *s = malloc(5000 * 8 + 50 + 1);
	size_t len = 0;
	unsigned seed = 12345;

	for (int i = 0; i < 5000; i++) {
		const char *c;

		seed = seed * 1103515245u + 12345u;
		c = pool[(seed >> 16) % n_pool];
		memcpy(s + len, c, strlen(c));
		len += strlen(c);
		if (i % 100 == 99)
			s[len++] = '\n';
	}
	s[len] = '\0';
	return s;
}

static enum dp_text_method method = DP_TEXT_KEYS;

static int type_text(const char *text)
{
	struct dp_action a = { .type = DP_ACTION_TYPE, .text = (char *)text, .method = method };
	struct dp_action_result res;
	struct dp_error err = { 0 };
	int r = dp_actuator_perform(act, &a, &res, &err);

	if (r < 0)
		fprintf(stderr, "type: %s\n", err.message);
	return r;
}

static void set_layout(const char *layout)
{
	const char *argv[] = { "setxkbmap", "-display", xvfb.display, layout, NULL };
	pid_t pid = dp_spawn_on(&xvfb, argv);
	int status = 0;

	waitpid(pid, &status, 0);
	TST_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void focus(uint32_t window)
{
	xcb_connection_t *c = xcb_connect(xvfb.display, NULL);

	xcb_set_input_focus(c, XCB_INPUT_FOCUS_PARENT, window, XCB_CURRENT_TIME);
	free(xcb_get_input_focus_reply(c, xcb_get_input_focus(c), NULL));
	xcb_disconnect(c);
}

/* Reads the file once it has at least `want` bytes (bounded wait: the
 * xterm writes what it reads in its own time). */
static char *read_when_complete(const char *path, size_t want)
{
	int64_t end = dp_now_ns() + 20 * DP_NSEC_PER_SEC;
	struct timespec tick = { 0, 20 * 1000 * 1000 };
	struct stat st;

	while (dp_now_ns() < end && (stat(path, &st) < 0 || (size_t)st.st_size < want))
		nanosleep(&tick, NULL);
	nanosleep(&tick, NULL); /* anything beyond want would be an error too: let it arrive */
	return dp_read_file(path);
}

static bool xterm_types_exactly(const char *text)
{
	size_t want = strlen(text);
	char *got;
	bool same;

	focus(xterm_window);
	if (type_text(text) < 0)
		return false;
	got = read_when_complete(xterm_file, xterm_written + want);
	if (!got)
		return false;
	/* Compare what this text added; the next one starts where it ended. */
	same = strlen(got) == xterm_written + want && memcmp(got + xterm_written, text, want) == 0;
	if (!same)
		fprintf(stderr, "xterm wrote %zu bytes for a text of %zu\n", strlen(got) - xterm_written, want);
	xterm_written = strlen(got);
	free(got);
	return same;
}

static bool gtk_types_exactly(struct dp_probe *app, const char *text)
{
	static char got[1 << 16];
	char line[256];
	int64_t end;

	dp_probe_send(app, "focus");
	if (dp_probe_wait(app, "focused", 5000, line, sizeof(line)) < 0 || strstr(line, "error"))
		return false;
	dp_probe_send(app, "clear");
	if (dp_probe_wait(app, "cleared", 5000, line, sizeof(line)) < 0)
		return false;
	if (type_text(text) < 0)
		return false;
	/* GTK handles key events in its own time: ask until it has them all. */
	end = dp_now_ns() + 30 * DP_NSEC_PER_SEC;
	do {
		if (dp_app_text(app, got, sizeof(got)) < 0)
			return false;
	} while (strlen(got) < strlen(text) && dp_now_ns() < end);
	if (strcmp(got, text) != 0) {
		fprintf(stderr, "gtk got %zu bytes, want %zu\n", strlen(got), strlen(text));
		return false;
	}
	return true;
}

static void run_layout(const char *layout)
{
	char *mixed = mixed_text();

	set_layout(layout);
	for (int rep = 0; rep < 3; rep++) {
		for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
			if (!xterm_types_exactly(texts[i]))
				fprintf(stderr, "  [%s] xterm: %s\n", layout, texts[i]), tst_failures++;
			if (!gtk_types_exactly(&gtk, texts[i]))
				fprintf(stderr, "  [%s] gtk: %s\n", layout, texts[i]), tst_failures++;
		}
		TST_CHECK(xterm_types_exactly(mixed));
		TST_CHECK(gtk_types_exactly(&gtk_multiline, mixed));
	}
	free(mixed);
}

static void test_us_layout(void)
{
	run_layout("us");
}

static void test_de_layout(void)
{
	run_layout("de");
}

static int start_xterm(void)
{
	/* Fixed script; the paths come in as arguments, not pasted into it. */
	static const char script[] = "stty -icanon -echo; echo $WINDOWID > \"$1.part\" && mv \"$1.part\" \"$1\"; "
				     "exec cat > \"$2\"";
	const char *argv[] = { "xterm", "-u8", "-geometry", "100x20+0+0", "-e", "sh", "-c", script, "sh",
			       xterm_id_file, xterm_file, NULL };
	int64_t end = dp_now_ns() + 20 * DP_NSEC_PER_SEC;
	struct timespec tick = { 0, 20 * 1000 * 1000 };
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	FILE *f;

	if (strlen(tmp) > 150)
		return -ENAMETOOLONG;
	snprintf(xterm_file, sizeof(xterm_file), "%s/dp-typed-%d.txt", tmp, (int)getpid());
	snprintf(xterm_id_file, sizeof(xterm_id_file), "%s/dp-typed-%d.id", tmp, (int)getpid());
	setenv("LC_ALL", "C.UTF-8", 1);
	xterm_pid = dp_spawn_on(&xvfb, argv);
	while (dp_now_ns() < end && access(xterm_id_file, R_OK) != 0)
		nanosleep(&tick, NULL);
	f = fopen(xterm_id_file, "r");
	if (!f || fscanf(f, "%u", &xterm_window) != 1) {
		if (f)
			fclose(f);
		return -ENOENT;
	}
	fclose(f);
	return 0;
}

/* The paste path: ctrl+v in GTK, shift+Insert in the xterm (chosen by
 * the window's class), the whole mixed text in one go. */
static void test_paste(void)
{
	char *mixed = mixed_text();

	method = DP_TEXT_PASTE;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		TST_CHECK(xterm_types_exactly(texts[i]));
		TST_CHECK(gtk_types_exactly(&gtk, texts[i]));
	}
	TST_CHECK(xterm_types_exactly(mixed));
	TST_CHECK(gtk_types_exactly(&gtk_multiline, mixed));
	method = DP_TEXT_KEYS;
	free(mixed);
}

int main(void)
{
	struct dp_actuator_config config = { 0 };
	const char *gtk_argv[] = { getenv("DP_GTK_ENTRY"), "--x", "0", "--y", "400", "--width", "1200", NULL };
	const char *multiline_argv[] = { getenv("DP_GTK_ENTRY"), "--multiline", "--x", "0", "--y", "600",
					 "--width", "1200", "--height", "400", NULL };
	struct dp_error err = { 0 };

	signal(SIGPIPE, SIG_IGN);
	if (dp_xvfb_start(&xvfb, 1920, 1080, NULL) < 0)
		return TST_SKIP;
	if (start_xterm() < 0) {
		fprintf(stderr, "cannot start xterm (apt-get install xterm)\n");
		return EXIT_FAILURE;
	}
	if (dp_app_start(&gtk, &xvfb, gtk_argv) < 0 || dp_app_start(&gtk_multiline, &xvfb, multiline_argv) < 0) {
		fprintf(stderr, "cannot start the GTK entry (apt-get install python3-gi gir1.2-gtk-3.0)\n");
		return EXIT_FAILURE;
	}
	config.display = xvfb.display;
	if (dp_actuator_create(&act, &config, &err) < 0) {
		fprintf(stderr, "%s\n", err.message);
		return EXIT_FAILURE;
	}
	TST_RUN(test_us_layout);
	TST_RUN(test_de_layout);
	TST_RUN(test_paste);
	dp_actuator_destroy(act);
	dp_probe_stop(&gtk);
	dp_probe_stop(&gtk_multiline);
	dp_reap(xterm_pid);
	unlink(xterm_file);
	unlink(xterm_id_file);
	dp_xvfb_stop(&xvfb);
	TST_EXIT();
}
