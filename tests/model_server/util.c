#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int ms_base64_decode(const char *in, size_t len, uint8_t **out, size_t *out_len)
{
	uint32_t acc = 0;
	size_t n = 0;
	int bits = 0;
	uint8_t *buf;

	while (len > 0 && in[len - 1] == '=')
		len--;
	if (len % 4 == 1)
		return -EINVAL;
	buf = malloc(len / 4 * 3 + 3);
	if (!buf)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++) {
		int v = b64_value((unsigned char)in[i]);

		if (v < 0) {
			free(buf);
			return -EINVAL;
		}
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[n++] = (uint8_t)(acc >> bits);
		}
	}
	*out = buf;
	*out_len = n;
	return 0;
}

static int by_key(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;

	return strcmp(x->string ? x->string : "", y->string ? y->string : "");
}

/* Sorts the members of every object of v in place. */
static int sort_keys(cJSON *v)
{
	size_t n = 0, i = 0;
	cJSON **items;

	for (cJSON *c = v->child; c; c = c->next) {
		if (sort_keys(c) < 0)
			return -ENOMEM;
		n++;
	}
	if (!cJSON_IsObject(v) || n < 2)
		return 0;
	items = malloc(n * sizeof(*items));
	if (!items)
		return -ENOMEM;
	for (cJSON *c = v->child; c; c = c->next)
		items[i++] = c;
	qsort(items, n, sizeof(*items), by_key);
	for (i = 0; i < n; i++) {
		items[i]->prev = i ? items[i - 1] : items[n - 1]; /* cJSON: the head's prev is the tail */
		items[i]->next = i + 1 < n ? items[i + 1] : NULL;
	}
	v->child = items[0];
	free(items);
	return 0;
}

char *ms_json_canonical(const cJSON *v)
{
	cJSON *copy = cJSON_Duplicate(v, true);
	char *text = NULL;

	if (copy && sort_keys(copy) == 0)
		text = cJSON_PrintUnformatted(copy);
	cJSON_Delete(copy);
	return text;
}

uint64_t ms_hash(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

uint64_t ms_hash_str(uint64_t h, const char *s)
{
	return ms_hash(h, s, strlen(s) + 1); /* the NUL keeps "ab"+"c" apart from "a"+"bc" */
}

const char *ms_json_str(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

char *ms_content_text(const cJSON *message)
{
	const cJSON *content = cJSON_GetObjectItemCaseSensitive(message, "content");
	const cJSON *part;
	size_t len = 0;
	char *text;

	if (cJSON_IsString(content))
		return strdup(content->valuestring);
	cJSON_ArrayForEach(part, (cJSON_IsArray(content) ? content : NULL)) {
		const char *t = ms_json_str(part, "text");

		if (t)
			len += strlen(t) + 1;
	}
	text = calloc(1, len + 1);
	if (!text)
		return NULL;
	cJSON_ArrayForEach(part, (cJSON_IsArray(content) ? content : NULL)) {
		const char *t = ms_json_str(part, "text");

		if (t) {
			if (*text)
				strcat(text, "\n");
			strcat(text, t);
		}
	}
	return text;
}

char *ms_read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!f)
		return NULL;
	do {
		if (len + 4096 + 1 > cap) {
			char *grown = realloc(buf, cap = (len + 4096 + 1) * 2);

			if (!grown) {
				free(buf);
				fclose(f);
				errno = ENOMEM;
				return NULL;
			}
			buf = grown;
		}
		n = fread(buf + len, 1, 4096, f);
		len += n;
	} while (n > 0);
	fclose(f);
	buf[len] = '\0';
	return buf;
}
