#include "reply.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/model_server/util.h"

#define MS_WAIT_MS 1000 /* how long the model waits for a target that is not there yet */

struct move {
	char tool[16];
	cJSON *args;      /* tools profiles */
	char text[1200];  /* UI-TARS action */
};

struct build {
	struct ms_reply_ctx *ctx;
	struct move moves[2];
	int n_moves;
	char marker[64];
	char say[600];   /* what the reply says it does */
	char seen[700];  /* what it saw (for the reasoning) */
};

static bool is_assistant(const cJSON *m)
{
	const char *role = ms_json_str(m, "role");

	return role && !strcmp(role, "assistant");
}

/* The marker of an assistant message: 0 and its fields, or -1. */
static int read_marker(const cJSON *m, int *step, int *move, char *flag, size_t flag_size)
{
	char *text = ms_content_text(m);
	const char *at = text ? strstr(text, "[step ") : NULL;
	int r = -1, end = 0;

	flag[0] = '\0';
	if (at && sscanf(at, "[step %6d.%2d of %*[^],]%n", step, move, &end) == 2 && end > 0) {
		if (at[end] == ',')
			sscanf(at + end, ", %15[a-z]", flag);
		r = *step >= 1 && *move >= 1 ? 0 : -1;
	}
	(void)flag_size;
	free(text);
	return r;
}

int ms_count_waits(const cJSON *messages, int step, int move)
{
	int n = 0, s, m;
	const cJSON *msg;
	char flag[16];

	cJSON_ArrayForEach(msg, messages)
		n += is_assistant(msg) && read_marker(msg, &s, &m, flag, sizeof(flag)) == 0 && s == step &&
		     m == move && !strcmp(flag, "waiting");
	return n;
}

void ms_pos_from_history(const cJSON *messages, const struct ms_plan *plan, struct ms_pos *pos)
{
	int n = cJSON_GetArraySize(messages), step = 0, move = 0, i;
	char flag[16] = "";

	pos->step = 1;
	pos->move = 1;
	pos->waits = 0;
	for (i = n - 1; i >= 0; i--) {
		const cJSON *m = cJSON_GetArrayItem(messages, i);

		if (is_assistant(m) && read_marker(m, &step, &move, flag, sizeof(flag)) == 0)
			break;
	}
	if (i < 0)
		return;
	if (!strcmp(flag, "waiting") || !strcmp(flag, "again")) {
		pos->step = step;
		pos->move = move;
	} else if (step <= (int)plan->n && move < ms_step_moves(&plan->steps[step - 1])) {
		pos->step = step;
		pos->move = move + 1;
	} else {
		pos->step = step + 1;
		pos->move = 1;
	}
	/* A step is only ever gone back to by waiting: all its waits count. */
	pos->waits = ms_count_waits(messages, pos->step, pos->move);
}

/* Image pixels to the profile's coordinates. */
static long coord(const struct ms_reply_ctx *ctx, double v, int32_t size)
{
	if (ctx->profile->coords == MS_COORDS_NORM1000) {
		double n = v * 1000.0 / size;

		return lround(n < 0 ? 0 : n > 1000 ? 1000 : n);
	}
	return lround(v < 0 ? 0 : v > size - 1 ? size - 1 : v);
}

/* UI-TARS quotes text in single quotes with backslash escapes. */
static void ui_quote(const char *in, char *out, size_t size)
{
	size_t len = 0;

	for (; *in && len + 3 < size; in++) {
		if (*in == '\'' || *in == '\\') {
			out[len++] = '\\';
			out[len++] = *in;
		} else if (*in == '\n') {
			out[len++] = '\\';
			out[len++] = 'n';
		} else {
			out[len++] = *in;
		}
	}
	out[len] = '\0';
}

static struct move *add_move(struct build *b, const char *tool)
{
	struct move *m = &b->moves[b->n_moves++];

	snprintf(m->tool, sizeof(m->tool), "%s", tool);
	m->args = cJSON_CreateObject();
	m->text[0] = '\0';
	return m;
}

static void click_move(struct build *b, double x, double y)
{
	const struct ms_reply_ctx *ctx = b->ctx;
	long cx = coord(ctx, x, ctx->image->width), cy = coord(ctx, y, ctx->image->height);
	struct move *m = add_move(b, "click");

	cJSON_AddNumberToObject(m->args, "x", (double)cx);
	cJSON_AddNumberToObject(m->args, "y", (double)cy);
	snprintf(m->text, sizeof(m->text), "click(start_box='(%ld,%ld)')", cx, cy);
}

static void text_move(struct build *b, const char *tool, const char *field, const char *value, const char *ui_fmt)
{
	struct move *m = add_move(b, tool);
	char q[1100];

	cJSON_AddStringToObject(m->args, field, value);
	ui_quote(value, q, sizeof(q));
	snprintf(m->text, sizeof(m->text), ui_fmt, q);
}

static void key_move(struct build *b, const char *chord)
{
	struct move *m = add_move(b, "key");
	char spaced[256];

	cJSON_AddStringToObject(m->args, "keys", chord);
	snprintf(spaced, sizeof(spaced), "%s", chord);
	for (char *p = spaced; *p; p++)
		if (*p == '+' && p[1])
			*p = ' ';
	snprintf(m->text, sizeof(m->text), "hotkey(key='%s')", spaced);
}

static void wait_move(struct build *b, int ms)
{
	struct move *m = add_move(b, "wait");

	cJSON_AddNumberToObject(m->args, "ms", ms);
	snprintf(m->text, sizeof(m->text), "wait()");
}

static void fail_move(struct build *b, const char *reason)
{
	text_move(b, "fail", "reason", reason, "call_user(content='%s')");
}

/* Finds the step's target; on a miss, a wait (or a fail once waited
 * enough) takes the place of the moves.  Returns 0 when found. */
static int find_target(struct build *b, const struct ms_step *s, struct ms_found *f)
{
	struct ms_reply_ctx *ctx = b->ctx;
	struct dp_error err = { 0 };
	int step = ctx->pos.step, move = ctx->pos.move, waits = ctx->pos.waits;

	if (!ctx->screen) {
		fail_move(b, "I cannot read text on screenshots (this server was built without OCR)");
		return -1;
	}
	if (ms_screen_find(ctx->screen, ctx->image, s->target, s->kind == MS_STEP_TYPE_INTO, f, b->seen,
			   sizeof(b->seen), &err) == 0)
		return 0;
	/* Right after a zoom the text is looked for in the zoomed image; the
	 * screenshots after a wait are whole again, so the zoom comes again. */
	if (move == 1 && step > 1 && ctx->plan->steps[step - 2].kind == MS_STEP_ZOOM_AT) {
		step--;
		waits = ms_count_waits(ctx->messages, step, move);
	}
	if (waits < ctx->max_waits) {
		/* The next request tries this (or the zoom before it) again. */
		snprintf(b->marker, sizeof(b->marker), "[step %d.%d of %zu, waiting]", step, move, ctx->plan->n);
		snprintf(b->say, sizeof(b->say), "\"%s\" is not on the screen yet; waiting.", s->target);
		wait_move(b, MS_WAIT_MS);
	} else {
		snprintf(b->say, sizeof(b->say), "giving up on \"%s\".", s->target);
		fail_move(b, err.message);
	}
	return -1;
}

static void plan_moves(struct build *b)
{
	struct ms_reply_ctx *ctx = b->ctx;
	const struct ms_plan *plan = ctx->plan;
	const struct ms_step *s;
	struct ms_found f;
	bool all = !ctx->profile->text_actions; /* tools: every move of a step in one reply */

	if (plan->error[0] && plan->n == 0) {
		snprintf(b->say, sizeof(b->say), "I cannot follow the plan.");
		fail_move(b, plan->error);
		return;
	}
	if (ctx->pos.step > (int)plan->n) {
		const char *summary = "the plan is complete";

		for (size_t i = plan->n; i > 0; i--)
			if (plan->steps[i - 1].kind == MS_STEP_DONE) {
				summary = plan->steps[i - 1].text;
				break;
			}
		snprintf(b->say, sizeof(b->say), "Nothing is left to do.");
		text_move(b, "done", "summary", summary, "finished(content='%s')");
		return;
	}
	s = &plan->steps[ctx->pos.step - 1];
	switch (s->kind) {
	case MS_STEP_CLICK:
		if (find_target(b, s, &f) == 0) {
			snprintf(b->say, sizeof(b->say), "Clicking \"%s\".", s->target);
			click_move(b, f.x + f.width / 2, f.y + f.height / 2);
		}
		break;
	case MS_STEP_CLICK_AT:
		snprintf(b->say, sizeof(b->say), "Clicking at %.3f, %.3f of the screen.", s->fx, s->fy);
		click_move(b, s->fx * ctx->image->width, s->fy * ctx->image->height);
		break;
	case MS_STEP_TYPE_INTO:
		if (ctx->pos.move == 1 || all) {
			if (find_target(b, s, &f) < 0)
				break;
			/* The field sits right of its label: aim a little inside it. */
			snprintf(b->say, sizeof(b->say), "Typing into the field of \"%s\".", s->target);
			click_move(b, f.field_x >= 0 ? f.field_x + 2.5 * f.height : f.x + f.width + 4 * f.height,
				   f.y + f.height / 2);
		}
		if (ctx->pos.move == 2 || all) {
			if (!all)
				snprintf(b->say, sizeof(b->say), "Typing \"%.200s\".", s->text);
			text_move(b, "type", "text", s->text, "type(content='%s')");
		}
		break;
	case MS_STEP_TYPE:
		snprintf(b->say, sizeof(b->say), "Typing \"%.200s\".", s->text);
		text_move(b, "type", "text", s->text, "type(content='%s')");
		break;
	case MS_STEP_PRESS:
		snprintf(b->say, sizeof(b->say), "Pressing %s.", s->text);
		key_move(b, s->text);
		break;
	case MS_STEP_WAIT:
		snprintf(b->say, sizeof(b->say), "Waiting %d ms.", s->ms);
		wait_move(b, s->ms);
		break;
	case MS_STEP_ZOOM:
		if (find_target(b, s, &f) == 0) {
			struct move *m = add_move(b, "zoom");
			double w = f.width * 3 + 20, h = f.height * 5 + 20;
			double x0 = f.x + f.width / 2 - w / 2, y0 = f.y + f.height / 2 - h / 2;
			long zx, zy;

			x0 = x0 < 0 ? 0 : x0;
			y0 = y0 < 0 ? 0 : y0;
			zx = coord(ctx, x0, ctx->image->width);
			zy = coord(ctx, y0, ctx->image->height);
			snprintf(b->say, sizeof(b->say), "Zooming in on \"%s\".", s->target);
			cJSON_AddNumberToObject(m->args, "x", (double)zx);
			cJSON_AddNumberToObject(m->args, "y", (double)zy);
			cJSON_AddNumberToObject(m->args, "width",
						(double)(coord(ctx, x0 + w, ctx->image->width) - zx));
			cJSON_AddNumberToObject(m->args, "height",
						(double)(coord(ctx, y0 + h, ctx->image->height) - zy));
			snprintf(m->text, sizeof(m->text), "wait()");
		}
		break;
	case MS_STEP_ZOOM_AT: {
		struct move *m = add_move(b, "zoom");
		int32_t w = ctx->image->width, h = ctx->image->height;
		long zx = coord(ctx, s->fx * w, w), zy = coord(ctx, s->fy * h, h);

		snprintf(b->say, sizeof(b->say), "Zooming in to read the text.");
		cJSON_AddNumberToObject(m->args, "x", (double)zx);
		cJSON_AddNumberToObject(m->args, "y", (double)zy);
		cJSON_AddNumberToObject(m->args, "width", (double)(coord(ctx, (s->fx + s->fw) * w, w) - zx));
		cJSON_AddNumberToObject(m->args, "height", (double)(coord(ctx, (s->fy + s->fh) * h, h) - zy));
		snprintf(m->text, sizeof(m->text), "wait()");
		break;
	}
	case MS_STEP_ASK:
		snprintf(b->say, sizeof(b->say), "Asking the user.");
		text_move(b, "ask_user", "question", s->text, "call_user(content='%s')");
		break;
	case MS_STEP_DONE:
		snprintf(b->say, sizeof(b->say), "The task is done.");
		text_move(b, "done", "summary", s->text, "finished(content='%s')");
		break;
	case MS_STEP_FAIL:
		snprintf(b->say, sizeof(b->say), "Giving up.");
		fail_move(b, s->text);
		break;
	}
}

/* The deliberate faults that still look like a normal reply. */
static void broken_moves(struct build *b)
{
	struct ms_reply_ctx *ctx = b->ctx;
	int32_t w = ctx->image->width, h = ctx->image->height;
	struct move *m;

	switch (ctx->brk) {
	case MS_BREAK_ARG_STRING:
		m = add_move(b, "click");
		cJSON_AddStringToObject(m->args, "x", "the middle");
		cJSON_AddNumberToObject(m->args, "y", (double)coord(ctx, h / 2.0, h));
		snprintf(m->text, sizeof(m->text), "click(start_box='(the middle)')");
		snprintf(b->say, sizeof(b->say), "Clicking the middle.");
		break;
	case MS_BREAK_ARG_OUTSIDE: {
		long x = ctx->profile->coords == MS_COORDS_NORM1000 ? 1500 : (long)w + 400;

		m = add_move(b, "click");
		cJSON_AddNumberToObject(m->args, "x", (double)x);
		cJSON_AddNumberToObject(m->args, "y", (double)coord(ctx, h / 2.0, h));
		snprintf(m->text, sizeof(m->text), "click(start_box='(%ld,%ld)')", x, coord(ctx, h / 2.0, h));
		snprintf(b->say, sizeof(b->say), "Clicking right of the screen.");
		break;
	}
	case MS_BREAK_ENDLESS:
		snprintf(b->say, sizeof(b->say), "Clicking the middle again.");
		click_move(b, w / 2.0, h / 2.0);
		break;
	default:
		break;
	}
}

static cJSON *assemble(struct build *b)
{
	struct ms_reply_ctx *ctx = b->ctx;
	cJSON *msg = cJSON_CreateObject(), *calls = NULL;
	char content[2400];

	if (!msg)
		return NULL;
	cJSON_AddStringToObject(msg, "role", "assistant");
	if (ctx->brk == MS_BREAK_REFUSAL) {
		cJSON_AddStringToObject(msg, "content", "I'm sorry, but I can't help with that request.");
		return msg;
	}
	if (ctx->profile->text_actions) {
		snprintf(content, sizeof(content), "Thought: %s %s\nAction: %s", b->marker, b->say,
			 b->n_moves ? b->moves[0].text : "wait()");
		cJSON_AddStringToObject(msg, "content", content);
	} else {
		snprintf(content, sizeof(content), "%s %s", b->marker, b->say);
		cJSON_AddStringToObject(msg, "content", content);
		calls = cJSON_AddArrayToObject(msg, "tool_calls");
		for (int i = 0; i < b->n_moves; i++) {
			cJSON *call = cJSON_CreateObject(), *fn;
			char id[48], *args = cJSON_PrintUnformatted(b->moves[i].args);

			snprintf(id, sizeof(id), "call_%lu_%d", ctx->serial, i + 1);
			cJSON_AddStringToObject(call, "id", id);
			cJSON_AddStringToObject(call, "type", "function");
			fn = cJSON_AddObjectToObject(call, "function");
			cJSON_AddStringToObject(fn, "name", b->moves[i].tool);
			cJSON_AddStringToObject(fn, "arguments", args ? args : "{}");
			free(args);
			cJSON_AddItemToArray(calls, call);
		}
	}
	if (ctx->profile->thinking) {
		cJSON *details = cJSON_AddArrayToObject(msg, "reasoning_details"), *d = cJSON_CreateObject();
		char thought[1600];

		/* The reasoning names what is on the screen, read for it if the
		 * step itself looked for nothing. */
		if (!b->seen[0] && ctx->image && ctx->screen &&
		    ms_screen_summary(ctx->screen, ctx->image, b->seen, sizeof(b->seen), NULL) < 0)
			b->seen[0] = '\0';
		if (!ctx->image)
			snprintf(thought, sizeof(thought), "There is no screenshot to look at. %s", b->say);
		else if (b->seen[0])
			snprintf(thought, sizeof(thought), "The screenshot (%dx%d) shows %s. %s", ctx->image->width,
				 ctx->image->height, b->seen, b->say);
		else
			snprintf(thought, sizeof(thought), "I look at the %dx%d screenshot. %s", ctx->image->width,
				 ctx->image->height, b->say);
		cJSON_AddStringToObject(d, "type", "reasoning.text");
		cJSON_AddStringToObject(d, "text", thought);
		cJSON_AddItemToArray(details, d);
	}
	return msg;
}

cJSON *ms_reply_build(struct ms_reply_ctx *ctx)
{
	struct build b = { .ctx = ctx };
	cJSON *msg;

	if (ctx->brk == MS_BREAK_ENDLESS)
		snprintf(b.marker, sizeof(b.marker), "[step %d.1 of endless]", ctx->pos.step);
	else
		snprintf(b.marker, sizeof(b.marker), "[step %d.%d of %zu%s]", ctx->pos.step,
			 ctx->profile->text_actions || ctx->pos.step > (int)ctx->plan->n
				 ? ctx->pos.move
				 : ms_step_moves(&ctx->plan->steps[ctx->pos.step - 1]),
			 ctx->plan->n,
			 ctx->brk == MS_BREAK_ARG_STRING || ctx->brk == MS_BREAK_ARG_OUTSIDE ? ", again" : "");
	if (!ctx->image) {
		snprintf(b.say, sizeof(b.say), "I was sent no screenshot.");
		fail_move(&b, "the request has no screenshot to look at");
	} else if (ctx->brk == MS_BREAK_NONE) {
		plan_moves(&b);
	} else if (ctx->brk != MS_BREAK_REFUSAL) {
		broken_moves(&b);
	}
	msg = assemble(&b);
	for (int i = 0; i < b.n_moves; i++)
		cJSON_Delete(b.moves[i].args);
	return msg;
}

cJSON *ms_reply_verdict(const struct ms_profile *p, bool done, const char *reason, unsigned long serial)
{
	cJSON *msg = cJSON_CreateObject(), *calls, *call, *fn, *args;
	char text[700], id[48], *json;

	if (!msg)
		return NULL;
	cJSON_AddStringToObject(msg, "role", "assistant");
	if (p->text_actions) {
		snprintf(text, sizeof(text), done ? "YES" : "NO: %s", reason);
		cJSON_AddStringToObject(msg, "content", text);
		return msg;
	}
	cJSON_AddStringToObject(msg, "content", done ? "The task is done." : "The task is not done.");
	calls = cJSON_AddArrayToObject(msg, "tool_calls");
	call = cJSON_CreateObject();
	snprintf(id, sizeof(id), "call_%lu_1", serial);
	cJSON_AddStringToObject(call, "id", id);
	cJSON_AddStringToObject(call, "type", "function");
	fn = cJSON_AddObjectToObject(call, "function");
	cJSON_AddStringToObject(fn, "name", "verdict");
	args = cJSON_CreateObject();
	cJSON_AddBoolToObject(args, "done", done);
	cJSON_AddStringToObject(args, "reason", reason);
	json = cJSON_PrintUnformatted(args);
	cJSON_AddStringToObject(fn, "arguments", json ? json : "{}");
	free(json);
	cJSON_Delete(args);
	cJSON_AddItemToArray(calls, call);
	return msg;
}
