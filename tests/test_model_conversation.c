/* The history sent to the model is append-only: each request's messages
 * start with the previous request's, byte for byte; profiles with a small
 * context drop the oldest screenshots in chunks, and nothing else changes. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "policies/model/conversation.h"
#include "tst.h"

/* Each message printed on its own, as a server compares them. */
static char **snapshot(const struct dp_conversation *c, int *n)
{
	const cJSON *messages = dp_conversation_messages(c), *m;
	char **out = calloc((size_t)cJSON_GetArraySize(messages) + 1, sizeof(*out));
	int i = 0;

	cJSON_ArrayForEach(m, messages)
		out[i++] = cJSON_PrintUnformatted(m);
	*n = i;
	return out;
}

/* The text the conversation prints bit by bit is what printing it whole
 * gives. */
static void check_json(struct dp_conversation *c)
{
	char *whole = cJSON_PrintUnformatted(dp_conversation_messages(c));
	size_t len = 0;
	const char *text = dp_conversation_json(c, &len);

	TST_EQ_STR(text, whole);
	TST_EQ_INT(len, strlen(whole));
	free(whole);
}

static void free_snapshot(char **s, int n)
{
	for (int i = 0; i < n; i++)
		free(s[i]);
	free(s);
}

/* One step as the policy adds it: the assistant's reply with two tool
 * calls (and reasoning), the two results, the next screenshot. */
static void add_step(struct dp_conversation *c, uint32_t step)
{
	char reply[512], id[32], url[64];
	cJSON *msg;

	snprintf(reply, sizeof(reply),
		 "{\"role\": \"assistant\", \"content\": null, \"reasoning_details\": [{\"type\": \"reasoning.text\", "
		 "\"text\": \"step %u\"}], \"tool_calls\": [{\"id\": \"c%u_1\", \"type\": \"function\", \"function\": "
		 "{\"name\": \"click\", \"arguments\": \"{\\\"x\\\":  1, \\\"y\\\":2}\"}}, {\"id\": \"c%u_2\", \"type\": "
		 "\"function\", \"function\": {\"name\": \"type\", \"arguments\": \"{\\\"text\\\": \\\"a\\\"}\"}}]}",
		 step, step, step);
	msg = cJSON_Parse(reply);
	TST_REQUIRE(msg);
	TST_EQ_INT(dp_conversation_add_assistant(c, msg), 0);
	cJSON_Delete(msg);
	for (int k = 1; k <= 2; k++) {
		snprintf(id, sizeof(id), "c%u_%d", step, k);
		TST_EQ_INT(dp_conversation_add_tool_result(c, id, k == 1 ? "changed at (0,0,10,10)" : "no visible effect"), 0);
	}
	snprintf(url, sizeof(url), "data:image/jpeg;base64,STEP%u", step);
	TST_EQ_INT(dp_conversation_add_user(c, NULL, "Screenshot after step N (896x504):", url, step), 0);
}

static void start(struct dp_conversation *c)
{
	TST_EQ_INT(dp_conversation_add_system(c, "You operate a Linux desktop."), 0);
	TST_EQ_INT(dp_conversation_add_user(c, "Task: save the invoice", "Screenshot before step 1 (896x504):",
					    "data:image/jpeg;base64,STEP0", 0), 0);
}

static void test_append_only_keeps_every_byte(void)
{
	struct dp_conversation *c;
	char **prev = NULL;
	int n_prev = 0;

	TST_REQUIRE(dp_conversation_create(&c, 0, 0) == 0);
	start(c);
	for (uint32_t step = 1; step <= 30; step++) {
		int n;
		char **now = snapshot(c, &n);

		TST_CHECK(n > n_prev);
		for (int i = 0; i < n_prev; i++)
			TST_EQ_STR(now[i], prev[i]);
		check_json(c);
		free_snapshot(prev, n_prev);
		prev = now;
		n_prev = n;
		add_step(c, step);
	}
	free_snapshot(prev, n_prev);
	TST_EQ_INT(dp_conversation_images(c), 31);
	TST_EQ_INT(dp_conversation_dropped(c), 0);
	/* the assistant message went back whole: tool calls and reasoning */
	{
		const cJSON *m = cJSON_GetArrayItem(dp_conversation_messages(c), 2);

		TST_EQ_STR(cJSON_GetObjectItem(m, "role")->valuestring, "assistant");
		TST_CHECK(cJSON_IsNull(cJSON_GetObjectItem(m, "content")));
		TST_EQ_STR(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(m, "reasoning_details"), 0), "text")
				   ->valuestring, "step 1");
		TST_EQ_STR(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(m, "tool_calls"),
										       0), "function"), "arguments")
				   ->valuestring, "{\"x\":  1, \"y\":2}");
	}
	dp_conversation_destroy(c);
}

/* Whether message a became b only by image parts turning into the
 * dropped note of their step. */
static bool only_images_dropped(const char *a, const char *b, int *dropped)
{
	cJSON *ma = cJSON_Parse(a), *mb = cJSON_Parse(b);
	cJSON *ca = cJSON_GetObjectItem(ma, "content"), *cb = cJSON_GetObjectItem(mb, "content");
	bool ok = cJSON_GetArraySize(ca) == cJSON_GetArraySize(cb);

	for (int i = 0; ok && i < cJSON_GetArraySize(ca); i++) {
		cJSON *pa = cJSON_GetArrayItem(ca, i), *pb = cJSON_GetArrayItem(cb, i);
		char *sa = cJSON_PrintUnformatted(pa), *sb = cJSON_PrintUnformatted(pb);

		if (strcmp(sa, sb) != 0) {
			const char *url = cJSON_GetObjectItem(cJSON_GetObjectItem(pa, "image_url"), "url")->valuestring;
			unsigned step;
			char want[64];

			ok = sscanf(url, "data:image/jpeg;base64,STEP%u", &step) == 1;
			snprintf(want, sizeof(want), "[screenshot of step %u dropped]", step);
			ok = ok && !strcmp(cJSON_GetObjectItem(pb, "type")->valuestring, "text") &&
			     !strcmp(cJSON_GetObjectItem(pb, "text")->valuestring, want);
			(*dropped)++;
		}
		free(sa);
		free(sb);
	}
	cJSON_Delete(ma);
	cJSON_Delete(mb);
	return ok;
}

static void test_old_screenshots_drop_in_chunks(void)
{
	struct dp_conversation *c;
	char **prev = NULL;
	int n_prev = 0, changes = 0;

	/* keep the newest 3, drop 2 at a time */
	TST_REQUIRE(dp_conversation_create(&c, 3, 2) == 0);
	start(c);
	for (uint32_t step = 1; step <= 21; step++) {
		int n, dropped = 0;
		char **now = snapshot(c, &n);

		for (int i = 0; i < n_prev; i++)
			if (strcmp(now[i], prev[i]) != 0)
				TST_CHECK(only_images_dropped(prev[i], now[i], &dropped));
		check_json(c);
		/* a chunk at a time, not a screenshot every step */
		TST_CHECK(dropped == 0 || dropped == 2);
		changes += dropped > 0;
		TST_CHECK(dp_conversation_images(c) >= 1 && dp_conversation_images(c) <= 4);
		free_snapshot(prev, n_prev);
		prev = now;
		n_prev = n;
		if (step <= 20)
			add_step(c, step);
	}
	free_snapshot(prev, n_prev);
	/* 21 screenshots: 18 dropped in 9 chunks, the newest 3 kept */
	TST_EQ_INT(dp_conversation_dropped(c), 18);
	TST_EQ_INT(dp_conversation_images(c), 3);
	TST_EQ_INT(changes, 9);
	{
		/* the oldest is gone, the newest is there */
		char *all = cJSON_PrintUnformatted(dp_conversation_messages(c));

		TST_CHECK(strstr(all, "[screenshot of step 0 dropped]"));
		TST_CHECK(!strstr(all, "STEP17\""));
		TST_CHECK(strstr(all, "STEP18\"") && strstr(all, "STEP20\""));
		TST_CHECK(strstr(all, "Task: save the invoice"));
		free(all);
	}
	dp_conversation_destroy(c);
}

int main(void)
{
	TST_RUN(test_append_only_keeps_every_byte);
	TST_RUN(test_old_screenshots_drop_in_chunks);
	TST_EXIT();
}
