/* The model policy driven directly, with synthetic screens and a scripted
 * server on the loopback: what each request carries (the system prompt and
 * task, the image at the profile's grid, thinking per profile, tool results
 * in order with the verdicts in the model's space, the key only in the
 * header), zoom (the next image is the region, and the model's points map
 * through it), invalid calls answered and not performed, and the verifier's
 * fresh request. */
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "policies/model/model_policy.h"
#include "tst.h"

#define KEY "sk-policy-test-0123456789"

static struct {
	int fd, port;
	const char *replies[8]; /* one message object per request, in order */
	int n_replies, next;
	char *requests[8];      /* bodies received */
	char auth[128];
} srv;

static void *serve(void *arg)
{
	(void)arg;
	for (;;) {
		size_t cap = 1 << 22, got = 0, want = 0;
		char *req = malloc(cap), *body, *a, out[8192];
		int c = accept(srv.fd, NULL, NULL), n;
		ssize_t r;

		if (c < 0)
			return NULL;
		while (got < cap - 1 && (r = read(c, req + got, cap - 1 - got)) > 0) {
			got += (size_t)r;
			req[got] = '\0';
			body = strstr(req, "\r\n\r\n");
			a = strcasestr(req, "Content-Length:");
			if (body && a && (want = strtoul(a + 15, NULL, 10), got >= (size_t)(body + 4 - req) + want))
				break;
		}
		if ((a = strstr(req, "Authorization: ")))
			sscanf(a, "Authorization: %127[^\r]", srv.auth);
		body = strstr(req, "\r\n\r\n");
		if (srv.next < 8)
			srv.requests[srv.next] = strdup(body ? body + 4 : "");
		n = snprintf(out, sizeof(out), "{\"choices\": [{\"message\": %s, \"finish_reason\": \"tool_calls\"}], "
					       "\"usage\": {\"prompt_tokens\": 100, \"completion_tokens\": 10, "
					       "\"prompt_tokens_details\": {\"cached_tokens\": 60}}}",
			     srv.next < srv.n_replies ? srv.replies[srv.next] : "{\"role\": \"assistant\", \"content\": \"?\"}");
		srv.next++;
		dprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
			n, out);
		close(c);
		free(req);
	}
}

static void start_server(void)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(addr);
	pthread_t t;

	srv.fd = socket(AF_INET, SOCK_STREAM, 0);
	bind(srv.fd, (struct sockaddr *)&addr, sizeof(addr));
	listen(srv.fd, 8);
	getsockname(srv.fd, (struct sockaddr *)&addr, &len);
	srv.port = ntohs(addr.sin_port);
	pthread_create(&t, NULL, serve, NULL);
	pthread_detach(t);
}

static void script(const char *const *replies, int n)
{
	for (int i = 0; i < 8; i++) {
		free(srv.requests[i]);
		srv.requests[i] = NULL;
	}
	for (int i = 0; i < n; i++)
		srv.replies[i] = replies[i];
	srv.n_replies = n;
	srv.next = 0;
	srv.auth[0] = '\0';
}

/* A 1920x1080 screen of stripes, so JPEG has something to encode. */
static struct dp_frame *screen(void)
{
	static struct dp_frame f;
	static uint8_t *px;

	if (!px) {
		px = malloc(1920 * 1080 * 4);
		for (int i = 0; i < 1920 * 1080; i++)
			((uint32_t *)(void *)px)[i] = (i % 1920) / 40 % 2 ? 0x00ffffff : 0x00203040;
	}
	f = (struct dp_frame){ .width = 1920, .height = 1080, .stride = 1920 * 4, .pixels = px };
	return &f;
}

static struct dp_policy *make(const char *profile, const char *key_file, struct dp_error *err)
{
	char endpoint[64];
	struct dp_model_options o = { .profile = profile, .endpoint = endpoint, .api_key_file = key_file,
				      .attempts = 1 };
	struct dp_policy *p = NULL;

	snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%d/v1/", srv.port);
	if (dp_model_policy_create(&p, &o, err) < 0)
		return NULL;
	return p;
}

static cJSON *request(int i)
{
	return srv.requests[i] ? cJSON_Parse(srv.requests[i]) : NULL;
}

/* The text parts of the last message of request i, joined by " | ". */
static void last_texts(int i, char *out, size_t size)
{
	cJSON *req = request(i), *part;
	cJSON *msgs = cJSON_GetObjectItem(req, "messages");
	cJSON *last = cJSON_GetArrayItem(msgs, cJSON_GetArraySize(msgs) - 1);
	size_t used = 0;

	out[0] = '\0';
	cJSON_ArrayForEach(part, cJSON_GetObjectItem(last, "content")) {
		cJSON *t = cJSON_GetObjectItem(part, "text");

		if (cJSON_IsString(t))
			used += (size_t)snprintf(out + used, used < size ? size - used : 0, "%s%s", used ? " | " : "",
						 t->valuestring);
	}
	cJSON_Delete(req);
}

static void test_first_request_tools_zoom_and_verdicts(void)
{
	static const char *const replies[] = {
		/* step 1: zoom on the top-left quarter of the 896x504 image */
		"{\"role\": \"assistant\", \"content\": \"\", \"reasoning_details\": [{\"type\": \"reasoning.text\", "
		"\"text\": \"small text: zoom\"}], \"tool_calls\": [{\"id\": \"z1\", \"type\": \"function\", "
		"\"function\": {\"name\": \"zoom\", \"arguments\": \"{\\\"x\\\": 0, \\\"y\\\": 0, \\\"width\\\": 448, "
		"\\\"height\\\": 252}\"}}]}",
		/* step 2: click the zoom image's centre, then an invalid call, then one after it */
		"{\"role\": \"assistant\", \"content\": null, \"tool_calls\": ["
		"{\"id\": \"c1\", \"type\": \"function\", \"function\": {\"name\": \"click\", \"arguments\": "
		"\"{\\\"x\\\": 448, \\\"y\\\": 252}\"}},"
		"{\"id\": \"c2\", \"type\": \"function\", \"function\": {\"name\": \"click\", \"arguments\": "
		"\"{\\\"x\\\": 5000, \\\"y\\\": 1}\"}},"
		"{\"id\": \"c3\", \"type\": \"function\", \"function\": {\"name\": \"type\", \"arguments\": "
		"\"{\\\"text\\\": \\\"x\\\"}\"}}]}",
		"{\"role\": \"assistant\", \"content\": null, \"tool_calls\": [{\"id\": \"d1\", \"type\": \"function\", "
		"\"function\": {\"name\": \"done\", \"arguments\": \"{\\\"summary\\\": \\\"saved\\\"}\"}}]}",
		/* the verifier */
		"{\"role\": \"assistant\", \"content\": null, \"tool_calls\": [{\"id\": \"v1\", \"type\": \"function\", "
		"\"function\": {\"name\": \"verdict\", \"arguments\": \"{\\\"done\\\": false, \\\"reason\\\": "
		"\\\"the total is empty\\\"}\"}}]}",
	};
	char key_file[] = "/tmp/dp-key-XXXXXX", texts[1024];
	int fd = mkstemp(key_file);
	struct dp_error err = { 0 };
	struct dp_task_info task = { .id = "t", .instruction = "Save the invoice", .max_steps = 10 };
	struct dp_observation obs = { .step = 1, .frame = screen() };
	struct dp_decision d = { 0 };
	struct dp_action_feedback fb[3] = { 0 };
	struct dp_feedback feedback = { .actions = fb };
	struct dp_policy *p;
	bool agree = true;
	char *reason = NULL, *all;
	cJSON *req, *msgs;
	int32_t sx, sy;

	TST_REQUIRE(fd >= 0 && write(fd, KEY "\n", strlen(KEY) + 1) > 0);
	close(fd);
	script(replies, 4);
	p = make("minimax-m3", key_file, &err);
	TST_REQUIRE(p);
	TST_EQ_INT(p->impl->start(p, &task, &err), 0);

	/* step 1 */
	TST_REQUIRE(p->impl->decide(p, &obs, &d, &err) == 0);
	TST_EQ_INT(d.n_actions, 1);
	TST_EQ_INT(d.actions[0].type, DP_ACTION_ZOOM);
	TST_EQ_STR(d.reasoning, "small text: zoom");
	TST_EQ_INT(d.tokens_in, 100);
	TST_EQ_INT(d.tokens_cached, 60);
	TST_EQ_STR(srv.auth, "Bearer " KEY);
	req = request(0);
	TST_REQUIRE(req);
	TST_EQ_STR(cJSON_GetObjectItem(req, "model")->valuestring, "MiniMax-M3");
	TST_EQ_STR(cJSON_GetObjectItem(cJSON_GetObjectItem(req, "thinking"), "type")->valuestring, "adaptive");
	TST_CHECK(cJSON_IsTrue(cJSON_GetObjectItem(req, "reasoning_split")));
	TST_EQ_STR(cJSON_GetObjectItem(req, "tool_choice")->valuestring, "auto");
	TST_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(req, "tools")), 16);
	msgs = cJSON_GetObjectItem(req, "messages");
	TST_EQ_STR(cJSON_GetObjectItem(cJSON_GetArrayItem(msgs, 0), "role")->valuestring, "system");
	TST_CHECK(strstr(cJSON_GetObjectItem(cJSON_GetArrayItem(msgs, 0), "content")->valuestring, "(896x504)"));
	cJSON_Delete(req);
	last_texts(0, texts, sizeof(texts));
	TST_EQ_STR(texts, "Task: Save the invoice | Screenshot before step 1 (896x504):");
	TST_CHECK(!strstr(srv.requests[0], KEY));
	dp_decision_clear(&d);
	fb[0].verdict = DP_VERDICT_UNCHECKED;
	feedback.n_actions = 1;
	p->impl->feedback(p, &feedback);

	/* step 2: the image is the zoomed region (960x540 of the screen) */
	obs.step = 2;
	TST_REQUIRE(p->impl->decide(p, &obs, &d, &err) == 0);
	last_texts(1, texts, sizeof(texts));
	TST_CHECK(strstr(texts, "zoomed region (0,0 960x540 screen pixels)"));
	/* 960x540 is over M3's 451584 pixels: fitted to 896x504 */
	TST_CHECK(strstr(texts, "Screenshot after step 1 (896x504):"));
	/* the click at the zoom image's centre lands at the region's centre */
	TST_EQ_INT(d.n_actions, 1);
	TST_CHECK(d.has_coords);
	TST_REQUIRE(dp_coords_to_screen(&d.coords, d.actions[0].point.x, d.actions[0].point.y, &sx, &sy, &err) == 0);
	TST_EQ_INT(sx, 480);
	TST_EQ_INT(sy, 270);
	/* the click changed a 200x100 area at (100,50) of the screen */
	fb[0] = (struct dp_action_feedback){ .verdict = DP_VERDICT_CHANGED, .changed = { 100, 50, 200, 100 } };
	feedback.n_actions = 1;
	p->impl->feedback(p, &feedback);
	dp_decision_clear(&d);

	/* step 3: done, which the verifier (a fresh request) does not accept */
	obs.step = 3;
	TST_REQUIRE(p->impl->decide(p, &obs, &d, &err) == 0);
	req = request(2);
	msgs = cJSON_GetObjectItem(req, "messages");
	all = cJSON_PrintUnformatted(msgs);
	/* the tool results of step 2, in order, in the zoom image's coordinates
	 * (896/960 of a screen pixel each way) */
	TST_CHECK(strstr(all, "{\"role\":\"tool\",\"tool_call_id\":\"c1\",\"content\":\"changed at (93,47,187,93)\"}"));
	TST_CHECK(strstr(all, "\"tool_call_id\":\"c2\",\"content\":\"invalid call: click: point (5000, 1) is outside "
			      "the image: x goes from 0 to 896, y from 0 to 504\""));
	TST_CHECK(strstr(all, "\"tool_call_id\":\"c3\",\"content\":\"rejected: not performed: an earlier call"));
	/* the assistant messages went back whole */
	TST_CHECK(strstr(all, "\"reasoning_details\":[{\"type\":\"reasoning.text\",\"text\":\"small text: zoom\"}]"));
	free(all);
	cJSON_Delete(req);
	TST_EQ_INT(p->impl->verify(p, &obs, "saved", &agree, &reason, &err), 0);
	TST_CHECK(!agree);
	TST_EQ_STR(reason, "the total is empty");
	free(reason);
	/* the verifier's request: fresh, one forced tool */
	req = request(3);
	TST_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(req, "messages")), 2);
	TST_EQ_STR(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(req, "tool_choice"), "function"),
				       "name")->valuestring, "verdict");
	TST_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(req, "tools")), 1);
	cJSON_Delete(req);
	/* the verifier's tokens count in the step it ran in */
	TST_EQ_INT(d.tokens_in, 200);
	dp_decision_clear(&d);
	p->impl->destroy(p);
	unlink(key_file);
}

static void test_thinking_per_profile_and_override(void)
{
	static const char *const replies[] = {
		"{\"role\": \"assistant\", \"content\": \"no tool call, just words\"}",
	};
	struct dp_error err = { 0 };
	struct dp_task_info task = { .id = "t", .instruction = "x" };
	struct dp_observation obs = { .step = 1, .frame = screen() };
	struct dp_decision d = { 0 };
	struct dp_feedback none = { 0 };
	char endpoint[64];
	struct dp_model_options o = { .profile = "minimax-m3", .endpoint = endpoint, .thinking = DP_MODEL_THINKING_OFF,
				      .model_name = "my-m3", .attempts = 1 };
	struct dp_policy *p = NULL;
	char texts[512];
	cJSON *req;

	snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%d/v1", srv.port);
	script(replies, 1);
	TST_REQUIRE(dp_model_policy_create(&p, &o, &err) == 0);
	TST_EQ_INT(p->impl->start(p, &task, &err), 0);
	/* a reply without a tool call: no action, not an error */
	TST_EQ_INT(p->impl->decide(p, &obs, &d, &err), 0);
	TST_EQ_INT(d.n_actions, 0);
	TST_CHECK(d.nothing_valid);
	req = request(0);
	TST_EQ_STR(cJSON_GetObjectItem(req, "model")->valuestring, "my-m3");
	TST_EQ_STR(cJSON_GetObjectItem(cJSON_GetObjectItem(req, "thinking"), "type")->valuestring, "disabled");
	cJSON_Delete(req);
	dp_decision_clear(&d);
	p->impl->feedback(p, &none);
	obs.step = 2;
	TST_EQ_INT(p->impl->decide(p, &obs, &d, &err), 0);
	last_texts(1, texts, sizeof(texts));
	TST_CHECK(strstr(texts, "Your last reply had no tool call"));
	TST_CHECK(!srv.auth[0]); /* no key configured: no header */
	dp_decision_clear(&d);
	p->impl->destroy(p);

	/* Qwen3-VL: nothing about thinking is sent, and it cannot be switched */
	o.profile = "qwen3-vl";
	o.thinking = DP_MODEL_THINKING_PROFILE;
	o.model_name = NULL;
	script(replies, 1);
	TST_REQUIRE(dp_model_policy_create(&p, &o, &err) == 0);
	TST_EQ_INT(p->impl->start(p, &task, &err), 0);
	obs.step = 1;
	TST_EQ_INT(p->impl->decide(p, &obs, &d, &err), 0);
	req = request(0);
	TST_CHECK(!cJSON_GetObjectItem(req, "thinking") && !cJSON_GetObjectItem(req, "chat_template_kwargs"));
	cJSON_Delete(req);
	last_texts(0, texts, sizeof(texts));
	TST_CHECK(strstr(texts, "(1344x768)"));
	dp_decision_clear(&d);
	p->impl->destroy(p);
	o.thinking = DP_MODEL_THINKING_ON;
	TST_EQ_INT(dp_model_policy_create(&p, &o, &err), -EINVAL);
	TST_CHECK(strstr(err.message, "has no thinking switch"));
}

/* A server that ignores the forced tool and answers in words. */
static void test_verifier_in_words(void)
{
	static const char *const replies[] = {
		"{\"role\": \"assistant\", \"content\": \"NO: the dialog is still open\"}",
		"{\"role\": \"assistant\", \"content\": \"I think so\"}",
	};
	struct dp_error err = { 0 };
	struct dp_task_info task = { .id = "t", .instruction = "close the dialog" };
	struct dp_observation obs = { .step = 4, .frame = screen() };
	struct dp_policy *p;
	bool agree = true;
	char *reason = NULL;

	script(replies, 2);
	p = make("generic-openai", NULL, &err);
	TST_REQUIRE(p);
	TST_EQ_INT(p->impl->start(p, &task, &err), 0);
	TST_EQ_INT(p->impl->verify(p, &obs, "closed", &agree, &reason, &err), 0);
	TST_CHECK(!agree);
	TST_EQ_STR(reason, "the dialog is still open");
	free(reason);
	reason = NULL;
	/* neither a verdict call nor YES/NO: an error that says so */
	TST_EQ_INT(p->impl->verify(p, &obs, "closed", &agree, &reason, &err), -EPROTO);
	TST_CHECK(strstr(err.message, "the verifier's reply: model server at ") && strstr(err.message, "neither a verdict call nor YES or NO"));
	fprintf(stderr, "  %s\n", err.message);
	TST_CHECK(!reason);
	p->impl->destroy(p);
}

static void test_keys_and_endpoints(void)
{
	struct dp_model_options o = { .profile = "minimax-m3" };
	struct dp_policy *p = NULL;
	struct dp_error err = { 0 };

	/* MiniMax's https endpoint without a key: refused before any request */
	unsetenv("MINIMAX_API_KEY");
	unsetenv("DESKPILOT_API_KEY");
	TST_EQ_INT(dp_model_policy_create(&p, &o, &err), -EINVAL);
	TST_CHECK(strstr(err.message, "no API key for https://api.minimax.io/v1") && strstr(err.message, "MINIMAX_API_KEY"));
	/* a key from the environment is enough */
	setenv("MINIMAX_API_KEY", KEY, 1);
	TST_EQ_INT(dp_model_policy_create(&p, &o, &err), 0);
	p->impl->destroy(p);
	unsetenv("MINIMAX_API_KEY");
	o.endpoint = "api.minimax.io/v1";
	TST_EQ_INT(dp_model_policy_create(&p, &o, &err), -EINVAL);
	TST_CHECK(strstr(err.message, "expected an http:// or https:// base URL"));
	o.endpoint = "http://127.0.0.1:1/v1";
	o.api_key_file = "/nonexistent/key";
	TST_EQ_INT(dp_model_policy_create(&p, &o, &err), -ENOENT);
	TST_CHECK(strstr(err.message, "cannot read the API key file /nonexistent/key"));
}

int main(void)
{
	start_server();
	TST_RUN(test_first_request_tools_zoom_and_verdicts);
	TST_RUN(test_thinking_per_profile_and_override);
	TST_RUN(test_verifier_in_words);
	TST_RUN(test_keys_and_endpoints);
	for (int i = 0; i < 8; i++)
		free(srv.requests[i]);
	TST_EXIT();
}
