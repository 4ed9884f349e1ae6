/* model-server: an OpenAI-compatible chat-completions server that plays a
 * vision-language model for deskpilot's end-to-end tests.  It looks at the
 * screenshots it is sent, follows the plan written in the task, answers in
 * the profile's coordinate space, checks what a real server would check,
 * and misbehaves on request.  See README.md in this folder. */
#define DP_LOG_SUBSYS "model-server"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/clock.h"
#include "engine/json.h"
#include "engine/log.h"
#include "tests/model_server/http.h"
#include "tests/model_server/server.h"

#ifndef MS_PROFILES_DIR
#define MS_PROFILES_DIR "policies/model/profiles"
#endif

static void usage(FILE *to)
{
	fprintf(to,
		"usage: model-server [--port N] [--profile NAME] [--profiles-dir DIR] [--require-key KEY]\n"
		"                    [--control JSON] [--max-waits N] [--no-ocr] [-v|-vv]\n"
		"Prints {\"port\": N} on stdout once it listens on 127.0.0.1; logs to stderr.\n"
		"  --port N          0 (default): any free port\n"
		"  --profile NAME    the model it plays (a file NAME.json of the profiles folder); without it,\n"
		"                    each request's model name picks the profile\n"
		"  --profiles-dir    default %s\n"
		"  --require-key KEY answer 401 (and record a violation) without \"Authorization: Bearer KEY\"\n"
		"  --control JSON    faults to play, as POST /control takes them\n"
		"  --max-waits N     replies that wait for a missing target before failing (default 3)\n"
		"  --no-ocr          read no text on screenshots (faster start; text targets are not found)\n"
		"  -v, -vv           log each request (info), and more (debug)\n",
		MS_PROFILES_DIR);
}

static int parse_int(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = s ? strtol(s, &end, 10) : 0;
	if (!s || errno || end == s || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	struct ms_server s = { .max_waits = 3 };
	struct dp_error err = { 0 };
	struct ms_http *http = NULL;
	const char *profile = NULL, *control = NULL;
	bool ocr = true;
	long port = 0, v;
	uint16_t bound;
	sigset_t stop;
	int sig, rc = 1;

	dp_log_init_from_env();
	snprintf(s.profiles_dir, sizeof(s.profiles_dir), "%s", MS_PROFILES_DIR);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "-v")) {
			dp_log_set_level(DP_LOG_INFO);
		} else if (!strcmp(a, "-vv")) {
			dp_log_set_level(DP_LOG_DEBUG);
		} else if (!strcmp(a, "--no-ocr")) {
			ocr = false;
		} else if (!val) {
			fprintf(stderr, "model-server: %s needs a value (see --help)\n", a);
			return 2;
		} else if (!strcmp(a, "--port")) {
			if (parse_int(val, 0, 65535, &port) < 0) {
				fprintf(stderr, "model-server: --port: expected 0 to 65535\n");
				return 2;
			}
			i++;
		} else if (!strcmp(a, "--max-waits")) {
			if (parse_int(val, 0, 100, &v) < 0) {
				fprintf(stderr, "model-server: --max-waits: expected 0 to 100\n");
				return 2;
			}
			s.max_waits = (int)v;
			i++;
		} else if (!strcmp(a, "--profile")) {
			profile = argv[++i];
		} else if (!strcmp(a, "--profiles-dir")) {
			snprintf(s.profiles_dir, sizeof(s.profiles_dir), "%s", argv[++i]);
		} else if (!strcmp(a, "--require-key")) {
			s.key = argv[++i];
		} else if (!strcmp(a, "--control")) {
			control = argv[++i];
		} else {
			fprintf(stderr, "model-server: unknown option '%s' (see --help)\n", a);
			return 2;
		}
	}
	if (profile) {
		if (ms_profile_load(s.profiles_dir, profile, &s.profile, &err) < 0) {
			fprintf(stderr, "model-server: %s\n", err.message);
			return 2;
		}
		s.fixed_profile = true;
	}
	if (control) {
		cJSON *doc = NULL;

		if (dp_json_parse(control, strlen(control), 1, &doc, &err) < 0 ||
		    ms_faults_control(&s.faults, doc, &err) < 0) {
			fprintf(stderr, "model-server: --control: %s\n", err.message);
			cJSON_Delete(doc);
			return 2;
		}
		cJSON_Delete(doc);
	}
	if (ocr && ms_screen_create(&s.screen, &err) < 0)
		dp_log_warn("no OCR (%s): text targets will not be found", err.message);
	pthread_mutex_init(&s.lock, NULL);
	atomic_init(&s.stopping, false);
	s.convos = ms_convos_create();
	s.stats = ms_stats_create();
	s.start_ns = dp_now_ns();
	if (!s.convos || !s.stats) {
		fprintf(stderr, "model-server: out of memory\n");
		goto out;
	}
	/* The HTTP threads inherit this mask: the signals come to sigwait only. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (ms_http_start(&http, &s, (uint16_t)port, &bound, &err) < 0) {
		fprintf(stderr, "model-server: %s\n", err.message);
		goto out;
	}
	printf("{\"port\": %u}\n", bound);
	fflush(stdout);
	dp_log_info("listening on 127.0.0.1:%u as %s%s", bound, s.fixed_profile ? s.profile.name : "any profile",
		    s.key ? ", a key required" : "");
	sigwait(&stop, &sig);
	atomic_store(&s.stopping, true);
	rc = 0;
out:
	ms_http_stop(http);
	ms_screen_destroy(s.screen);
	ms_convos_destroy(s.convos);
	ms_stats_destroy(s.stats);
	return rc;
}
