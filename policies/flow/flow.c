#include "policies/flow/flow.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/json.h"

#define MAX_DEPTH 8

struct parser {
	struct flow *flow;
	struct dp_error *err;
};

static const char *const step_names[] = {
	[FLOW_CLICK] = "click",       [FLOW_DOUBLE_CLICK] = "double_click", [FLOW_RIGHT_CLICK] = "right_click",
	[FLOW_TYPE] = "type",         [FLOW_KEY] = "key",                   [FLOW_WAIT_FOR] = "wait_for",
	[FLOW_EXPECT] = "expect",     [FLOW_WINDOW] = "window",             [FLOW_LAUNCH] = "launch",
	[FLOW_FOR_EACH] = "for_each", [FLOW_IF_PRESENT] = "if_present",     [FLOW_RETRY] = "retry",
	[FLOW_SET] = "set",           [FLOW_FAIL] = "fail",                 [FLOW_NOTE] = "note",
	[FLOW_IF] = "if",
};
#define N_KINDS (sizeof(step_names) / sizeof(step_names[0]))

/* The fields each kind of step may have besides its own name. */
static const char *const step_fields[N_KINDS][5] = {
	[FLOW_TYPE] = { "into", "replace" },
	[FLOW_WAIT_FOR] = { "timeout_ms", "until" },
	[FLOW_FOR_EACH] = { "do", "on_error", "recover" },
	[FLOW_IF_PRESENT] = { "then", "else" },
	[FLOW_RETRY] = { "do" },
	[FLOW_SET] = { "from_text" },
	[FLOW_IF] = { "then", "else" },
};

static int fail_at(struct parser *p, const char *path, const char *what)
{
	return dp_error_set(p->err, -EINVAL, "%s: %s", path, what);
}

static char *dup_string(const cJSON *item)
{
	return strdup(item->valuestring);
}

static int read_int_field(struct parser *p, const cJSON *obj, const char *key, const char *path, int32_t min,
			  int32_t max, int32_t *out)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
	char where[256];

	if (!item)
		return 0;
	snprintf(where, sizeof(where), "%s.%s", path, key);
	/* The range first: converting a huge double to an integer is undefined. */
	if (!cJSON_IsNumber(item) || !(item->valuedouble >= min && item->valuedouble <= max) ||
	    item->valuedouble != (double)(int64_t)item->valuedouble) {
		char msg[96];

		snprintf(msg, sizeof(msg), "expected a whole number from %d to %d", min, max);
		return fail_at(p, where, msg);
	}
	*out = (int32_t)item->valuedouble;
	return 0;
}

static int read_pair(struct parser *p, const cJSON *item, const char *path, int32_t *a, int32_t *b)
{
	if (!cJSON_IsArray(item) || cJSON_GetArraySize(item) != 2 || !cJSON_IsNumber(cJSON_GetArrayItem(item, 0)) ||
	    !cJSON_IsNumber(cJSON_GetArrayItem(item, 1)))
		return fail_at(p, path, "expected [x, y]");
	*a = cJSON_GetArrayItem(item, 0)->valueint;
	*b = cJSON_GetArrayItem(item, 1)->valueint;
	return 0;
}

/* A locator: {"text": ...} or {"image": ...} or {"x": .., "y": ..}, with
 * match, nth, region, offset (and window for coordinates). */
static int parse_locator(struct parser *p, const cJSON *obj, const char *path, struct flow_locator *loc)
{
	static const char *const allowed[] = { "text", "match", "nth", "region", "offset", "image", "threshold",
					       "x", "y", "window", NULL };
	const cJSON *item;
	char where[256];
	int32_t nth = 0;
	int kinds;

	if (cJSON_IsString(obj)) { /* "Save" is short for {"text": "Save"} */
		loc->kind = FLOW_LOC_TEXT;
		loc->text = dup_string(obj);
		p->flow->uses_text = true;
		return loc->text ? 0 : -ENOMEM;
	}
	if (!cJSON_IsObject(obj))
		return fail_at(p, path, "expected a locator: {\"text\": ...}, {\"image\": ...} or {\"x\": .., \"y\": ..}");
	cJSON_ArrayForEach(item, obj) {
		bool ok = false;

		for (size_t i = 0; allowed[i] && !ok; i++)
			ok = strcmp(item->string, allowed[i]) == 0;
		if (!ok) {
			snprintf(where, sizeof(where), "%s.%s", path, item->string);
			return fail_at(p, where, "unknown locator field (text, match, nth, region, offset, image, "
						 "threshold, x, y, window)");
		}
	}
	kinds = !!cJSON_GetObjectItem(obj, "text") + !!cJSON_GetObjectItem(obj, "image") +
		!!(cJSON_GetObjectItem(obj, "x") || cJSON_GetObjectItem(obj, "y"));
	if (kinds != 1)
		return fail_at(p, path, "a locator is one of text, image or x/y");
	if ((item = cJSON_GetObjectItem(obj, "text"))) {
		const cJSON *match = cJSON_GetObjectItem(obj, "match");

		snprintf(where, sizeof(where), "%s.text", path);
		if (!cJSON_IsString(item) || !item->valuestring[0])
			return fail_at(p, where, "expected a non-empty string");
		loc->kind = FLOW_LOC_TEXT;
		loc->text = dup_string(item);
		p->flow->uses_text = true;
		if (match) {
			snprintf(where, sizeof(where), "%s.match", path);
			if (!cJSON_IsString(match))
				return fail_at(p, where, "expected exact, icase or regex");
			if (!strcmp(match->valuestring, "exact"))
				loc->match = FLOW_MATCH_EXACT;
			else if (!strcmp(match->valuestring, "icase"))
				loc->match = FLOW_MATCH_ICASE;
			else if (!strcmp(match->valuestring, "regex"))
				loc->match = FLOW_MATCH_REGEX;
			else
				return fail_at(p, where, "expected exact, icase or regex");
		}
	} else if ((item = cJSON_GetObjectItem(obj, "image"))) {
		const cJSON *th = cJSON_GetObjectItem(obj, "threshold");

		snprintf(where, sizeof(where), "%s.image", path);
		if (!cJSON_IsString(item) || !item->valuestring[0])
			return fail_at(p, where, "expected the path of a PNG file");
		loc->kind = FLOW_LOC_IMAGE;
		loc->image = dup_string(item);
		loc->threshold = 0.9;
		if (th) {
			snprintf(where, sizeof(where), "%s.threshold", path);
			if (!cJSON_IsNumber(th) || th->valuedouble <= 0 || th->valuedouble > 1)
				return fail_at(p, where, "expected a similarity above 0 and at most 1");
			loc->threshold = th->valuedouble;
		}
	} else {
		const cJSON *win = cJSON_GetObjectItem(obj, "window");

		loc->kind = FLOW_LOC_POINT;
		if (!cJSON_GetObjectItem(obj, "x") || !cJSON_GetObjectItem(obj, "y"))
			return fail_at(p, path, "coordinates need both x and y");
		if (read_int_field(p, obj, "x", path, 0, 32767, &loc->x) < 0 ||
		    read_int_field(p, obj, "y", path, 0, 32767, &loc->y) < 0)
			return -EINVAL;
		if (win) {
			snprintf(where, sizeof(where), "%s.window", path);
			if (!cJSON_IsString(win))
				return fail_at(p, where, "expected a regular expression on the window title");
			loc->window = dup_string(win);
		}
	}
	if (read_int_field(p, obj, "nth", path, 1, 1000, &nth) < 0)
		return -EINVAL;
	loc->nth = (uint32_t)nth;
	if ((item = cJSON_GetObjectItem(obj, "region"))) {
		snprintf(where, sizeof(where), "%s.region", path);
		if (!cJSON_IsArray(item) || cJSON_GetArraySize(item) != 4)
			return fail_at(p, where, "expected [x, y, width, height]");
		loc->region = (struct dp_rect){ cJSON_GetArrayItem(item, 0)->valueint, cJSON_GetArrayItem(item, 1)->valueint,
						 cJSON_GetArrayItem(item, 2)->valueint, cJSON_GetArrayItem(item, 3)->valueint };
		if (dp_rect_empty(loc->region))
			return fail_at(p, where, "the region is empty");
		loc->has_region = true;
	}
	if ((item = cJSON_GetObjectItem(obj, "offset"))) {
		snprintf(where, sizeof(where), "%s.offset", path);
		if (read_pair(p, item, where, &loc->dx, &loc->dy) < 0)
			return -EINVAL;
	}
	return 0;
}

static int parse_block(struct parser *p, const cJSON *array, const char *path, struct flow_block *block, int depth);

static int parse_strings(struct parser *p, const cJSON *array, const char *path, char ***out)
{
	const cJSON *item;
	size_t n = 0;

	if (!cJSON_IsArray(array) || cJSON_GetArraySize(array) < 1)
		return fail_at(p, path, "expected [\"program\", \"argument\", ...]");
	*out = calloc((size_t)cJSON_GetArraySize(array) + 1, sizeof(char *));
	if (!*out)
		return -ENOMEM;
	cJSON_ArrayForEach(item, array) {
		char where[300];

		snprintf(where, sizeof(where), "%s[%zu]", path, n);
		if (!cJSON_IsString(item) || !item->valuestring[0])
			return fail_at(p, where, "expected a non-empty string");
		(*out)[n++] = dup_string(item);
	}
	return 0;
}

static int check_fields(struct parser *p, const cJSON *obj, enum flow_step_kind kind, const char *path)
{
	const cJSON *item;

	cJSON_ArrayForEach(item, obj) {
		bool ok = strcmp(item->string, step_names[kind]) == 0;
		char where[256];

		for (size_t i = 0; i < 5 && step_fields[kind][i] && !ok; i++)
			ok = strcmp(item->string, step_fields[kind][i]) == 0;
		if (!ok) {
			snprintf(where, sizeof(where), "%s.%s", path, item->string);
			return fail_at(p, where, "unknown field for this kind of step");
		}
	}
	return 0;
}

static int parse_string_step(struct parser *p, const cJSON *value, const char *path, struct flow_step *s)
{
	if (!cJSON_IsString(value))
		return fail_at(p, path, "expected a string");
	s->text = dup_string(value);
	return s->text ? 0 : -ENOMEM;
}

static int parse_block_field(struct parser *p, const cJSON *obj, const char *key, const char *path, bool required,
			     struct flow_block *block, int depth)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
	char where[256];

	snprintf(where, sizeof(where), "%s.%s", path, key);
	if (!item)
		return required ? fail_at(p, where, "missing: a list of steps") : 0;
	return parse_block(p, item, where, block, depth + 1);
}

static int parse_step_body(struct parser *p, const cJSON *obj, const cJSON *value, const char *path,
			   struct flow_step *s, int depth)
{
	const cJSON *item;
	char where[256];

	snprintf(where, sizeof(where), "%s.%s", path, step_names[s->kind]);
	switch (s->kind) {
	case FLOW_CLICK:
	case FLOW_DOUBLE_CLICK:
	case FLOW_RIGHT_CLICK:
	case FLOW_EXPECT:
		if (s->kind == FLOW_EXPECT && cJSON_IsObject(value) && cJSON_GetObjectItem(value, "window_title")) {
			const cJSON *t = cJSON_GetObjectItem(value, "window_title");

			if (cJSON_GetArraySize(value) != 1 || !cJSON_IsString(t))
				return fail_at(p, where, "expected {\"window_title\": \"regex\"} or a locator");
			s->text = dup_string(t);
			return 0;
		}
		return parse_locator(p, value, where, &s->loc);
	case FLOW_TYPE:
		if (parse_string_step(p, value, where, s) < 0)
			return -EINVAL;
		if ((item = cJSON_GetObjectItem(obj, "replace"))) {
			snprintf(where, sizeof(where), "%s.replace", path);
			if (!cJSON_IsBool(item))
				return fail_at(p, where, "expected true or false");
			s->replace = cJSON_IsTrue(item);
		}
		if ((item = cJSON_GetObjectItem(obj, "into"))) {
			snprintf(where, sizeof(where), "%s.into", path);
			return parse_locator(p, item, where, &s->loc);
		}
		return 0;
	case FLOW_KEY:
	case FLOW_FAIL:
	case FLOW_NOTE:
		return parse_string_step(p, value, where, s);
	case FLOW_WAIT_FOR:
		s->timeout_ms = 10000;
		if (read_int_field(p, obj, "timeout_ms", path, 1, 600000, &s->timeout_ms) < 0)
			return -EINVAL;
		if ((item = cJSON_GetObjectItem(obj, "until"))) {
			snprintf(where, sizeof(where), "%s.until", path);
			if (!cJSON_IsString(item) || (strcmp(item->valuestring, "appears") && strcmp(item->valuestring, "vanishes")))
				return fail_at(p, where, "expected appears or vanishes");
			s->vanish = !strcmp(item->valuestring, "vanishes");
		}
		snprintf(where, sizeof(where), "%s.wait_for", path);
		if (cJSON_IsObject(value) && cJSON_GetObjectItem(value, "screen")) {
			const cJSON *screen = cJSON_GetObjectItem(value, "screen");

			if (cJSON_GetArraySize(value) != 1 || !cJSON_IsString(screen) ||
			    (strcmp(screen->valuestring, "changes") && strcmp(screen->valuestring, "settles")))
				return fail_at(p, where, "expected {\"screen\": \"changes\"} or {\"screen\": \"settles\"}");
			s->screen = strcmp(screen->valuestring, "changes") ? FLOW_SCREEN_SETTLES : FLOW_SCREEN_CHANGES;
			return 0;
		}
		return parse_locator(p, value, where, &s->loc);
	case FLOW_WINDOW:
		if (!cJSON_IsObject(value) || !cJSON_IsString(cJSON_GetObjectItem(value, "op")))
			return fail_at(p, where, "expected {\"op\": \"activate\", \"title\": ...} (see docs/actions.md)");
		s->window_json = cJSON_PrintUnformatted(value);
		return s->window_json ? 0 : -ENOMEM;
	case FLOW_LAUNCH:
		return parse_strings(p, value, where, &s->argv);
	case FLOW_FOR_EACH:
		if (!cJSON_IsString(value) || strcmp(value->valuestring, "rows") != 0)
			return fail_at(p, where, "expected \"rows\" (the rows of the flow's CSV data)");
		if ((item = cJSON_GetObjectItem(obj, "on_error"))) {
			snprintf(where, sizeof(where), "%s.on_error", path);
			if (!cJSON_IsString(item) || (strcmp(item->valuestring, "skip") && strcmp(item->valuestring, "fail")))
				return fail_at(p, where, "expected skip or fail");
			s->skip_errors = !strcmp(item->valuestring, "skip");
		}
		return parse_block_field(p, obj, "do", path, true, &s->body, depth) < 0 ||
		       parse_block_field(p, obj, "recover", path, false, &s->other, depth) < 0 ? -EINVAL : 0;
	case FLOW_IF_PRESENT:
		if (parse_locator(p, value, where, &s->loc) < 0)
			return -EINVAL;
		return parse_block_field(p, obj, "then", path, true, &s->body, depth) < 0 ||
		       parse_block_field(p, obj, "else", path, false, &s->other, depth) < 0 ? -EINVAL : 0;
	case FLOW_IF: {
		const cJSON *eq = cJSON_IsObject(value) ? cJSON_GetObjectItem(value, "equals") : NULL;

		if (!eq || cJSON_GetArraySize(value) != 1 || !cJSON_IsArray(eq) || cJSON_GetArraySize(eq) != 2 ||
		    !cJSON_IsString(cJSON_GetArrayItem(eq, 0)) || !cJSON_IsString(cJSON_GetArrayItem(eq, 1)))
			return fail_at(p, where, "expected {\"equals\": [\"${row.vat}\", \"7\"]}");
		s->equals[0] = dup_string(cJSON_GetArrayItem(eq, 0));
		s->equals[1] = dup_string(cJSON_GetArrayItem(eq, 1));
		return parse_block_field(p, obj, "then", path, true, &s->body, depth) < 0 ||
		       parse_block_field(p, obj, "else", path, false, &s->other, depth) < 0 ? -EINVAL : 0;
	}
	case FLOW_RETRY:
		if (!cJSON_IsObject(value))
			return fail_at(p, where, "expected {\"times\": N, \"backoff_ms\": MS}");
		s->times = 3;
		s->backoff_ms = 500;
		if (read_int_field(p, value, "times", where, 1, 100, &s->times) < 0 ||
		    read_int_field(p, value, "backoff_ms", where, 0, 60000, &s->backoff_ms) < 0)
			return -EINVAL;
		return parse_block_field(p, obj, "do", path, true, &s->body, depth);
	case FLOW_SET:
		if (parse_string_step(p, value, where, s) < 0)
			return -EINVAL;
		if (!(item = cJSON_GetObjectItem(obj, "from_text")))
			return fail_at(p, path, "set needs from_text: a region [x, y, width, height] or a regex locator");
		snprintf(where, sizeof(where), "%s.from_text", path);
		p->flow->uses_text = true;
		if (cJSON_IsObject(item) && cJSON_GetArraySize(item) == 1 && cJSON_GetObjectItem(item, "region")) {
			/* All the text in a region. */
			const cJSON *r = cJSON_GetObjectItem(item, "region");

			if (!cJSON_IsArray(r) || cJSON_GetArraySize(r) != 4)
				return fail_at(p, where, "expected {\"region\": [x, y, width, height]}");
			s->loc.region = (struct dp_rect){ cJSON_GetArrayItem(r, 0)->valueint, cJSON_GetArrayItem(r, 1)->valueint,
							  cJSON_GetArrayItem(r, 2)->valueint, cJSON_GetArrayItem(r, 3)->valueint };
			s->loc.has_region = !dp_rect_empty(s->loc.region);
			return s->loc.has_region ? 0 : fail_at(p, where, "the region is empty");
		}
		return parse_locator(p, item, where, &s->loc);
	}
	return -EINVAL;
}

static int parse_step(struct parser *p, const cJSON *obj, const char *path, struct flow_step *s, int depth)
{
	const cJSON *value = NULL;
	size_t found = 0;

	snprintf(s->path, sizeof(s->path), "%s", path);
	if (!cJSON_IsObject(obj))
		return fail_at(p, path, "expected a step object such as {\"click\": {\"text\": \"Save\"}}");
	for (size_t k = 0; k < N_KINDS; k++) {
		const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, step_names[k]);

		if (item) {
			found++;
			s->kind = (enum flow_step_kind)k;
			value = item;
		}
	}
	if (found != 1)
		return fail_at(p, path, found ? "a step does one thing: give one of click, type, key, wait_for, ..."
					       : "no step kind: use click, double_click, right_click, type, key, wait_for, "
						 "expect, window, launch, for_each, if, if_present, retry, set, fail or note");
	if (check_fields(p, obj, s->kind, path) < 0)
		return -EINVAL;
	return parse_step_body(p, obj, value, path, s, depth);
}

static int parse_block(struct parser *p, const cJSON *array, const char *path, struct flow_block *block, int depth)
{
	const cJSON *item;
	size_t i = 0;

	if (depth > MAX_DEPTH)
		return fail_at(p, path, "blocks nest more than 8 deep");
	if (!cJSON_IsArray(array) || cJSON_GetArraySize(array) < 1)
		return fail_at(p, path, "expected a non-empty list of steps");
	block->n = (size_t)cJSON_GetArraySize(array);
	block->steps = calloc(block->n, sizeof(*block->steps));
	if (!block->steps)
		return -ENOMEM;
	cJSON_ArrayForEach(item, array) {
		char where[128];

		snprintf(where, sizeof(where), "%s[%zu]", path, i);
		if (parse_step(p, item, where, &block->steps[i++], depth) < 0)
			return -EINVAL;
	}
	return 0;
}

static int parse_vars(struct parser *p, const cJSON *obj)
{
	const cJSON *item;
	size_t i = 0;

	if (!cJSON_IsObject(obj))
		return fail_at(p, "variables", "expected {\"name\": \"value\", ...}");
	p->flow->n_vars = (size_t)cJSON_GetArraySize(obj);
	p->flow->vars = calloc(p->flow->n_vars + 1, sizeof(*p->flow->vars));
	if (!p->flow->vars)
		return -ENOMEM;
	cJSON_ArrayForEach(item, obj) {
		char where[160];

		snprintf(where, sizeof(where), "variables.%s", item->string);
		if (!cJSON_IsString(item))
			return fail_at(p, where, "expected a string");
		p->flow->vars[i].name = strdup(item->string);
		p->flow->vars[i++].value = dup_string(item);
	}
	return 0;
}

int flow_parse(const char *text, size_t len, const char *dir, struct flow *flow, struct dp_error *err)
{
	struct parser p = { .flow = flow, .err = err };
	cJSON *root = NULL;
	const cJSON *item;
	int r;

	memset(flow, 0, sizeof(*flow));
	r = dp_json_parse(text, len, 1, &root, err);
	if (r < 0)
		return r;
	flow->dir = strdup(dir ? dir : ".");
	if (!cJSON_IsObject(root)) {
		r = dp_error_set(err, -EINVAL, "a flow is an object: {\"name\": ..., \"steps\": [...]}");
		goto out;
	}
	cJSON_ArrayForEach(item, root) {
		if (strcmp(item->string, "name") && strcmp(item->string, "data") && strcmp(item->string, "variables") &&
		    strcmp(item->string, "steps")) {
			r = dp_error_set(err, -EINVAL, "%s: unknown field (a flow has name, data, variables, steps)",
					 item->string);
			goto out;
		}
	}
	if ((item = cJSON_GetObjectItem(root, "name")) && cJSON_IsString(item))
		flow->name = dup_string(item);
	if ((item = cJSON_GetObjectItem(root, "data"))) {
		if (!cJSON_IsString(item)) {
			r = fail_at(&p, "data", "expected the path of a CSV file");
			goto out;
		}
		flow->data = dup_string(item);
	}
	if ((item = cJSON_GetObjectItem(root, "variables")) && (r = parse_vars(&p, item)) < 0)
		goto out;
	item = cJSON_GetObjectItem(root, "steps");
	r = item ? parse_block(&p, item, "steps", &flow->steps, 0) : fail_at(&p, "steps", "missing: the list of steps");
out:
	cJSON_Delete(root);
	if (r < 0)
		flow_free(flow);
	return r;
}

int flow_load(const char *path, struct flow *flow, struct dp_error *err)
{
	FILE *f = fopen(path, "rb");
	char *text = NULL, *copy, *dir;
	size_t size = 0;
	ssize_t len;
	int r;

	memset(flow, 0, sizeof(*flow));
	if (!f)
		return dp_error_set(err, -errno, "cannot read the flow %s: %s", path, strerror(errno));
	len = getdelim(&text, &size, '\0', f);
	if (len < 0 && (ferror(f) || !text)) {
		fclose(f);
		free(text);
		return dp_error_set(err, -EIO, "cannot read the flow %s", path);
	}
	fclose(f);
	if (len < 0)
		len = 0; /* an empty file */
	copy = strdup(path);
	dir = copy ? dirname(copy) : ".";
	r = flow_parse(text, (size_t)len, dir, flow, err);
	if (r < 0 && err && strncmp(err->message, path, strlen(path)) != 0) {
		char msg[sizeof(err->message)];

		snprintf(msg, sizeof(msg), "%s", err->message);
		dp_error_set(err, r, "%s: %s", path, msg);
	}
	free(copy);
	free(text);
	return r;
}

static void free_locator(struct flow_locator *l)
{
	free(l->text);
	free(l->image);
	free(l->window);
}

static void free_block(struct flow_block *b)
{
	for (size_t i = 0; i < b->n; i++) {
		struct flow_step *s = &b->steps[i];

		free_locator(&s->loc);
		free(s->text);
		free(s->window_json);
		free(s->equals[0]);
		free(s->equals[1]);
		for (size_t j = 0; s->argv && s->argv[j]; j++)
			free(s->argv[j]);
		free(s->argv);
		free_block(&s->body);
		free_block(&s->other);
	}
	free(b->steps);
	b->steps = NULL;
	b->n = 0;
}

void flow_free(struct flow *flow)
{
	free(flow->name);
	free(flow->dir);
	free(flow->data);
	for (size_t i = 0; i < flow->n_vars; i++) {
		free(flow->vars[i].name);
		free(flow->vars[i].value);
	}
	free(flow->vars);
	free_block(&flow->steps);
	memset(flow, 0, sizeof(*flow));
}
