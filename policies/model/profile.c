#include "policies/model/profile.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/json.h"

#ifndef DP_PROFILE_DATADIR
#define DP_PROFILE_DATADIR "/usr/local/share/deskpilot/profiles"
#endif

#define MAX_PROFILE_BYTES (64 * 1024)

struct reader {
	const char *text;
	size_t len;
	const cJSON *root;
	struct dp_error *err;
};

/* The line of a top-level key, for errors about its value: profiles are
 * flat objects, so the first '"key"' followed by ':' is the one. */
static int key_line(const struct reader *r, const char *key)
{
	size_t klen = strlen(key);
	int line = 1;

	for (size_t i = 0; i < r->len; i++) {
		if (r->text[i] == '\n')
			line++;
		if (r->text[i] == '"' && i + klen + 1 < r->len && memcmp(r->text + i + 1, key, klen) == 0 &&
		    r->text[i + klen + 1] == '"') {
			size_t j = i + klen + 2;

			while (j < r->len && isspace((unsigned char)r->text[j]))
				j++;
			if (j < r->len && r->text[j] == ':')
				return line;
		}
	}
	return 1;
}

static int field_error(const struct reader *r, const char *key, const char *what)
{
	return dp_error_set(r->err, -EINVAL, "line %d: %s: %s", key_line(r, key), key, what);
}

static const cJSON *get(const struct reader *r, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(r->root, key);
}

static int read_string(const struct reader *r, const char *key, bool required, char *out, size_t size)
{
	const cJSON *v = get(r, key);
	char what[96];

	if (!v) {
		if (!required)
			return 0;
		return dp_error_set(r->err, -EINVAL, "line 1: %s: missing (required)", key);
	}
	if (!cJSON_IsString(v) || strlen(v->valuestring) >= size) {
		snprintf(what, sizeof(what), "expected a string of at most %zu bytes", size - 1);
		return field_error(r, key, what);
	}
	snprintf(out, size, "%s", v->valuestring);
	return 0;
}

static int read_int(const struct reader *r, const char *key, int64_t min, int64_t max, int64_t *out)
{
	const cJSON *v = get(r, key);
	char what[96];

	if (!v)
		return dp_error_set(r->err, -EINVAL, "line 1: %s: missing (required)", key);
	if (!cJSON_IsNumber(v) || v->valuedouble != (double)(int64_t)v->valuedouble || v->valuedouble < (double)min ||
	    v->valuedouble > (double)max) {
		snprintf(what, sizeof(what), "expected a whole number from %lld to %lld", (long long)min,
			 (long long)max);
		return field_error(r, key, what);
	}
	*out = (int64_t)v->valuedouble;
	return 0;
}

static int read_enum(const struct reader *r, const char *key, const char *const *names, int n, int *out)
{
	const cJSON *v = get(r, key);
	char what[160] = "expected one of";
	size_t used = strlen(what);

	if (!v)
		return dp_error_set(r->err, -EINVAL, "line 1: %s: missing (required)", key);
	for (int i = 0; cJSON_IsString(v) && i < n; i++) {
		if (strcmp(v->valuestring, names[i]) == 0) {
			*out = i;
			return 0;
		}
	}
	for (int i = 0; i < n && used < sizeof(what); i++)
		used += (size_t)snprintf(what + used, sizeof(what) - used, "%s \"%s\"", i ? "," : "", names[i]);
	return field_error(r, key, what);
}

static const char *const known_keys[] = {
	"description", "model", "factor", "min_pixels", "max_pixels", "coordinate_space", "action_format",
	"thinking", "thinking_style", "keep_screenshots", "drop_chunk", "context_tokens",
	"max_completion_tokens", "image_format", "image_quality", "endpoint", "api_key_env",
};

static int check_keys(const struct reader *r)
{
	const cJSON *item;

	cJSON_ArrayForEach(item, r->root) {
		bool known = false;

		for (size_t i = 0; i < sizeof(known_keys) / sizeof(known_keys[0]); i++)
			known = known || strcmp(item->string, known_keys[i]) == 0;
		if (!known)
			return field_error(r, item->string,
					   "unknown field (a profile takes: model, factor, min_pixels, max_pixels, "
					   "coordinate_space, action_format, thinking, thinking_style, keep_screenshots, "
					   "drop_chunk, context_tokens, max_completion_tokens, image_format, "
					   "image_quality, endpoint, api_key_env, description)");
	}
	return 0;
}

static int read_fields(const struct reader *r, struct dp_model_profile *p)
{
	static const char *const spaces[] = { "image_pixels", "normalized_1000" };
	static const char *const formats[] = { "tools", "ui_tars_text" };
	static const char *const thinking[] = { "none", "adaptive", "disabled" };
	static const char *const styles[] = { "minimax", "vllm" };
	static const char *const images[] = { "jpeg", "png" };
	int e;
	int64_t v;
	char desc[512];

	if (read_string(r, "description", false, desc, sizeof(desc)) < 0 ||
	    read_string(r, "model", true, p->model, sizeof(p->model)) < 0 ||
	    read_string(r, "endpoint", true, p->endpoint, sizeof(p->endpoint)) < 0 ||
	    read_string(r, "api_key_env", false, p->api_key_env, sizeof(p->api_key_env)) < 0)
		return -EINVAL;
	if (!p->model[0])
		return field_error(r, "model", "must not be empty");
	if (strncmp(p->endpoint, "http://", 7) != 0 && strncmp(p->endpoint, "https://", 8) != 0)
		return field_error(r, "endpoint", "expected an http:// or https:// base URL such as https://api.minimax.io/v1");
	if (read_int(r, "factor", 2, 1024, &v) < 0)
		return -EINVAL;
	p->factor = (int32_t)v;
	if (read_int(r, "min_pixels", 1, INT32_MAX, &p->min_pixels) < 0 ||
	    read_int(r, "max_pixels", 1, (int64_t)1 << 40, &p->max_pixels) < 0)
		return -EINVAL;
	if (p->max_pixels < p->min_pixels)
		return field_error(r, "max_pixels", "must not be below min_pixels");
	if (p->max_pixels < (int64_t)p->factor * p->factor)
		return field_error(r, "max_pixels", "must hold at least one factor x factor tile");
	if (read_enum(r, "coordinate_space", spaces, 2, &e) < 0)
		return -EINVAL;
	p->coords = e == 0 ? DP_COORDS_PIXELS : DP_COORDS_NORM1000;
	if (read_enum(r, "action_format", formats, 2, &e) < 0)
		return -EINVAL;
	p->actions = (enum dp_model_actions)e;
	if (read_enum(r, "thinking", thinking, 3, &e) < 0)
		return -EINVAL;
	p->thinking = (enum dp_model_thinking)e;
	if (read_enum(r, "thinking_style", styles, 2, &e) < 0)
		return -EINVAL;
	p->thinking_style = (enum dp_model_thinking_style)e;
	if (read_int(r, "keep_screenshots", 0, 10000, &v) < 0)
		return -EINVAL;
	p->keep_screenshots = (uint32_t)v;
	if (read_int(r, "drop_chunk", 0, 10000, &v) < 0)
		return -EINVAL;
	p->drop_chunk = (uint32_t)v;
	if (p->keep_screenshots > 0 && p->drop_chunk == 0)
		return field_error(r, "drop_chunk", "must be 1 or more when keep_screenshots is set");
	if (read_int(r, "context_tokens", 1024, (int64_t)1 << 32, &v) < 0)
		return -EINVAL;
	p->context_tokens = (uint64_t)v;
	if (read_int(r, "max_completion_tokens", 16, 1 << 20, &v) < 0)
		return -EINVAL;
	p->max_completion_tokens = (uint32_t)v;
	if (read_enum(r, "image_format", images, 2, &e) < 0)
		return -EINVAL;
	p->image_format = (enum dp_model_image_format)e;
	if (read_int(r, "image_quality", p->image_format == DP_MODEL_IMAGE_JPEG ? 1 : 0, 100, &v) < 0)
		return -EINVAL;
	p->image_quality = (int)v;
	return 0;
}

int dp_model_profile_parse(const char *text, size_t len, const char *name, struct dp_model_profile *p,
			   struct dp_error *err)
{
	struct reader r = { .text = text, .len = len, .err = err };
	cJSON *root = NULL;
	int ret;

	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name ? name : "");
	if (dp_json_parse(text, len, 1, &root, err) < 0)
		return -EINVAL;
	r.root = root;
	if (!cJSON_IsObject(root))
		ret = dp_error_set(err, -EINVAL, "line 1: expected a JSON object of profile fields");
	else
		ret = check_keys(&r);
	if (ret == 0)
		ret = read_fields(&r, p);
	cJSON_Delete(root);
	return ret;
}

const char *dp_model_coords_name(enum dp_coord_space space)
{
	return space == DP_COORDS_NORM1000 ? "normalized_1000" : "image_pixels";
}

static int load_file(const char *path, const char *name, struct dp_model_profile *p, struct dp_error *err)
{
	FILE *f = fopen(path, "r");
	char *text;
	size_t n;
	int r;

	if (!f)
		return -errno;
	text = malloc(MAX_PROFILE_BYTES + 1);
	if (!text) {
		fclose(f);
		return dp_error_set(err, -ENOMEM, "out of memory reading %s", path);
	}
	n = fread(text, 1, MAX_PROFILE_BYTES + 1, f);
	fclose(f);
	if (n > MAX_PROFILE_BYTES) {
		free(text);
		return dp_error_set(err, -EFBIG, "profile %s: over %d bytes", path, MAX_PROFILE_BYTES);
	}
	r = dp_model_profile_parse(text, n, name, p, err);
	free(text);
	if (r < 0 && err) {
		char msg[sizeof(err->message)];

		snprintf(msg, sizeof(msg), "%s", err->message);
		dp_error_set(err, r, "profile %s: %s", path, msg);
	}
	return r;
}

/* The file name without folders and ".json". */
static void base_name(const char *path, char *out, size_t size)
{
	const char *slash = strrchr(path, '/');
	size_t n;

	snprintf(out, size, "%s", slash ? slash + 1 : path);
	n = strlen(out);
	if (n > 5 && strcmp(out + n - 5, ".json") == 0)
		out[n - 5] = '\0';
}

int dp_model_profile_load(const char *name, struct dp_model_profile *p, struct dp_error *err)
{
	const char *env = getenv("DESKPILOT_PROFILE_DIR"), *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	char dirs[3][1024], path[1300], base[64];
	size_t n_dirs = 0, nlen;
	int r;

	if (!name || !*name)
		return dp_error_set(err, -EINVAL, "no model profile given (minimax-m3, qwen3-vl, ui-tars-1.5, "
					     "generic-openai or a profile file)");
	nlen = strlen(name);
	base_name(name, base, sizeof(base));
	if (strchr(name, '/') || (nlen > 5 && strcmp(name + nlen - 5, ".json") == 0)) {
		r = load_file(name, base, p, err);
		if (r < 0 && err && !err->message[0])
			dp_error_set(err, r, "cannot read the profile %s: %s", name, strerror(-r));
		return r;
	}
	for (size_t i = 0; i < nlen; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '-' && name[i] != '_' && name[i] != '.')
			return dp_error_set(err, -EINVAL, "profile name '%s': use letters, digits, '-', '_', '.'",
					    name);
	if (env && *env)
		snprintf(dirs[n_dirs++], sizeof(dirs[0]), "%s", env);
	if (xdg && *xdg)
		snprintf(dirs[n_dirs++], sizeof(dirs[0]), "%s/deskpilot/profiles", xdg);
	else if (home && *home)
		snprintf(dirs[n_dirs++], sizeof(dirs[0]), "%s/.config/deskpilot/profiles", home);
	snprintf(dirs[n_dirs++], sizeof(dirs[0]), "%s", DP_PROFILE_DATADIR);
	if (err)
		err->message[0] = '\0';
	for (size_t i = 0; i < n_dirs; i++) {
		snprintf(path, sizeof(path), "%.1000s/%.150s.json", dirs[i], name);
		r = load_file(path, base, p, err);
		if (r == -ENOENT && !(err && err->message[0]))
			continue;
		if (r < 0 && err && !err->message[0])
			dp_error_set(err, r, "cannot read the profile %s: %s", path, strerror(-r));
		return r;
	}
	snprintf(path, sizeof(path), "%.380s%s%.380s%s%.380s", dirs[0], n_dirs > 1 ? ", " : "",
		 n_dirs > 1 ? dirs[1] : "", n_dirs > 2 ? ", " : "", n_dirs > 2 ? dirs[2] : "");
	return dp_error_set(err, -ENOENT,
			    "no model profile '%.60s' in %.300s (shipped: minimax-m3, qwen3-vl, ui-tars-1.5, "
			    "generic-openai; or give a profile file)", name, path);
}
