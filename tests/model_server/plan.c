#include "plan.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *skip_space(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* A quoted string at p into out; returns the position after it, or NULL. */
static const char *quoted(const char *p, char *out, size_t size)
{
	size_t len = 0;

	p = skip_space(p);
	if (*p++ != '"')
		return NULL;
	while (*p && *p != '"' && *p != '\n') {
		char c = *p++;

		if (c == '\\') {
			c = *p++;
			if (c == 'n')
				c = '\n';
			else if (c == 't')
				c = '\t';
			else if (c != '"' && c != '\\')
				return NULL;
		}
		if (len + 1 >= size)
			return NULL;
		out[len++] = c;
	}
	if (*p != '"' || len == 0)
		return NULL;
	out[len] = '\0';
	return p + 1;
}

/* The word at p equals w and is followed by a space or the end. */
static const char *word(const char *p, const char *w)
{
	size_t n = strlen(w);

	p = skip_space(p);
	if (strncmp(p, w, n) || (p[n] && p[n] != ' ' && p[n] != '\t'))
		return NULL;
	return p + n;
}

static bool at_end(const char *p)
{
	return *skip_space(p) == '\0';
}

static bool parse_number(const char *p, double min, double max, double *out, const char **end)
{
	char *e;
	double v;

	p = skip_space(p);
	v = strtod(p, &e);
	if (e == p || !(v >= min && v <= max))
		return false;
	*out = v;
	*end = e;
	return true;
}

static bool parse_step(const char *line, struct ms_step *s, struct ms_plan *plan)
{
	const char *p;
	double a, b;

	memset(s, 0, sizeof(*s));
	if ((p = word(line, "click"))) {
		const char *q = word(p, "at");

		if (q) {
			s->kind = MS_STEP_CLICK_AT;
			return parse_number(q, 0, 1, &a, &q) && parse_number(q, 0, 1, &b, &q) && at_end(q) &&
			       (s->fx = a, s->fy = b, true);
		}
		s->kind = MS_STEP_CLICK;
		return (p = quoted(p, s->target, sizeof(s->target))) && at_end(p);
	}
	if ((p = word(line, "type"))) {
		const char *q;

		if (!(p = quoted(p, s->text, sizeof(s->text))))
			return false;
		if (at_end(p)) {
			s->kind = MS_STEP_TYPE;
			return true;
		}
		s->kind = MS_STEP_TYPE_INTO;
		return (q = word(p, "into")) && (q = quoted(q, s->target, sizeof(s->target))) && at_end(q);
	}
	if ((p = word(line, "press"))) {
		s->kind = MS_STEP_PRESS;
		p = skip_space(p);
		snprintf(s->text, sizeof(s->text), "%s", p);
		for (size_t i = 0; s->text[i]; i++)
			if (isspace((unsigned char)s->text[i]))
				s->text[i] = '\0';
		return s->text[0] != '\0' && at_end(p + strlen(s->text));
	}
	if ((p = word(line, "wait"))) {
		s->kind = MS_STEP_WAIT;
		if (!parse_number(p, 0, 60000, &a, &p) || !at_end(p))
			return false;
		s->ms = (int)a;
		return true;
	}
	if ((p = word(line, "zoom"))) {
		const char *q = word(p, "at");
		double w, h;

		if (q) {
			s->kind = MS_STEP_ZOOM_AT;
			if (!parse_number(q, 0, 1, &a, &q) || !parse_number(q, 0, 1, &b, &q) ||
			    !parse_number(q, 0, 1, &w, &q) || !parse_number(q, 0, 1, &h, &q) || !at_end(q) ||
			    w <= 0 || h <= 0 || a + w > 1 || b + h > 1)
				return false;
			s->fx = a;
			s->fy = b;
			s->fw = w;
			s->fh = h;
			return true;
		}
		s->kind = MS_STEP_ZOOM;
		return (p = quoted(p, s->target, sizeof(s->target))) && at_end(p);
	}
	if ((p = word(line, "ask")) || (p = word(line, "done")) || (p = word(line, "fail"))) {
		const char *w = skip_space(line);

		s->kind = *w == 'a' ? MS_STEP_ASK : *w == 'd' ? MS_STEP_DONE : MS_STEP_FAIL;
		return (p = quoted(p, s->text, sizeof(s->text))) && at_end(p);
	}
	if ((p = word(line, "verify"))) {
		if (plan->n_verify >= MS_PLAN_MAX_VERIFY)
			return false;
		if (!(p = quoted(p, plan->verify[plan->n_verify], sizeof(plan->verify[0]))) || !at_end(p))
			return false;
		plan->n_verify++;
		s->kind = MS_STEP_FAIL; /* not a step: the caller sees n_verify grow */
		return true;
	}
	return false;
}

void ms_plan_parse(const char *task, struct ms_plan *plan)
{
	const char *p = task;
	bool in_plan = false;
	int line_no = 0;
	size_t verify_before;

	memset(plan, 0, sizeof(*plan));
	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char line[1400];

		line_no++;
		if (len >= sizeof(line)) {
			if (in_plan) {
				snprintf(plan->error, sizeof(plan->error), "plan line %d is too long", line_no);
				return;
			}
			p = nl ? nl + 1 : NULL;
			continue;
		}
		memcpy(line, p, len);
		line[len] = '\0';
		while (len > 0 && isspace((unsigned char)line[len - 1]))
			line[--len] = '\0';
		p = nl ? nl + 1 : NULL;
		if (!in_plan) {
			in_plan = !strcmp(skip_space(line), "Plan:");
			continue;
		}
		if (!*skip_space(line)) {
			if (plan->n || plan->n_verify)
				break; /* a blank line ends the plan */
			continue;
		}
		if (plan->n >= MS_PLAN_MAX_STEPS) {
			snprintf(plan->error, sizeof(plan->error), "the plan has more than %d steps",
				 MS_PLAN_MAX_STEPS);
			return;
		}
		verify_before = plan->n_verify;
		if (!parse_step(line, &plan->steps[plan->n], plan)) {
			snprintf(plan->error, sizeof(plan->error), "cannot read plan line %d: %.200s", line_no,
				 skip_space(line));
			return;
		}
		if (plan->n_verify == verify_before)
			plan->n++;
	}
	if (!in_plan)
		snprintf(plan->error, sizeof(plan->error), "the task has no line \"Plan:\" with steps after it");
}

int ms_step_moves(const struct ms_step *s)
{
	return s->kind == MS_STEP_TYPE_INTO ? 2 : 1;
}

const char *ms_step_name(enum ms_step_kind kind)
{
	static const char *const names[] = { "click", "click at", "type", "type into", "press",
					     "wait", "zoom", "zoom at", "ask", "done", "fail" };

	return names[kind];
}
