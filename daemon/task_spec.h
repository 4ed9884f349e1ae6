/* A submitted task, checked: the Submit keys of the D-Bus API (a{sv}) one
 * by one, then as a whole.  Pure (no bus), so it is fuzzed; the bus side
 * (bus_submit.c) only reads the message into dp_submit_value's. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "engine/error.h"

#define DP_PRIORITY_MIN -100
#define DP_PRIORITY_MAX 100

/* One entry of the Submit dictionary: its key, the D-Bus signature of the
 * variant's contents, and the value read for the signatures we know. */
struct dp_submit_value {
	const char *key;
	const char *signature;  /* "s", "u", "i", "b", "as", "a{ss}", or anything else (refused) */
	const char *s;
	uint32_t u;
	int32_t i;
	bool b;
	const char *const *strv; /* "as": n items; "a{ss}": n pairs, key then value */
	size_t n;
};

struct dp_task_spec {
	char *instruction;
	char *flow;          /* a path, or the flow's JSON text (starts with '{') */
	char *script;
	char *policy;        /* flow, script or model (filled by dp_task_spec_finish) */
	char *profile;
	char *data;
	char **vars;         /* "name=value", NULL-terminated */
	char **secrets;      /* names, NULL-terminated */
	char **inline_names; /* inline secrets: names and values, memory only */
	char **inline_values;
	size_t n_inline;
	uint32_t max_steps;  /* 0: the configured default */
	uint32_t timeout_s;  /* 0: none */
	uint32_t token_budget; /* model tokens the task may use; 0: none */
	bool has_timeout;
	char *display;
	int32_t priority;
	bool dry_run;
	char **allow_launch; /* NULL: the configured list */
	char **confirm;
};

void dp_task_spec_init(struct dp_task_spec *spec);
/* Frees everything; inline secret values are wiped first. */
void dp_task_spec_release(struct dp_task_spec *spec);
/* Wipes and frees only the inline secret values (the names stay). */
void dp_task_spec_wipe_inline(struct dp_task_spec *spec);

/* Takes one Submit entry: -EINVAL for an unknown key, a wrong type or a
 * value out of range, with a message naming the key and what it expects. */
int dp_task_spec_set(struct dp_task_spec *spec, const struct dp_submit_value *value, struct dp_error *err);

/* The whole task: infers the policy, checks that its parts fit together
 * and fills defaults (max_steps, display).  -EINVAL with what to fix. */
int dp_task_spec_finish(struct dp_task_spec *spec, uint32_t default_max_steps, const char *default_display,
			struct dp_error *err);

/* The spec as stored: JSON without secret values (inline secrets appear
 * by name only).  Returns a malloc'ed string or NULL. */
char *dp_task_spec_to_json(const struct dp_task_spec *spec);
/* Back from the store; inline secrets come back named, without values. */
int dp_task_spec_from_json(struct dp_task_spec *spec, const char *json, struct dp_error *err);
