/* The life of a task in deskpilotd once queued: dispatched to a runner
 * (one per display), reported step by step, steered (cancel, pause,
 * answer), ended and, in time, pruned. */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/daemon.h"

#define DP_LOG_SUBSYS "tasks"
#include "engine/log.h"

static const char *const state_names[] = {
	[DP_STATE_QUEUED] = "queued",       [DP_STATE_RUNNING] = "running",
	[DP_STATE_PAUSED] = "paused",       [DP_STATE_WAITING_USER] = "waiting_user",
	[DP_STATE_SUCCEEDED] = "succeeded", [DP_STATE_FAILED] = "failed",
	[DP_STATE_CANCELLED] = "cancelled", [DP_STATE_INTERRUPTED] = "interrupted",
};

const char *dp_task_state_name(enum dp_task_state s)
{
	return s <= DP_STATE_INTERRUPTED ? state_names[s] : "unknown";
}

int dp_task_state_parse(const char *name, enum dp_task_state *out)
{
	for (size_t i = 0; i < sizeof(state_names) / sizeof(state_names[0]); i++) {
		if (strcmp(name, state_names[i]) == 0) {
			*out = (enum dp_task_state)i;
			return 0;
		}
	}
	return -EINVAL;
}

bool dp_task_is_final(const struct dp_task *t)
{
	return t->state >= DP_STATE_SUCCEEDED;
}

uint64_t dp_wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

int dp_replace_string(char **field, const char *value)
{
	char *copy = strdup(value ? value : "");

	if (!copy)
		return -ENOMEM;
	free(*field);
	*field = copy;
	return 0;
}

void dp_task_set_state(struct dp_task *t, enum dp_task_state state)
{
	t->state = state;
	dp_replace_string(&t->rec.state, dp_task_state_name(state));
}

void dp_task_persist(struct dp_task *t)
{
	struct dp_error err = { 0 };

	if (dp_store_update(t->daemon->store, &t->rec, &err) < 0)
		dp_log_error("task %s: %s", t->rec.id, err.message);
}

void dp_task_free(struct dp_task *t)
{
	if (!t)
		return;
	dp_bus_task_remove(t);
	dp_task_spec_release(&t->spec);
	dp_task_record_release(&t->rec);
	free(t->flow_path);
	free(t->question);
	free(t);
}

int dp_daemon_add_task(struct dp_daemon *d, struct dp_task *t)
{
	if (d->n_tasks == d->cap_tasks) {
		size_t cap = d->cap_tasks ? d->cap_tasks * 2 : 64;
		struct dp_task **v = realloc(d->tasks, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		d->tasks = v;
		d->cap_tasks = cap;
	}
	d->tasks[d->n_tasks++] = t;
	return 0;
}

/* --- the display each runner holds --------------------------------------- */

static bool display_busy(void *data, const char *display)
{
	struct dp_daemon *d = data;

	for (size_t i = 0; i < d->n_running; i++)
		if (strcmp(d->running[i]->spec.display, display) == 0)
			return true;
	return false;
}

static int running_add(struct dp_daemon *d, struct dp_task *t)
{
	if (d->n_running == d->cap_running) {
		size_t cap = d->cap_running ? d->cap_running * 2 : 8;
		struct dp_task **v = realloc(d->running, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		d->running = v;
		d->cap_running = cap;
	}
	d->running[d->n_running++] = t;
	return 0;
}

static void running_remove(struct dp_daemon *d, struct dp_task *t)
{
	for (size_t i = 0; i < d->n_running; i++) {
		if (d->running[i] == t) {
			d->running[i] = d->running[--d->n_running];
			return;
		}
	}
}

void dp_daemon_schedule_dispatch(struct dp_daemon *d)
{
	if (d->dispatch)
		sd_event_source_set_enabled(d->dispatch, SD_EVENT_ONESHOT);
}


/* Ends a task: stored, told on the bus, its secrets wiped. */
static void finish(struct dp_task *t, enum dp_task_state state, const char *result, const char *error)
{
	struct dp_daemon *d = t->daemon;
	bool was_running = t->runner != NULL;

	if (t->runner) {
		dp_runner_destroy(t->runner);
		t->runner = NULL;
		running_remove(d, t);
		/* What the runner's thread freed goes back to the system: an
		 * idle daemon stays small however many tasks it ran. */
		malloc_trim(0);
	}
	free(t->confirm);
	t->confirm = NULL;
	dp_task_set_state(t, state);
	dp_replace_string(&t->rec.result, result);
	dp_replace_string(&t->rec.error, error);
	t->rec.finished = dp_wall_us();
	free(t->question);
	t->question = NULL;
	dp_task_persist(t);
	dp_log_info("task %s %s%s%s", t->rec.id, t->rec.state, *t->rec.error ? ": " : "", t->rec.error);
	dp_bus_task_changed(t, "State", "Step", "Result", "Error", "Finished", "Question", NULL);
	dp_bus_emit_finished(t);
	dp_bus_emit_task_finished(d, t);
	if (was_running)
		dp_bus_emit_manager_changed(d, "Running");
	dp_task_spec_release(&t->spec);
	t->has_spec = false;
	if (d->stopping && d->n_running == 0) {
		sd_event_exit(d->loop, 0);
		return;
	}
	dp_daemon_schedule_dispatch(d);
	dp_daemon_prune(d);
}

static const char *outcome_error_prefix(enum dp_task_outcome o)
{
	switch (o) {
	case DP_TASK_OUT_OF_STEPS: return "out of steps: ";
	case DP_TASK_TIMED_OUT: return "timed out: ";
	case DP_TASK_OUT_OF_TOKENS: return "out of tokens: ";
	case DP_TASK_ERROR: return "error: ";
	default: return "";
	}
}

static void runner_finished(struct dp_task *t, const struct dp_event *e)
{
	char error[700] = "";
	enum dp_task_state state;

	t->rec.step = e->step;
	t->tokens = e->tokens;
	switch (e->outcome) {
	case DP_TASK_SUCCEEDED: state = DP_STATE_SUCCEEDED; break;
	case DP_TASK_CANCELLED: state = DP_STATE_CANCELLED; break;
	default:
		state = DP_STATE_FAILED;
		snprintf(error, sizeof(error), "%s%s", outcome_error_prefix(e->outcome), e->text ? e->text : "");
		break;
	}
	if (t->daemon->stopping && e->outcome == DP_TASK_CANCELLED) {
		state = DP_STATE_INTERRUPTED;
		snprintf(error, sizeof(error), "the daemon was stopped during step %u; submit the task again",
			 e->step + 1);
	}
	finish(t, state, e->text, error);
}

static void on_event(void *data, struct dp_event *e)
{
	struct dp_task *t = e->task;
	struct dp_error err = { 0 };

	(void)data;
	switch (e->kind) {
	case DP_EVENT_STEP: {
		struct dp_step_row row = { .n = e->step, .action = e->action, .verdict = e->verdict, .message = e->text,
					   .duration_ms = e->duration_ms };

		t->rec.step = e->step;
		t->tokens += e->tokens;
		if (dp_store_add_step(t->daemon->store, t->rec.id, &row, &err) < 0)
			dp_log_error("task %s: %s", t->rec.id, err.message);
		dp_bus_emit_step(t, e->step, e->action, e->verdict, e->text, e->duration_ms, e->tokens);
		dp_bus_task_changed(t, "Step", NULL);
		break;
	}
	case DP_EVENT_ASK:
		free(t->question);
		t->question = strdup(e->text ? e->text : "");
		dp_task_set_state(t, DP_STATE_WAITING_USER);
		dp_task_persist(t);
		dp_bus_emit_needs_input(t, e->text ? e->text : "");
		dp_bus_task_changed(t, "State", "Question", NULL);
		break;
	case DP_EVENT_FINISHED:
		runner_finished(t, e);
		break;
	}
}

/* --- starting a task ----------------------------------------------------- */

bool dp_strv_has(char *const *list, const char *s)
{
	for (size_t i = 0; list && list[i]; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

/* The confirmation list of a task: the config's and its own. */
static const char **confirm_list(const struct dp_daemon *d, const struct dp_task_spec *spec)
{
	size_t n = 0, k = 0;
	const char **v;

	for (size_t i = 0; d->config->confirm[i]; i++)
		n++;
	for (size_t i = 0; spec->confirm && spec->confirm[i]; i++)
		n++;
	v = calloc(n + 1, sizeof(*v));
	for (size_t i = 0; v && d->config->confirm[i]; i++)
		v[k++] = d->config->confirm[i];
	for (size_t i = 0; v && spec->confirm && spec->confirm[i]; i++)
		v[k++] = spec->confirm[i];
	return v;
}

static void start(struct dp_task *t)
{
	struct dp_daemon *d = t->daemon;
	struct dp_error err = { 0 };
	char result[300];

	dp_task_set_state(t, DP_STATE_RUNNING);
	t->rec.started = dp_wall_us();
	dp_task_persist(t);
	dp_bus_task_changed(t, "State", "Started", NULL);
	if (t->spec.dry_run) {
		snprintf(result, sizeof(result),
			 "dry run: the %s policy is ready; the task would run on %s, %u steps at most",
			 t->spec.policy, t->spec.display, t->spec.max_steps);
		finish(t, DP_STATE_SUCCEEDED, result, "");
		return;
	}
	{
		static const char *const none[] = { NULL };
		const char **confirm = confirm_list(d, &t->spec);
		struct dp_runner_setup s = {
			.task = t,
			.task_id = t->rec.id,
			.spec = &t->spec,
			.flow_path = t->flow_path,
			.run_dir = t->rec.run_dir,
			.allow_launch = (const char *const *)(t->spec.allow_launch ? t->spec.allow_launch
										    : d->config->allow_launch),
			.deny_window_classes = (const char *const *)d->config->deny_window_classes,
			.confirm = confirm ? confirm : none,
			.model_endpoint = d->config->model_endpoint,
			.model_api_key_file = d->config->model_api_key_file,
			.model_profile = d->config->model_profile,
			.mailbox = d->mailbox,
		};

		s.secrets.credentials_dir = *d->creds_dir ? d->creds_dir : NULL;
		s.secrets.secrets_file = *d->secrets_file ? d->secrets_file : NULL;
		s.secrets.inline_names = t->spec.inline_names;
		s.secrets.inline_values = t->spec.inline_values;
		s.secrets.n_inline = t->spec.inline_values ? t->spec.n_inline : 0;
		/* The runner copies the setup; the confirm list lives in the spec's
		 * and config's strings, only the array is ours. */
		if (dp_runner_start(&t->runner, &s, &err) < 0) {
			free(confirm);
			finish(t, DP_STATE_FAILED, "", err.message);
			return;
		}
		t->confirm = confirm;
	}
	if (running_add(d, t) < 0) {
		/* Without a place in the list the display would look free. */
		dp_runner_cancel(t->runner);
		dp_log_error("out of memory: task %s cancelled", t->rec.id);
	}
	dp_log_info("task %s running on %s", t->rec.id, t->spec.display);
	dp_bus_emit_manager_changed(d, "Running");
}

static int on_dispatch(sd_event_source *s, void *userdata)
{
	struct dp_daemon *d = userdata;
	struct dp_task *t;
	size_t before = dp_queue_length(d->queue);

	(void)s;
	if (d->stopping)
		return 0;
	while ((t = dp_queue_pop_ready(d->queue, display_busy, d)))
		start(t);
	if (dp_queue_length(d->queue) != before)
		dp_bus_emit_manager_changed(d, "QueueLength");
	return 0;
}

/* --- control ------------------------------------------------------------- */

static int already_final(struct dp_task *t, struct dp_error *err)
{
	return dp_error_set(err, -EINVAL, "task %s already finished (%s)", t->rec.id, t->rec.state);
}

int dp_task_cancel(struct dp_task *t, struct dp_error *err)
{
	if (dp_task_is_final(t))
		return already_final(t, err);
	if (t->state == DP_STATE_QUEUED) {
		dp_queue_remove(t->daemon->queue, t);
		dp_bus_emit_manager_changed(t->daemon, "QueueLength");
		finish(t, DP_STATE_CANCELLED, "cancelled before it started", "");
		return 0;
	}
	/* It ends at the next safe point and reports cancelled. */
	if (t->runner)
		dp_runner_cancel(t->runner);
	return 0;
}

/* The state a started task shows: a question outranks a pause, which
 * outranks running. */
static enum dp_task_state active_state(const struct dp_task *t)
{
	return t->question ? DP_STATE_WAITING_USER : t->paused ? DP_STATE_PAUSED : DP_STATE_RUNNING;
}

int dp_task_pause(struct dp_task *t, bool pause, struct dp_error *err)
{
	if (dp_task_is_final(t))
		return already_final(t, err);
	if (pause && (t->state == DP_STATE_QUEUED || t->paused))
		return dp_error_set(err, -EINVAL, "task %s is %s: only a running task can be paused", t->rec.id,
				    t->paused ? "paused already" : t->rec.state);
	if (!pause && !t->paused)
		return dp_error_set(err, -EINVAL, "task %s is %s, not paused: nothing to resume", t->rec.id,
				    t->rec.state);
	if (!t->runner)
		return dp_error_set(err, -EBUSY, "task %s is starting; try again", t->rec.id);
	dp_runner_pause(t->runner, pause);
	t->paused = pause;
	dp_task_set_state(t, active_state(t));
	dp_task_persist(t);
	dp_bus_task_changed(t, "State", NULL);
	return 0;
}

int dp_task_answer(struct dp_task *t, const char *answer, struct dp_error *err)
{
	if (dp_task_is_final(t))
		return already_final(t, err);
	if (!t->question || !t->runner || dp_runner_answer(t->runner, answer) < 0)
		return dp_error_set(err, -EINVAL, "task %s asks nothing now: answer only after NeedsInput", t->rec.id);
	free(t->question);
	t->question = NULL;
	/* Paused while it asked: it stays paused after the answer. */
	dp_task_set_state(t, active_state(t));
	dp_task_persist(t);
	dp_bus_task_changed(t, "State", "Question", NULL);
	return 0;
}

void dp_daemon_stop(struct dp_daemon *d)
{
	if (d->stopping)
		return;
	d->stopping = true;
	dp_log_info("stopping: %zu running task(s) cancelled, %zu queued kept for the next start", d->n_running,
		    dp_queue_length(d->queue));
	if (d->n_running == 0) {
		sd_event_exit(d->loop, 0);
		return;
	}
	for (size_t i = 0; i < d->n_running; i++)
		dp_runner_cancel(d->running[i]->runner);
}

void dp_daemon_submitter_left(struct dp_daemon *d, const char *name)
{
	for (size_t i = 0; i < d->n_tasks; i++) {
		struct dp_task *t = d->tasks[i];

		if (dp_task_is_final(t) || t->rec.submitter_gone || strcmp(t->rec.submitter_name, name) != 0)
			continue;
		t->rec.submitter_gone = dp_wall_us();
		dp_task_persist(t);
		dp_log_info("task %s: its submitter %s left the bus; the task goes on", t->rec.id, name);
	}
}

/* --- retention ----------------------------------------------------------- */

static void pruned(void *data, const char *id)
{
	struct dp_daemon *d = data;

	for (size_t i = 0; i < d->n_tasks; i++) {
		if (strcmp(d->tasks[i]->rec.id, id) == 0) {
			dp_task_free(d->tasks[i]);
			memmove(&d->tasks[i], &d->tasks[i + 1], (d->n_tasks - i - 1) * sizeof(*d->tasks));
			d->n_tasks--;
			return;
		}
	}
}

void dp_daemon_prune(struct dp_daemon *d)
{
	struct dp_error err = { 0 };
	int r = dp_store_prune(d->store, dp_wall_us(), d->config->retention_max_age_days, d->config->retention_max_runs,
			       pruned, d, &err);

	if (r < 0)
		dp_log_warn("%s", err.message);
	else if (r > 0)
		dp_log_info("pruned %d finished task(s) and their runs", r);
}

#define PRUNE_INTERVAL_US (6 * 3600 * UINT64_C(1000000))

static int on_prune_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	dp_daemon_prune(userdata);
	sd_event_source_set_time(s, usec + PRUNE_INTERVAL_US);
	return 0;
}

int dp_daemon_init(struct dp_daemon *d, struct dp_error *err)
{
	int r;

	if ((r = dp_queue_create(&d->queue)) < 0)
		return dp_error_set(err, r, "out of memory");
	if ((r = dp_mailbox_create(&d->mailbox, d->loop, on_event, d)) < 0)
		return dp_error_set(err, r, "cannot watch the runners: %s", strerror(-r));
	if ((r = sd_event_add_defer(d->loop, &d->dispatch, on_dispatch, d)) < 0)
		return dp_error_set(err, r, "cannot add the dispatcher: %s", strerror(-r));
	sd_event_source_set_enabled(d->dispatch, SD_EVENT_OFF);
	if ((r = sd_event_add_time_relative(d->loop, &d->prune_timer, CLOCK_MONOTONIC, PRUNE_INTERVAL_US,
					    60 * UINT64_C(1000000), on_prune_timer, d)) < 0)
		return dp_error_set(err, r, "cannot add the retention timer: %s", strerror(-r));
	sd_event_source_set_enabled(d->prune_timer, SD_EVENT_ON);
	return 0;
}

void dp_daemon_release(struct dp_daemon *d)
{
	/* Runners still going (a stop that timed out) post to the mailbox
	 * and read their specs: all that is left to the exit. */
	if (d->n_running)
		return;
	for (size_t i = 0; i < d->n_tasks; i++)
		dp_task_free(d->tasks[i]);
	free(d->tasks);
	free(d->running);
	sd_event_source_disable_unref(d->prune_timer);
	sd_event_source_disable_unref(d->dispatch);
	dp_mailbox_destroy(d->mailbox);
	dp_queue_destroy(d->queue);
}
