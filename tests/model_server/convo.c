#include "convo.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/model_server/screen.h"
#include "tests/model_server/util.h"

#define MS_MAX_CONVOS 256

struct ms_convos {
	struct ms_convo *items[MS_MAX_CONVOS];
	size_t n, next_evict;
};

int64_t ms_text_tokens(const char *s)
{
	return s ? ((int64_t)strlen(s) + 3) / 4 : 0;
}

bool ms_is_dropped_note(const char *text)
{
	unsigned step;
	int end = 0;

	return text && sscanf(text, "[screenshot of step %u dropped]%n", &step, &end) == 1 && end > 0 &&
	       text[end] == '\0';
}

static int64_t image_tokens(const cJSON *part, const struct ms_profile *p)
{
	const cJSON *iu = cJSON_GetObjectItemCaseSensitive(part, "image_url");
	const char *url = ms_json_str(iu, "url");
	int32_t w, h;

	if (!url || ms_image_url_size(url, &w, &h, NULL) < 0 || p->factor <= 0)
		return 0;
	return (int64_t)(w / p->factor) * (h / p->factor);
}

int64_t ms_message_tokens(const cJSON *m, const struct ms_profile *p)
{
	const cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content"), *x;
	int64_t t = 4;

	if (cJSON_IsString(content))
		t += ms_text_tokens(content->valuestring);
	cJSON_ArrayForEach(x, (cJSON_IsArray(content) ? content : NULL)) {
		const char *type = ms_json_str(x, "type");

		if (type && !strcmp(type, "image_url"))
			t += image_tokens(x, p);
		else
			t += ms_text_tokens(ms_json_str(x, "text"));
	}
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(m, "tool_calls")) {
		const cJSON *fn = cJSON_GetObjectItemCaseSensitive(x, "function");

		t += ms_text_tokens(ms_json_str(x, "id")) + ms_text_tokens(ms_json_str(fn, "name")) +
		     ms_text_tokens(ms_json_str(fn, "arguments"));
	}
	t += ms_text_tokens(ms_json_str(m, "tool_call_id"));
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(m, "reasoning_details"))
		t += ms_text_tokens(ms_json_str(x, "text"));
	return t;
}

/* The hash of a message with every image part and dropped-image note
 * replaced by the same placeholder. */
static uint64_t norm_hash(const cJSON *m)
{
	cJSON *copy = cJSON_Duplicate(m, true);
	cJSON *content = cJSON_GetObjectItemCaseSensitive(copy, "content"), *part;
	uint64_t h = MS_HASH_INIT;
	char *canon;

	cJSON_ArrayForEach(part, (cJSON_IsArray(content) ? content : NULL)) {
		const char *type = ms_json_str(part, "type");

		if ((type && !strcmp(type, "image_url")) || ms_is_dropped_note(ms_json_str(part, "text"))) {
			cJSON *child;

			while ((child = part->child)) {
				cJSON_DetachItemViaPointer(part, child);
				cJSON_Delete(child);
			}
			cJSON_AddStringToObject(part, "type", "screenshot");
		}
	}
	canon = copy ? ms_json_canonical(copy) : NULL;
	h = ms_hash_str(h, canon ? canon : "");
	free(canon);
	cJSON_Delete(copy);
	return h;
}

void ms_segments_clear(struct ms_segments *s)
{
	for (size_t i = 0; s->canon && i < s->n; i++)
		free(s->canon[i]);
	free(s->canon);
	free(s->tokens);
	free(s->norm);
	memset(s, 0, sizeof(*s));
}

int ms_segments_build(const cJSON *tools, const cJSON *messages, const struct ms_profile *p, struct ms_segments *s)
{
	size_t n = 1 + (size_t)cJSON_GetArraySize(messages), i = 1;
	const cJSON *m;

	memset(s, 0, sizeof(*s));
	s->canon = calloc(n, sizeof(*s->canon));
	s->tokens = calloc(n, sizeof(*s->tokens));
	s->norm = calloc(n, sizeof(*s->norm));
	if (!s->canon || !s->tokens || !s->norm)
		goto oom;
	s->n = n;
	s->canon[0] = tools ? ms_json_canonical(tools) : strdup("");
	if (!s->canon[0])
		goto oom;
	s->tokens[0] = ms_text_tokens(s->canon[0]);
	s->norm[0] = ms_hash_str(MS_HASH_INIT, s->canon[0]);
	cJSON_ArrayForEach(m, messages) {
		if (!(s->canon[i] = ms_json_canonical(m)))
			goto oom;
		s->tokens[i] = ms_message_tokens(m, p);
		s->norm[i] = norm_hash(m);
		i++;
	}
	return 0;
oom:
	ms_segments_clear(s);
	return -ENOMEM;
}

int64_t ms_segments_total(const struct ms_segments *s)
{
	int64_t t = 0;

	for (size_t i = 0; i < s->n; i++)
		t += s->tokens[i];
	return t;
}

uint64_t ms_prefix_key(const struct ms_segments *s, size_t i)
{
	uint64_t h = MS_HASH_INIT;

	/* Messages only (from 1): a reply belongs to the history, not to the tools offered. */
	for (size_t k = 1; k <= i && k < s->n; k++)
		h = ms_hash(h, &s->norm[k], sizeof(s->norm[k]));
	return h;
}

struct ms_convos *ms_convos_create(void)
{
	return calloc(1, sizeof(struct ms_convos));
}

static void convo_free(struct ms_convo *cv)
{
	if (!cv)
		return;
	ms_segments_clear(&cv->prev);
	cJSON_Delete(cv->prev_messages);
	for (size_t i = 0; i < cv->n_sent; i++)
		free(cv->sent[i].canon);
	free(cv->sent);
	free(cv);
}

void ms_convos_destroy(struct ms_convos *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		convo_free(c->items[i]);
	free(c);
}

struct ms_convo *ms_convos_get(struct ms_convos *c, uint64_t id)
{
	struct ms_convo *cv;

	for (size_t i = 0; i < c->n; i++)
		if (c->items[i]->id == id)
			return c->items[i];
	if (!(cv = calloc(1, sizeof(*cv))))
		return NULL;
	cv->id = id;
	if (c->n < MS_MAX_CONVOS) {
		c->items[c->n++] = cv;
	} else { /* the oldest goes, as a cache would evict it */
		convo_free(c->items[c->next_evict]);
		c->items[c->next_evict] = cv;
		c->next_evict = (c->next_evict + 1) % MS_MAX_CONVOS;
	}
	return cv;
}

char *ms_assistant_essence(const cJSON *message)
{
	static const char *const keys[] = { "content", "tool_calls", "reasoning_details" };
	cJSON *e = cJSON_CreateObject();
	char *canon;

	if (!e)
		return NULL;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(message, keys[i]);

		if (v && !cJSON_IsNull(v))
			cJSON_AddItemToObject(e, keys[i], cJSON_Duplicate(v, true));
	}
	canon = ms_json_canonical(e);
	cJSON_Delete(e);
	return canon;
}

int ms_convo_sent(struct ms_convo *cv, uint64_t key, const cJSON *message)
{
	struct ms_sent *grown = realloc(cv->sent, (cv->n_sent + 1) * sizeof(*cv->sent));
	char *canon = ms_assistant_essence(message);

	if (grown)
		cv->sent = grown;
	if (!grown || !canon) {
		free(canon);
		return -ENOMEM;
	}
	cv->sent[cv->n_sent++] = (struct ms_sent){ key, canon };
	return 0;
}

bool ms_convo_was_sent(const struct ms_convo *cv, uint64_t key, const char *essence, bool *any_for_key)
{
	*any_for_key = false;
	for (size_t i = 0; i < cv->n_sent; i++) {
		if (cv->sent[i].key != key)
			continue;
		*any_for_key = true;
		if (!strcmp(cv->sent[i].canon, essence))
			return true;
	}
	return false;
}

int ms_convo_remember(struct ms_convo *cv, struct ms_segments *s, const cJSON *messages)
{
	cJSON *copy = cJSON_Duplicate(messages, true);

	if (!copy)
		return -ENOMEM;
	ms_segments_clear(&cv->prev);
	cv->prev = *s;
	memset(s, 0, sizeof(*s));
	cJSON_Delete(cv->prev_messages);
	cv->prev_messages = copy;
	cv->n_requests++;
	return 0;
}
