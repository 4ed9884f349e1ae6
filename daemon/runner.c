#include "daemon/runner.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "actuators/desktop.h"
#include "capture/capture.h"
#include "policies/policy_factory.h"

#define DP_LOG_SUBSYS "runner"
#include "engine/log.h"

struct dp_runner {
	struct dp_runner_setup setup;
	pthread_t thread;
	struct dp_loop_control control;
	pthread_mutex_t lock;
	pthread_cond_t answered;
	bool asking, has_answer, cancelled;
	char answer[1024];
	bool has_deadline;
	struct timespec deadline; /* CLOCK_MONOTONIC: the task's timeout also bounds a question */
};

void dp_decision_summary(const struct dp_decision *d, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < d->n_actions && len + 1 < size; i++) {
		const struct dp_action *a = &d->actions[i];
		const char *name = dp_action_type_name(a->type);
		char one[200];

		switch (a->type) {
		case DP_ACTION_CLICK:
		case DP_ACTION_MOVE:
		case DP_ACTION_SCROLL:
		case DP_ACTION_ZOOM:
		case DP_ACTION_BUTTON_DOWN:
		case DP_ACTION_BUTTON_UP:
			if (a->has_point)
				snprintf(one, sizeof(one), "%s (%d,%d)", name, a->point.x, a->point.y);
			else
				snprintf(one, sizeof(one), "%s", name);
			break;
		case DP_ACTION_DRAG:
			snprintf(one, sizeof(one), "%s (%zu points)", name, a->n_path);
			break;
		case DP_ACTION_TYPE:
			/* The text may hold secret placeholders or private data. */
			snprintf(one, sizeof(one), "%s (%zu bytes)", name, a->text ? strlen(a->text) : 0);
			break;
		case DP_ACTION_KEY:
		case DP_ACTION_KEY_DOWN:
		case DP_ACTION_KEY_UP:
		case DP_ACTION_HOLD:
			snprintf(one, sizeof(one), "%s %.100s", name, a->keys ? a->keys : "");
			break;
		case DP_ACTION_WAIT:
			snprintf(one, sizeof(one), "%s %d ms", name, a->ms);
			break;
		case DP_ACTION_LAUNCH:
			snprintf(one, sizeof(one), "%s %.100s", name, a->argv && a->argv[0] ? a->argv[0] : "");
			break;
		default:
			snprintf(one, sizeof(one), "%s", name);
			break;
		}
		len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? "; " : "", one);
		if (len >= size)
			len = size - 1;
	}
}

static const char *step_verdict(const struct dp_step_record *rec)
{
	/* The step's verdict is its worst action's. */
	static const enum dp_verdict order[] = { DP_VERDICT_FAILED, DP_VERDICT_REJECTED, DP_VERDICT_NO_EFFECT,
						 DP_VERDICT_ELSEWHERE, DP_VERDICT_CHANGED, DP_VERDICT_UNCHECKED };

	for (size_t o = 0; o < sizeof(order) / sizeof(order[0]); o++)
		for (size_t i = 0; i < rec->n_feedback; i++)
			if (rec->feedback[i].verdict == order[o])
				return dp_verdict_name(order[o]);
	return "none";
}

static void on_step(void *data, const struct dp_step_record *rec)
{
	struct dp_runner *r = data;
	struct dp_event *e = calloc(1, sizeof(*e));
	char summary[512], message[1024];
	size_t len = 0;
	int64_t us = 0;

	if (!e)
		return;
	message[0] = '\0';
	for (size_t i = 0; i < rec->n_feedback && len + 1 < sizeof(message); i++) {
		len += (size_t)snprintf(message + len, sizeof(message) - len, "%s%s", i ? "; " : "",
					rec->feedback[i].message);
		if (len >= sizeof(message))
			len = sizeof(message) - 1;
	}
	for (int p = 0; p < DP_PHASE_COUNT; p++)
		us += rec->phase_us[p];
	dp_decision_summary(rec->decision, summary, sizeof(summary));
	e->kind = DP_EVENT_STEP;
	e->task = r->setup.task;
	e->step = rec->step;
	e->action = strdup(summary);
	e->verdict = strdup(step_verdict(rec));
	e->text = strdup(message);
	e->duration_ms = (uint32_t)(us / 1000);
	e->tokens = rec->decision->tokens_in + rec->decision->tokens_out;
	dp_mailbox_post(r->setup.mailbox, e);
}

/* The loop's ask: tell the main loop, then wait for Answer or Cancel. */
static int ask(void *data, const char *question, char *answer, size_t size)
{
	struct dp_runner *r = data;
	struct dp_event *e = calloc(1, sizeof(*e));
	int ret = 0;

	if (!e)
		return -ENOMEM;
	e->kind = DP_EVENT_ASK;
	e->task = r->setup.task;
	e->text = strdup(question);
	pthread_mutex_lock(&r->lock);
	r->asking = true;
	r->has_answer = false;
	pthread_mutex_unlock(&r->lock);
	dp_mailbox_post(r->setup.mailbox, e);
	pthread_mutex_lock(&r->lock);
	while (!r->has_answer && !r->cancelled) {
		if (!r->has_deadline)
			pthread_cond_wait(&r->answered, &r->lock);
		else if (pthread_cond_timedwait(&r->answered, &r->lock, &r->deadline) == ETIMEDOUT)
			break;
	}
	if (r->has_answer)
		snprintf(answer, size, "%s", r->answer);
	else
		ret = -ENOTCONN;
	r->asking = false;
	pthread_mutex_unlock(&r->lock);
	return ret;
}

static void finished(struct dp_runner *r, enum dp_task_outcome outcome, uint32_t steps, uint64_t tokens,
		     const char *text)
{
	struct dp_event *e = calloc(1, sizeof(*e));

	if (!e) {
		dp_log_error("out of memory: task %s cannot report its end", r->setup.task_id);
		return;
	}
	e->kind = DP_EVENT_FINISHED;
	e->task = r->setup.task;
	e->outcome = outcome;
	e->step = steps;
	e->tokens = tokens;
	e->text = strdup(text);
	dp_mailbox_post(r->setup.mailbox, e);
}

static void *run(void *data)
{
	struct dp_runner *r = data;
	const struct dp_runner_setup *s = &r->setup;
	const struct dp_task_spec *spec = s->spec;
	/* "wayland:NAME" is the Wayland session's compositor: deskpilot finds
	 * its remote-desktop API itself.  Anything else is an X display. */
	bool wayland = strncmp(spec->display, "wayland:", 8) == 0;
	struct dp_desktop_config dc = { .display = wayland ? NULL : spec->display };
	struct dp_desktop desk = { 0 };
	struct dp_policy *policy = NULL;
	struct dp_loop_result res = { 0 };
	struct dp_error err = { 0 };
	int rc;

	rc = dp_desktop_open(&desk, &dc, DP_DESKTOP_CAPTURE | DP_DESKTOP_INPUT, &err);
	if (rc == 0) {
		struct dp_policy_options po = {
			.kind = spec->policy, .flow_path = s->flow_path, .data_path = spec->data,
			.vars = (const char *const *)spec->vars, .script_path = spec->script,
			.profile = spec->profile ? spec->profile : s->model_profile, .endpoint = s->model_endpoint,
			.api_key_file = s->model_api_key_file, .actuator = desk.actuator,
		};

		rc = dp_policy_create(&policy, &po, &err);
	}
	if (rc == 0) {
		struct dp_loop_config lc = {
			.task_id = s->task_id,
			.instruction = spec->instruction ? spec->instruction : "",
			.max_steps = spec->max_steps,
			.timeout_ms = (int64_t)spec->timeout_s * 1000,
			.token_budget = spec->token_budget,
			.run_dir = s->run_dir,
			.allow_launch = s->allow_launch,
			.deny_window_classes = s->deny_window_classes,
			.secrets = dp_secret_lookup_for_loop,
			.secrets_data = &r->setup.secrets,
			.confirm_actions = s->confirm,
			.ask = ask,
			.ask_data = r,
			.on_step = on_step,
			.on_step_data = r,
		};

		dp_settle_options_default(&lc.settle);
		/* The loop's clock starts now: a question may wait until then. */
		if (spec->timeout_s) {
			pthread_mutex_lock(&r->lock);
			clock_gettime(CLOCK_MONOTONIC, &r->deadline);
			r->deadline.tv_sec += spec->timeout_s;
			r->has_deadline = true;
			pthread_mutex_unlock(&r->lock);
		}
		rc = dp_loop_run(&lc, desk.capture, desk.actuator, policy, &r->control, &res, &err);
	}
	/* The actuator restores the keyboard map it borrowed: the display is
	 * left as it was found before the next task starts. */
	if (policy)
		policy->impl->destroy(policy);
	dp_desktop_close(&desk);
	if (rc < 0)
		finished(r, DP_TASK_ERROR, 0, 0, err.message);
	else
		finished(r, res.outcome, res.steps, res.tokens, res.message);
	return NULL;
}

int dp_runner_start(struct dp_runner **out, const struct dp_runner_setup *setup, struct dp_error *err)
{
	struct dp_runner *r = calloc(1, sizeof(*r));
	int rc;

	*out = NULL;
	if (!r)
		return -ENOMEM;
	r->setup = *setup;
	pthread_mutex_init(&r->lock, NULL);
	{
		pthread_condattr_t attr;

		pthread_condattr_init(&attr);
		pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
		pthread_cond_init(&r->answered, &attr);
		pthread_condattr_destroy(&attr);
	}

	if ((rc = dp_loop_control_init(&r->control)) < 0) {
		free(r);
		return dp_error_set(err, rc, "cannot make the task's control eventfd: %s", strerror(-rc));
	}
	if ((rc = pthread_create(&r->thread, NULL, run, r)) != 0) {
		dp_loop_control_release(&r->control);
		free(r);
		return dp_error_set(err, -rc, "cannot start the task's thread: %s", strerror(rc));
	}
	*out = r;
	return 0;
}

void dp_runner_cancel(struct dp_runner *r)
{
	dp_loop_control_cancel(&r->control);
	pthread_mutex_lock(&r->lock);
	r->cancelled = true;
	pthread_cond_broadcast(&r->answered);
	pthread_mutex_unlock(&r->lock);
}

void dp_runner_pause(struct dp_runner *r, bool pause)
{
	dp_loop_control_pause(&r->control, pause);
}

int dp_runner_answer(struct dp_runner *r, const char *answer)
{
	int ret = -ENOENT;

	pthread_mutex_lock(&r->lock);
	if (r->asking && !r->has_answer) {
		snprintf(r->answer, sizeof(r->answer), "%s", answer);
		r->has_answer = true;
		pthread_cond_broadcast(&r->answered);
		ret = 0;
	}
	pthread_mutex_unlock(&r->lock);
	return ret;
}

void dp_runner_destroy(struct dp_runner *r)
{
	if (!r)
		return;
	pthread_join(r->thread, NULL);
	dp_loop_control_release(&r->control);
	pthread_cond_destroy(&r->answered);
	pthread_mutex_destroy(&r->lock);
	explicit_bzero(r->answer, sizeof(r->answer));
	free(r);
}
