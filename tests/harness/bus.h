/* Test harness: a private D-Bus (dbus-daemon) and deskpilotd on it, with
 * its own state and config folders, the way a user's session has them. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

struct dp_test_bus {
	pid_t pid;
	char address[512];
};

/* Starts dbus-daemon with the session configuration, or with config_file
 * when not NULL.  Returns 0 or a negative errno. */
int dp_test_bus_start(struct dp_test_bus *b, const char *config_file);
void dp_test_bus_stop(struct dp_test_bus *b);

struct dp_test_daemon {
	pid_t pid;
	char home[256];        /* a new folder: XDG_STATE_HOME is home/state, XDG_CONFIG_HOME home/config */
	char state_home[300];
	char config_home[300];
	char log[300];         /* what deskpilotd wrote on stderr */
};

/* Makes a new home folder for a daemon (with state/ and config/deskpilot/). */
int dp_test_daemon_home(struct dp_test_daemon *d);

/* Starts $DP_DESKPILOTD on bus b for display (NULL: none) in d's home
 * (made with dp_test_daemon_home when d->home is empty), with the extra
 * arguments (NULL-terminated, or NULL), and waits until it owns
 * org.deskpilot.Agent1.  Returns 0, or a negative errno after printing
 * its log. */
int dp_test_daemon_start(struct dp_test_daemon *d, const struct dp_test_bus *b, const char *display,
			 const char *const *extra);
/* Stops it with SIGTERM (SIGKILL when kill is true: a crash). */
void dp_test_daemon_stop(struct dp_test_daemon *d, bool kill);
/* Prints the daemon's log on stderr (for a failed test). */
void dp_test_daemon_print_log(const struct dp_test_daemon *d);
/* Removes the home folder and everything in it. */
void dp_test_daemon_remove_home(struct dp_test_daemon *d);

/* Whether a name has an owner on the bus. */
bool dp_test_bus_has_owner(const struct dp_test_bus *b, const char *name);

/* The signals of deskpilotd as a test sees them, in order of arrival.
 * PropertiesChanged of a task's State is recorded as member "State" with
 * the new state in arg; TaskAdded and TaskFinished under the task's path. */
struct dp_test_signal {
	char member[32];  /* TaskAdded, TaskFinished, State, StepCompleted, NeedsInput, Finished */
	char path[160];   /* the task's object path */
	char arg[512];    /* the state, the action summary, the question */
	char verdict[64]; /* StepCompleted */
	unsigned step;    /* StepCompleted */
};

struct dp_test_watch {
	void *bus;   /* sd_bus */
	void *slot;  /* sd_bus_slot */
	struct dp_test_signal *sig;
	size_t n, cap;
};

int dp_test_watch_start(struct dp_test_watch *w, const struct dp_test_bus *b);
/* Reads the bus until a signal called member about path (NULL: any task)
 * is recorded at an index >= from; returns that index, or -ETIMEDOUT. */
int dp_test_watch_wait(struct dp_test_watch *w, const char *member, const char *path, size_t from, int timeout_ms);
/* Reads what has arrived, for up to ms milliseconds. */
void dp_test_watch_drain(struct dp_test_watch *w, int ms);
void dp_test_watch_stop(struct dp_test_watch *w);
