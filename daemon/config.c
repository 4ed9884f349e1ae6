#include "daemon/config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/json.h"
#include "engine/loop.h"

#define MAX_LIST 256

static char **empty_strv(void)
{
	return calloc(1, sizeof(char *));
}

static void free_strv(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

int dp_daemon_config_init(struct dp_daemon_config *c)
{
	memset(c, 0, sizeof(*c));
	c->max_steps = DP_MAX_STEPS;
	c->retention_max_age_days = 30;
	c->retention_max_runs = 1000;
	c->allow_launch = empty_strv();
	c->deny_window_classes = empty_strv();
	c->confirm = empty_strv();
	if (!c->allow_launch || !c->deny_window_classes || !c->confirm) {
		dp_daemon_config_release(c);
		return -ENOMEM;
	}
	return 0;
}

void dp_daemon_config_release(struct dp_daemon_config *c)
{
	free(c->display);
	free(c->model_endpoint);
	free(c->model_api_key_file);
	free(c->model_profile);
	free_strv(c->allow_launch);
	free_strv(c->deny_window_classes);
	free_strv(c->confirm);
	memset(c, 0, sizeof(*c));
}

/* --- where a key is ------------------------------------------------------ */

/* Walks valid JSON text keeping the path of the value being read; stops at
 * the first value whose path is the one asked for. */
struct walker {
	const char *p, *end;
	int line;
};

static void skip_ws(struct walker *w)
{
	while (w->p < w->end && strchr(" \t\r\n", *w->p)) {
		if (*w->p == '\n')
			w->line++;
		w->p++;
	}
}

/* Copies a string token's raw contents (escapes left as they are). */
static void read_string(struct walker *w, char *out, size_t size)
{
	size_t n = 0;

	w->p++; /* the opening quote */
	while (w->p < w->end && *w->p != '"') {
		if (*w->p == '\\' && w->p + 1 < w->end) {
			if (out && n + 1 < size)
				out[n++] = *w->p;
			w->p++;
		}
		if (*w->p == '\n')
			w->line++;
		if (out && n + 1 < size)
			out[n++] = *w->p;
		w->p++;
	}
	if (w->p < w->end)
		w->p++;
	if (out)
		out[n] = '\0';
}

static int walk_value(struct walker *w, char *path, size_t size, const char *want);

static int found_or_walk(struct walker *w, char *path, size_t size, const char *want)
{
	skip_ws(w);
	if (strcmp(path, want) == 0)
		return w->line;
	return walk_value(w, path, size, want);
}

static int walk_value(struct walker *w, char *path, size_t size, const char *want)
{
	size_t base = strlen(path);
	int r;

	skip_ws(w);
	if (w->p >= w->end)
		return 0;
	if (*w->p == '{' || *w->p == '[') {
		bool object = *w->p == '{';
		size_t index = 0;

		w->p++;
		for (;;) {
			skip_ws(w);
			if (w->p >= w->end)
				return 0;
			if (*w->p == '}' || *w->p == ']') {
				w->p++;
				break;
			}
			if (*w->p == ',') {
				w->p++;
				continue;
			}
			if (object) {
				char key[128];

				if (*w->p != '"')
					return 0;
				read_string(w, key, sizeof(key));
				skip_ws(w);
				if (w->p < w->end && *w->p == ':')
					w->p++;
				snprintf(path + base, size - base, "%s%s", base ? "." : "", key);
			} else {
				snprintf(path + base, size - base, "[%zu]", index++);
			}
			if ((r = found_or_walk(w, path, size, want)) > 0)
				return r;
			path[base] = '\0';
		}
		return 0;
	}
	if (*w->p == '"') {
		read_string(w, NULL, 0);
		return 0;
	}
	while (w->p < w->end && !strchr(",]} \t\r\n", *w->p))
		w->p++;
	return 0;
}

int dp_json_line_of(const char *text, size_t len, const char *path)
{
	struct walker w = { .p = text, .end = text + len, .line = 1 };
	char buf[512] = "";

	return walk_value(&w, buf, sizeof(buf), path);
}

/* --- parsing ------------------------------------------------------------- */

struct parse {
	const char *text, *name;
	size_t len;
	struct dp_error *err;
};

__attribute__((format(printf, 3, 4)))
static int fail(struct parse *ps, const char *path, const char *fmt, ...)
{
	int line = dp_json_line_of(ps->text, ps->len, path);
	char what[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return dp_error_set(ps->err, -EINVAL, "%s: line %d: %s: %s", ps->name, line, path, what);
}

static int get_string(struct parse *ps, const cJSON *item, const char *path, char **out)
{
	if (!cJSON_IsString(item) || !*item->valuestring)
		return fail(ps, path, "expected a non-empty string");
	free(*out);
	*out = strdup(item->valuestring);
	return *out ? 0 : -ENOMEM;
}

static int get_uint(struct parse *ps, const cJSON *item, const char *path, uint32_t min, uint32_t max, uint32_t *out)
{
	char range[64];

	snprintf(range, sizeof(range), "%u to %u", min, max);
	if (!cJSON_IsNumber(item) || item->valuedouble != (double)(long long)item->valuedouble ||
	    item->valuedouble < min || item->valuedouble > max)
		return fail(ps, path, "expected a whole number from %s", range);
	*out = (uint32_t)item->valuedouble;
	return 0;
}

static int get_strv(struct parse *ps, const cJSON *item, const char *path, char ***out)
{
	const cJSON *it;
	char **v;
	size_t n = 0;

	if (!cJSON_IsArray(item) || cJSON_GetArraySize(item) > MAX_LIST)
		return fail(ps, path, "expected an array of strings (at most 256)");
	v = calloc((size_t)cJSON_GetArraySize(item) + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	cJSON_ArrayForEach(it, item) {
		if (!cJSON_IsString(it) || !*it->valuestring) {
			char at[300];

			free_strv(v);
			snprintf(at, sizeof(at), "%s[%zu]", path, n);
			return fail(ps, at, "expected a non-empty string");
		}
		if (!(v[n++] = strdup(it->valuestring))) {
			free_strv(v);
			return -ENOMEM;
		}
	}
	free_strv(*out);
	*out = v;
	return 0;
}

static int parse_model(struct parse *ps, struct dp_daemon_config *c, const cJSON *model)
{
	const cJSON *it;
	int r = 0;

	if (!cJSON_IsObject(model))
		return fail(ps, "model", "expected an object with endpoint, api_key_file, profile");
	cJSON_ArrayForEach(it, model) {
		char path[200];

		snprintf(path, sizeof(path), "model.%s", it->string);
		if (strcmp(it->string, "endpoint") == 0)
			r = get_string(ps, it, path, &c->model_endpoint);
		else if (strcmp(it->string, "api_key_file") == 0)
			r = get_string(ps, it, path, &c->model_api_key_file);
		else if (strcmp(it->string, "profile") == 0)
			r = get_string(ps, it, path, &c->model_profile);
		else
			r = fail(ps, path, "unknown key (known: endpoint, api_key_file, profile)");
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_retention(struct parse *ps, struct dp_daemon_config *c, const cJSON *ret)
{
	const cJSON *it;
	int r = 0;

	if (!cJSON_IsObject(ret))
		return fail(ps, "retention", "expected an object with max_age_days, max_runs");
	cJSON_ArrayForEach(it, ret) {
		char path[200];

		snprintf(path, sizeof(path), "retention.%s", it->string);
		if (strcmp(it->string, "max_age_days") == 0)
			r = get_uint(ps, it, path, 1, 36500, &c->retention_max_age_days);
		else if (strcmp(it->string, "max_runs") == 0)
			r = get_uint(ps, it, path, 1, 1000000, &c->retention_max_runs);
		else
			r = fail(ps, path, "unknown key (known: max_age_days, max_runs)");
		if (r < 0)
			return r;
	}
	return 0;
}

int dp_daemon_config_parse(struct dp_daemon_config *c, const char *text, size_t len, const char *name,
			   struct dp_error *err)
{
	struct parse ps = { .text = text, .len = len, .name = name, .err = err };
	cJSON *root = NULL;
	const cJSON *it;
	int r = dp_json_parse(text, len, 1, &root, err);

	if (r < 0) {
		char msg[sizeof(err->message)];

		snprintf(msg, sizeof(msg), "%s", err->message);
		return dp_error_set(err, r, "%s: %s", name, msg);
	}
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return dp_error_set(err, -EINVAL, "%s: line 1: expected a JSON object of settings", name);
	}
	cJSON_ArrayForEach(it, root) {
		const char *k = it->string;

		if (strcmp(k, "display") == 0)
			r = get_string(&ps, it, k, &c->display);
		else if (strcmp(k, "model") == 0)
			r = parse_model(&ps, c, it);
		else if (strcmp(k, "max_steps") == 0)
			r = get_uint(&ps, it, k, 1, DP_MAX_STEPS, &c->max_steps);
		else if (strcmp(k, "timeout") == 0)
			r = get_uint(&ps, it, k, 0, 7 * 86400, &c->timeout_s);
		else if (strcmp(k, "allow_launch") == 0)
			r = get_strv(&ps, it, k, &c->allow_launch);
		else if (strcmp(k, "deny_window_classes") == 0)
			r = get_strv(&ps, it, k, &c->deny_window_classes);
		else if (strcmp(k, "confirm") == 0)
			r = get_strv(&ps, it, k, &c->confirm);
		else if (strcmp(k, "retention") == 0)
			r = parse_retention(&ps, c, it);
		else
			r = fail(&ps, k, "unknown key (known: display, model, max_steps, timeout, allow_launch, "
					 "deny_window_classes, confirm, retention)");
		if (r < 0)
			break;
	}
	cJSON_Delete(root);
	return r;
}

int dp_daemon_config_load(struct dp_daemon_config *c, const char *path, bool optional, struct dp_error *err)
{
	FILE *f = fopen(path, "re");
	char *text = NULL;
	size_t len = 0, cap = 0, n;
	int r;

	if (!f) {
		if (errno == ENOENT && optional)
			return 0;
		return dp_error_set(err, -errno, "cannot read the config %s: %s", path, strerror(errno));
	}
	do {
		if (len + 4096 > cap) {
			char *grown = realloc(text, cap = cap ? cap * 2 : 8192);

			if (!grown) {
				free(text);
				fclose(f);
				return -ENOMEM;
			}
			text = grown;
		}
		n = fread(text + len, 1, cap - len, f);
		len += n;
	} while (n > 0 && len < (1 << 20));
	fclose(f);
	if (len >= (1 << 20)) {
		free(text);
		return dp_error_set(err, -EFBIG, "%s: over 1 MiB; is this the config file?", path);
	}
	r = dp_daemon_config_parse(c, text ? text : "", len, path, err);
	free(text);
	return r;
}

int dp_daemon_config_default_path(char *buf, size_t size)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");

	if (xdg && *xdg)
		snprintf(buf, size, "%s/deskpilot/config.json", xdg);
	else if (home && *home)
		snprintf(buf, size, "%s/.config/deskpilot/config.json", home);
	else
		return -ENOENT;
	return 0;
}
