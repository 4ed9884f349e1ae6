/* The test model server itself: what it answers and what it records for
 * well-formed requests and for each kind of violation, so that the
 * end-to-end tests' "no violations" means something.  No display needed:
 * the screenshots are made here. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "capture/frame.h"
#include "engine/image_jpeg.h"
#include "harness/model_server.h"
#include "tst.h"

#define TASK_PREFIX "Task: test\nPlan:\n"
/* The tools chat() offers, as the server canonicalises them (keys sorted). */
#define TOOLS_CANONICAL "[{\"function\":{\"name\":\"click\"},\"type\":\"function\"}]"
#define RULE_PLAN "click at 0.5 0.5\ntype \"hi\"\ndone \"ok\""

static char dir[256];

/* A data URL of a w x h JPEG: a grey screen. */
static char *screenshot(int w, int h)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	struct dp_frame f = { .width = w, .height = h, .stride = w * 4 };
	uint8_t *jpeg = NULL;
	size_t size = 0, len;
	char *url;

	f.pixels = malloc((size_t)w * h * 4);
	memset(f.pixels, 0xc0, (size_t)w * h * 4);
	if (dp_jpeg_encode(&f, 85, &jpeg, &size, NULL) < 0) {
		free(f.pixels);
		return NULL;
	}
	free(f.pixels);
	url = malloc(32 + size / 3 * 4 + 8);
	len = (size_t)sprintf(url, "data:image/jpeg;base64,");
	for (size_t i = 0; i < size; i += 3) {
		uint32_t v = (uint32_t)jpeg[i] << 16 | (i + 1 < size ? (uint32_t)jpeg[i + 1] << 8 : 0) |
			     (i + 2 < size ? jpeg[i + 2] : 0);

		url[len++] = b64[v >> 18 & 63];
		url[len++] = b64[v >> 12 & 63];
		url[len++] = i + 1 < size ? b64[v >> 6 & 63] : '=';
		url[len++] = i + 2 < size ? b64[v & 63] : '=';
	}
	url[len] = '\0';
	free(jpeg);
	return url;
}

static cJSON *user_message(const char *text, int w, int h)
{
	cJSON *m = cJSON_CreateObject(), *content = cJSON_CreateArray(), *part = cJSON_CreateObject(), *img;
	char *url = screenshot(w, h);

	cJSON_AddStringToObject(m, "role", "user");
	cJSON_AddStringToObject(part, "type", "text");
	cJSON_AddStringToObject(part, "text", text);
	cJSON_AddItemToArray(content, part);
	part = cJSON_CreateObject();
	cJSON_AddStringToObject(part, "type", "image_url");
	img = cJSON_AddObjectToObject(part, "image_url");
	cJSON_AddStringToObject(img, "url", url ? url : "");
	cJSON_AddItemToArray(content, part);
	cJSON_AddItemToObject(m, "content", content);
	free(url);
	return m;
}

static cJSON *text_message(const char *role, const char *text)
{
	cJSON *m = cJSON_CreateObject();

	cJSON_AddStringToObject(m, "role", role);
	cJSON_AddStringToObject(m, "content", text);
	return m;
}

static cJSON *tool_message(const char *id, const char *text)
{
	cJSON *m = text_message("tool", text);

	cJSON_AddStringToObject(m, "tool_call_id", id);
	return m;
}

/* A conversation's start: system, then the task with a 896x504 screenshot. */
static cJSON *start_messages(const char *plan)
{
	cJSON *messages = cJSON_CreateArray();
	char task[512];

	snprintf(task, sizeof(task), TASK_PREFIX "%s", plan);
	cJSON_AddItemToArray(messages, text_message("system", "You operate a computer."));
	cJSON_AddItemToArray(messages, user_message(task, 896, 504));
	return messages;
}

/* POSTs {model, messages} and returns the answer parsed (NULL if not JSON). */
static cJSON *chat(const struct dp_model_server *s, const char *model, const cJSON *messages, int *status)
{
	cJSON *req = cJSON_CreateObject(), *answer;
	char *body, *reply;

	cJSON_AddStringToObject(req, "model", model);
	cJSON_AddBoolToObject(req, "stream", false);
	/* The options the contract asks for: tools (not for UI-TARS), and
	 * MiniMax's reasoning apart from the content. */
	if (!strstr(model, "UI-TARS")) {
		cJSON *tool = cJSON_CreateObject(), *fn = cJSON_AddObjectToObject(tool, "function");

		cJSON_AddStringToObject(tool, "type", "function");
		cJSON_AddStringToObject(fn, "name", "click");
		cJSON_AddItemToArray(cJSON_AddArrayToObject(req, "tools"), tool);
		cJSON_AddStringToObject(req, "tool_choice", "auto");
	}
	if (!strcmp(model, "MiniMax-M3")) {
		cJSON_AddStringToObject(cJSON_AddObjectToObject(req, "thinking"), "type", "adaptive");
		cJSON_AddBoolToObject(req, "reasoning_split", true);
	}
	cJSON_AddItemToObject(req, "messages", cJSON_Duplicate(messages, true));
	body = cJSON_PrintUnformatted(req);
	reply = dp_model_server_request(s, "POST", "/v1/chat/completions", body, status);
	answer = reply ? cJSON_Parse(reply) : NULL;
	free(reply);
	free(body);
	cJSON_Delete(req);
	return answer;
}

static const char *call_id(const cJSON *call)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(call, "id");

	return cJSON_IsString(id) ? id->valuestring : "";
}

static const cJSON *reply_message(const cJSON *answer)
{
	const cJSON *choices = cJSON_GetObjectItemCaseSensitive(answer, "choices");

	return cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(choices, 0), "message");
}

static double usage(const cJSON *answer, const char *name)
{
	const cJSON *u = cJSON_GetObjectItemCaseSensitive(answer, "usage");
	const cJSON *v = !strcmp(name, "cached_tokens")
				 ? cJSON_GetObjectItemCaseSensitive(
					   cJSON_GetObjectItemCaseSensitive(u, "prompt_tokens_details"), name)
				 : cJSON_GetObjectItemCaseSensitive(u, name);

	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static int violations(const struct dp_model_server *s)
{
	cJSON *stats = dp_model_server_stats(s);
	int n = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(stats, "violations"));

	cJSON_Delete(stats);
	return stats ? n : -1;
}

/* The last violation's reason contains text. */
static bool last_violation_says(const struct dp_model_server *s, const char *text)
{
	cJSON *stats = dp_model_server_stats(s);
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(stats, "violations");
	const cJSON *last = cJSON_GetArrayItem(list, cJSON_GetArraySize(list) - 1);
	const cJSON *reason = cJSON_GetObjectItemCaseSensitive(last, "reason");
	bool says = cJSON_IsString(reason) && strstr(reason->valuestring, text);

	if (!says)
		fprintf(stderr, "  last violation: %s (expected: %s)\n",
			cJSON_IsString(reason) ? reason->valuestring : "(none)", text);
	cJSON_Delete(stats);
	return says;
}

static void test_a_conversation_by_the_rules(void)
{
	struct dp_model_server s;
	cJSON *messages = start_messages(RULE_PLAN), *answer, *again;
	const cJSON *msg, *call;
	int status = 0;
	double first_prompt;

	TST_REQUIRE(dp_model_server_start(&s, dir, "minimax-m3", (const char *[]){ "--no-ocr", NULL }) == 0);
	answer = chat(&s, "MiniMax-M3", messages, &status);
	TST_EQ_INT(status, 200);
	msg = reply_message(answer);
	call = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(msg, "tool_calls"), 0);
	TST_REQUIRE(call);
	TST_EQ_STR(cJSON_GetObjectItemCaseSensitive(call, "function")->child->valuestring, "click");
	TST_EQ_STR(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(call, "function"), "arguments")
			   ->valuestring,
		   "{\"x\":448,\"y\":252}");
	/* Thinking on: reasoning comes apart from the content. */
	TST_CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(msg, "reasoning_details")) == 1);
	/* The documented rule: 4 a message, ceil(bytes / 4) a text, the image's
	 * grid (896x504 at factor 28: 32 x 18 = 576). */
	TST_EQ_INT(usage(answer, "prompt_tokens"),
		   (strlen(TOOLS_CANONICAL) + 3) / 4 + 4 + (strlen("You operate a computer.") + 3) / 4 + 4 +
			   (strlen(TASK_PREFIX RULE_PLAN) + 3) / 4 + 576);
	TST_EQ_INT(usage(answer, "cached_tokens"), 0);
	first_prompt = usage(answer, "prompt_tokens");

	/* The reply back whole, its tool result, the next screenshot: all of
	 * the previous request is a cached prefix. */
	cJSON_AddItemToArray(messages, cJSON_Duplicate(msg, true));
	cJSON_AddItemToArray(messages, tool_message(call_id(call), "no visible effect"));
	cJSON_AddItemToArray(messages, user_message("Screenshot after step 1 (896x504):", 896, 504));
	again = chat(&s, "MiniMax-M3", messages, &status);
	TST_EQ_INT(status, 200);
	TST_EQ_INT(usage(again, "cached_tokens"), first_prompt);
	TST_CHECK(usage(again, "prompt_tokens") > first_prompt + 576);
	call = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(reply_message(again), "tool_calls"), 0);
	TST_EQ_STR(cJSON_GetObjectItemCaseSensitive(call, "function")->child->valuestring, "type");
	TST_EQ_INT(violations(&s), 0);

	/* The same task from its start again (a benchmark's second run): a new
	 * conversation that shares its prefix, not a history that shrank. */
	cJSON_Delete(again);
	while (cJSON_GetArraySize(messages) > 2)
		cJSON_DeleteItemFromArray(messages, 2);
	again = chat(&s, "MiniMax-M3", messages, &status);
	TST_EQ_INT(status, 200);
	TST_EQ_INT(usage(again, "cached_tokens"), first_prompt);
	TST_EQ_INT(violations(&s), 0);
	cJSON_Delete(again);
	cJSON_Delete(answer);
	cJSON_Delete(messages);
	dp_model_server_stop(&s);
}

/* Each breach of the protocol is recorded; those a real server rejects get a 400. */
static void test_violations_are_caught(void)
{
	struct dp_model_server s;
	cJSON *messages = start_messages("click at 0.5 0.5\ndone \"ok\""), *answer, *bad, *r;
	cJSON *changed;
	const cJSON *msg, *call;
	char *body;
	int status = 0, n = 0;

	TST_REQUIRE(dp_model_server_start(&s, dir, "minimax-m3", (const char *[]){ "--no-ocr", NULL }) == 0);

	body = dp_model_server_request(&s, "POST", "/v1/chat/completions", "{\"model\": \"MiniMax-M3\", \"messa",
				       &status);
	TST_EQ_INT(status, 400);
	TST_CHECK(body && strstr(body, "not a JSON object"));
	free(body);
	TST_EQ_INT(violations(&s), ++n);

	/* A screenshot off the grid. */
	bad = start_messages("done \"ok\"");
	cJSON_ReplaceItemInArray(bad, 1, user_message("Task: off grid", 900, 504));
	r = chat(&s, "MiniMax-M3", bad, &status);
	TST_EQ_INT(status, 400);
	TST_EQ_INT(violations(&s), ++n);
	TST_CHECK(last_violation_says(&s, "image 900x504 is not on the minimax-m3 grid"));
	cJSON_Delete(r);
	cJSON_Delete(bad);

	/* Too many pixels, on the grid. */
	bad = start_messages("done \"ok\"");
	cJSON_ReplaceItemInArray(bad, 1, user_message("Task: too big", 1288, 728));
	r = chat(&s, "MiniMax-M3", bad, &status);
	TST_EQ_INT(status, 400);
	TST_EQ_INT(violations(&s), ++n);
	TST_CHECK(last_violation_says(&s, "outside minimax-m3's 3136..451584"));
	cJSON_Delete(r);
	cJSON_Delete(bad);

	/* No tools offered to a tools profile; MiniMax thinking without
	 * reasoning_split. */
	body = dp_model_server_request(&s, "POST", "/v1/chat/completions",
				       "{\"model\": \"MiniMax-M3\", \"messages\": [{\"role\": \"user\", "
				       "\"content\": \"Task: t\"}]}", &status);
	TST_EQ_INT(status, 200);
	free(body);
	n += 2;
	TST_EQ_INT(violations(&s), n);
	TST_CHECK(last_violation_says(&s, "reasoning_split: expected true"));

	/* Another model's name. */
	r = chat(&s, "gpt-4o", messages, &status);
	TST_EQ_INT(status, 404);
	TST_EQ_INT(violations(&s), ++n);
	cJSON_Delete(r);

	answer = chat(&s, "MiniMax-M3", messages, &status);
	TST_EQ_INT(status, 200);
	msg = reply_message(answer);
	call = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(msg, "tool_calls"), 0);
	TST_REQUIRE(call);

	/* A tool call without its result: 400. */
	bad = cJSON_Duplicate(messages, true);
	cJSON_AddItemToArray(bad, cJSON_Duplicate(msg, true));
	cJSON_AddItemToArray(bad, user_message("Screenshot after step 1 (896x504):", 896, 504));
	r = chat(&s, "MiniMax-M3", bad, &status);
	TST_EQ_INT(status, 400);
	TST_EQ_INT(violations(&s), ++n);
	TST_CHECK(last_violation_says(&s, "has no tool message with its result"));
	cJSON_Delete(r);
	cJSON_Delete(bad);

	/* The assistant message not sent back whole: its reasoning left out. */
	changed = cJSON_Duplicate(msg, true);
	cJSON_DeleteItemFromObjectCaseSensitive(changed, "reasoning_details");
	bad = cJSON_Duplicate(messages, true);
	cJSON_AddItemToArray(bad, changed);
	cJSON_AddItemToArray(bad, tool_message(call_id(call), "no visible effect"));
	cJSON_AddItemToArray(bad, user_message("Screenshot after step 1 (896x504):", 896, 504));
	r = chat(&s, "MiniMax-M3", bad, &status);
	TST_EQ_INT(status, 200); /* a real server answers, but caches and reasons worse */
	TST_EQ_INT(violations(&s), ++n);
	TST_CHECK(last_violation_says(&s, "is not the one sent"));
	cJSON_Delete(r);

	/* The history rewritten: a tool result changed afterwards. */
	cJSON_ReplaceItemInArray(bad, 2, cJSON_Duplicate(msg, true));
	cJSON_AddItemToArray(bad, text_message("user", "one more"));
	cJSON_ReplaceItemInArray(bad, 3, tool_message(cJSON_GetObjectItemCaseSensitive(call, "id")->valuestring,
						      "changed at (1,2,3,4)"));
	r = chat(&s, "MiniMax-M3", bad, &status);
	TST_EQ_INT(status, 200);
	TST_CHECK(violations(&s) > n);
	n = violations(&s);
	cJSON_Delete(r);
	cJSON_Delete(bad);

	/* A screenshot dropped where the profile keeps them all. */
	bad = cJSON_Duplicate(messages, true);
	cJSON_AddItemToArray(bad, cJSON_Duplicate(msg, true));
	cJSON_AddItemToArray(bad, tool_message(call_id(call), "no visible effect"));
	cJSON_AddItemToArray(bad, user_message("Screenshot after step 1 (896x504):", 896, 504));
	r = chat(&s, "MiniMax-M3", bad, &status);
	cJSON_Delete(r);
	n = violations(&s);
	{
		cJSON *content = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(bad, 1), "content");
		cJSON *note = cJSON_CreateObject();

		cJSON_AddStringToObject(note, "type", "text");
		cJSON_AddStringToObject(note, "text", "[screenshot of step 0 dropped]");
		cJSON_ReplaceItemInArray(content, 1, note);
	}
	r = chat(&s, "MiniMax-M3", bad, &status);
	TST_EQ_INT(status, 200);
	TST_EQ_INT(violations(&s), n + 1);
	TST_CHECK(last_violation_says(&s, "keeps all of them"));
	cJSON_Delete(r);
	cJSON_Delete(bad);

	cJSON_Delete(answer);
	cJSON_Delete(messages);
	dp_model_server_stop(&s);
}

/* Qwen3-VL: 0-1000 coordinates, no reasoning, old screenshots may go. */
static void test_qwen_drops_screenshots_and_points_in_thousandths(void)
{
	struct dp_model_server s;
	cJSON *messages = cJSON_CreateArray(), *answer, *r;
	const cJSON *msg, *call;
	int status = 0;

	TST_REQUIRE(dp_model_server_start(&s, dir, "qwen3-vl", (const char *[]){ "--no-ocr", NULL }) == 0);
	cJSON_AddItemToArray(messages, text_message("system", "You operate a computer."));
	cJSON_AddItemToArray(messages, user_message("Task: t\nPlan:\nclick at 0.25 0.75\ndone \"ok\"", 1280, 704));
	answer = chat(&s, "Qwen3-VL-8B-Instruct", messages, &status);
	TST_EQ_INT(status, 200);
	msg = reply_message(answer);
	TST_CHECK(!cJSON_GetObjectItemCaseSensitive(msg, "reasoning_details"));
	call = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(msg, "tool_calls"), 0);
	TST_REQUIRE(call);
	TST_EQ_STR(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(call, "function"), "arguments")
			   ->valuestring,
		   "{\"x\":250,\"y\":750}");
	cJSON_AddItemToArray(messages, cJSON_Duplicate(msg, true));
	cJSON_AddItemToArray(messages, tool_message(call_id(call), "no visible effect"));
	cJSON_AddItemToArray(messages, user_message("Screenshot after step 1 (1280x704):", 1280, 704));
	{
		cJSON *content = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(messages, 1), "content");
		cJSON *note = cJSON_CreateObject();

		cJSON_AddStringToObject(note, "type", "text");
		cJSON_AddStringToObject(note, "text", "[screenshot of step 0 dropped]");
		cJSON_ReplaceItemInArray(content, 1, note);
	}
	r = chat(&s, "Qwen3-VL-8B-Instruct", messages, &status);
	TST_EQ_INT(status, 200);
	call = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(reply_message(r), "tool_calls"), 0);
	TST_EQ_STR(call ? cJSON_GetObjectItemCaseSensitive(call, "function")->child->valuestring : "", "done");
	TST_EQ_INT(violations(&s), 0);
	cJSON_Delete(r);
	cJSON_Delete(answer);
	cJSON_Delete(messages);
	dp_model_server_stop(&s);
}

static void test_ui_tars_answers_in_text(void)
{
	struct dp_model_server s;
	cJSON *messages = cJSON_CreateArray(), *answer;
	const cJSON *content;
	int status = 0;

	TST_REQUIRE(dp_model_server_start(&s, dir, "ui-tars-1.5", (const char *[]){ "--no-ocr", NULL }) == 0);
	cJSON_AddItemToArray(messages, text_message("system", "You operate a computer."));
	cJSON_AddItemToArray(messages, user_message("Task: t\nPlan:\nclick at 0.5 0.25\n", 1288, 728));
	answer = chat(&s, "UI-TARS-1.5-7B", messages, &status);
	TST_EQ_INT(status, 200);
	content = cJSON_GetObjectItemCaseSensitive(reply_message(answer), "content");
	TST_CHECK(cJSON_IsString(content) && strstr(content->valuestring, "\nAction: click(start_box='(644,182)')"));
	TST_CHECK(!cJSON_GetObjectItemCaseSensitive(reply_message(answer), "tool_calls"));
	cJSON_Delete(answer);
	cJSON_Delete(messages);
	dp_model_server_stop(&s);
}

/* Without --profile, each request's model name picks the profile. */
static void test_the_model_name_picks_the_profile(void)
{
	struct dp_model_server s;
	cJSON *messages = cJSON_CreateArray(), *answer;
	const cJSON *call;
	int status = 0;
	TST_REQUIRE(dp_model_server_start(&s, dir, NULL, (const char *[]){ "--no-ocr", NULL }) == 0);
	cJSON_AddItemToArray(messages, text_message("system", "You operate a computer."));
	cJSON_AddItemToArray(messages, user_message("Task: t\nPlan:\nclick at 0.5 0.5\n", 1280, 704));
	answer = chat(&s, "Qwen3-VL-8B-Instruct", messages, &status);
	TST_EQ_INT(status, 200);
	call = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(reply_message(answer), "tool_calls"), 0);
	TST_EQ_STR(call ? cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(call, "function"),
							   "arguments")->valuestring : "",
		   "{\"x\":500,\"y\":500}");
	cJSON_Delete(answer);
	answer = chat(&s, "no-such-model", messages, &status);
	TST_EQ_INT(status, 404);
	TST_EQ_INT(violations(&s), 1);
	cJSON_Delete(answer);
	cJSON_Delete(messages);
	dp_model_server_stop(&s);
}

/* --require-key: the right key passes, a wrong one or none is a 401, and
 * the key is in no log line. */
static void test_the_key(void)
{
	const char *req = "{\"model\": \"MiniMax-M3\", "
			  "\"messages\": [{\"role\": \"user\", \"content\": \"Task: t\"}], "
			  "\"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"click\"}}], "
			  "\"tool_choice\": \"auto\", \"reasoning_split\": true}";
	const char *extra[] = { "--no-ocr", "--require-key", "k-93af01", "-vv", NULL };
	struct dp_model_server s;
	char *body, *log;
	int status = 0;

	TST_REQUIRE(dp_model_server_start(&s, dir, "minimax-m3", extra) == 0);
	body = dp_model_server_request_key(&s, "/v1/chat/completions", req, "k-93af01", &status);
	TST_EQ_INT(status, 200);
	free(body);
	body = dp_model_server_request_key(&s, "/v1/chat/completions", req, "k-93af02", &status);
	TST_EQ_INT(status, 401);
	TST_CHECK(body && strstr(body, "does not carry the expected key") && !strstr(body, "k-93af0"));
	free(body);
	body = dp_model_server_request(&s, "POST", "/v1/chat/completions", req, &status);
	TST_EQ_INT(status, 401);
	free(body);
	TST_EQ_INT(violations(&s), 2);
	dp_model_server_stop(&s);
	log = dp_read_file(s.log);
	TST_CHECK(log && !strstr(log, "k-93af0"));
	free(log);
}

static void test_control_and_garbage(void)
{
	struct dp_model_server s;
	char *body;
	int status = 0;

	TST_REQUIRE(dp_model_server_start(&s, dir, "minimax-m3", (const char *[]){ "--no-ocr", NULL }) == 0);
	body = dp_model_server_request(&s, "POST", "/control", "{\"http_501\": 1}", &status);
	TST_EQ_INT(status, 400);
	TST_CHECK(body && strstr(body, "http_501: unknown field"));
	free(body);
	body = dp_model_server_request(&s, "POST", "/control", "{\"stall\": {\"seconds\": -1}}", &status);
	TST_EQ_INT(status, 400);
	free(body);
	TST_EQ_INT(dp_model_server_control(&s, "{\"http_500\": {\"count\": 1, \"after\": 0}}"), 0);
	body = dp_model_server_request(&s, "POST", "/v1/chat/completions", "[1, 2, 3]", &status);
	TST_EQ_INT(status, 400); /* checked before any fault */
	free(body);
	body = dp_model_server_request(&s, "POST", "/v1/chat/completions",
				       "{\"model\": \"MiniMax-M3\", \"messages\": [{\"role\": \"robot\"}]}", &status);
	TST_EQ_INT(status, 400);
	TST_CHECK(body && strstr(body, "messages[0].role"));
	free(body);
	body = dp_model_server_request(&s, "GET", "/nowhere", NULL, &status);
	TST_EQ_INT(status, 404);
	free(body);
	dp_model_server_stop(&s);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");

	signal(SIGPIPE, SIG_IGN);
	if (!getenv("DP_MODEL_SERVER")) {
		fprintf(stderr, "no model server in this build\n");
		return TST_SKIP;
	}
	snprintf(dir, sizeof(dir), "%s/dp-model-server-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		return EXIT_FAILURE;
	TST_RUN(test_a_conversation_by_the_rules);
	TST_RUN(test_violations_are_caught);
	TST_RUN(test_qwen_drops_screenshots_and_points_in_thousandths);
	TST_RUN(test_ui_tars_answers_in_text);
	TST_RUN(test_the_model_name_picks_the_profile);
	TST_RUN(test_the_key);
	TST_RUN(test_control_and_garbage);
	TST_EXIT();
}
