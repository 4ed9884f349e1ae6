/* deskpilotd: the deskpilot daemon.  Wires the configuration, the task
 * store, the session bus and the event loop together; the work is done in
 * tasks.c (life of tasks), runner.c (the step loop in threads) and bus_*.c. */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <config.h> /* the build's; daemon/config.h is the settings file */
#include "daemon/daemon.h"

#define DP_LOG_SUBSYS "deskpilotd"
#include "engine/log.h"

#define STOP_GRACE_US (10 * 1000000ULL)

struct options {
	const char *config;
	const char *display;
	const char *state_dir;
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: deskpilotd [--config FILE] [--display :N] [--state-dir DIR] [--log-level LEVEL]\n"
		"The deskpilot daemon: takes tasks over the session bus (org.deskpilot.Agent1),\n"
		"runs them one at a time per display and keeps them in a task store.\n"
		"  --config FILE      settings (default $XDG_CONFIG_HOME/deskpilot/config.json)\n"
		"  --display :N       the display tasks run on by default (default: the config's, or $DISPLAY)\n"
		"  --state-dir DIR    the task store and runs (default $XDG_STATE_HOME/deskpilot)\n"
		"  --log-level LEVEL  error, warn, info (default) or debug\n"
		"  --help, --version\n");
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "display", required_argument, NULL, 'd' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	enum dp_log_level level;
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 'd': o->display = optarg; break;
		case 's': o->state_dir = optarg; break;
		case 'l':
			if (dp_log_level_from_string(optarg, &level) < 0) {
				fprintf(stderr, "deskpilotd: --log-level %s: use error, warn, info or debug\n", optarg);
				return -EINVAL;
			}
			dp_log_set_level(level);
			break;
		case 'h': usage(stdout); return 1;
		case 'V': printf("deskpilotd %s\n", DP_VERSION); return 1;
		default: usage(stderr); return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "deskpilotd: unexpected '%s' (see --help)\n", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

static int state_dir(char *buf, size_t size, const char *given)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");

	if (given)
		snprintf(buf, size, "%s", given);
	else if (xdg && *xdg)
		snprintf(buf, size, "%s/deskpilot", xdg);
	else if (home && *home)
		snprintf(buf, size, "%s/.local/state/deskpilot", home);
	else
		return -ENOENT;
	return 0;
}

static int on_stop_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
	(void)s, (void)usec;
	dp_log_warn("a task did not stop within 10 s; exiting anyway (it is interrupted at the next start)");
	sd_event_exit(userdata, 0);
	return 0;
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct dp_daemon *d = userdata;
	uint64_t now = 0;

	dp_log_info("%s: stopping", strsignal((int)si->ssi_signo));
	if (!d->stopping) {
		sd_event_now(d->loop, CLOCK_MONOTONIC, &now);
		sd_event_add_time(d->loop, NULL, CLOCK_MONOTONIC, now + STOP_GRACE_US, 0, on_stop_timeout, d->loop);
	}
	(void)s;
	dp_daemon_stop(d);
	return 0;
}

static int on_name_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	const char *name, *old_owner, *new_owner;

	(void)error;
	if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0)
		return 0;
	if (name[0] == ':' && !*new_owner)
		dp_daemon_submitter_left(userdata, name);
	return 0;
}

/* The desktop tasks go to unless they name one: in a Wayland session its
 * compositor ("wayland:NAME", driven through mutter or the portal; its
 * $DISPLAY is XWayland, which sees only X clients), else $DISPLAY. */
static const char *session_display(char *buf, size_t size)
{
	const char *wayland = getenv("WAYLAND_DISPLAY");

	if (wayland && *wayland) {
		snprintf(buf, size, "wayland:%s", wayland);
		return buf;
	}
	return getenv("DISPLAY");
}

int main(int argc, char **argv)
{
	struct options o = { 0 };
	struct dp_daemon_config config;
	struct dp_daemon d = { 0 };
	struct dp_secret_source src;
	struct dp_error err = { 0 };
	char path[PATH_MAX], wayland_display[128];
	int r;

	/* Frames (megabytes each) are allocated per task by runner threads:
	 * a fixed mmap threshold hands them back to the system when freed,
	 * instead of leaving them in a thread's arena. */
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	dp_log_set_level(DP_LOG_INFO);
	dp_log_init_from_env();
	if ((r = parse_options(argc, argv, &o)) != 0)
		return r > 0 ? 0 : 2;
	if (dp_daemon_config_init(&config) < 0)
		return 1;
	if (o.config)
		r = dp_daemon_config_load(&config, o.config, false, &err);
	else if (dp_daemon_config_default_path(path, sizeof(path)) == 0)
		r = dp_daemon_config_load(&config, path, true, &err);
	if (r < 0) {
		dp_log_error("%s", err.message);
		return 1;
	}
	d.config = &config;
	d.default_display = o.display ? o.display : config.display ? config.display : session_display(wayland_display,
														 sizeof(wayland_display));
	if (o.display) {
		free(config.display);
		config.display = strdup(o.display);
	}
	if (state_dir(d.state_dir, sizeof(d.state_dir), o.state_dir) < 0) {
		dp_log_error("neither XDG_STATE_HOME nor HOME is set: pass --state-dir DIR");
		return 1;
	}
	if (strlen(d.state_dir) + sizeof("/runs") > sizeof(d.runs_dir)) {
		dp_log_error("the state folder's path is too long");
		return 1;
	}
	memcpy(d.runs_dir, d.state_dir, strlen(d.state_dir));
	memcpy(d.runs_dir + strlen(d.state_dir), "/runs", sizeof("/runs"));
	dp_secret_source_from_env(&src, d.creds_dir, sizeof(d.creds_dir), d.secrets_file, sizeof(d.secrets_file));
	if (!src.credentials_dir)
		d.creds_dir[0] = '\0';
	if (!src.secrets_file)
		d.secrets_file[0] = '\0';

	if ((r = sd_event_default(&d.loop)) < 0 ||
	    (r = sd_event_add_signal(d.loop, NULL, SIGTERM | SD_EVENT_SIGNAL_PROCMASK, on_signal, &d)) < 0 ||
	    (r = sd_event_add_signal(d.loop, NULL, SIGINT | SD_EVENT_SIGNAL_PROCMASK, on_signal, &d)) < 0) {
		dp_log_errno(DP_LOG_ERROR, r, "cannot set up the event loop");
		return 1;
	}
	if ((r = sd_bus_open_user(&d.bus)) < 0) {
		dp_log_errno(DP_LOG_ERROR, r, "cannot reach the session bus (is DBUS_SESSION_BUS_ADDRESS set?)");
		return 1;
	}
	if ((r = sd_bus_attach_event(d.bus, d.loop, 0)) < 0) {
		dp_log_errno(DP_LOG_ERROR, r, "cannot attach the bus to the event loop");
		return 1;
	}
	if ((r = dp_store_open(&d.store, d.state_dir, &err)) < 0 || (r = dp_daemon_init(&d, &err)) < 0) {
		dp_log_error("%s", err.message);
		return 1;
	}
	if ((r = dp_bus_manager_add(&d)) < 0) {
		dp_log_errno(DP_LOG_ERROR, r, "cannot publish %s", DP_BUS_PATH);
		return 1;
	}
	if ((r = dp_daemon_load(&d, &err)) < 0) {
		dp_log_error("%s", err.message);
		return 1;
	}
	r = sd_bus_match_signal_async(d.bus, &d.name_watch, "org.freedesktop.DBus", "/org/freedesktop/DBus",
				      "org.freedesktop.DBus", "NameOwnerChanged", on_name_owner_changed, NULL, &d);
	if (r < 0)
		dp_log_errno(DP_LOG_WARN, r, "cannot watch submitters leaving the bus");
	/* The name last: whoever sees it finds every task in place. */
	if ((r = sd_bus_request_name(d.bus, DP_BUS_NAME, 0)) < 0) {
		dp_log_errno(DP_LOG_ERROR, r, "cannot own %s (is another deskpilotd running?)", DP_BUS_NAME);
		return 1;
	}
	dp_log_info("ready on the session bus as %s; state in %s; default display %s", DP_BUS_NAME, d.state_dir,
		    d.default_display ? d.default_display : "(none)");
	r = sd_event_loop(d.loop);
	if (r < 0)
		dp_log_errno(DP_LOG_ERROR, r, "event loop");
	sd_bus_slot_unref(d.name_watch);
	sd_bus_slot_unref(d.manager_slot);
	dp_daemon_release(&d);
	if (d.n_running == 0) {
		dp_store_close(d.store);
		sd_bus_flush_close_unref(d.bus);
		sd_event_unref(d.loop);
		dp_daemon_config_release(&config);
	}
	return r < 0 ? 1 : 0;
}
