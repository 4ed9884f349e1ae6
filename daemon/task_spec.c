#include "daemon/task_spec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/loop.h"

#define MAX_LIST 64

void dp_task_spec_init(struct dp_task_spec *spec)
{
	memset(spec, 0, sizeof(*spec));
}

static void free_strv(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

void dp_task_spec_wipe_inline(struct dp_task_spec *spec)
{
	for (size_t i = 0; spec->inline_values && i < spec->n_inline; i++) {
		if (spec->inline_values[i]) {
			explicit_bzero(spec->inline_values[i], strlen(spec->inline_values[i]));
			free(spec->inline_values[i]);
		}
	}
	free(spec->inline_values);
	spec->inline_values = NULL;
}

void dp_task_spec_release(struct dp_task_spec *spec)
{
	dp_task_spec_wipe_inline(spec);
	free_strv(spec->inline_names);
	free(spec->instruction);
	free(spec->flow);
	free(spec->script);
	free(spec->policy);
	free(spec->profile);
	free(spec->data);
	free_strv(spec->vars);
	free_strv(spec->secrets);
	free(spec->display);
	free_strv(spec->allow_launch);
	free_strv(spec->confirm);
	dp_task_spec_init(spec);
}

static int type_error(struct dp_error *err, const char *key, const char *want, const char *got)
{
	return dp_error_set(err, -EINVAL, "%s: expected %s, got a value of D-Bus type '%s'", key, want, got);
}

static bool sig_is(const struct dp_submit_value *v, const char *sig)
{
	return v->signature && strcmp(v->signature, sig) == 0;
}

static int set_string(char **field, const struct dp_submit_value *v, bool may_be_empty, struct dp_error *err)
{
	if (!sig_is(v, "s"))
		return type_error(err, v->key, "a string (s)", v->signature ? v->signature : "");
	if (!may_be_empty && !*v->s)
		return dp_error_set(err, -EINVAL, "%s: must not be empty", v->key);
	if (strlen(v->s) > 1 << 20)
		return dp_error_set(err, -EINVAL, "%s: over 1 MiB; pass a file path instead", v->key);
	if (*field)
		return dp_error_set(err, -EINVAL, "%s: given twice", v->key);
	*field = strdup(v->s);
	return *field ? 0 : -ENOMEM;
}

/* Names of secrets end up in file names ($CREDENTIALS_DIRECTORY/<name>). */
static bool valid_secret_name(const char *s)
{
	if (!*s || strlen(s) > 100 || s[0] == '.')
		return false;
	for (; *s; s++) {
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') && !(*s >= '0' && *s <= '9') &&
		    !strchr("_-.", *s))
			return false;
	}
	return true;
}

static int set_strv(char ***field, const struct dp_submit_value *v, bool secret_names, struct dp_error *err)
{
	char **out;

	if (!sig_is(v, "as"))
		return type_error(err, v->key, "an array of strings (as)", v->signature ? v->signature : "");
	if (*field)
		return dp_error_set(err, -EINVAL, "%s: given twice", v->key);
	if (v->n > MAX_LIST)
		return dp_error_set(err, -EINVAL, "%s: at most %d items", v->key, MAX_LIST);
	out = calloc(v->n + 1, sizeof(*out));
	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < v->n; i++) {
		if (!*v->strv[i] || (secret_names && !valid_secret_name(v->strv[i]))) {
			free_strv(out);
			return dp_error_set(err, -EINVAL, "%s[%zu]: '%.64s' is not a valid %s", v->key, i, v->strv[i],
					    secret_names ? "secret name (letters, digits, _ - .)" : "entry (empty)");
		}
		if (!(out[i] = strdup(v->strv[i]))) {
			free_strv(out);
			return -ENOMEM;
		}
	}
	*field = out;
	return 0;
}

static int set_variables(struct dp_task_spec *spec, const struct dp_submit_value *v, struct dp_error *err)
{
	if (!sig_is(v, "a{ss}"))
		return type_error(err, v->key, "a dictionary of strings (a{ss})", v->signature ? v->signature : "");
	if (spec->vars)
		return dp_error_set(err, -EINVAL, "%s: given twice", v->key);
	if (v->n > MAX_LIST)
		return dp_error_set(err, -EINVAL, "%s: at most %d variables", v->key, MAX_LIST);
	spec->vars = calloc(v->n + 1, sizeof(*spec->vars));
	if (!spec->vars)
		return -ENOMEM;
	for (size_t i = 0; i < v->n; i++) {
		const char *name = v->strv[2 * i], *value = v->strv[2 * i + 1];

		if (!*name || strchr(name, '='))
			return dp_error_set(err, -EINVAL, "%s: '%.64s' is not a variable name", v->key, name);
		if (asprintf(&spec->vars[i], "%s=%s", name, value) < 0) {
			spec->vars[i] = NULL;
			return -ENOMEM;
		}
	}
	return 0;
}

static int set_inline(struct dp_task_spec *spec, const struct dp_submit_value *v, struct dp_error *err)
{
	if (!sig_is(v, "a{ss}"))
		return type_error(err, v->key, "a dictionary of strings (a{ss})", v->signature ? v->signature : "");
	if (spec->inline_names)
		return dp_error_set(err, -EINVAL, "%s: given twice", v->key);
	if (v->n > MAX_LIST)
		return dp_error_set(err, -EINVAL, "%s: at most %d secrets", v->key, MAX_LIST);
	spec->inline_names = calloc(v->n + 1, sizeof(char *));
	spec->inline_values = calloc(v->n + 1, sizeof(char *));
	if (!spec->inline_names || !spec->inline_values)
		return -ENOMEM;
	for (size_t i = 0; i < v->n; i++) {
		const char *name = v->strv[2 * i], *value = v->strv[2 * i + 1];

		if (!valid_secret_name(name))
			return dp_error_set(err, -EINVAL,
					    "%s: '%.64s' is not a valid secret name (letters, digits, _ - .)",
					    v->key, name);
		if (strlen(value) >= 4096)
			return dp_error_set(err, -EINVAL, "%s: the value of '%s' is over 4095 bytes", v->key, name);
		spec->inline_names[i] = strdup(name);
		spec->inline_values[i] = strdup(value);
		spec->n_inline = i + 1;
		if (!spec->inline_names[i] || !spec->inline_values[i])
			return -ENOMEM;
	}
	return 0;
}

int dp_task_spec_set(struct dp_task_spec *spec, const struct dp_submit_value *v, struct dp_error *err)
{
	const char *k = v->key ? v->key : "";
	const char *sig = v->signature ? v->signature : "";

	if (strcmp(k, "instruction") == 0)
		return set_string(&spec->instruction, v, true, err);
	if (strcmp(k, "flow") == 0)
		return set_string(&spec->flow, v, false, err);
	if (strcmp(k, "script") == 0)
		return set_string(&spec->script, v, false, err);
	if (strcmp(k, "policy") == 0) {
		int r = set_string(&spec->policy, v, false, err);

		if (r == 0 && strcmp(v->s, "flow") != 0 && strcmp(v->s, "script") != 0 && strcmp(v->s, "model") != 0)
			return dp_error_set(err, -EINVAL, "policy: '%.64s' is not one of flow, script, model", v->s);
		return r;
	}
	if (strcmp(k, "profile") == 0)
		return set_string(&spec->profile, v, false, err);
	if (strcmp(k, "data") == 0)
		return set_string(&spec->data, v, false, err);
	if (strcmp(k, "display") == 0)
		return set_string(&spec->display, v, false, err);
	if (strcmp(k, "variables") == 0)
		return set_variables(spec, v, err);
	if (strcmp(k, "secrets") == 0)
		return set_strv(&spec->secrets, v, true, err);
	if (strcmp(k, "inline_secrets") == 0)
		return set_inline(spec, v, err);
	if (strcmp(k, "allow_launch") == 0)
		return set_strv(&spec->allow_launch, v, false, err);
	if (strcmp(k, "confirm") == 0)
		return set_strv(&spec->confirm, v, false, err);
	if (strcmp(k, "max_steps") == 0) {
		if (!sig_is(v, "u"))
			return type_error(err, k, "an unsigned 32-bit integer (u)", sig);
		if (v->u < 1 || v->u > DP_MAX_STEPS)
			return dp_error_set(err, -EINVAL, "max_steps: %u is out of range: give 1 to %d", v->u,
					    DP_MAX_STEPS);
		spec->max_steps = v->u;
		return 0;
	}
	if (strcmp(k, "timeout") == 0) {
		if (!sig_is(v, "u"))
			return type_error(err, k, "seconds as an unsigned 32-bit integer (u)", sig);
		if (v->u > 7 * 86400)
			return dp_error_set(err, -EINVAL, "timeout: %u s is over a week; give 0 (none) to 604800",
					    v->u);
		spec->timeout_s = v->u;
		spec->has_timeout = true;
		return 0;
	}
	if (strcmp(k, "token_budget") == 0) {
		if (!sig_is(v, "u"))
			return type_error(err, k, "model tokens as an unsigned 32-bit integer (u)", sig);
		spec->token_budget = v->u;
		return 0;
	}
	if (strcmp(k, "priority") == 0) {
		if (!sig_is(v, "i"))
			return type_error(err, k, "a signed 32-bit integer (i)", sig);
		if (v->i < DP_PRIORITY_MIN || v->i > DP_PRIORITY_MAX)
			return dp_error_set(err, -EINVAL, "priority: %d is out of range: give -100 to 100", v->i);
		spec->priority = v->i;
		return 0;
	}
	if (strcmp(k, "dry_run") == 0) {
		if (!sig_is(v, "b"))
			return type_error(err, k, "a boolean (b)", sig);
		spec->dry_run = v->b;
		return 0;
	}
	return dp_error_set(err, -EINVAL,
			    "unknown key '%.64s': the keys are instruction, flow, script, policy, profile, data, "
			    "variables, secrets, inline_secrets, max_steps, timeout, token_budget, display, priority, "
			    "dry_run, allow_launch, confirm",
			    k);
}

int dp_task_spec_finish(struct dp_task_spec *spec, uint32_t default_max_steps, const char *default_display,
			struct dp_error *err)
{
	if (!spec->policy) {
		const char *kind = "model";

		if (spec->flow && spec->script)
			kind = NULL;
		else if (spec->flow)
			kind = "flow";
		else if (spec->script)
			kind = "script";
		if (!kind)
			return dp_error_set(err, -EINVAL, "flow and script: give one of them, or name the policy");
		if (!(spec->policy = strdup(kind)))
			return -ENOMEM;
	}
	if (strcmp(spec->policy, "flow") == 0 && !spec->flow)
		return dp_error_set(err, -EINVAL,
				    "flow: the flow policy needs a flow (a file path or the flow's JSON)");
	if (strcmp(spec->policy, "script") == 0 && !spec->script)
		return dp_error_set(err, -EINVAL, "script: the script policy needs a script file");
	if (strcmp(spec->policy, "model") == 0 && (!spec->instruction || !*spec->instruction))
		return dp_error_set(err, -EINVAL,
				    "instruction: the model policy needs an instruction (or give a flow or a script)");
	if (strcmp(spec->policy, "flow") != 0 && (spec->data || spec->vars))
		return dp_error_set(err, -EINVAL, "%s: goes with a flow, not the %s policy",
				    spec->data ? "data" : "variables",
				    spec->policy);
	if (strcmp(spec->policy, "script") != 0 && spec->script)
		return dp_error_set(err, -EINVAL, "script: given with policy '%s'", spec->policy);
	if (strcmp(spec->policy, "flow") != 0 && spec->flow)
		return dp_error_set(err, -EINVAL, "flow: given with policy '%s'", spec->policy);
	if (!spec->max_steps)
		spec->max_steps = default_max_steps >= 1 && default_max_steps <= DP_MAX_STEPS ? default_max_steps
											     : DP_MAX_STEPS;
	if (!spec->display) {
		if (!default_display || !*default_display)
			return dp_error_set(err, -EINVAL, "display: none given, none configured and no $DISPLAY");
		if (!(spec->display = strdup(default_display)))
			return -ENOMEM;
	}
	if (!spec->instruction && !(spec->instruction = strdup("")))
		return -ENOMEM;
	return 0;
}

/* --- JSON ---------------------------------------------------------------- */

static void add_string(cJSON *o, const char *key, const char *value)
{
	if (value)
		cJSON_AddStringToObject(o, key, value);
}

static void add_strv(cJSON *o, const char *key, char *const *v)
{
	cJSON *a;

	if (!v)
		return;
	a = cJSON_AddArrayToObject(o, key);
	for (size_t i = 0; a && v[i]; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
}

char *dp_task_spec_to_json(const struct dp_task_spec *spec)
{
	cJSON *o = cJSON_CreateObject();
	char *text;

	if (!o)
		return NULL;
	add_string(o, "instruction", spec->instruction);
	add_string(o, "flow", spec->flow);
	add_string(o, "script", spec->script);
	add_string(o, "policy", spec->policy);
	add_string(o, "profile", spec->profile);
	add_string(o, "data", spec->data);
	add_strv(o, "variables", spec->vars);
	add_strv(o, "secrets", spec->secrets);
	/* Names only: the values never leave memory. */
	add_strv(o, "inline_secrets", spec->inline_names);
	cJSON_AddNumberToObject(o, "max_steps", spec->max_steps);
	if (spec->has_timeout)
		cJSON_AddNumberToObject(o, "timeout", spec->timeout_s);
	if (spec->token_budget)
		cJSON_AddNumberToObject(o, "token_budget", spec->token_budget);
	add_string(o, "display", spec->display);
	cJSON_AddNumberToObject(o, "priority", spec->priority);
	cJSON_AddBoolToObject(o, "dry_run", spec->dry_run);
	add_strv(o, "allow_launch", spec->allow_launch);
	add_strv(o, "confirm", spec->confirm);
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return text;
}

static int get_strv(const cJSON *o, const char *key, char ***out, size_t *count)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, key), *it;
	size_t n = 0;

	if (!a)
		return 0;
	if (!cJSON_IsArray(a))
		return -EINVAL;
	*out = calloc((size_t)cJSON_GetArraySize(a) + 1, sizeof(char *));
	if (!*out)
		return -ENOMEM;
	cJSON_ArrayForEach(it, a) {
		if (!cJSON_IsString(it) || !((*out)[n++] = strdup(it->valuestring)))
			return -EINVAL;
	}
	if (count)
		*count = n;
	return 0;
}

static int get_string(const cJSON *o, const char *key, char **out)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!s)
		return 0;
	if (!cJSON_IsString(s))
		return -EINVAL;
	*out = strdup(s->valuestring);
	return *out ? 0 : -ENOMEM;
}

int dp_task_spec_from_json(struct dp_task_spec *spec, const char *json, struct dp_error *err)
{
	cJSON *o = cJSON_Parse(json);
	const cJSON *n;
	int r = 0;

	dp_task_spec_init(spec);
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return dp_error_set(err, -EINVAL, "the stored task is not a JSON object");
	}
	r = r ?: get_string(o, "instruction", &spec->instruction);
	r = r ?: get_string(o, "flow", &spec->flow);
	r = r ?: get_string(o, "script", &spec->script);
	r = r ?: get_string(o, "policy", &spec->policy);
	r = r ?: get_string(o, "profile", &spec->profile);
	r = r ?: get_string(o, "data", &spec->data);
	r = r ?: get_string(o, "display", &spec->display);
	r = r ?: get_strv(o, "variables", &spec->vars, NULL);
	r = r ?: get_strv(o, "secrets", &spec->secrets, NULL);
	r = r ?: get_strv(o, "inline_secrets", &spec->inline_names, &spec->n_inline);
	r = r ?: get_strv(o, "allow_launch", &spec->allow_launch, NULL);
	r = r ?: get_strv(o, "confirm", &spec->confirm, NULL);
	if ((n = cJSON_GetObjectItemCaseSensitive(o, "max_steps")) && cJSON_IsNumber(n))
		spec->max_steps = (uint32_t)n->valuedouble;
	if ((n = cJSON_GetObjectItemCaseSensitive(o, "timeout")) && cJSON_IsNumber(n)) {
		spec->timeout_s = (uint32_t)n->valuedouble;
		spec->has_timeout = true;
	}
	if ((n = cJSON_GetObjectItemCaseSensitive(o, "token_budget")) && cJSON_IsNumber(n))
		spec->token_budget = (uint32_t)n->valuedouble;
	if ((n = cJSON_GetObjectItemCaseSensitive(o, "priority")) && cJSON_IsNumber(n))
		spec->priority = (int32_t)n->valuedouble;
	spec->dry_run = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "dry_run"));
	cJSON_Delete(o);
	if (r < 0) {
		dp_task_spec_release(spec);
		return dp_error_set(err, r, "the stored task has a malformed field");
	}
	return 0;
}
