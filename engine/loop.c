/* The step loop.  Each step: observe (grab, JPEG) → decide (policy) → for
 * each action: guard → act → settle → check (change map, verdict) → record
 * (trajectory) → feedback to the policy. */
#define DP_LOG_SUBSYS "loop"

#include "engine/loop.h"

#include <errno.h>
#include <fnmatch.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "capture/changemap.h"
#include "engine/clock.h"
#include "engine/image_jpeg.h"
#include "engine/log.h"

#define NEAR_PX 48 /* a change this close to an action's point is "where expected" */

struct run {
	const struct dp_loop_config *cfg;
	struct dp_capture *capture;
	struct dp_actuator *actuator;
	struct dp_policy *policy;
	struct dp_loop_control *control;
	struct dp_loop_result *result;
	struct dp_trajectory *traj;
	struct dp_frame before;   /* the last settled screen, in our own buffer */
	size_t before_capacity;
	struct dp_frame after;    /* the screen after an action; swapped with before */
	size_t after_capacity;
	struct dp_changemap map;
	uint8_t *jpeg;
	size_t jpeg_size;
	int64_t deadline_ns;
	bool finished;
};

static const char *const outcome_names[] = {
	[DP_TASK_SUCCEEDED] = "succeeded",   [DP_TASK_FAILED] = "failed",
	[DP_TASK_CANCELLED] = "cancelled",   [DP_TASK_OUT_OF_STEPS] = "out_of_steps",
	[DP_TASK_TIMED_OUT] = "timed_out",   [DP_TASK_OUT_OF_TOKENS] = "out_of_tokens",
	[DP_TASK_ERROR] = "error",
};

const char *dp_task_outcome_name(enum dp_task_outcome outcome)
{
	return (size_t)outcome < sizeof(outcome_names) / sizeof(outcome_names[0]) ? outcome_names[outcome] : "unknown";
}

static const char *const verdict_names[] = {
	[DP_VERDICT_CHANGED] = "changed",     [DP_VERDICT_ELSEWHERE] = "changed elsewhere",
	[DP_VERDICT_NO_EFFECT] = "no visible effect", [DP_VERDICT_UNCHECKED] = "unchecked",
	[DP_VERDICT_REJECTED] = "rejected",   [DP_VERDICT_FAILED] = "failed",
};

const char *dp_verdict_name(enum dp_verdict verdict)
{
	return (size_t)verdict < sizeof(verdict_names) / sizeof(verdict_names[0]) ? verdict_names[verdict] : "unknown";
}

void dp_decision_clear(struct dp_decision *d)
{
	for (size_t i = 0; i < d->n_actions && i < DP_DECISION_MAX_ACTIONS; i++)
		dp_action_clear(&d->actions[i]);
	free(d->reasoning);
	memset(d, 0, sizeof(*d));
}

/* --- control ------------------------------------------------------------- */

int dp_loop_control_init(struct dp_loop_control *c)
{
	atomic_init(&c->cancel, false);
	atomic_init(&c->pause, false);
	c->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return c->wake_fd < 0 ? -errno : 0;
}

static void wake(struct dp_loop_control *c)
{
	uint64_t one = 1;

	if (c->wake_fd >= 0 && write(c->wake_fd, &one, sizeof(one)) < 0)
		dp_log_debug("wake: %s", strerror(errno));
}

void dp_loop_control_cancel(struct dp_loop_control *c)
{
	atomic_store(&c->cancel, true);
	wake(c);
}

void dp_loop_control_pause(struct dp_loop_control *c, bool pause)
{
	atomic_store(&c->pause, pause);
	wake(c);
}

void dp_loop_control_release(struct dp_loop_control *c)
{
	if (c->wake_fd >= 0)
		close(c->wake_fd);
	c->wake_fd = -1;
}

/* Sleeps up to ms (forever if negative), woken early by cancel or resume. */
static void sleep_interruptibly(struct run *run, int ms)
{
	struct pollfd pfd = { .fd = run->control ? run->control->wake_fd : -1, .events = POLLIN };
	uint64_t count;

	if (pfd.fd < 0 && ms < 0)
		return;
	if (poll(&pfd, pfd.fd >= 0 ? 1 : 0, ms) > 0 && read(pfd.fd, &count, sizeof(count)) < 0)
		dp_log_debug("wake read: %s", strerror(errno));
}

static bool cancelled(struct run *run)
{
	return run->control && atomic_load(&run->control->cancel);
}

/* Returns false when the task must end (cancel, timeout) and says why. */
static bool may_go_on(struct run *run)
{
	while (run->control && atomic_load(&run->control->pause) && !cancelled(run))
		sleep_interruptibly(run, -1);
	if (cancelled(run)) {
		run->result->outcome = DP_TASK_CANCELLED;
		snprintf(run->result->message, sizeof(run->result->message), "cancelled after %u steps",
			 run->result->steps);
		return false;
	}
	if (run->deadline_ns && dp_now_ns() >= run->deadline_ns) {
		run->result->outcome = DP_TASK_TIMED_OUT;
		snprintf(run->result->message, sizeof(run->result->message), "ran out of time (%lld ms) after %u steps",
			 (long long)run->cfg->timeout_ms, run->result->steps);
		return false;
	}
	return true;
}

static void end(struct run *run, enum dp_task_outcome outcome, const char *message)
{
	run->result->outcome = outcome;
	snprintf(run->result->message, sizeof(run->result->message), "%s", message ? message : "");
	run->finished = true;
}

/* --- observe ------------------------------------------------------------- */

/* Grabs the screen into our own buffer (the capture reuses its own).
 * Without the pointer: it moves with every click, and the change map must
 * show what the app did. */
static int grab_into(struct run *run, struct dp_frame *copy, size_t *capacity, struct dp_error *err)
{
	struct dp_frame frame;
	uint8_t *pixels = copy->pixels;
	size_t size;
	int r = dp_capture_grab(run->capture, NULL, 0, &frame, err);

	if (r < 0)
		return r;
	size = (size_t)frame.stride * (size_t)frame.height;
	if (size > *capacity) {
		pixels = realloc(copy->pixels, size);
		if (!pixels)
			return dp_error_set(err, -ENOMEM, "out of memory for a frame");
		*capacity = size;
	}
	memcpy(pixels, frame.pixels, size);
	*copy = frame;
	copy->pixels = pixels;
	return 0;
}

/* The policy sees the screen with the pointer drawn in (a second grab,
 * well under a millisecond); the loop keeps it without, for the checks. */
static int observe(struct run *run, struct dp_error *err)
{
	struct dp_frame seen;
	int r = grab_into(run, &run->before, &run->before_capacity, err);

	free(run->jpeg);
	run->jpeg = NULL;
	if (r == 0)
		r = dp_capture_grab(run->capture, NULL, DP_GRAB_CURSOR, &seen, err);
	if (r == 0)
		r = dp_jpeg_encode(&seen, run->cfg->jpeg_quality ? run->cfg->jpeg_quality : 85, &run->jpeg,
				   &run->jpeg_size, err);
	return r;
}

/* --- guard --------------------------------------------------------------- */

static bool listed(const char *const *list, const char *value)
{
	for (size_t i = 0; list && list[i]; i++)
		if (fnmatch(list[i], value, 0) == 0)
			return true;
	return false;
}

/* "type" or "type:detail", what confirmation patterns match against. */
static void action_signature(const struct dp_action *a, char *buf, size_t size)
{
	static const char *const ops[] = { "list", "activate", "move", "resize", "minimize", "maximize", "close" };
	const char *detail = NULL;

	if (a->type == DP_ACTION_KEY || a->type == DP_ACTION_KEY_DOWN || a->type == DP_ACTION_HOLD)
		detail = a->keys;
	else if (a->type == DP_ACTION_LAUNCH)
		detail = strrchr(a->argv[0], '/') ? strrchr(a->argv[0], '/') + 1 : a->argv[0];
	else if (a->type == DP_ACTION_WINDOW)
		detail = ops[a->window_op];
	snprintf(buf, size, "%s%s%s", dp_action_type_name(a->type), detail ? ":" : "", detail ? detail : "");
}

/* An action on the confirmation list goes ahead only on a "yes". */
static bool confirmed(struct run *run, const struct dp_action *a, struct dp_action_feedback *fb)
{
	char signature[128], question[300], answer[64] = "";

	action_signature(a, signature, sizeof(signature));
	if (!listed(run->cfg->confirm_actions, signature) && !listed(run->cfg->confirm_actions, dp_action_type_name(a->type)))
		return true;
	snprintf(question, sizeof(question), "Allow %s? (yes/no)", signature);
	if (!run->cfg->ask || run->cfg->ask(run->cfg->ask_data, question, answer, sizeof(answer)) < 0) {
		snprintf(fb->message, sizeof(fb->message), "%s needs a confirmation and no one can give it", signature);
		return false;
	}
	if (strcasecmp(answer, "yes") != 0 && strcasecmp(answer, "y") != 0) {
		snprintf(fb->message, sizeof(fb->message), "%s: the user said no", signature);
		return false;
	}
	return true;
}

/* Refuses what the task's configuration does not allow.  Coordinates are
 * checked by the actuator against the real screen. */
static bool guard(struct run *run, const struct dp_action *a, struct dp_action_feedback *fb)
{
	if (a->type == DP_ACTION_LAUNCH) {
		const char *program = strrchr(a->argv[0], '/') ? strrchr(a->argv[0], '/') + 1 : a->argv[0];

		if (!listed(run->cfg->allow_launch, program)) {
			snprintf(fb->message, sizeof(fb->message),
				 "launch of '%s' is not allowed for this task (add it to the allow list)", program);
			return false;
		}
	}
	if (!confirmed(run, a, fb))
		return false;
	if (a->type == DP_ACTION_WINDOW && run->cfg->deny_window_classes) {
		struct dp_window_info windows[64];
		size_t n = 0;

		if (dp_actuator_windows(run->actuator, &a->match, windows, 64, &n, NULL) < 0)
			n = 0;
		for (size_t i = 0; i < n; i++) {
			if (listed(run->cfg->deny_window_classes, windows[i].class_name) ||
			    listed(run->cfg->deny_window_classes, windows[i].instance)) {
				snprintf(fb->message, sizeof(fb->message),
					 "window actions on class '%s' are denied for this task", windows[i].class_name);
				return false;
			}
		}
	}
	return true;
}

/* --- act ----------------------------------------------------------------- */

/* {{secret:name}} placeholders become their values here, at the last
 * moment; the copy is wiped as soon as it has been typed. */
static int substitute_secrets(struct run *run, const char *text, char **out, struct dp_action_feedback *fb)
{
	static const char open[] = "{{secret:";
	size_t cap = strlen(text) + 1, len = 0;
	char *buf = malloc(cap);
	const char *p = text;

	if (!buf)
		return -ENOMEM;
	while (*p) {
		const char *start = strstr(p, open), *close;
		char name[128], value[4096];
		size_t vlen, n;

		if (!start) {
			memcpy(buf + len, p, strlen(p));
			len += strlen(p);
			break;
		}
		memcpy(buf + len, p, (size_t)(start - p));
		len += (size_t)(start - p);
		close = strstr(start, "}}");
		n = close ? (size_t)(close - start) - (sizeof(open) - 1) : 0;
		if (!close || n == 0 || n >= sizeof(name)) {
			snprintf(fb->message, sizeof(fb->message), "a {{secret:...}} placeholder is not closed");
			goto fail;
		}
		memcpy(name, start + sizeof(open) - 1, n);
		name[n] = '\0';
		if (!run->cfg->secrets || run->cfg->secrets(run->cfg->secrets_data, name, value, sizeof(value)) < 0) {
			snprintf(fb->message, sizeof(fb->message), "no secret called '%s' is available to this task", name);
			goto fail;
		}
		vlen = strlen(value);
		if (len + vlen + strlen(close + 2) + 1 > cap) {
			char *grown = malloc(len + vlen + strlen(close + 2) + 1);

			if (!grown) {
				explicit_bzero(value, sizeof(value));
				goto fail;
			}
			memcpy(grown, buf, len);
			explicit_bzero(buf, cap);
			free(buf);
			buf = grown;
			cap = len + vlen + strlen(close + 2) + 1;
		}
		memcpy(buf + len, value, vlen);
		len += vlen;
		explicit_bzero(value, sizeof(value));
		p = close + 2;
	}
	buf[len] = '\0';
	*out = buf;
	return 0;
fail:
	explicit_bzero(buf, cap);
	free(buf);
	return -ENOENT;
}

static bool type_expects_change(enum dp_action_type type)
{
	switch (type) {
	case DP_ACTION_MOVE:
	case DP_ACTION_BUTTON_DOWN:
	case DP_ACTION_KEY_DOWN:
	case DP_ACTION_WAIT:
	case DP_ACTION_ZOOM:
		return false;
	default:
		return true;
	}
}

/* Whether settle waits for a first change (and check reports its absence). */
static bool expects_change(const struct dp_action *a)
{
	return type_expects_change(a->type) || (a->type == DP_ACTION_WAIT && a->until == DP_WAIT_CHANGE);
}

/* Where the action acted, if it has one point. */
static bool action_point(const struct dp_action *a, struct dp_point *p)
{
	if (a->type == DP_ACTION_DRAG && a->n_path) {
		*p = a->path[a->n_path - 1];
		return true;
	}
	*p = a->point;
	return a->has_point;
}

static int perform(struct run *run, const struct dp_action *a, struct dp_action_feedback *fb, struct dp_error *err)
{
	struct dp_action_result res;
	struct dp_action copy = *a;
	char *secret_text = NULL;
	int r;

	if (a->type == DP_ACTION_TYPE && a->text && strstr(a->text, "{{secret:")) {
		r = substitute_secrets(run, a->text, &secret_text, fb);
		if (r < 0)
			return dp_error_set(err, r, "%s", fb->message);
		copy.text = secret_text;
	}
	r = dp_actuator_perform(run->actuator, &copy, &res, err);
	if (secret_text) {
		explicit_bzero(secret_text, strlen(secret_text));
		free(secret_text);
	}
	if (r == 0)
		snprintf(fb->message, sizeof(fb->message), "%s", res.summary);
	return r;
}

/* --- check --------------------------------------------------------------- */

static int check(struct run *run, const struct dp_action *a, const struct dp_settle_result *settled,
		 struct dp_action_feedback *fb, struct dp_error *err)
{
	struct dp_frame swap_frame;
	size_t swap_capacity;
	struct dp_point p;
	int r = grab_into(run, &run->after, &run->after_capacity, err);

	if (r < 0)
		return r;
	r = dp_changemap_compute(&run->map, &run->before, &run->after);
	if (r < 0)
		return dp_error_set(err, r, "the screen changed size during the step");
	fb->changed = run->map.bbox;
	if (!expects_change(a))
		fb->verdict = DP_VERDICT_UNCHECKED;
	else if (settled->outcome == DP_SETTLE_NO_EFFECT || run->map.changed == 0)
		fb->verdict = DP_VERDICT_NO_EFFECT;
	else if (action_point(a, &p))
		fb->verdict = dp_rect_empty(dp_rect_intersect(run->map.bbox,
							      (struct dp_rect){ p.x - NEAR_PX, p.y - NEAR_PX,
										2 * NEAR_PX, 2 * NEAR_PX }))
				      ? DP_VERDICT_ELSEWHERE
				      : DP_VERDICT_CHANGED;
	else
		fb->verdict = DP_VERDICT_CHANGED;
	/* The settled screen is the "before" of the next action: swap the
	 * two buffers rather than copy or allocate. */
	swap_frame = run->before;
	swap_capacity = run->before_capacity;
	run->before = run->after;
	run->before_capacity = run->after_capacity;
	run->after = swap_frame;
	run->after_capacity = swap_capacity;
	return 0;
}

/* Points a model gave in its image space become screen pixels; a point
 * outside the image rejects that action. */
static int map_point(const struct dp_coord_map *map, struct dp_point *p, struct dp_error *err)
{
	int32_t x, y;
	int r = dp_coords_to_screen(map, p->x, p->y, &x, &y, err);

	if (r == 0)
		*p = (struct dp_point){ x, y };
	return r;
}

static int map_action(const struct dp_coord_map *map, struct dp_action *a, struct dp_error *err)
{
	int r = 0;

	if (a->type == DP_ACTION_WINDOW)
		return 0; /* window geometry is in screen pixels */
	if (a->type == DP_ACTION_ZOOM) {
		struct dp_rect rect;

		r = dp_coords_rect_to_screen(map, a->point.x, a->point.y, a->point.x + a->width, a->point.y + a->height,
					     &rect, err);
		if (r == 0) {
			a->point = (struct dp_point){ rect.x, rect.y };
			a->width = rect.width;
			a->height = rect.height;
		}
		return r;
	}
	if (a->has_point)
		r = map_point(map, &a->point, err);
	for (size_t i = 0; r == 0 && i < a->n_path; i++)
		r = map_point(map, &a->path[i], err);
	return r;
}

/* --- one step ------------------------------------------------------------ */

static void add_us(int64_t *slot, int64_t since_ns)
{
	*slot += (dp_now_ns() - since_ns) / 1000;
}

/* The policy's terminal actions: done (once the verifier agrees), fail. */
static bool terminal(struct run *run, const struct dp_action *a, const struct dp_observation *obs,
		     struct dp_action_feedback *fb, struct dp_error *err)
{
	bool agree = true;
	char *reason = NULL;

	if (a->type == DP_ACTION_FAIL) {
		end(run, DP_TASK_FAILED, a->text);
		snprintf(fb->message, sizeof(fb->message), "gave up: %s", a->text);
		return true;
	}
	if (a->type != DP_ACTION_DONE)
		return false;
	if (run->policy->impl->verify &&
	    run->policy->impl->verify(run->policy, obs, a->text ? a->text : "", &agree, &reason, err) < 0) {
		if (cancelled(run))
			end(run, DP_TASK_CANCELLED, "cancelled while the verifier was asked");
		else
			end(run, DP_TASK_ERROR, err ? err->message : "the verifier failed");
		return true;
	}
	if (agree) {
		end(run, DP_TASK_SUCCEEDED, a->text ? a->text : "done");
		snprintf(fb->message, sizeof(fb->message), "done");
	} else {
		fb->verdict = DP_VERDICT_REJECTED;
		snprintf(fb->message, sizeof(fb->message), "not done yet, says the verifier: %s",
			 reason ? reason : "no reason given");
	}
	free(reason);
	return true;
}

static int run_action(struct run *run, const struct dp_action *a, const struct dp_observation *obs,
		      struct dp_action_feedback *fb, int64_t *phase_us)
{
	struct dp_settle_options settle = run->cfg->settle;
	struct dp_settle_result settled = { 0 };
	struct dp_error err = { 0 };
	int64_t t = dp_now_ns();
	int r;

	fb->verdict = DP_VERDICT_UNCHECKED;
	if (terminal(run, a, obs, fb, &err))
		return 0;
	if (a->type == DP_ACTION_ASK_USER) {
		char answer[400];

		if (!run->cfg->ask || run->cfg->ask(run->cfg->ask_data, a->text, answer, sizeof(answer)) < 0) {
			fb->verdict = DP_VERDICT_REJECTED;
			snprintf(fb->message, sizeof(fb->message), "no one can answer in this task; decide without asking");
		} else {
			snprintf(fb->message, sizeof(fb->message), "the user answered: %s", answer);
		}
		return 0;
	}
	if (a->type == DP_ACTION_ZOOM) {
		/* The policy takes the region at full resolution from the frame. */
		snprintf(fb->message, sizeof(fb->message), "zoom: handled by the policy");
		return 0;
	}
	if (!guard(run, a, fb)) {
		fb->verdict = DP_VERDICT_REJECTED;
		add_us(&phase_us[DP_PHASE_GUARD], t);
		return 0;
	}
	add_us(&phase_us[DP_PHASE_GUARD], t);
	t = dp_now_ns();
	if (a->type == DP_ACTION_WAIT && a->until == DP_WAIT_TIME) {
		sleep_interruptibly(run, a->ms);
		snprintf(fb->message, sizeof(fb->message), "waited %d ms", a->ms);
		r = 0;
	} else if (a->type == DP_ACTION_WAIT) {
		/* Waiting for something to happen: settle does it, on events. */
		snprintf(fb->message, sizeof(fb->message), "waited up to %d ms for the screen to %s", a->ms,
			 a->until == DP_WAIT_CHANGE ? "change" : "be quiet");
		r = 0;
	} else {
		r = perform(run, a, fb, &err);
	}
	add_us(&phase_us[DP_PHASE_ACT], t);
	if (r < 0) {
		fb->verdict = DP_VERDICT_FAILED;
		snprintf(fb->message, sizeof(fb->message), "%s", err.message);
		/* A display that went away ends the task; a bad action does not. */
		return r == -EPIPE || r == -ECONNREFUSED ? r : 0;
	}
	t = dp_now_ns();
	settle.expect_change = expects_change(a);
	if (a->type == DP_ACTION_WAIT && a->until == DP_WAIT_CHANGE)
		settle.response_ms = a->ms;
	if (a->type == DP_ACTION_WAIT && a->until == DP_WAIT_QUIET)
		settle.timeout_ms = a->ms;
	settle.interrupt_fd = run->control ? run->control->wake_fd : -1;
	r = dp_capture_settle(run->capture, &settle, &settled, &err);
	add_us(&phase_us[DP_PHASE_SETTLE], t);
	if (r == -ECANCELED)
		return 0; /* the step ends; may_go_on() reports the cancel */
	if (r < 0 && r != -ENOTSUP)
		goto fail;
	t = dp_now_ns();
	r = check(run, a, &settled, fb, &err);
	add_us(&phase_us[DP_PHASE_CHECK], t);
	if (r < 0)
		goto fail;
	return 0;
fail:
	snprintf(fb->message, sizeof(fb->message), "%s", err.message);
	return r;
}

static int step(struct run *run, uint32_t number)
{
	struct dp_step_record rec = { .step = number };
	struct dp_action_feedback fb[DP_DECISION_MAX_ACTIONS];
	struct dp_decision decision = { 0 };
	struct dp_observation obs = { .step = number };
	struct dp_error err = { 0 };
	int64_t t = dp_now_ns();
	size_t i;
	int r;

	memset(fb, 0, sizeof(fb));
	r = observe(run, &err);
	add_us(&rec.phase_us[DP_PHASE_OBSERVE], t);
	if (r < 0) {
		end(run, DP_TASK_ERROR, err.message);
		return r;
	}
	obs.frame = &run->before;
	obs.jpeg = run->jpeg;
	obs.jpeg_size = run->jpeg_size;
	rec.jpeg = run->jpeg;
	rec.jpeg_size = run->jpeg_size;
	rec.width = run->before.width;
	rec.height = run->before.height;

	t = dp_now_ns();
	r = run->policy->impl->decide(run->policy, &obs, &decision, &err);
	add_us(&rec.phase_us[DP_PHASE_DECIDE], t);
	run->result->steps = number;
	if (r == 0 && decision.n_actions == 0 && !decision.nothing_valid)
		r = dp_error_set(&err, -EINVAL, "the policy chose no action at step %u", number);
	if (r < 0 && cancelled(run)) {
		/* A policy waiting on a model stops at the cancel: that is the outcome. */
		snprintf(err.message, sizeof(err.message), "cancelled during step %u", number);
		end(run, DP_TASK_CANCELLED, err.message);
		dp_decision_clear(&decision);
		return 0;
	}
	if (r < 0) {
		end(run, DP_TASK_ERROR, err.message[0] ? err.message : "the policy failed");
		dp_decision_clear(&decision);
		return r;
	}
	for (i = 0; i < decision.n_actions && !run->finished; i++) {
		if (i > 0 && !may_go_on(run))
			break;
		if (decision.has_coords && map_action(&decision.coords, &decision.actions[i], &err) < 0) {
			fb[i].verdict = DP_VERDICT_REJECTED;
			snprintf(fb[i].message, sizeof(fb[i].message), "%s: %.400s",
				 dp_action_type_name(decision.actions[i].type), err.message);
			i++;
			break;
		}
		r = run_action(run, &decision.actions[i], &obs, &fb[i], rec.phase_us);
		if (r < 0) {
			end(run, DP_TASK_ERROR, fb[i].message);
			i++;
			break;
		}
	}
	/* Actions after a rejected, failed or final one are not performed. */
	for (size_t j = i; j < decision.n_actions; j++) {
		fb[j].verdict = DP_VERDICT_REJECTED;
		snprintf(fb[j].message, sizeof(fb[j].message), "not performed: the step ended before it");
	}

	/* Counted after the actions: a verifier's request adds to them. */
	run->result->tokens += decision.tokens_in + decision.tokens_out;
	rec.decision = &decision;
	rec.feedback = fb;
	rec.n_feedback = decision.n_actions;
	/* The trajectory measures its own (record) phase. */
	if (run->traj && dp_trajectory_add_step(run->traj, &rec, &err) < 0)
		dp_log_warn("%s", err.message);
	if (run->cfg->on_step)
		run->cfg->on_step(run->cfg->on_step_data, &rec);
	if (run->policy->impl->feedback) {
		struct dp_feedback feedback = { .actions = fb, .n_actions = decision.n_actions };

		run->policy->impl->feedback(run->policy, &feedback);
	}
	dp_decision_clear(&decision);
	if (!run->finished && run->cfg->token_budget && run->result->tokens > run->cfg->token_budget) {
		char msg[128];

		snprintf(msg, sizeof(msg), "used %llu tokens, over the budget of %llu",
			 (unsigned long long)run->result->tokens, (unsigned long long)run->cfg->token_budget);
		end(run, DP_TASK_OUT_OF_TOKENS, msg);
	}
	return 0;
}

int dp_loop_run(const struct dp_loop_config *cfg, struct dp_capture *capture, struct dp_actuator *actuator,
		struct dp_policy *policy, struct dp_loop_control *control, struct dp_loop_result *result,
		struct dp_error *err)
{
	struct dp_task_info info = { .id = cfg->task_id, .instruction = cfg->instruction,
				     .cancel = control ? &control->cancel : NULL };
	struct run run = {
		.cfg = cfg, .capture = capture, .actuator = actuator, .policy = policy,
		.control = control, .result = result,
	};
	uint32_t max_steps = cfg->max_steps ? cfg->max_steps : DP_MAX_STEPS;
	struct dp_error step_err = { 0 };
	uint32_t n;

	memset(result, 0, sizeof(*result));
	if (max_steps > DP_MAX_STEPS)
		return dp_error_set(err, -EINVAL, "max_steps = %u is over the limit of %d", max_steps, DP_MAX_STEPS);
	info.max_steps = max_steps;
	if (cfg->timeout_ms > 0)
		run.deadline_ns = dp_now_ns() + cfg->timeout_ms * DP_NSEC_PER_MSEC;
	if (cfg->run_dir && dp_trajectory_open(&run.traj, cfg->run_dir, cfg->task_id, cfg->instruction, err) < 0)
		return err ? err->code : -EIO;
	if (policy->impl->start && policy->impl->start(policy, &info, &step_err) < 0)
		end(&run, DP_TASK_ERROR, step_err.message);
	for (n = 1; !run.finished && n <= max_steps && may_go_on(&run); n++)
		step(&run, n);
	if (!run.finished && n > max_steps && !cancelled(&run)) {
		char msg[128];

		snprintf(msg, sizeof(msg), "used all %u steps without finishing", max_steps);
		end(&run, DP_TASK_OUT_OF_STEPS, msg);
	}
	/* However it ended (a cancel mid-step, a policy that forgot a
	 * key_up), no key or button stays held. */
	dp_actuator_release_all(actuator);
	if (run.traj && dp_trajectory_close(run.traj, dp_task_outcome_name(result->outcome), result->message,
					    result->steps, result->tokens, &step_err) < 0)
		dp_log_warn("%s", step_err.message);
	free(run.before.pixels);
	free(run.after.pixels);
	free(run.jpeg);
	dp_changemap_release(&run.map);
	return 0;
}
