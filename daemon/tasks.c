/* The life of a task in deskpilotd: submitted (stored, then queued),
 * dispatched to a runner (one per display), reported step by step, ended;
 * and at start-up, brought back from the store. */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "engine/file.h"
#include "policies/flow/flow.h"
#include "policies/policy_factory.h"

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

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static int replace(char **field, const char *value)
{
	char *copy = strdup(value ? value : "");

	if (!copy)
		return -ENOMEM;
	free(*field);
	*field = copy;
	return 0;
}

static void set_state(struct dp_task *t, enum dp_task_state state)
{
	t->state = state;
	replace(&t->rec.state, dp_task_state_name(state));
}

static void persist(struct dp_task *t)
{
	struct dp_error err = { 0 };

	if (dp_store_update(t->daemon->store, &t->rec, &err) < 0)
		dp_log_error("task %s: %s", t->rec.id, err.message);
}

static void task_free(struct dp_task *t)
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

static int add_task(struct dp_daemon *d, struct dp_task *t)
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

static void schedule_dispatch(struct dp_daemon *d)
{
	if (d->dispatch)
		sd_event_source_set_enabled(d->dispatch, SD_EVENT_ONESHOT);
}

static void prune(struct dp_daemon *d);

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
	set_state(t, state);
	replace(&t->rec.result, result);
	replace(&t->rec.error, error);
	t->rec.finished = now_us();
	free(t->question);
	t->question = NULL;
	persist(t);
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
	schedule_dispatch(d);
	prune(d);
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
		snprintf(error, sizeof(error), "the daemon was stopped during step %u; submit the task again", e->step + 1);
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
		set_state(t, DP_STATE_WAITING_USER);
		persist(t);
		dp_bus_emit_needs_input(t, e->text ? e->text : "");
		dp_bus_task_changed(t, "State", "Question", NULL);
		break;
	case DP_EVENT_FINISHED:
		runner_finished(t, e);
		break;
	}
}

/* --- starting a task ----------------------------------------------------- */

static bool listed(char *const *list, const char *s)
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

	set_state(t, DP_STATE_RUNNING);
	t->rec.started = now_us();
	persist(t);
	dp_bus_task_changed(t, "State", "Started", NULL);
	if (t->spec.dry_run) {
		snprintf(result, sizeof(result), "dry run: the %s policy is ready; the task would run on %s, %u steps at most",
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

/* --- submitting ---------------------------------------------------------- */

/* Puts "what: " before the message err already holds. */
static int prefix_error(struct dp_error *err, int code, const char *what)
{
	char msg[sizeof(err->message)];

	snprintf(msg, sizeof(msg), "%s", err->message);
	return dp_error_set(err, code, "%s: %.480s", what, msg);
}

static int check_file(const char *key, const char *path, struct dp_error *err)
{
	if (path[0] != '/')
		return dp_error_set(err, -EINVAL, "%s: '%.200s' is not an absolute path (the daemon does not share your "
						  "working folder)", key, path);
	if (access(path, R_OK) < 0)
		return dp_error_set(err, -ENOENT, "%s: cannot read %.300s: %s", key, path, strerror(errno));
	return 0;
}

int dp_daemon_check_spec(struct dp_daemon *d, const struct dp_task_spec *spec, struct dp_error *err)
{
	struct dp_secret_source src = {
		.credentials_dir = *d->creds_dir ? d->creds_dir : NULL,
		.secrets_file = *d->secrets_file ? d->secrets_file : NULL,
		.inline_names = spec->inline_names,
		.inline_values = spec->inline_values,
		.n_inline = spec->inline_values ? spec->n_inline : 0,
	};
	int r;

	if (strcmp(spec->policy, "model") == 0)
		return dp_error_set(err, -EOPNOTSUPP,
				    "policy: the model policy is not part of this daemon yet: give a flow or a script");
	if (spec->flow && spec->flow[0] != '{' && (r = check_file("flow", spec->flow, err)) < 0)
		return r;
	if (spec->script && (r = check_file("script", spec->script, err)) < 0)
		return r;
	if (spec->data && (r = check_file("data", spec->data, err)) < 0)
		return r;
	for (size_t i = 0; spec->allow_launch && spec->allow_launch[i]; i++) {
		if (!listed(d->config->allow_launch, spec->allow_launch[i]))
			return dp_error_set(err, -EINVAL,
					    "allow_launch: '%.100s' is not in the daemon's allow_launch (config.json): "
					    "add it there first", spec->allow_launch[i]);
	}
	for (size_t i = 0; spec->secrets && spec->secrets[i]; i++) {
		char value[4096];

		r = dp_secret_lookup(&src, spec->secrets[i], value, sizeof(value), err);
		explicit_bzero(value, sizeof(value));
		if (r == -ENOENT)
			return dp_error_set(err, -ENOENT, "secrets: no secret called '%s': add it to %s (mode 600), pass it "
							  "as a systemd credential, or give it in inline_secrets",
					    spec->secrets[i], src.secrets_file ? src.secrets_file : "secrets.json");
		if (r < 0)
			return prefix_error(err, -EIO, "secrets");
	}
	return 0;
}

/* The flow in the spec as a file the policy can read: a path as given, or
 * JSON text saved in the run folder. */
static int flow_file(struct dp_task *t, struct dp_error *err)
{
	char path[PATH_MAX + 32];

	if (!t->spec.flow)
		return 0;
	if (t->spec.flow[0] != '{') {
		t->flow_path = strdup(t->spec.flow);
		return t->flow_path ? 0 : -ENOMEM;
	}
	snprintf(path, sizeof(path), "%s/flow.json", t->rec.run_dir);
	t->flow_path = strdup(path);
	if (!t->flow_path)
		return -ENOMEM;
	if (access(path, R_OK) == 0)
		return 0;
	return dp_file_write_atomic(path, t->spec.flow, strlen(t->spec.flow), err);
}

/* What can be checked without the screen: the flow's or script's syntax. */
static int check_policy(struct dp_task *t, struct dp_error *err)
{
	if (strcmp(t->spec.policy, "flow") == 0) {
		struct flow flow = { 0 };
		int r = flow_load(t->flow_path, &flow, err);

		if (r == 0)
			flow_free(&flow);
		return r < 0 ? prefix_error(err, r, "flow") : 0;
	}
	if (strcmp(t->spec.policy, "script") == 0) {
		struct dp_policy_options po = { .kind = "script", .script_path = t->spec.script };
		struct dp_policy *p = NULL;
		int r = dp_policy_create(&p, &po, err);

		if (p)
			p->impl->destroy(p);
		return r < 0 ? prefix_error(err, -EINVAL, "script") : 0;
	}
	return 0;
}

static int mkdir_parents(const char *dir)
{
	char buf[PATH_MAX];

	if (strlen(dir) >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, dir, strlen(dir) + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return mkdir(buf, 0700) < 0 && errno != EEXIST ? -errno : 0;
}

static int queue_task(struct dp_daemon *d, struct dp_task *t)
{
	return dp_queue_push(d->queue, t, t->spec.priority, t->rec.seq, t->spec.display);
}

int dp_daemon_submit(struct dp_daemon *d, struct dp_task_spec *spec, uint32_t uid, const char *sender,
		     struct dp_task **out, struct dp_error *err)
{
	struct dp_task *t = calloc(1, sizeof(*t));
	char id[64], dir[PATH_MAX + 80];
	time_t now = time(NULL);
	struct tm tm;
	int r;

	if (!t)
		return dp_error_set(err, -ENOMEM, "out of memory");
	if (d->stopping) {
		free(t);
		return dp_error_set(err, -EBUSY, "the daemon is stopping: submit again once it is back");
	}
	t->daemon = d;
	t->spec = *spec;
	dp_task_spec_init(spec);
	t->has_spec = true;
	gmtime_r(&now, &tm);
	t->rec.seq = ++d->last_seq;
	snprintf(id, sizeof(id), "t%04d%02d%02d_%02d%02d%02d_%04llu", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned long long)t->rec.seq);
	snprintf(dir, sizeof(dir), "%s/%s", d->runs_dir, id);
	t->rec.id = strdup(id);
	t->rec.spec_json = dp_task_spec_to_json(&t->spec);
	t->rec.state = strdup("queued");
	t->rec.max_steps = t->spec.max_steps;
	t->rec.instruction = strdup(t->spec.instruction ? t->spec.instruction : "");
	t->rec.policy = strdup(t->spec.policy);
	t->rec.result = strdup("");
	t->rec.error = strdup("");
	t->rec.submitter_uid = uid;
	t->rec.submitter_name = strdup(sender ? sender : "");
	t->rec.created = now_us();
	t->rec.run_dir = strdup(dir);
	t->rec.priority = t->spec.priority;
	t->rec.display = strdup(t->spec.display);
	t->rec.inline_secrets = t->spec.n_inline > 0;
	t->state = DP_STATE_QUEUED;
	if (!t->rec.id || !t->rec.spec_json || !t->rec.state || !t->rec.instruction || !t->rec.policy ||
	    !t->rec.result || !t->rec.error || !t->rec.submitter_name || !t->rec.run_dir || !t->rec.display) {
		r = dp_error_set(err, -ENOMEM, "out of memory");
		goto fail;
	}
	if ((r = mkdir_parents(dir)) < 0) {
		r = dp_error_set(err, -EIO, "cannot create the run folder %s: %s", dir, strerror(-r));
		goto fail;
	}
	if ((r = flow_file(t, err)) < 0 || (r = check_policy(t, err)) < 0)
		goto fail_dir;
	/* Committed before the client hears of the task. */
	if ((r = dp_store_insert(d->store, &t->rec, err)) < 0)
		goto fail_dir;
	/* Stored; the task in memory keeps the parsed spec only. */
	free(t->rec.spec_json);
	t->rec.spec_json = NULL;
	if ((r = add_task(d, t)) < 0 || (r = dp_bus_task_add(t)) < 0 || (r = queue_task(d, t)) < 0) {
		/* The row stays: at the next start the task is queued again. */
		dp_error_set(err, r, "cannot publish the task: %s", strerror(-r));
		if (d->n_tasks && d->tasks[d->n_tasks - 1] == t)
			d->n_tasks--;
		goto fail;
	}
	dp_log_info("task %s queued (%s, uid %u, %s)", t->rec.id, t->spec.policy, uid, sender ? sender : "?");
	dp_bus_emit_task_added(d, t);
	dp_bus_emit_manager_changed(d, "QueueLength");
	schedule_dispatch(d);
	*out = t;
	return 0;
fail_dir:
	dp_remove_tree(dir);
fail:
	task_free(t);
	return r;
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
		return dp_error_set(err, -EINVAL, "task %s is %s, not paused: nothing to resume", t->rec.id, t->rec.state);
	if (!t->runner)
		return dp_error_set(err, -EBUSY, "task %s is starting; try again", t->rec.id);
	dp_runner_pause(t->runner, pause);
	t->paused = pause;
	set_state(t, active_state(t));
	persist(t);
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
	set_state(t, active_state(t));
	persist(t);
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
		t->rec.submitter_gone = now_us();
		persist(t);
		dp_log_info("task %s: its submitter %s left the bus; the task goes on", t->rec.id, name);
	}
}

/* --- retention ----------------------------------------------------------- */

static void pruned(void *data, const char *id)
{
	struct dp_daemon *d = data;

	for (size_t i = 0; i < d->n_tasks; i++) {
		if (strcmp(d->tasks[i]->rec.id, id) == 0) {
			task_free(d->tasks[i]);
			memmove(&d->tasks[i], &d->tasks[i + 1], (d->n_tasks - i - 1) * sizeof(*d->tasks));
			d->n_tasks--;
			return;
		}
	}
}

static void prune(struct dp_daemon *d)
{
	struct dp_error err = { 0 };
	int r = dp_store_prune(d->store, now_us(), d->config->retention_max_age_days, d->config->retention_max_runs,
			       pruned, d, &err);

	if (r < 0)
		dp_log_warn("%s", err.message);
	else if (r > 0)
		dp_log_info("pruned %d finished task(s) and their runs", r);
}

/* --- start-up ------------------------------------------------------------ */

static int load_one(void *data, struct dp_task_record *rec)
{
	struct dp_daemon *d = data;
	struct dp_task *t = calloc(1, sizeof(*t));
	struct dp_error err = { 0 };
	int r;

	if (!t)
		return -ENOMEM;
	t->daemon = d;
	t->rec = *rec;
	memset(rec, 0, sizeof(*rec)); /* the task owns the strings now */
	if (dp_task_state_parse(t->rec.state, &t->state) < 0) {
		dp_log_warn("task %s: unknown state '%s' in the store: taken as interrupted", t->rec.id, t->rec.state);
		set_state(t, DP_STATE_INTERRUPTED);
	}
	if (t->rec.seq > d->last_seq)
		d->last_seq = t->rec.seq;
	if (t->state == DP_STATE_QUEUED) {
		if (dp_task_spec_from_json(&t->spec, t->rec.spec_json, &err) < 0 || !t->spec.policy || !t->spec.display ||
		    flow_file(t, &err) < 0) {
			dp_log_error("task %s: %s", t->rec.id, err.message);
			set_state(t, DP_STATE_INTERRUPTED);
			replace(&t->rec.error, "the stored task could not be read back; submit it again");
			persist(t);
		} else {
			t->has_spec = true;
		}
	}
	free(t->rec.spec_json);
	t->rec.spec_json = NULL;
	if ((r = add_task(d, t)) < 0) {
		task_free(t);
		return r;
	}
	if ((r = dp_bus_task_add(t)) < 0)
		return r;
	if (t->state == DP_STATE_QUEUED && (r = queue_task(d, t)) < 0)
		return r;
	return 0;
}

int dp_daemon_load(struct dp_daemon *d, struct dp_error *err)
{
	struct timespec ts;
	uint64_t now;
	int r;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
	if ((r = dp_store_recover(d->store, now, err)) < 0)
		return r;
	if (r > 0)
		dp_log_info("%d task(s) interrupted by the last stop", r);
	d->last_seq = dp_store_max_seq(d->store);
	if ((r = dp_store_load(d->store, load_one, d, err)) < 0)
		return r;
	prune(d);
	if (dp_queue_length(d->queue))
		dp_log_info("%zu queued task(s) taken up again", dp_queue_length(d->queue));
	schedule_dispatch(d);
	return 0;
}

#define PRUNE_INTERVAL_US (6 * 3600 * UINT64_C(1000000))

static int on_prune_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	prune(userdata);
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
		task_free(d->tasks[i]);
	free(d->tasks);
	free(d->running);
	sd_event_source_disable_unref(d->prune_timer);
	sd_event_source_disable_unref(d->dispatch);
	dp_mailbox_destroy(d->mailbox);
	dp_queue_destroy(d->queue);
}
