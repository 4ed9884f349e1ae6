#include "scripted_policy.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static struct scripted_policy *of(struct dp_policy *p)
{
	return (struct scripted_policy *)p;
}

static int decide(struct dp_policy *policy, const struct dp_observation *obs, struct dp_decision *d,
		  struct dp_error *err)
{
	struct scripted_policy *self = of(policy);
	const char *const *actions;
	size_t n_steps = 0;

	while (self->script[n_steps])
		n_steps++;
	if (!n_steps)
		return 0; /* no action at all: the loop must say so */
	actions = self->script[obs->step <= n_steps ? obs->step - 1 : n_steps - 1];
	self->decided++;
	if (self->on_decide)
		self->on_decide(obs->step);
	for (size_t i = 0; actions[i] && i < DP_DECISION_MAX_ACTIONS; i++) {
		int r = dp_action_parse(actions[i], strlen(actions[i]), &d->actions[i], err);

		if (r < 0)
			return r;
		d->n_actions++;
	}
	if (self->coords) {
		d->has_coords = true;
		d->coords = *self->coords;
	}
	d->reasoning = strdup("following the script");
	d->tokens_in = 100;
	d->tokens_out = 10;
	return 0;
}

static void feedback(struct dp_policy *policy, const struct dp_feedback *fb)
{
	struct scripted_policy *self = of(policy);

	self->last_n = fb->n_actions;
	for (size_t i = 0; i < fb->n_actions && i < DP_DECISION_MAX_ACTIONS; i++) {
		self->last_verdicts[i] = fb->actions[i].verdict;
		strcpy(self->last_messages[i], fb->actions[i].message);
	}
}

static int verify(struct dp_policy *policy, const struct dp_observation *obs, const char *summary, bool *agree,
		  char **reason, struct dp_error *err)
{
	struct scripted_policy *self = of(policy);

	(void)obs, (void)summary, (void)err;
	*agree = self->verified++ >= self->vetoes;
	if (!*agree)
		*reason = strdup(self->veto_reason ? self->veto_reason : "not yet");
	return 0;
}

static const struct dp_policy_impl scripted_impl = {
	.name = "scripted",
	.decide = decide,
	.feedback = feedback,
	.verify = verify,
};

void scripted_policy_init(struct scripted_policy *p, const char *const *const *script)
{
	memset(p, 0, sizeof(*p));
	p->base.impl = &scripted_impl;
	p->script = script;
}
