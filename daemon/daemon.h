/* deskpilotd's state, shared by its modules: the bus objects (bus_*.c),
 * tasks coming in (intake.c) and their life (tasks.c), and main.c that
 * wires them. */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "daemon/config.h"
#include "daemon/mailbox.h"
#include "daemon/queue.h"
#include "daemon/runner.h"
#include "daemon/secrets.h"
#include "daemon/store.h"
#include "daemon/task_spec.h"

#define DP_BUS_NAME "org.deskpilot.Agent1"
#define DP_BUS_PATH "/org/deskpilot/Agent1"
#define DP_BUS_MANAGER_IFACE "org.deskpilot.Agent1.Manager"
#define DP_BUS_TASK_IFACE "org.deskpilot.Agent1.Task"
#define DP_BUS_TASK_PREFIX "/org/deskpilot/Agent1/task/"
#define DP_BUS_ERROR_PREFIX "org.deskpilot.Agent1.Error."

enum dp_task_state {
	DP_STATE_QUEUED,
	DP_STATE_RUNNING,
	DP_STATE_PAUSED,
	DP_STATE_WAITING_USER,
	DP_STATE_SUCCEEDED,
	DP_STATE_FAILED,
	DP_STATE_CANCELLED,
	DP_STATE_INTERRUPTED,
};

const char *dp_task_state_name(enum dp_task_state state);
int dp_task_state_parse(const char *name, enum dp_task_state *out);

struct dp_daemon;

struct dp_task {
	struct dp_daemon *daemon;
	struct dp_task_record rec;  /* as stored; rec.state follows state */
	enum dp_task_state state;
	struct dp_task_spec spec;   /* held until the task ends */
	bool has_spec;
	char *flow_path;            /* the flow file the runner reads */
	char path[160];             /* the bus object */
	sd_bus_slot *slot;
	struct dp_runner *runner;   /* while it runs */
	const char **confirm;       /* while it runs: the config's and its own confirm patterns */
	char *question;             /* the pending question, or NULL */
	bool paused;                /* Pause asked, no Resume yet */
	uint64_t tokens;
};

struct dp_daemon {
	sd_event *loop;
	sd_bus *bus;
	sd_bus_slot *manager_slot, *name_watch;
	sd_event_source *dispatch;
	sd_event_source *prune_timer; /* retention by age also while nothing ends */
	const struct dp_daemon_config *config;
	const char *default_display;
	char state_dir[PATH_MAX];
	char runs_dir[PATH_MAX];
	char creds_dir[PATH_MAX], secrets_file[PATH_MAX];
	struct dp_store *store;
	struct dp_queue *queue;
	struct dp_mailbox *mailbox;
	struct dp_task **tasks;     /* every task in the store, oldest first */
	size_t n_tasks, cap_tasks;
	uint64_t last_seq;
	struct dp_task **running;   /* those with a runner: one per display */
	size_t n_running, cap_running;
	bool stopping;
};

/* tasks.c: the life of a task once queued */
int dp_daemon_init(struct dp_daemon *d, struct dp_error *err);
void dp_daemon_release(struct dp_daemon *d);
int dp_task_cancel(struct dp_task *t, struct dp_error *err);
int dp_task_pause(struct dp_task *t, bool pause, struct dp_error *err);
int dp_task_answer(struct dp_task *t, const char *answer, struct dp_error *err);
/* SIGTERM: cancel what runs, keep the queue, exit once runners are done. */
void dp_daemon_stop(struct dp_daemon *d);
void dp_daemon_submitter_left(struct dp_daemon *d, const char *name);
bool dp_task_is_final(const struct dp_task *t);

/* tasks.c, shared with intake.c */
uint64_t dp_wall_us(void);   /* µs since the epoch */
int dp_replace_string(char **field, const char *value);
bool dp_strv_has(char *const *list, const char *s);
void dp_task_set_state(struct dp_task *t, enum dp_task_state state);
void dp_task_persist(struct dp_task *t);  /* writes the task's row; logs a failure */
void dp_task_free(struct dp_task *t);
int dp_daemon_add_task(struct dp_daemon *d, struct dp_task *t);
void dp_daemon_schedule_dispatch(struct dp_daemon *d);
void dp_daemon_prune(struct dp_daemon *d);

/* intake.c: tasks coming in */
/* Validation that needs the world: files, secrets, allow lists. */
int dp_daemon_check_spec(struct dp_daemon *d, const struct dp_task_spec *spec, struct dp_error *err);
/* A checked spec becomes a task: stored (committed), on the bus, queued.
 * Takes spec's contents. */
int dp_daemon_submit(struct dp_daemon *d, struct dp_task_spec *spec, uint32_t uid, const char *sender,
		     struct dp_task **out, struct dp_error *err);
/* Loads the store (after start-up recovery) and queues what waits. */
int dp_daemon_load(struct dp_daemon *d, struct dp_error *err);

/* bus_manager.c */
int dp_bus_manager_add(struct dp_daemon *d);
void dp_bus_emit_manager_changed(struct dp_daemon *d, const char *property);
void dp_bus_emit_task_added(struct dp_daemon *d, struct dp_task *t);
void dp_bus_emit_task_finished(struct dp_daemon *d, struct dp_task *t);
/* A negative errno and message as the named error of the API. */
int dp_bus_set_error(sd_bus_error *error, const struct dp_error *err);

/* bus_task.c */
int dp_bus_task_add(struct dp_task *t);
void dp_bus_task_remove(struct dp_task *t);
void dp_bus_task_changed(struct dp_task *t, const char *first, ...) __attribute__((sentinel));
void dp_bus_emit_step(struct dp_task *t, uint32_t step, const char *action, const char *verdict, const char *message,
		      uint32_t duration_ms, uint64_t tokens);
void dp_bus_emit_needs_input(struct dp_task *t, const char *question);
void dp_bus_emit_finished(struct dp_task *t);

/* bus_submit.c */
int dp_bus_read_submit(sd_bus_message *m, struct dp_task_spec *spec, struct dp_error *err);
