#define DP_LOG_SUBSYS "flow"

#include "policies/flow/flow_policy.h"

#include <errno.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/clock.h"
#include "engine/locate.h"
#include "engine/log.h"
#include "engine/ocr.h"
#include "policies/flow/csv.h"
#include "policies/flow/flow.h"

#define MAX_FRAMES 32
#define MAX_VARS 64

enum frame_kind { FRAME_SEQ, FRAME_EACH, FRAME_RETRY, FRAME_IF, FRAME_RECOVER };

struct frame {
	enum frame_kind kind;
	const struct flow_step *owner; /* NULL at the top */
	const struct flow_block *block;
	size_t pc;
	size_t row;   /* FRAME_EACH */
	int attempt;  /* FRAME_RETRY: 1-based */
};

struct var {
	char *name, *value;
};

struct template_entry {
	char *path;
	struct dp_template *t;
};

struct flow_policy {
	struct dp_policy base;
	struct flow flow;
	struct dp_csv csv;
	bool has_csv;
	char *csv_path;
	struct dp_ocr *ocr;
	struct dp_actuator *actuator;
	struct frame stack[MAX_FRAMES];
	size_t depth;
	struct var vars[MAX_VARS];
	size_t n_vars;
	struct template_entry templates[16];
	size_t n_templates;
	const struct flow_step *waiting; /* the wait_for in progress */
	bool last_no_effect;             /* the last action of the last step changed nothing */
	int64_t wait_started_ns;
	size_t rows_done, rows_skipped;
	char skipped[1024];
	char notes[2048];                /* what this decision does, for the trajectory */
};

static struct flow_policy *of(struct dp_policy *p)
{
	return (struct flow_policy *)p;
}

static void note(struct flow_policy *fp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(struct flow_policy *fp, const char *fmt, ...)
{
	size_t len = strlen(fp->notes);
	va_list ap;

	if (len && len + 2 < sizeof(fp->notes))
		strcat(fp->notes, "\n");
	len = strlen(fp->notes);
	va_start(ap, fmt);
	vsnprintf(fp->notes + len, sizeof(fp->notes) - len, fmt, ap);
	va_end(ap);
}

/* --- variables ----------------------------------------------------------- */

static const struct frame *current_row(const struct flow_policy *fp)
{
	for (size_t i = fp->depth; i-- > 0;)
		if (fp->stack[i].kind == FRAME_EACH)
			return &fp->stack[i];
	return NULL;
}

static const char *var_value(const struct flow_policy *fp, const char *name)
{
	for (size_t i = fp->n_vars; i-- > 0;)
		if (strcmp(fp->vars[i].name, name) == 0)
			return fp->vars[i].value;
	return NULL;
}

static int set_var(struct flow_policy *fp, const char *name, const char *value)
{
	for (size_t i = 0; i < fp->n_vars; i++) {
		if (strcmp(fp->vars[i].name, name) == 0) {
			char *copy = strdup(value);

			if (!copy)
				return -ENOMEM;
			free(fp->vars[i].value);
			fp->vars[i].value = copy;
			return 0;
		}
	}
	if (fp->n_vars == MAX_VARS)
		return -E2BIG;
	fp->vars[fp->n_vars].name = strdup(name);
	fp->vars[fp->n_vars].value = strdup(value);
	fp->n_vars++;
	return 0;
}

/* Replaces ${name} and ${row.column}; {{secret:...}} stays for the loop. */
static int substitute(const struct flow_policy *fp, const char *in, char *out, size_t size, struct dp_error *err)
{
	size_t len = 0;

	for (const char *p = in; *p;) {
		const char *value = NULL, *close;
		char name[128];
		size_t n;

		if (p[0] != '$' || p[1] != '{') {
			if (len + 1 >= size)
				return dp_error_set(err, -E2BIG, "text longer than %zu bytes after substitution", size);
			out[len++] = *p++;
			continue;
		}
		close = strchr(p, '}');
		n = close ? (size_t)(close - p - 2) : 0;
		if (!close || n == 0 || n >= sizeof(name))
			return dp_error_set(err, -EINVAL, "'%s': a ${...} is not closed", in);
		memcpy(name, p + 2, n);
		name[n] = '\0';
		if (strncmp(name, "row.", 4) == 0) {
			const struct frame *row = current_row(fp);
			int col = fp->has_csv ? dp_csv_column(&fp->csv, name + 4) : -1;

			if (!row || col < 0)
				return dp_error_set(err, -EINVAL, "${%s} is used outside a for_each over rows", name);
			value = fp->csv.rows[row->row][col];
		} else {
			value = var_value(fp, name);
			if (!value)
				return dp_error_set(err, -EINVAL, "${%s}: no such variable", name);
		}
		if (len + strlen(value) >= size)
			return dp_error_set(err, -E2BIG, "text longer than %zu bytes after substitution", size);
		memcpy(out + len, value, strlen(value));
		len += strlen(value);
		p = close + 1;
	}
	out[len] = '\0';
	return 0;
}

/* --- finding targets ----------------------------------------------------- */

static struct dp_template *template_for(struct flow_policy *fp, const char *image, struct dp_error *err)
{
	char path[4096];

	for (size_t i = 0; i < fp->n_templates; i++)
		if (strcmp(fp->templates[i].path, image) == 0)
			return fp->templates[i].t;
	if (fp->n_templates == sizeof(fp->templates) / sizeof(fp->templates[0])) {
		dp_error_set(err, -E2BIG, "a flow may use at most 16 images");
		return NULL;
	}
	snprintf(path, sizeof(path), "%s%s%s", image[0] == '/' ? "" : fp->flow.dir, image[0] == '/' ? "" : "/", image);
	if (dp_template_load(&fp->templates[fp->n_templates].t, path, err) < 0)
		return NULL;
	fp->templates[fp->n_templates].path = strdup(image);
	return fp->templates[fp->n_templates++].t;
}

/* Where the locator points on this frame: the centre of what it found,
 * plus its offset.  The found box goes to *box when asked for. */
static int resolve(struct flow_policy *fp, const struct flow_locator *loc, const struct dp_frame *frame,
		   struct dp_point *point, struct dp_rect *box, struct dp_match *found, struct dp_error *err)
{
	struct dp_match m = { 0 };
	char text[1024];
	int r;

	switch (loc->kind) {
	case FLOW_LOC_TEXT: {
		struct dp_text_query q = { .text = text, .nth = loc->nth, .has_region = loc->has_region,
					   .region = loc->region };

		if ((r = substitute(fp, loc->text, text, sizeof(text), err)) < 0)
			return r;
		q.match = loc->match == FLOW_MATCH_REGEX ? DP_MATCH_REGEX
			  : loc->match == FLOW_MATCH_ICASE ? DP_MATCH_ICASE : DP_MATCH_EXACT;
		if ((r = dp_locate_text(fp->ocr, frame, &q, &m, err)) < 0)
			return r;
		break;
	}
	case FLOW_LOC_IMAGE: {
		struct dp_template *t = template_for(fp, loc->image, err);

		if (!t)
			return -ENOENT;
		if ((r = dp_locate_template(frame, t, loc->threshold, loc->has_region ? &loc->region : NULL, &m, err)) < 0)
			return r;
		break;
	}
	case FLOW_LOC_POINT: {
		struct dp_window_match wm = { .title = loc->window };
		struct dp_window_info w;
		size_t n = 0;

		m.box = (struct dp_rect){ loc->x, loc->y, 1, 1 };
		if (loc->window) {
			if (!fp->actuator || dp_actuator_windows(fp->actuator, &wm, &w, 1, &n, err) < 0 || n == 0)
				return err && err->code ? err->code
							: dp_error_set(err, -ENOENT, "no window's title matches '%s'", loc->window);
			m.box.x += w.geometry.x;
			m.box.y += w.geometry.y;
		}
		break;
	}
	case FLOW_LOC_NONE:
		return dp_error_set(err, -EINVAL, "no target given");
	}
	point->x = m.box.x + m.box.width / 2 + loc->dx;
	point->y = m.box.y + m.box.height / 2 + loc->dy;
	if (box)
		*box = m.box;
	if (found)
		*found = m;
	return 0;
}

static bool present(struct flow_policy *fp, const struct flow_locator *loc, const struct dp_frame *frame,
		    struct dp_error *err)
{
	struct dp_point p;

	return resolve(fp, loc, frame, &p, NULL, NULL, err) == 0;
}

/* --- actions ------------------------------------------------------------- */

static int add_action(struct dp_decision *d, struct dp_error *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Builds an action from JSON text (so every action goes through the one
 * parser and its checks). */
static int add_action(struct dp_decision *d, struct dp_error *err, const char *fmt, ...)
{
	char json[8192];
	va_list ap;
	int n;

	if (d->n_actions == DP_DECISION_MAX_ACTIONS)
		return dp_error_set(err, -E2BIG, "more than %d actions in one step", DP_DECISION_MAX_ACTIONS);
	va_start(ap, fmt);
	n = vsnprintf(json, sizeof(json), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(json))
		return dp_error_set(err, -E2BIG, "an action longer than %zu bytes", sizeof(json));
	if (dp_action_parse(json, (size_t)n, &d->actions[d->n_actions], err) < 0)
		return -EINVAL;
	d->n_actions++;
	return 0;
}

/* JSON string contents for text: quotes, backslashes, control characters. */
static void json_escape(const char *in, char *out, size_t size)
{
	size_t len = 0;

	for (const unsigned char *p = (const unsigned char *)in; *p && len + 7 < size; p++) {
		if (*p == '"' || *p == '\\') {
			out[len++] = '\\';
			out[len++] = (char)*p;
		} else if (*p < 0x20) {
			len += (size_t)snprintf(out + len, size - len, "\\u%04x", *p);
		} else {
			out[len++] = (char)*p;
		}
	}
	out[len] = '\0';
}

static int add_click(struct dp_decision *d, enum flow_step_kind kind, struct dp_point p, struct dp_error *err)
{
	return add_action(d, err, "{\"action\":\"click\",\"x\":%d,\"y\":%d,\"button\":\"%s\",\"count\":%d}", p.x, p.y,
			  kind == FLOW_RIGHT_CLICK ? "right" : "left", kind == FLOW_DOUBLE_CLICK ? 2 : 1);
}

static int add_type(struct flow_policy *fp, struct dp_decision *d, const char *text, struct dp_error *err)
{
	char value[4096], escaped[8192];
	int r = substitute(fp, text, value, sizeof(value), err);

	if (r < 0)
		return r;
	json_escape(value, escaped, sizeof(escaped));
	return add_action(d, err, "{\"action\":\"type\",\"text\":\"%s\"}", escaped);
}

static int add_key(struct flow_policy *fp, struct dp_decision *d, const char *keys, struct dp_error *err)
{
	char value[256], escaped[512];
	int r = substitute(fp, keys, value, sizeof(value), err);

	if (r < 0)
		return r;
	json_escape(value, escaped, sizeof(escaped));
	return add_action(d, err, "{\"action\":\"key\",\"keys\":\"%s\"}", escaped);
}

/* --- the interpreter ----------------------------------------------------- */

static int push(struct flow_policy *fp, enum frame_kind kind, const struct flow_step *owner,
		const struct flow_block *block, struct dp_error *err)
{
	if (fp->depth == MAX_FRAMES)
		return dp_error_set(err, -E2BIG, "blocks nest too deep");
	fp->stack[fp->depth++] = (struct frame){ .kind = kind, .owner = owner, .block = block, .attempt = 1 };
	return 0;
}

/* A block ran to its end. */
static void end_block(struct flow_policy *fp)
{
	struct frame *fr = &fp->stack[fp->depth - 1];

	if (fr->kind == FRAME_EACH) {
		fp->rows_done++;
		if (++fr->row < fp->csv.n_rows) {
			fr->pc = 0;
			return;
		}
	}
	fp->depth--;
}

enum outcome { GO_ON, ACTED, FAILED };

/* An error in a step: the nearest retry block tries again, or a for_each
 * with on_error "skip" moves on to the next row; otherwise the task fails. */
static enum outcome on_error(struct flow_policy *fp, const struct flow_step *st, const char *why,
			     struct dp_decision *d, struct dp_error *err)
{
	for (size_t i = fp->depth; i-- > 0;) {
		struct frame *fr = &fp->stack[i];

		if (fr->kind == FRAME_RETRY && fr->attempt < fr->owner->times) {
			fp->depth = i + 1;
			fr->attempt++;
			fr->pc = 0;
			fp->waiting = NULL;
			note(fp, "%s: %s; trying again (attempt %d of %d)", st->path, why, fr->attempt, fr->owner->times);
			if (fr->owner->backoff_ms)
				return add_action(d, err, "{\"action\":\"wait\",\"ms\":%d}", fr->owner->backoff_ms) < 0 ? FAILED
															  : ACTED;
			return GO_ON;
		}
		if (fr->kind == FRAME_EACH && fr->owner->skip_errors) {
			size_t len = strlen(fp->skipped);

			snprintf(fp->skipped + len, sizeof(fp->skipped) - len, "%srow %zu (line %d)", len ? ", " : "",
				 fr->row + 1, fp->csv.row_lines[fr->row]);
			note(fp, "%s: %s; skipping row %zu (CSV line %d)", st->path, why, fr->row + 1,
			     fp->csv.row_lines[fr->row]);
			fp->rows_skipped++;
			fp->rows_done--; /* end_block counts it as done */
			fp->depth = i + 1;
			fp->waiting = NULL;
			end_block(fp);
			if (fr->owner->other.n && push(fp, FRAME_RECOVER, fr->owner, &fr->owner->other, err) < 0)
				return FAILED;
			return GO_ON;
		}
	}
	{
		char reason[900], escaped[1800];

		snprintf(reason, sizeof(reason), "%s: %s", st->path, why);
		json_escape(reason, escaped, sizeof(escaped));
		note(fp, "%s", reason);
		return add_action(d, err, "{\"action\":\"fail\",\"reason\":\"%s\"}", escaped) < 0 ? FAILED : ACTED;
	}
}

static bool window_title_present(struct flow_policy *fp, const char *regex_text, struct dp_error *err)
{
	struct dp_window_match m = { .title = (char *)regex_text };
	struct dp_window_info w;
	size_t n = 0;

	return fp->actuator && dp_actuator_windows(fp->actuator, &m, &w, 1, &n, err) == 0 && n > 0;
}

/* Reads text off the screen into a variable: all text in a region, or the
 * first group of a regex locator's match. */
static int read_variable(struct flow_policy *fp, const struct flow_step *st, const struct dp_frame *frame,
			 struct dp_error *err)
{
	struct dp_match m;
	struct dp_point p;
	char value[512] = "";
	int r;

	if (st->loc.kind == FLOW_LOC_NONE) {
		struct dp_ocr_result res = { 0 };

		r = dp_ocr_read(fp->ocr, frame, &st->loc.region, &res, err);
		/* The lines joined by spaces, cut at the buffer's end. */
		size_t len = 0;

		for (size_t i = 0; r == 0 && i < res.n_lines; i++) {
			size_t n = strlen(res.lines[i].text);

			if (i && len + 1 < sizeof(value))
				value[len++] = ' ';
			if (n > sizeof(value) - 1 - len)
				n = sizeof(value) - 1 - len;
			memcpy(value + len, res.lines[i].text, n);
			len += n;
		}
		value[len] = '\0';
		dp_ocr_result_clear(&res);
	} else {
		r = resolve(fp, &st->loc, frame, &p, NULL, &m, err);
		if (r == 0 && st->loc.match == FLOW_MATCH_REGEX) {
			regex_t re;
			regmatch_t g[2];

			if (regcomp(&re, st->loc.text, REG_EXTENDED) == 0) {
				if (regexec(&re, m.text, 2, g, 0) == 0 && g[1].rm_so >= 0)
					snprintf(value, sizeof(value), "%.*s", (int)(g[1].rm_eo - g[1].rm_so), m.text + g[1].rm_so);
				else
					snprintf(value, sizeof(value), "%s", m.text);
				regfree(&re);
			}
		} else if (r == 0) {
			snprintf(value, sizeof(value), "%s", m.text);
		}
	}
	if (r < 0)
		return r;
	note(fp, "%s: %s = \"%s\"", st->path, st->text, value);
	return set_var(fp, st->text, value);
}

/* Runs step st.  Actions it takes go into d. */
static enum outcome run_step(struct flow_policy *fp, const struct flow_step *st, const struct dp_observation *obs,
			     struct dp_decision *d, struct dp_error *err)
{
	struct frame *fr = &fp->stack[fp->depth - 1];
	struct dp_point p;
	bool found;

	dp_error_clear(err);
	switch (st->kind) {
	case FLOW_CLICK:
	case FLOW_DOUBLE_CLICK:
	case FLOW_RIGHT_CLICK:
		if (resolve(fp, &st->loc, obs->frame, &p, NULL, NULL, err) < 0 || add_click(d, st->kind, p, err) < 0)
			return FAILED;
		note(fp, "%s: %s at (%d, %d)", st->path, st->kind == FLOW_CLICK ? "click" : st->kind == FLOW_DOUBLE_CLICK
			   ? "double click" : "right click", p.x, p.y);
		fr->pc++;
		return ACTED;
	case FLOW_TYPE:
		if (st->loc.kind != FLOW_LOC_NONE &&
		    (resolve(fp, &st->loc, obs->frame, &p, NULL, NULL, err) < 0 || add_click(d, FLOW_CLICK, p, err) < 0))
			return FAILED;
		/* replace: select what the field holds, so the text takes its place. */
		if (st->replace && add_key(fp, d, "ctrl+a", err) < 0)
			return FAILED;
		if (add_type(fp, d, st->text, err) < 0)
			return FAILED;
		note(fp, "%s: type", st->path);
		fr->pc++;
		return ACTED;
	case FLOW_KEY:
		if (add_key(fp, d, st->text, err) < 0)
			return FAILED;
		fr->pc++;
		return ACTED;
	case FLOW_WAIT_FOR: {
		struct dp_error look = { 0 };

		if (st->screen != FLOW_SCREEN_NONE) {
			/* One wait action; the next look tells how it went. */
			if (fp->waiting != st) {
				fp->waiting = st;
				note(fp, "%s: waiting for the screen to %s", st->path,
				     st->screen == FLOW_SCREEN_CHANGES ? "change" : "settle");
				return add_action(d, err, "{\"action\":\"wait\",\"ms\":%d,\"until\":\"%s\"}", st->timeout_ms,
						  st->screen == FLOW_SCREEN_CHANGES ? "change" : "quiet") < 0 ? FAILED : ACTED;
			}
			fp->waiting = NULL;
			if (st->screen == FLOW_SCREEN_CHANGES && fp->last_no_effect)
				return dp_error_set(err, -ETIMEDOUT, "the screen did not change within %d ms", st->timeout_ms),
				       FAILED;
			fr->pc++;
			return GO_ON;
		}

		found = present(fp, &st->loc, obs->frame, &look);
		if (found != st->vanish) {
			fp->waiting = NULL;
			fr->pc++;
			return GO_ON;
		}
		if (fp->waiting != st) {
			fp->waiting = st;
			fp->wait_started_ns = dp_now_ns();
		}
		if (dp_now_ns() - fp->wait_started_ns > (int64_t)st->timeout_ms * DP_NSEC_PER_MSEC) {
			fp->waiting = NULL;
			return dp_error_set(err, -ETIMEDOUT, "waited %d ms for the target to %s%s%s", st->timeout_ms,
					    st->vanish ? "vanish" : "appear", look.message[0] ? ": " : "", look.message),
			       FAILED;
		}
		note(fp, "%s: waiting for the target to %s", st->path, st->vanish ? "vanish" : "appear");
		/* Look again as soon as the screen has changed (or at the
		 * deadline): one loop step per change, not per poll. */
		{
			int64_t left_ms = (int64_t)st->timeout_ms - (dp_now_ns() - fp->wait_started_ns) / DP_NSEC_PER_MSEC;

			return add_action(d, err, "{\"action\":\"wait\",\"ms\":%d,\"until\":\"change\"}",
					  (int)(left_ms < 1 ? 1 : left_ms > 60000 ? 60000 : left_ms)) < 0 ? FAILED : ACTED;
		}
	}
	case FLOW_EXPECT:
		found = st->text ? window_title_present(fp, st->text, err) : present(fp, &st->loc, obs->frame, err);
		if (!found) {
			if (st->text)
				dp_error_set(err, -ENOENT, "expected a window titled like '%s'", st->text);
			return FAILED;
		}
		fr->pc++;
		return GO_ON;
	case FLOW_WINDOW: {
		char json[2048];

		if (substitute(fp, st->window_json, json, sizeof(json), err) < 0)
			return FAILED;
		/* The flow's window object is an action without its "action". */
		if (add_action(d, err, "{\"action\":\"window\",%s", json + 1) < 0)
			return FAILED;
		fr->pc++;
		return ACTED;
	}
	case FLOW_LAUNCH: {
		char argv_json[4096] = "", value[1024], escaped[2048];

		for (size_t i = 0; st->argv[i]; i++) {
			if (substitute(fp, st->argv[i], value, sizeof(value), err) < 0)
				return FAILED;
			json_escape(value, escaped, sizeof(escaped));
			snprintf(argv_json + strlen(argv_json), sizeof(argv_json) - strlen(argv_json), "%s\"%s\"",
				 i ? "," : "", escaped);
		}
		if (add_action(d, err, "{\"action\":\"launch\",\"argv\":[%s]}", argv_json) < 0)
			return FAILED;
		fr->pc++;
		return ACTED;
	}
	case FLOW_FOR_EACH:
		fr->pc++;
		if (!fp->has_csv || fp->csv.n_rows == 0)
			return GO_ON;
		return push(fp, FRAME_EACH, st, &st->body, err) < 0 ? FAILED : GO_ON;
	case FLOW_IF_PRESENT: {
		struct dp_error look = { 0 };

		found = present(fp, &st->loc, obs->frame, &look);
		fr->pc++;
		if (found || st->other.n)
			return push(fp, FRAME_IF, st, found ? &st->body : &st->other, err) < 0 ? FAILED : GO_ON;
		return GO_ON;
	}
	case FLOW_IF: {
		char a[1024], b[1024];

		if (substitute(fp, st->equals[0], a, sizeof(a), err) < 0 || substitute(fp, st->equals[1], b, sizeof(b), err) < 0)
			return FAILED;
		found = strcmp(a, b) == 0;
		fr->pc++;
		if (found || st->other.n)
			return push(fp, FRAME_IF, st, found ? &st->body : &st->other, err) < 0 ? FAILED : GO_ON;
		return GO_ON;
	}
	case FLOW_RETRY:
		fr->pc++;
		return push(fp, FRAME_RETRY, st, &st->body, err) < 0 ? FAILED : GO_ON;
	case FLOW_SET:
		if (read_variable(fp, st, obs->frame, err) < 0)
			return FAILED;
		fr->pc++;
		return GO_ON;
	case FLOW_FAIL: {
		char why[512];

		if (substitute(fp, st->text, why, sizeof(why), err) == 0)
			dp_error_set(err, -ECANCELED, "%s", why);
		return FAILED;
	}
	case FLOW_NOTE: {
		char text[512];

		if (substitute(fp, st->text, text, sizeof(text), err) < 0)
			return FAILED;
		note(fp, "%s", text);
		fr->pc++;
		return GO_ON;
	}
	}
	return FAILED;
}

/* Steps that need no look at the screen (type without a target, key) go
 * along with the action step before them, in the same loop step; an `if`
 * on values (not on the screen) is decided on the way. */
static bool rides_along(struct flow_policy *fp, struct dp_error *err)
{
	for (;;) {
		struct frame *fr = &fp->stack[fp->depth - 1];
		const struct flow_step *next;

		if (fr->pc >= fr->block->n) {
			if (fr->kind != FRAME_IF || fp->depth < 2)
				return false;
			fp->depth--; /* an if-block ran out: go on after it */
			continue;
		}
		next = &fr->block->steps[fr->pc];
		if (next->kind == FLOW_IF) {
			char a[1024], b[1024];
			bool equal;

			if (substitute(fp, next->equals[0], a, sizeof(a), err) < 0 ||
			    substitute(fp, next->equals[1], b, sizeof(b), err) < 0)
				return false;
			equal = strcmp(a, b) == 0;
			fr->pc++;
			if ((equal || next->other.n) && push(fp, FRAME_IF, next, equal ? &next->body : &next->other, err) < 0)
				return false;
			continue;
		}
		return next->kind == FLOW_KEY || (next->kind == FLOW_TYPE && next->loc.kind == FLOW_LOC_NONE);
	}
}

static int decide(struct dp_policy *policy, const struct dp_observation *obs, struct dp_decision *d,
		  struct dp_error *err)
{
	struct flow_policy *fp = of(policy);
	struct dp_error step_err = { 0 };

	fp->notes[0] = '\0';
	/* Bounded: a flow whose looking steps never act cannot spin here. */
	for (int guard = 0; guard < 10000; guard++) {
		const struct flow_step *st;
		struct frame *fr;
		enum outcome o;

		if (fp->depth == 0) {
			char summary[1200];

			dp_flow_policy_summary(policy, summary, sizeof(summary));
			note(fp, "%s", summary);
			d->reasoning = strdup(fp->notes);
			json_escape(summary, fp->notes, sizeof(fp->notes));
			return add_action(d, err, "{\"action\":\"done\",\"summary\":\"%s\"}", fp->notes);
		}
		fr = &fp->stack[fp->depth - 1];
		if (fr->pc >= fr->block->n) {
			end_block(fp);
			continue;
		}
		st = &fr->block->steps[fr->pc];
		o = run_step(fp, st, obs, d, &step_err);
		if (o == FAILED) {
			dp_decision_clear(d);
			o = on_error(fp, st, step_err.message, d, err);
			if (o == FAILED)
				return err->code ? err->code : -EINVAL;
		}
		if (o == ACTED) {
			while (d->n_actions && d->actions[d->n_actions - 1].type != DP_ACTION_WAIT &&
			       d->actions[d->n_actions - 1].type != DP_ACTION_FAIL && rides_along(fp, &step_err) &&
			       d->n_actions < DP_DECISION_MAX_ACTIONS) {
				st = &fp->stack[fp->depth - 1].block->steps[fp->stack[fp->depth - 1].pc];
				if (run_step(fp, st, obs, d, &step_err) == FAILED) {
					dp_decision_clear(d);
					if (on_error(fp, st, step_err.message, d, err) == FAILED)
						return err->code ? err->code : -EINVAL;
					break;
				}
			}
			d->reasoning = strdup(fp->notes);
			return 0;
		}
	}
	return dp_error_set(err, -ELOOP, "the flow went round 10000 steps without acting: check its if_present blocks");
}

void dp_flow_policy_summary(const struct dp_policy *policy, char *buf, size_t size)
{
	const struct flow_policy *fp = (const struct flow_policy *)policy;

	if (!fp->has_csv) {
		snprintf(buf, size, "the flow ran to its end");
		return;
	}
	snprintf(buf, size, "%zu of %zu rows entered", fp->rows_done, fp->csv.n_rows);
	if (fp->rows_skipped)
		snprintf(buf + strlen(buf), size - strlen(buf), "; %zu skipped: %s", fp->rows_skipped, fp->skipped);
}

static void feedback(struct dp_policy *policy, const struct dp_feedback *fb)
{
	struct flow_policy *fp = of(policy);

	fp->last_no_effect = fb->n_actions && fb->actions[fb->n_actions - 1].verdict == DP_VERDICT_NO_EFFECT;
}

static void destroy(struct dp_policy *policy)
{
	struct flow_policy *fp = of(policy);

	for (size_t i = 0; i < fp->n_vars; i++) {
		free(fp->vars[i].name);
		free(fp->vars[i].value);
	}
	for (size_t i = 0; i < fp->n_templates; i++) {
		free(fp->templates[i].path);
		dp_template_destroy(fp->templates[i].t);
	}
	dp_ocr_destroy(fp->ocr);
	if (fp->has_csv)
		dp_csv_clear(&fp->csv);
	free(fp->csv_path);
	flow_free(&fp->flow);
	free(fp);
}

static const struct dp_policy_impl flow_impl = {
	.name = "flow",
	.decide = decide,
	.feedback = feedback,
	.destroy = destroy,
};

/* --- checks before anything runs ----------------------------------------- */

static int check_text(const struct flow_policy *fp, const char *text, const char *path, bool in_rows,
		      struct dp_error *err)
{
	for (const char *p = text ? strstr(text, "${") : NULL; p; p = strstr(p + 2, "${")) {
		const char *close = strchr(p, '}');
		char name[128];
		size_t n = close ? (size_t)(close - p - 2) : 0;

		if (!close || n == 0 || n >= sizeof(name))
			return dp_error_set(err, -EINVAL, "%s: a ${...} is not closed", path);
		memcpy(name, p + 2, n);
		name[n] = '\0';
		if (strncmp(name, "row.", 4) == 0) {
			if (!in_rows)
				return dp_error_set(err, -EINVAL, "%s: ${%s} is used outside a for_each over rows", path, name);
			if (!fp->has_csv)
				return dp_error_set(err, -EINVAL, "%s: ${%s} needs CSV data: give the flow \"data\" or --data",
						    path, name);
			if (dp_csv_column(&fp->csv, name + 4) < 0) {
				char cols[256] = "";

				for (size_t i = 0; i < fp->csv.n_columns; i++)
					snprintf(cols + strlen(cols), sizeof(cols) - strlen(cols), "%s%s", i ? ", " : "",
						 fp->csv.columns[i]);
				return dp_error_set(err, -EINVAL, "%s: ${%s}: the CSV %s has no column '%s' (it has: %s)",
						    path, name, fp->csv_path, name + 4, cols);
			}
		}
	}
	return 0;
}

static bool is_set_anywhere(const struct flow_block *b, const char *name)
{
	for (size_t i = 0; i < b->n; i++) {
		if (b->steps[i].kind == FLOW_SET && strcmp(b->steps[i].text, name) == 0)
			return true;
		if (is_set_anywhere(&b->steps[i].body, name) || is_set_anywhere(&b->steps[i].other, name))
			return true;
	}
	return false;
}

static int check_block(const struct flow_policy *fp, const struct flow_block *b, bool in_rows, struct dp_error *err)
{
	for (size_t i = 0; i < b->n; i++) {
		const struct flow_step *s = &b->steps[i];
		int r = check_text(fp, s->loc.text, s->path, in_rows, err);

		if (r == 0 && s->kind != FLOW_SET)
			r = check_text(fp, s->text, s->path, in_rows, err);
		if (r == 0)
			r = check_text(fp, s->window_json, s->path, in_rows, err);
		for (size_t j = 0; r == 0 && j < 2; j++)
			r = check_text(fp, s->equals[j], s->path, in_rows, err);
		for (size_t j = 0; r == 0 && s->argv && s->argv[j]; j++)
			r = check_text(fp, s->argv[j], s->path, in_rows, err);
		if (r == 0)
			r = check_block(fp, &s->body, in_rows || s->kind == FLOW_FOR_EACH, err);
		if (r == 0)
			r = check_block(fp, &s->other, in_rows || s->kind == FLOW_FOR_EACH, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int check_vars(const struct flow_policy *fp, const struct flow_block *b, struct dp_error *err)
{
	for (size_t i = 0; i < b->n; i++) {
		const struct flow_step *s = &b->steps[i];
		const char *texts[] = { s->loc.text, s->kind == FLOW_SET ? NULL : s->text, s->window_json };

		for (size_t t = 0; t < 3; t++) {
			for (const char *p = texts[t] ? strstr(texts[t], "${") : NULL; p; p = strstr(p + 2, "${")) {
				const char *close = strchr(p, '}');
				char name[128];
				size_t n = close ? (size_t)(close - p - 2) : 0;

				if (!close || n == 0 || n >= sizeof(name) || strncmp(p + 2, "row.", 4) == 0)
					continue;
				memcpy(name, p + 2, n);
				name[n] = '\0';
				if (!var_value(fp, name) && !is_set_anywhere(&fp->flow.steps, name))
					return dp_error_set(err, -EINVAL, "%s: ${%s}: no such variable (give it in the flow's "
									   "\"variables\", with --var %s=VALUE, or set it)",
							    s->path, name, name);
			}
		}
		if (check_vars(fp, &s->body, err) < 0 || check_vars(fp, &s->other, err) < 0)
			return -EINVAL;
	}
	return 0;
}

int dp_flow_policy_create(struct dp_policy **out, const struct dp_flow_options *o, struct dp_error *err)
{
	struct flow_policy *fp = calloc(1, sizeof(*fp));
	const char *data;
	int r;

	if (!fp)
		return dp_error_set(err, -ENOMEM, "out of memory");
	fp->base.impl = &flow_impl;
	fp->actuator = o->actuator;
	r = flow_load(o->flow_path, &fp->flow, err);
	if (r < 0) {
		free(fp);
		return r;
	}
	for (size_t i = 0; r == 0 && i < fp->flow.n_vars; i++)
		r = set_var(fp, fp->flow.vars[i].name, fp->flow.vars[i].value);
	for (size_t i = 0; r == 0 && o->vars && o->vars[i]; i++) {
		char name[128];
		const char *eq = strchr(o->vars[i], '=');

		if (!eq || eq == o->vars[i] || (size_t)(eq - o->vars[i]) >= sizeof(name)) {
			r = dp_error_set(err, -EINVAL, "--var %s: write NAME=VALUE", o->vars[i]);
			break;
		}
		snprintf(name, sizeof(name), "%.*s", (int)(eq - o->vars[i]), o->vars[i]);
		r = set_var(fp, name, eq + 1);
	}
	data = o->data_path ? o->data_path : fp->flow.data;
	if (r == 0 && data) {
		char path[4096];

		if (o->data_path || data[0] == '/')
			snprintf(path, sizeof(path), "%s", data);
		else
			snprintf(path, sizeof(path), "%s/%s", fp->flow.dir, data);
		fp->csv_path = strdup(path);
		r = dp_csv_read(path, &fp->csv, err);
		fp->has_csv = r == 0;
	}
	if (r == 0)
		r = check_block(fp, &fp->flow.steps, false, err);
	if (r == 0)
		r = check_vars(fp, &fp->flow.steps, err);
	if (r == 0 && fp->flow.uses_text)
		r = dp_ocr_create(&fp->ocr, NULL, err);
	if (r == 0)
		r = push(fp, FRAME_SEQ, NULL, &fp->flow.steps, err);
	if (r < 0) {
		destroy(&fp->base);
		return r;
	}
	*out = &fp->base;
	return 0;
}
