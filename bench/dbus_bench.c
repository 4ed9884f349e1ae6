/* bench-dbus: deskpilotd as its clients see it, over a private bus.
 *
 * Starts a 1920x1080 Xvfb with the probe full screen, a private
 * dbus-daemon and deskpilotd, then measures with an in-process sd-bus
 * client (no CLI process start in the figures):
 *  - Submit to running: from the Submit call to the PropertiesChanged that
 *    says State=running, over N one-step tasks (a 1 ms wait), one at a
 *    time (each waits for the previous one's Finished), and the Submit
 *    round trip alone;
 *  - Submit throughput: dry-run tasks accepted per second, one call at a
 *    time and with 32 calls in flight;
 *  - deskpilotd's resident memory idle, during a 200-step task with its
 *    trajectory recorded (199 pointer moves and done; a JPEG per step),
 *    and after it.
 *
 * Run: DP_DESKPILOTD=build/daemon/deskpilotd DP_PROBE=build/tests/probe \
 *      build/bench/bench-dbus [--quick] */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#include "engine/clock.h"
#include "stats.h"
#include "tests/harness/bus.h"
#include "tests/harness/xvfb.h"

#define BUS_NAME "org.deskpilot.Agent1"
#define BUS_PATH "/org/deskpilot/Agent1"
#define MANAGER "org.deskpilot.Agent1.Manager"
#define IN_FLIGHT 32

struct watcher {
	char path[160];
	int64_t running_ns; /* when State=running came for path; 0: not yet */
	bool finished;
	char state[32];
};

static int on_signal(sd_bus_message *m, void *data, sd_bus_error *error)
{
	struct watcher *w = data;
	const char *path = sd_bus_message_get_path(m), *iface, *key, *contents, *value;
	char type;

	(void)error;
	if (!path || strcmp(path, w->path) != 0)
		return 0;
	if (sd_bus_message_is_signal(m, "org.deskpilot.Agent1.Task", "Finished")) {
		if (sd_bus_message_read(m, "s", &value) >= 0)
			snprintf(w->state, sizeof(w->state), "%s", value);
		w->finished = true;
		return 0;
	}
	if (!sd_bus_message_is_signal(m, "org.freedesktop.DBus.Properties", "PropertiesChanged") ||
	    sd_bus_message_read(m, "s", &iface) < 0 || sd_bus_message_enter_container(m, 'a', "{sv}") <= 0)
		return 0;
	while (sd_bus_message_enter_container(m, 'e', "sv") > 0) {
		if (sd_bus_message_read(m, "s", &key) < 0 || sd_bus_message_peek_type(m, &type, &contents) < 0)
			return 0;
		if (strcmp(key, "State") == 0 && sd_bus_message_read(m, "v", "s", &value) >= 0) {
			if (strcmp(value, "running") == 0 && !w->running_ns)
				w->running_ns = dp_now_ns();
		} else if (sd_bus_message_skip(m, "v") < 0) {
			return 0;
		}
		sd_bus_message_exit_container(m);
	}
	return 0;
}

/* Runs the bus until cond holds (or 60 s pass). */
static int wait_for(sd_bus *bus, struct watcher *w, bool (*cond)(const struct watcher *w))
{
	int64_t end = dp_now_ns() + 60 * DP_NSEC_PER_SEC;

	while (!cond(w)) {
		int r = sd_bus_process(bus, NULL);

		if (r < 0)
			return r;
		if (r > 0)
			continue;
		if (dp_now_ns() > end)
			return -ETIMEDOUT;
		sd_bus_wait(bus, 100000);
	}
	return 0;
}

static bool is_running(const struct watcher *w)
{
	return w->running_ns != 0;
}

static bool is_finished(const struct watcher *w)
{
	return w->finished;
}

static int submit(sd_bus *bus, const char *script, bool dry_run, char *path, size_t size)
{
	sd_bus_error error = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	const char *p;
	int r = sd_bus_call_method(bus, BUS_NAME, BUS_PATH, MANAGER, "Submit", &error, &reply, "a{sv}", 2, "script", "s",
				   script, "dry_run", "b", dry_run);

	if (r < 0) {
		fprintf(stderr, "bench-dbus: Submit: %s\n", error.message ? error.message : strerror(-r));
		sd_bus_error_free(&error);
		return r;
	}
	r = sd_bus_message_read(reply, "o", &p);
	if (r >= 0 && path)
		snprintf(path, size, "%s", p);
	sd_bus_message_unref(reply);
	return r;
}

static const char *write_script(const char *dir, const char *name, int moves)
{
	static char paths[2][400];
	static int next;
	char *path = paths[next++ % 2];
	FILE *f;

	snprintf(path, 400, "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
		return NULL;
	if (moves == 0)
		fputs("{\"action\":\"wait\",\"ms\":1}\n", f);
	for (int i = 0; i < moves; i++)
		fprintf(f, "{\"action\":\"move\",\"x\":%d,\"y\":%d}\n", 100 + i % 50, 100 + i % 40);
	fclose(f);
	return path;
}

static long rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "VmRSS:", 6) == 0)
			kib = strtol(line + 6, NULL, 10);
	if (f)
		fclose(f);
	return kib;
}

struct replies {
	int ok, failed;
};

static int on_reply(sd_bus_message *m, void *data, sd_bus_error *error)
{
	struct replies *r = data;

	(void)error;
	if (sd_bus_message_is_method_error(m, NULL))
		r->failed++;
	else
		r->ok++;
	return 0;
}

/* Dry-run tasks accepted per second with up to `window` calls in flight. */
static double throughput(sd_bus *bus, const char *script, int n, int window)
{
	struct replies replies = { 0 };
	int64_t t0 = dp_now_ns();
	int sent = 0;

	while (replies.ok + replies.failed < n) {
		while (sent < n && sent - replies.ok - replies.failed < window) {
			sd_bus_message *m = NULL;

			if (sd_bus_message_new_method_call(bus, &m, BUS_NAME, BUS_PATH, MANAGER, "Submit") < 0 ||
			    sd_bus_message_append(m, "a{sv}", 2, "script", "s", script, "dry_run", "b", 1) < 0 ||
			    sd_bus_call_async(bus, NULL, m, on_reply, &replies, 0) < 0)
				return -1;
			sd_bus_message_unref(m);
			sent++;
		}
		if (sd_bus_process(bus, NULL) == 0)
			sd_bus_wait(bus, 100000);
	}
	if (replies.failed)
		fprintf(stderr, "bench-dbus: %d Submit calls failed\n", replies.failed);
	return replies.ok / ((double)(dp_now_ns() - t0) / 1e9);
}

int main(int argc, char **argv)
{
	bool quick = false, results = false;
	int n_latency, n_throughput;
	struct dp_xvfb xvfb;
	static struct dp_probe probe;
	struct dp_test_bus tbus;
	struct dp_test_daemon daemon = { 0 };
	struct watcher w = { 0 };
	sd_bus *bus = NULL;
	sd_bus_slot *slot = NULL;
	int64_t *latency, *roundtrip;
	struct dp_stats lat, rt;
	const char *one, *long_script;
	long idle_kib, many_kib, peak_kib = 0, after_kib;
	double seq, par, task_s;
	char label[64];
	int64_t t0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0) {
			quick = true;
		} else if (strcmp(argv[i], "--results") == 0) {
			results = true;
		} else {
			fprintf(stderr, "usage: bench-dbus [--quick] [--results]\n");
			return 2;
		}
	}
	n_latency = quick ? 10 : 50;
	n_throughput = quick ? 50 : 200;
	latency = calloc((size_t)n_latency, sizeof(int64_t));
	roundtrip = calloc((size_t)n_latency, sizeof(int64_t));
	signal(SIGPIPE, SIG_IGN);
	if (!getenv("DP_DESKPILOTD") || !getenv("DP_PROBE")) {
		fprintf(stderr, "bench-dbus: set DP_DESKPILOTD=build/daemon/deskpilotd and DP_PROBE=build/tests/probe\n");
		return 2;
	}
	if (dp_probe_start_focused(&probe, &xvfb, 1920, 1080) < 0 || dp_test_bus_start(&tbus, NULL) < 0 ||
	    dp_test_daemon_start(&daemon, &tbus, xvfb.display, NULL) < 0) {
		fprintf(stderr, "bench-dbus: cannot start Xvfb, the probe, dbus-daemon or deskpilotd\n");
		return 1;
	}
	if (sd_bus_new(&bus) < 0 || sd_bus_set_address(bus, tbus.address) < 0 || sd_bus_set_bus_client(bus, 1) < 0 ||
	    sd_bus_start(bus) < 0 ||
	    sd_bus_add_match(bus, &slot, "type='signal',path_namespace='/org/deskpilot/Agent1/task'", on_signal, &w) < 0) {
		fprintf(stderr, "bench-dbus: cannot connect to the private bus\n");
		return 1;
	}
	one = write_script(daemon.home, "one.jsonl", 0);
	/* Idle: started, nothing submitted yet. */
	usleep(200000);
	idle_kib = rss_kib(daemon.pid);

	for (int i = 0; i < n_latency; i++) {
		memset(&w, 0, sizeof(w));
		/* The path is known only from the reply: signals that came before
		 * it wait in the queue until the reply is read. */
		t0 = dp_now_ns();
		if (submit(bus, one, false, w.path, sizeof(w.path)) < 0)
			return 1;
		roundtrip[i] = dp_now_ns() - t0;
		if (wait_for(bus, &w, is_running) < 0 || wait_for(bus, &w, is_finished) < 0) {
			fprintf(stderr, "bench-dbus: task %s did not run and finish within 60 s\n", w.path);
			return 1;
		}
		latency[i] = w.running_ns - t0;
	}
	dp_stats_summarize(latency, (size_t)n_latency, 1e6, &lat);
	dp_stats_summarize(roundtrip, (size_t)n_latency, 1e6, &rt);

	seq = throughput(bus, one, n_throughput, 1);
	par = throughput(bus, one, n_throughput, IN_FLIGHT);

	/* Let the dry runs drain before the long task is measured. */
	for (int i = 0; i < 600; i++) {
		uint32_t queued = 1;

		if (sd_bus_get_property_trivial(bus, BUS_NAME, BUS_PATH, MANAGER, "QueueLength", NULL, 'u', &queued) >= 0 &&
		    queued == 0)
			break;
		usleep(100000);
	}
	many_kib = rss_kib(daemon.pid);
	long_script = write_script(daemon.home, "long.jsonl", 199);
	memset(&w, 0, sizeof(w));
	t0 = dp_now_ns();
	if (submit(bus, long_script, false, w.path, sizeof(w.path)) < 0)
		return 1;
	while (!w.finished && dp_now_ns() - t0 < 600 * DP_NSEC_PER_SEC) {
		long kib = rss_kib(daemon.pid);

		peak_kib = kib > peak_kib ? kib : peak_kib;
		if (sd_bus_process(bus, NULL) == 0)
			sd_bus_wait(bus, 20000);
	}
	task_s = (double)(dp_now_ns() - t0) / 1e9;
	usleep(500000);
	after_kib = rss_kib(daemon.pid);

	printf("deskpilotd over a private bus, 1920x1080 Xvfb, in-process sd-bus client\n\n");
	printf("%-44s %9s %9s %9s %9s\n", "", "median", "p90", "min", "max");
	printf("%-44s %9.2f %9.2f %9.2f %9.2f\n", "Submit round trip (ms)", rt.median, rt.p90, rt.min, rt.max);
	printf("%-44s %9.2f %9.2f %9.2f %9.2f\n", "Submit to State=running (ms)", lat.median, lat.p90, lat.min, lat.max);
	printf("  over %d one-step tasks, one at a time\n\n", n_latency);
	printf("%-44s %9.0f\n", "Submit throughput, 1 call at a time (tasks/s)", seq);
	printf("%-44s %9.0f\n", "Submit throughput, 32 in flight (tasks/s)", par);
	printf("  over %d dry-run tasks each\n\n", n_throughput);
	printf("%-44s %9.1f\n", "deskpilotd RSS idle (MiB)", idle_kib / 1024.0);
	snprintf(label, sizeof(label), "deskpilotd RSS with %d tasks finished (MiB)", n_latency + 2 * n_throughput);
	printf("%-44s %9.1f\n", label, many_kib / 1024.0);
	printf("%-44s %9.1f\n", "deskpilotd RSS peak, 200-step task (MiB)", peak_kib / 1024.0);
	printf("%-44s %9.1f\n", "deskpilotd RSS after it (MiB)", after_kib / 1024.0);
	printf("  the 200-step task (moves, trajectory recorded): %s in %.1f s, %.1f steps/s\n", w.state, task_s,
	       200 / task_s);
	if (results) {
		/* For bench/run: single figures have no spread. */
		struct dp_stats single = { 0 };

		dp_stats_print_result("dbus.submit_roundtrip", &rt, "ms", -1);
		dp_stats_print_result("dbus.submit_to_running", &lat, "ms", -1);
		single.median = single.p10 = single.p90 = par;
		dp_stats_print_result("dbus.submit_throughput_32", &single, "/s", -1);
		single.median = single.p10 = single.p90 = peak_kib / 1024.0;
		dp_stats_print_result("dbus.rss_peak_200_steps", &single, "MiB", -1);
	}

	sd_bus_slot_unref(slot);
	sd_bus_flush_close_unref(bus);
	dp_test_daemon_stop(&daemon, false);
	dp_test_daemon_remove_home(&daemon);
	dp_test_bus_stop(&tbus);
	dp_probe_stop(&probe);
	dp_xvfb_stop(&xvfb);
	free(latency);
	free(roundtrip);
	return strcmp(w.state, "succeeded") == 0 ? 0 : 1;
}
