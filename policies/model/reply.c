#include "policies/model/reply.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/json.h"

static uint64_t count(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsNumber(v) && v->valuedouble > 0 && v->valuedouble < 1e15 ? (uint64_t)v->valuedouble : 0;
}

int dp_model_reply_parse(const char *body, size_t len, struct dp_model_reply *reply, struct dp_error *err)
{
	const cJSON *choice, *usage, *v, *e;
	struct dp_error jerr = { 0 };

	memset(reply, 0, sizeof(*reply));
	reply->finish_reason = "";
	if (dp_json_parse(body ? body : "", body ? len : 0, 1, &reply->root, &jerr) < 0)
		return dp_error_set(err, -EPROTO, "the reply is not JSON (%s)", jerr.message);
	choice = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(reply->root, "choices"), 0);
	reply->message = cJSON_GetObjectItemCaseSensitive(choice, "message");
	if (!cJSON_IsObject(reply->message)) {
		int r;

		e = cJSON_GetObjectItemCaseSensitive(reply->root, "error");
		if (cJSON_IsObject(e))
			e = cJSON_GetObjectItemCaseSensitive(e, "message");
		r = dp_error_set(err, -EPROTO, "the reply has no choices[0].message%s%.300s",
				 cJSON_IsString(e) ? ": " : "", cJSON_IsString(e) ? e->valuestring : "");
		dp_model_reply_clear(reply);
		return r;
	}
	v = cJSON_GetObjectItemCaseSensitive(choice, "finish_reason");
	reply->finish_reason = cJSON_IsString(v) ? v->valuestring : "";
	usage = cJSON_GetObjectItemCaseSensitive(reply->root, "usage");
	reply->tokens_in = count(usage, "prompt_tokens");
	reply->tokens_out = count(usage, "completion_tokens");
	reply->tokens_cached = count(cJSON_GetObjectItemCaseSensitive(usage, "prompt_tokens_details"), "cached_tokens");
	return 0;
}

void dp_model_reply_clear(struct dp_model_reply *reply)
{
	cJSON_Delete(reply->root);
	memset(reply, 0, sizeof(*reply));
	reply->finish_reason = "";
}

char *dp_model_reply_reasoning(const cJSON *message)
{
	const cJSON *details = cJSON_GetObjectItemCaseSensitive(message, "reasoning_details"), *d;
	const cJSON *list = cJSON_IsArray(details) ? details : NULL;
	const char *fields[] = { "reasoning_content", "reasoning", "content" };
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		return NULL;
	cJSON_ArrayForEach(d, list) {
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(d, "text");

		if (cJSON_IsString(t) && *t->valuestring)
			fprintf(f, "%s%s", ftell(f) ? "\n" : "", t->valuestring);
	}
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(message, fields[i]);

		/* "reasoning" repeats the details where a server sends both */
		if (cJSON_IsString(t) && *t->valuestring && !(i == 1 && cJSON_GetArraySize(details) > 0))
			fprintf(f, "%s%s", ftell(f) ? "\n" : "", t->valuestring);
	}
	fclose(f);
	if (out && !*out) {
		free(out);
		out = NULL;
	}
	return out;
}
