#include "profile.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/json.h"
#include "tests/model_server/util.h"

static int int_field(const cJSON *root, const char *name, int64_t min, int64_t max, int64_t *out, const char *path,
		     struct dp_error *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, name);

	if (!cJSON_IsNumber(v) || v->valuedouble < (double)min || v->valuedouble > (double)max ||
	    v->valuedouble != (double)(int64_t)v->valuedouble)
		return dp_error_set(err, -EINVAL, "%s: %s: expected a whole number from %lld to %lld", path, name,
				    (long long)min, (long long)max);
	*out = (int64_t)v->valuedouble;
	return 0;
}

static int str_field(const cJSON *root, const char *name, const char **out, const char *path, struct dp_error *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, name);

	if (!cJSON_IsString(v))
		return dp_error_set(err, -EINVAL, "%s: %s: expected a string", path, name);
	*out = v->valuestring;
	return 0;
}

static int parse(const cJSON *root, const char *name, const char *path, struct ms_profile *p, struct dp_error *err)
{
	const char *model = NULL, *coords = NULL, *actions = NULL, *thinking = NULL;
	int64_t factor = 0, min_px = 0, max_px = 0, keep = 0;
	int r;

	if ((r = str_field(root, "model", &model, path, err)) < 0 ||
	    (r = int_field(root, "factor", 1, 1024, &factor, path, err)) < 0 ||
	    (r = int_field(root, "min_pixels", 1, INT64_C(1) << 40, &min_px, path, err)) < 0 ||
	    (r = int_field(root, "max_pixels", 1, INT64_C(1) << 40, &max_px, path, err)) < 0 ||
	    (r = str_field(root, "coordinate_space", &coords, path, err)) < 0 ||
	    (r = str_field(root, "action_format", &actions, path, err)) < 0 ||
	    (r = str_field(root, "thinking", &thinking, path, err)) < 0)
		return r;
	if (cJSON_GetObjectItemCaseSensitive(root, "keep_screenshots") &&
	    (r = int_field(root, "keep_screenshots", 0, 100000, &keep, path, err)) < 0)
		return r;
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	snprintf(p->model, sizeof(p->model), "%s", model);
	p->factor = (int32_t)factor;
	p->min_pixels = min_px;
	p->max_pixels = max_px;
	if (!strcmp(coords, "image_pixels"))
		p->coords = MS_COORDS_PIXELS;
	else if (!strcmp(coords, "normalized_1000"))
		p->coords = MS_COORDS_NORM1000;
	else
		return dp_error_set(err, -EINVAL,
				    "%s: coordinate_space: '%s' is neither image_pixels nor normalized_1000", path,
				    coords);
	if (!strcmp(actions, "ui_tars_text"))
		p->text_actions = true;
	else if (strcmp(actions, "tools"))
		return dp_error_set(err, -EINVAL, "%s: action_format: '%s' is neither tools nor ui_tars_text", path,
				    actions);
	p->thinking = !strcmp(thinking, "adaptive");
	p->drops_screenshots = keep > 0;
	p->any_model = !strcmp(name, "generic-openai");
	return 0;
}

int ms_profile_load(const char *dir, const char *name, struct ms_profile *p, struct dp_error *err)
{
	struct dp_error jerr = { 0 };
	char path[1024];
	cJSON *root = NULL;
	char *text;
	int r;

	if (!*name || strchr(name, '/'))
		return dp_error_set(err, -EINVAL, "profile name '%s': expected a name such as minimax-m3", name);
	snprintf(path, sizeof(path), "%s/%s.json", dir, name);
	text = ms_read_file(path);
	if (!text)
		return dp_error_set(err, -ENOENT, "no profile '%s': cannot read %s", name, path);
	r = dp_json_parse(text, strlen(text), 1, &root, &jerr);
	if (r == 0 && !cJSON_IsObject(root))
		r = dp_error_set(err, -EINVAL, "%s: expected a JSON object", path);
	else if (r < 0)
		r = dp_error_set(err, r, "%s: %s", path, jerr.message);
	if (r == 0)
		r = parse(root, name, path, p, err);
	cJSON_Delete(root);
	free(text);
	return r;
}

int ms_profile_for_model(const char *dir, const char *model, struct ms_profile *p, struct dp_error *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int r = -ENOENT;

	if (!d)
		return dp_error_set(err, -errno, "cannot open the profile folder %s", dir);
	while (r != 0 && (e = readdir(d))) {
		size_t len = strlen(e->d_name);
		char name[64];

		if (len <= 5 || len - 5 >= sizeof(name) || strcmp(e->d_name + len - 5, ".json"))
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)(len - 5), e->d_name);
		if (ms_profile_load(dir, name, p, NULL) == 0 && !strcmp(p->model, model))
			r = 0;
	}
	closedir(d);
	if (r < 0)
		dp_error_set(err, r, "no profile in %s has the model '%s'", dir, model);
	return r;
}
