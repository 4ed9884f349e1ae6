#include "policies/script/script_policy.h"

#include "engine/json.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct script_step {
	char *actions[DP_DECISION_MAX_ACTIONS]; /* each one action's JSON, checked */
	size_t n_actions;
};

struct script_policy {
	struct dp_policy base;
	struct script_step *steps;
	size_t n_steps;
};

static void free_steps(struct script_step *steps, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < steps[i].n_actions; j++)
			free(steps[i].actions[j]);
	free(steps);
}

/* Keeps one action's text after checking it parses. */
static int add_action(struct script_step *step, const cJSON *item, int line, struct dp_error *err)
{
	struct dp_action a;
	char *json = cJSON_PrintUnformatted(item);
	int r;

	if (!json)
		return -ENOMEM;
	if (step->n_actions == DP_DECISION_MAX_ACTIONS) {
		free(json);
		return dp_error_set(err, -E2BIG, "line %d: more than %d actions in one step", line,
				    DP_DECISION_MAX_ACTIONS);
	}
	r = dp_action_parse(json, strlen(json), &a, err);
	if (r < 0) {
		char msg[sizeof(err->message)];

		snprintf(msg, sizeof(msg), "%s", err->message);
		free(json);
		return dp_error_set(err, r, "line %d: %s", line, msg);
	}
	dp_action_clear(&a);
	step->actions[step->n_actions++] = json;
	return 0;
}

static int parse_line(struct script_step *step, const char *text, size_t len, int line, struct dp_error *err)
{
	cJSON *root = NULL;
	const cJSON *item;
	int r = dp_json_parse(text, len, line, &root, err);

	if (r < 0)
		return r;
	if (cJSON_IsArray(root)) {
		cJSON_ArrayForEach(item, root) {
			r = add_action(step, item, line, err);
			if (r < 0)
				break;
		}
		if (r == 0 && step->n_actions == 0)
			r = dp_error_set(err, -EINVAL, "line %d: an empty step", line);
	} else {
		r = add_action(step, root, line, err);
	}
	cJSON_Delete(root);
	return r;
}

static int decide(struct dp_policy *policy, const struct dp_observation *obs, struct dp_decision *d,
		  struct dp_error *err)
{
	struct script_policy *self = (struct script_policy *)policy;
	static const char done[] = "{\"action\":\"done\",\"summary\":\"the script ran to its end\"}";

	if (obs->step > self->n_steps) {
		d->n_actions = 1;
		return dp_action_parse(done, strlen(done), &d->actions[0], err);
	}
	for (size_t i = 0; i < self->steps[obs->step - 1].n_actions; i++) {
		const char *json = self->steps[obs->step - 1].actions[i];
		int r = dp_action_parse(json, strlen(json), &d->actions[i], err);

		if (r < 0)
			return r;
		d->n_actions++;
	}
	return 0;
}

static void destroy(struct dp_policy *policy)
{
	struct script_policy *self = (struct script_policy *)policy;

	free_steps(self->steps, self->n_steps);
	free(self);
}

static const struct dp_policy_impl script_impl = {
	.name = "script",
	.decide = decide,
	.destroy = destroy,
};

int dp_script_policy_create(struct dp_policy **out, const char *path, struct dp_error *err)
{
	FILE *f = fopen(path, "r");
	struct script_policy *self;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int lineno = 0, r = 0;

	if (!f)
		return dp_error_set(err, -errno, "cannot read the script %s: %s", path, strerror(errno));
	self = calloc(1, sizeof(*self));
	if (!self) {
		fclose(f);
		return -ENOMEM;
	}
	self->base.impl = &script_impl;
	while (r == 0 && (len = getline(&line, &cap, f)) >= 0) {
		struct script_step *grown;

		lineno++;
		if (line[strspn(line, " \t\r\n")] == '\0' || line[strspn(line, " \t")] == '#')
			continue; /* blank lines and # comments */
		grown = realloc(self->steps, (self->n_steps + 1) * sizeof(*grown));
		if (!grown) {
			r = -ENOMEM;
			break;
		}
		self->steps = grown;
		memset(&self->steps[self->n_steps], 0, sizeof(*grown));
		r = parse_line(&self->steps[self->n_steps], line, (size_t)len, lineno, err);
		self->n_steps++;
	}
	free(line);
	fclose(f);
	if (r == 0 && self->n_steps == 0)
		r = dp_error_set(err, -EINVAL, "%s has no steps (one JSON action, or an array of them, per line)", path);
	if (r < 0) {
		destroy(&self->base);
		return r;
	}
	*out = &self->base;
	return 0;
}
