#include "policies/model/conversation.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct image_ref {
	cJSON *content; /* the user message's content array */
	cJSON *part;    /* the image_url part in it */
	uint32_t step;
};

struct dp_conversation {
	cJSON *messages;
	uint32_t keep, chunk;
	struct image_ref *images; /* kept screenshots, oldest first */
	size_t n_images, cap_images;
	uint32_t dropped;
	/* the messages printed so far, "[m1,m2" plus a closing ']' */
	char *json;
	size_t json_len, json_cap;
	int printed;  /* messages in json */
	bool reprint; /* an old message changed: print all again */
};

int dp_conversation_create(struct dp_conversation **out, uint32_t keep, uint32_t chunk)
{
	struct dp_conversation *c = calloc(1, sizeof(*c));

	if (!c || !(c->messages = cJSON_CreateArray())) {
		free(c);
		return -ENOMEM;
	}
	c->keep = keep;
	c->chunk = keep && !chunk ? 1 : chunk;
	*out = c;
	return 0;
}

void dp_conversation_destroy(struct dp_conversation *c)
{
	if (!c)
		return;
	cJSON_Delete(c->messages);
	free(c->images);
	free(c->json);
	free(c);
}

const cJSON *dp_conversation_messages(const struct dp_conversation *c)
{
	return c->messages;
}

uint32_t dp_conversation_images(const struct dp_conversation *c)
{
	return (uint32_t)c->n_images;
}

uint32_t dp_conversation_dropped(const struct dp_conversation *c)
{
	return c->dropped;
}

static int add_message(struct dp_conversation *c, const char *role, cJSON *content)
{
	cJSON *m = cJSON_CreateObject();

	if (!m || !content || !cJSON_AddStringToObject(m, "role", role)) {
		cJSON_Delete(m);
		cJSON_Delete(content);
		return -ENOMEM;
	}
	cJSON_AddItemToObject(m, "content", content);
	cJSON_AddItemToArray(c->messages, m);
	return 0;
}

static bool json_append(struct dp_conversation *c, const char *s, size_t n)
{
	if (c->json_len + n + 1 > c->json_cap) {
		size_t cap = c->json_cap ? c->json_cap : 65536;
		char *grown;

		while (cap < c->json_len + n + 1)
			cap *= 2;
		grown = realloc(c->json, cap);
		if (!grown)
			return false;
		c->json = grown;
		c->json_cap = cap;
	}
	memcpy(c->json + c->json_len, s, n);
	c->json_len += n;
	c->json[c->json_len] = '\0';
	return true;
}

const char *dp_conversation_json(struct dp_conversation *c, size_t *len)
{
	const cJSON *m;
	int i = 0;

	if (c->reprint || !c->json_len) {
		c->json_len = 0;
		c->printed = 0;
		c->reprint = false;
		if (!json_append(c, "[", 1))
			return NULL;
	} else {
		c->json_len--; /* reopen the array */
	}
	cJSON_ArrayForEach(m, c->messages) {
		char *text;
		bool ok;

		if (i++ < c->printed)
			continue;
		text = cJSON_PrintUnformatted(m);
		ok = text && (!c->printed || json_append(c, ",", 1)) && json_append(c, text, strlen(text));
		free(text);
		if (!ok) {
			c->reprint = true;
			return NULL;
		}
		c->printed++;
	}
	if (!json_append(c, "]", 1)) {
		c->reprint = true;
		return NULL;
	}
	if (len)
		*len = c->json_len;
	return c->json;
}

int dp_conversation_add_system(struct dp_conversation *c, const char *text)
{
	return add_message(c, "system", cJSON_CreateString(text));
}

static cJSON *text_part(const char *text)
{
	cJSON *p = cJSON_CreateObject();

	if (p && cJSON_AddStringToObject(p, "type", "text") && cJSON_AddStringToObject(p, "text", text))
		return p;
	cJSON_Delete(p);
	return NULL;
}

/* Replaces the oldest `chunk` screenshots once keep + chunk are held, so
 * the prefix the server caches changes once per chunk, not every step. */
static int drop_old(struct dp_conversation *c)
{
	char note[64];

	if (!c->keep || c->n_images < (size_t)c->keep + c->chunk)
		return 0;
	for (size_t i = 0; i < c->chunk; i++) {
		cJSON *repl;

		snprintf(note, sizeof(note), "[screenshot of step %u dropped]", c->images[i].step);
		repl = text_part(note);
		if (!repl || !cJSON_ReplaceItemViaPointer(c->images[i].content, c->images[i].part, repl)) {
			cJSON_Delete(repl);
			return -ENOMEM;
		}
		c->dropped++;
	}
	c->reprint = true;
	memmove(c->images, c->images + c->chunk, (c->n_images - c->chunk) * sizeof(*c->images));
	c->n_images -= c->chunk;
	return 0;
}

int dp_conversation_add_user(struct dp_conversation *c, const char *note, const char *text, const char *data_url,
			     uint32_t step)
{
	const char *texts[2] = { note, text };
	cJSON *content = cJSON_CreateArray(), *image = NULL, *url;
	int r;

	if (!content)
		return -ENOMEM;
	for (int i = 0; i < 2; i++) {
		cJSON *t = texts[i] ? text_part(texts[i]) : NULL;

		if (texts[i] && !t) {
			cJSON_Delete(content);
			return -ENOMEM;
		}
		if (t)
			cJSON_AddItemToArray(content, t);
	}
	if (data_url) {
		if (c->n_images == c->cap_images) {
			size_t cap = c->cap_images ? 2 * c->cap_images : 16;
			struct image_ref *grown = realloc(c->images, cap * sizeof(*grown));

			if (!grown) {
				cJSON_Delete(content);
				return -ENOMEM;
			}
			c->images = grown;
			c->cap_images = cap;
		}
		image = cJSON_CreateObject();
		if (!image || !cJSON_AddStringToObject(image, "type", "image_url") ||
		    !(url = cJSON_AddObjectToObject(image, "image_url")) || !cJSON_AddStringToObject(url, "url", data_url)) {
			cJSON_Delete(image);
			cJSON_Delete(content);
			return -ENOMEM;
		}
		cJSON_AddItemToArray(content, image);
	}
	r = add_message(c, "user", content);
	if (r < 0 || !image)
		return r;
	c->images[c->n_images++] = (struct image_ref){ content, image, step };
	return drop_old(c);
}

int dp_conversation_add_assistant(struct dp_conversation *c, const cJSON *message)
{
	cJSON *copy = cJSON_Duplicate(message, 1);

	if (!copy)
		return -ENOMEM;
	/* Some servers leave the role out of a reply; the history needs it. */
	if (!cJSON_GetObjectItemCaseSensitive(copy, "role"))
		cJSON_AddStringToObject(copy, "role", "assistant");
	cJSON_AddItemToArray(c->messages, copy);
	return 0;
}

int dp_conversation_add_tool_result(struct dp_conversation *c, const char *tool_call_id, const char *text)
{
	cJSON *m = cJSON_CreateObject();

	if (!m || !cJSON_AddStringToObject(m, "role", "tool") || !cJSON_AddStringToObject(m, "tool_call_id", tool_call_id) ||
	    !cJSON_AddStringToObject(m, "content", text)) {
		cJSON_Delete(m);
		return -ENOMEM;
	}
	cJSON_AddItemToArray(c->messages, m);
	return 0;
}
