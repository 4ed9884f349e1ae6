/* The command line's side of deskpilotd's D-Bus API
 * (docs/org.deskpilot.Agent1.xml): connecting, naming tasks, reading their
 * properties, and turning the daemon's named errors into a message and an
 * exit code.  Each function that can fail prints why (prefixed with the
 * command's name) and returns an exit code from daemon/exit_codes.h. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <systemd/sd-bus.h>

#define DP_BUS_NAME "org.deskpilot.Agent1"
#define DP_BUS_PATH "/org/deskpilot/Agent1"
#define DP_BUS_TASK_PREFIX "/org/deskpilot/Agent1/task/"
#define DP_BUS_MANAGER "org.deskpilot.Agent1.Manager"
#define DP_BUS_TASK "org.deskpilot.Agent1.Task"
#define DP_BUS_ERROR_PREFIX "org.deskpilot.Agent1.Error."

/* A task's properties, as the Task interface has them. */
struct dp_task_props {
	char id[64], state[32], policy[32];
	char *instruction, *result, *error, *trajectory, *question;
	uint32_t step, max_steps, submitter_uid;
	char submitter_name[256];
	uint64_t created, started, finished; /* microseconds since the epoch; 0: not yet */
};

/* Connects to address, else $DESKPILOT_BUS_ADDRESS, else the session bus
 * ($DBUS_SESSION_BUS_ADDRESS); *used names the bus tried, for messages.
 * Returns 0 or a negative errno, quietly. */
int dp_busc_open(const char *address, sd_bus **out, const char **used);
/* The same for command cmd: prints what went wrong and returns an exit code. */
int dp_busc_connect(const char *cmd, const char *address, sd_bus **out);

/* The object path of a task given by its id or its object path. */
int dp_busc_task_path(const char *cmd, const char *arg, char *path, size_t size);
/* The id at the end of a task's object path. */
const char *dp_busc_task_id(const char *path);

/* Prints the error of a failed call (what its name means, and the daemon's
 * message) and returns the matching exit code. */
int dp_busc_error(const char *cmd, const sd_bus_error *error, int r);

/* Reads the value at m's read position (any D-Bus type) as JSON: arrays
 * and structs as arrays, dictionaries as objects, variants as their value. */
int dp_busc_read_json(sd_bus_message *m, cJSON **out);

/* Fills t from a JSON object of properties (GetAll's a{sv}, as read by
 * dp_busc_read_json); names it lacks are left as they were. */
void dp_task_props_update(struct dp_task_props *t, const cJSON *props);
void dp_task_props_clear(struct dp_task_props *t);

/* All properties of the task at path: in t, and as JSON in *json (may be
 * NULL).  Exit code. */
int dp_busc_get_task(const char *cmd, sd_bus *bus, const char *path, struct dp_task_props *t, cJSON **json);

bool dp_task_state_is_final(const char *state);

/* The exit code of a finished task: 0 succeeded; 6 out of steps, time or
 * tokens (from result.json's outcome in its trajectory); 11 cancelled or
 * interrupted; 1 otherwise. */
int dp_task_exit_code(const struct dp_task_props *t);

/* "2026-11-25 14:27:01" in local time, or "-" for 0. */
void dp_format_time(uint64_t usec, char *buf, size_t size);
