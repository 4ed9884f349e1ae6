#include "faults.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *const names[MS_FAULT_COUNT] = {
	"http_500", "rate_limit", "stall", "truncated", "malformed", "empty_choices", "refusal", "bad_arguments",
	"verifier_no",
};

const char *ms_fault_name(enum ms_fault_kind k)
{
	return k >= 0 && k < MS_FAULT_COUNT ? names[k] : "none";
}

static int whole(const cJSON *v, const char *path, int min, int max, int *out, struct dp_error *err)
{
	if (!cJSON_IsNumber(v) || v->valuedouble < min || v->valuedouble > max ||
	    v->valuedouble != (double)(int)v->valuedouble)
		return dp_error_set(err, -EINVAL, "%s: expected a whole number from %d to %d", path, min, max);
	*out = (int)v->valuedouble;
	return 0;
}

/* One fault's value: a count, or an object with count, after and its own
 * parameters. */
static int arm(struct ms_faults *f, enum ms_fault_kind k, const cJSON *v, struct dp_error *err)
{
	const cJSON *x;
	char path[64];
	int r;

	if (cJSON_IsNumber(v)) {
		f->armed[k].after = 0;
		return whole(v, names[k], 0, 1000000, &f->armed[k].count, err);
	}
	if (!cJSON_IsObject(v))
		return dp_error_set(err, -EINVAL, "%s: expected a count or an object", names[k]);
	f->armed[k].count = 1;
	f->armed[k].after = 0;
	cJSON_ArrayForEach(x, v) {
		snprintf(path, sizeof(path), "%s.%s", names[k], x->string);
		if (!strcmp(x->string, "count"))
			r = whole(x, path, 0, 1000000, &f->armed[k].count, err);
		else if (!strcmp(x->string, "after"))
			r = whole(x, path, 0, 1000000, &f->armed[k].after, err);
		else if (k == MS_FAULT_RATE_LIMIT && !strcmp(x->string, "retry_after"))
			r = whole(x, path, 0, 3600, &f->retry_after_s, err);
		else if (k == MS_FAULT_STALL && !strcmp(x->string, "seconds"))
			r = whole(x, path, 0, 3600, &f->stall_s, err);
		else if (k == MS_FAULT_STALL && !strcmp(x->string, "mode")) {
			const char *mode = cJSON_IsString(x) ? x->valuestring : "";

			f->stall_headers = !strcmp(mode, "headers");
			r = f->stall_headers || !strcmp(mode, "silent")
				    ? 0 : dp_error_set(err, -EINVAL, "%s: expected \"headers\" or \"silent\"", path);
		} else if (k == MS_FAULT_BAD_ARGS && !strcmp(x->string, "kind")) {
			const char *kind = cJSON_IsString(x) ? x->valuestring : "";

			f->bad_args_string = !strcmp(kind, "string");
			r = f->bad_args_string || !strcmp(kind, "outside")
				    ? 0 : dp_error_set(err, -EINVAL, "%s: expected \"string\" or \"outside\"", path);
		} else {
			r = dp_error_set(err, -EINVAL, "%s: unknown field", path);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

int ms_faults_control(struct ms_faults *f, const cJSON *doc, struct dp_error *err)
{
	struct ms_faults next = *f;
	const cJSON *x;
	int r;

	if (!cJSON_IsObject(doc))
		return dp_error_set(err, -EINVAL, "expected a JSON object such as {\"http_500\": 2}");
	cJSON_ArrayForEach(x, doc) {
		enum ms_fault_kind k = MS_FAULT_NONE;

		for (int i = 0; i < MS_FAULT_COUNT; i++)
			if (!strcmp(x->string, names[i]))
				k = (enum ms_fault_kind)i;
		if (k != MS_FAULT_NONE) {
			if ((r = arm(&next, k, x, err)) < 0)
				return r;
		} else if (!strcmp(x->string, "endless") && cJSON_IsBool(x)) {
			next.endless = cJSON_IsTrue(x);
		} else if (!strcmp(x->string, "reset") && cJSON_IsBool(x)) {
			if (cJSON_IsTrue(x))
				memset(&next, 0, sizeof(next));
		} else {
			return dp_error_set(err, -EINVAL,
					    "%s: unknown field or wrong type (fields: http_500, rate_limit, stall, "
					    "truncated, malformed, empty_choices, refusal, bad_arguments, verifier_no, "
					    "endless, reset)",
					    x->string);
		}
	}
	if (next.retry_after_s == 0)
		next.retry_after_s = 1;
	*f = next;
	return 0;
}

static bool applies(enum ms_fault_kind k, bool verifier)
{
	if (k == MS_FAULT_VERIFIER_NO)
		return verifier;
	if (k == MS_FAULT_REFUSAL || k == MS_FAULT_BAD_ARGS)
		return !verifier;
	return true;
}

enum ms_fault_kind ms_faults_take(struct ms_faults *f, bool verifier)
{
	enum ms_fault_kind chosen = MS_FAULT_NONE;

	for (int i = 0; i < MS_FAULT_COUNT; i++) {
		if (!applies((enum ms_fault_kind)i, verifier) || f->armed[i].count <= 0)
			continue;
		if (f->armed[i].after > 0) {
			f->armed[i].after--;
		} else if (chosen == MS_FAULT_NONE) {
			f->armed[i].count--;
			chosen = (enum ms_fault_kind)i;
		}
	}
	return chosen;
}
