/* The deskpilot command line, used the way a person or a script uses it:
 * real processes, exit codes, messages, and the outcome on screen. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness/xvfb.h"
#include "tst.h"

static struct dp_xvfb xvfb;
static struct dp_probe probe;
static char out[1 << 16], err[1 << 16];

/* Runs deskpilot with args (and stdin_text on its stdin); returns its exit
 * code and leaves what it printed in out and err. */
static int deskpilot(const char *stdin_text, const char *const *args)
{
	const char *argv[32] = { getenv("DP_DESKPILOT") };
	int n = 1;

	for (int i = 0; args[i] && n < 31; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	return dp_run(argv, stdin_text, out, sizeof(out), err, sizeof(err));
}

#define RUN(stdin_text, ...) deskpilot(stdin_text, (const char *const[]){ __VA_ARGS__, NULL })

static void test_click_and_type(void)
{
	char line[512], text[256];

	TST_EQ_INT(RUN(NULL, "act", "click", "640", "400"), 0);
	TST_CHECK(strstr(out, "clicked button 1 x1 at 640,400") != NULL);
	TST_REQUIRE(dp_probe_wait(&probe, "button", 5000, line, sizeof(line)) == 0);
	TST_EQ_INT(dp_json_int(line, "root_x"), 640);
	TST_EQ_INT(dp_json_int(line, "root_y"), 400);

	dp_probe_send(&probe, "clear");
	TST_REQUIRE(dp_probe_wait(&probe, "cleared", 5000, line, sizeof(line)) == 0);
	TST_EQ_INT(RUN(NULL, "act", "type", "Grüße 你好"), 0);
	TST_EQ_INT(dp_app_text(&probe, text, sizeof(text)), 0);
	TST_EQ_STR(text, "Grüße 你好");
}

static void test_json_lines_from_stdin(void)
{
	char text[256], line[256];

	dp_probe_send(&probe, "clear");
	TST_REQUIRE(dp_probe_wait(&probe, "cleared", 5000, line, sizeof(line)) == 0);
	TST_EQ_INT(RUN("{\"action\":\"type\",\"text\":\"ab\"}\n\n{\"action\":\"key\",\"keys\":\"BackSpace\"}\n", "act", "-"), 0);
	TST_EQ_INT(dp_app_text(&probe, text, sizeof(text)), 0);
	TST_EQ_STR(text, "a");
	/* Line 2 is broken: line 1 ran, line 3 did not. */
	TST_EQ_INT(RUN("{\"action\":\"type\",\"text\":\"c\"}\n{\"action\": \"key\", \"keys\": }\n"
		       "{\"action\":\"type\",\"text\":\"d\"}\n", "act", "-"), 2);
	TST_CHECK(strstr(err, "line 2, column 27: JSON syntax error") != NULL);
	TST_EQ_INT(dp_app_text(&probe, text, sizeof(text)), 0);
	TST_EQ_STR(text, "ac");
	TST_EQ_INT(RUN("{\"action\":\"click\",\"x\":1,\"y\":1,\"size\":3}\n", "act", "-"), 2);
	TST_CHECK(strstr(err, "line 1: click.size: unknown field") != NULL);
}

static void test_errors_and_exit_codes(void)
{
	TST_EQ_INT(RUN(NULL, "act", "click", "5000", "10"), 2);
	TST_CHECK(strstr(err, "click.x = 5000 is outside the screen 0..1919") != NULL);
	TST_EQ_INT(RUN(NULL, "act", "key", "ctrl+Retrun"), 8);
	TST_CHECK(strstr(err, "closest: Return") != NULL);
	TST_EQ_INT(RUN(NULL, "act", "teleport", "1"), 2);
	TST_CHECK(strstr(err, "unknown action 'teleport'") != NULL);
	TST_EQ_INT(RUN(NULL, "act", "click", "1", "2", "--count"), 2);
	TST_EQ_INT(RUN(NULL, "act"), 2);
	TST_EQ_INT(RUN(NULL, "frobnicate"), 2);
	TST_EQ_INT(RUN(NULL, "--display", ":4711", "act", "click", "1", "1"), 3);
	TST_CHECK(strstr(err, ":4711") != NULL);
	TST_EQ_INT(RUN(NULL, "settle", "--response", "300"), 5);
	TST_CHECK(strstr(out, "no visible effect") != NULL);
	TST_EQ_INT(RUN(NULL, "act", "--help"), 0);
	TST_CHECK(strstr(out, "Usage: deskpilot act") != NULL);
}

static void test_shot_and_monitors(void)
{
	char path[256];
	unsigned char sig[8] = { 0 };
	int fd;

	snprintf(path, sizeof(path), "%s/dp-cli-%d.png", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
	TST_EQ_INT(RUN(NULL, "shot", path), 0);
	fd = open(path, O_RDONLY);
	TST_CHECK(fd >= 0 && read(fd, sig, 8) == 8 && memcmp(sig, "\x89PNG\r\n\x1a\n", 8) == 0);
	if (fd >= 0)
		close(fd);
	unlink(path);
	TST_EQ_INT(RUN(NULL, "shot", "/tmp/x.gif"), 2);
	TST_EQ_INT(RUN(NULL, "shot", "/nonexistent-dir/x.png"), 7);
	TST_EQ_INT(RUN(NULL, "monitors"), 0);
	TST_CHECK(strstr(out, "screen 1920x1080") != NULL);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void test_run_a_script(void)
{
	char dir[256], script[300], run_dir[300], report[400], text[256], line[256];

	snprintf(dir, sizeof(dir), "%s/dp-cli-run-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	TST_REQUIRE(mkdtemp(dir) != NULL);
	snprintf(script, sizeof(script), "%s/steps.jsonl", dir);
	snprintf(run_dir, sizeof(run_dir), "%s/run", dir);
	dp_probe_send(&probe, "clear");
	TST_REQUIRE(dp_probe_wait(&probe, "cleared", 5000, line, sizeof(line)) == 0);
	write_file(script, "# log in\n{\"action\":\"click\",\"x\":100,\"y\":100}\n"
			   "[{\"action\":\"type\",\"text\":\"Grüße\"},{\"action\":\"key\",\"keys\":\"Return\"}]\n");
	TST_EQ_INT(RUN(NULL, "run", "enter a greeting", "--script", script, "--run-dir", run_dir), 0);
	TST_CHECK(strstr(out, "succeeded after 3 steps") != NULL);
	snprintf(report, sizeof(report), "%s/report.html", run_dir);
	TST_CHECK(access(report, R_OK) == 0);
	TST_EQ_INT(dp_app_text(&probe, text, sizeof(text)), 0);
	TST_EQ_STR(text, "Grüße\n");

	write_file(script, "{\"action\":\"click\",\"x\":1,\"y\":1}\n{\"action\":\"click\",\"x\":1}\n");
	TST_EQ_INT(RUN(NULL, "run", "--script", script, "--run-dir", run_dir), 2);
	TST_CHECK(strstr(err, "line 2: click.y: missing") != NULL);
	TST_EQ_INT(RUN(NULL, "run", "--script", script, "--max-steps", "500"), 2);
	TST_EQ_INT(RUN(NULL, "run", "no policy given"), 2);
	write_file(script, "{\"action\":\"move\",\"x\":1,\"y\":1}\n{\"action\":\"move\",\"x\":2,\"y\":2}\n"
			   "{\"action\":\"move\",\"x\":3,\"y\":3}\n");
	TST_EQ_INT(RUN(NULL, "run", "--script", script, "--run-dir", run_dir, "--max-steps", "2"), 6);
	TST_CHECK(strstr(out, "out_of_steps after 2 steps") != NULL);
}

static void test_encode_shows_what_the_model_sees(void)
{
	char rows[300], fixture[512];
	struct stat st;

	snprintf(rows, sizeof(rows), "%s/dp-cli-rows-%d.f32", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
	snprintf(fixture, sizeof(fixture), "%s/screen_200x150.png", getenv("DP_VISION_FIXTURES"));
	TST_EQ_INT(RUN(NULL, "encode", fixture, "--tokens", rows), 0);
	TST_CHECK(strstr(out, "grid t=1 h=10 w=14: 140 patch rows of 1176 values, 35 image tokens") != NULL);
	TST_CHECK(stat(rows, &st) == 0 && st.st_size == 140 * 1176 * 4);
	unlink(rows);
	TST_EQ_INT(RUN(NULL, "encode", "--screen"), 0);
	TST_CHECK(strstr(out, "resized 896x504") != NULL); /* the 1920x1080 screen */
	TST_CHECK(strstr(out, "576 image tokens") != NULL);
	TST_EQ_INT(RUN(NULL, "encode", "/nonexistent.png"), 7);
	TST_EQ_INT(RUN(NULL, "encode", getenv("DP_DESKPILOT")), 7); /* not an image */
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	if (dp_probe_start_focused(&probe, &xvfb, 1920, 1080) < 0)
		return EXIT_FAILURE;
	setenv("DISPLAY", xvfb.display, 1);
	TST_RUN(test_click_and_type);
	TST_RUN(test_json_lines_from_stdin);
	TST_RUN(test_errors_and_exit_codes);
	TST_RUN(test_shot_and_monitors);
	TST_RUN(test_run_a_script);
	TST_RUN(test_encode_shows_what_the_model_sees);
	unsetenv("DISPLAY");
	TST_EQ_INT(RUN(NULL, "shot", "/tmp/x.png"), 3);
	TST_CHECK(strstr(err, "DISPLAY is not set") != NULL);
	dp_probe_stop(&probe);
	dp_xvfb_stop(&xvfb);
	TST_EXIT();
}
