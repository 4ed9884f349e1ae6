#define DP_LOG_SUBSYS "model-server"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "engine/clock.h"
#include "engine/image_read.h"
#include "engine/json.h"
#include "engine/log.h"
#include "tests/model_server/checks.h"
#include "tests/model_server/plan.h"
#include "tests/model_server/reply.h"
#include "tests/model_server/server.h"
#include "tests/model_server/util.h"

void ms_error_response(struct ms_response *out, int status, const char *type, const char *message)
{
	cJSON *root = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(root, "error");

	cJSON_AddStringToObject(e, "message", message);
	cJSON_AddStringToObject(e, "type", type);
	cJSON_AddNumberToObject(e, "code", status);
	out->status = status;
	out->body = cJSON_PrintUnformatted(root);
	out->len = out->body ? strlen(out->body) : 0;
	cJSON_Delete(root);
}

/* A request this server refuses: recorded as a violation too. */
static void reject(struct ms_server *s, struct ms_record *rec, struct ms_response *out, int status,
		   const char *message)
{
	dp_log_warn("request %lu: %d: %s", rec->index, status, message);
	ms_stats_violation(s->stats, rec->index, message);
	ms_error_response(out, status, status == 401 ? "authentication_error" : "invalid_request_error", message);
	rec->status = status;
}

static const char *const roles[] = { "system", "user", "assistant", "tool" };

static int shape_error(char *why, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int shape_error(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* The shape of messages; 0 or a message saying what is wrong. */
static int check_shape(const cJSON *root, char *why, size_t size)
{
	const cJSON *messages = cJSON_GetObjectItemCaseSensitive(root, "messages"), *m;
	const cJSON *stream = cJSON_GetObjectItemCaseSensitive(root, "stream");
	int i = 0;

	if (!ms_json_str(root, "model"))
		return shape_error(why, size, "model: expected a string");
	if (stream && !cJSON_IsFalse(stream))
		return shape_error(why, size, "stream: this server answers \"stream\": false only");
	if (!cJSON_IsArray(messages) || cJSON_GetArraySize(messages) == 0)
		return shape_error(why, size, "messages: expected a non-empty array");
	cJSON_ArrayForEach(m, messages) {
		const char *role = ms_json_str(m, "role");
		const cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content"), *part;
		bool known = false;
		int j = 0;

		for (size_t k = 0; role && k < sizeof(roles) / sizeof(roles[0]); k++)
			known = known || !strcmp(role, roles[k]);
		if (!known)
			return shape_error(why, size, "messages[%d].role: expected system, user, assistant or tool", i);
		if (content && !cJSON_IsString(content) && !cJSON_IsArray(content) && !cJSON_IsNull(content))
			return shape_error(why, size, "messages[%d].content: expected a string or an array of parts",
					   i);
		cJSON_ArrayForEach(part, (cJSON_IsArray(content) ? content : NULL)) {
			const char *type = ms_json_str(part, "type");

			if (!type || (strcmp(type, "text") && strcmp(type, "image_url")))
				return shape_error(why, size,
						   "messages[%d].content[%d].type: expected text or image_url", i, j);
			if (!strcmp(type, "text") && !ms_json_str(part, "text"))
				return shape_error(why, size, "messages[%d].content[%d].text: expected a string", i, j);
			j++;
		}
		if (!strcmp(role, "tool") && !ms_json_str(m, "tool_call_id"))
			return shape_error(why, size, "messages[%d].tool_call_id: expected a string", i);
		i++;
	}
	return 0;
}

static bool auth_ok(struct ms_server *s, struct ms_record *rec, const char *auth, struct ms_response *out)
{
	rec->authorized = auth != NULL;
	if (!s->key)
		return true;
	if (!auth) {
		reject(s, rec, out, 401, "no Authorization header: send \"Authorization: Bearer <key>\"");
		return false;
	}
	if (strncmp(auth, "Bearer ", 7) || strcmp(auth + 7, s->key)) {
		reject(s, rec, out, 401, "the Authorization header does not carry the expected key");
		return false;
	}
	return true;
}

static bool pick_profile(struct ms_server *s, struct ms_record *rec, const char *model, struct ms_profile *p,
			 struct ms_response *out)
{
	struct dp_error err = { 0 };
	char why[800];

	if (s->fixed_profile) {
		*p = s->profile;
		if (p->any_model || !strcmp(model, p->model))
			return true;
		snprintf(why, sizeof(why), "model '%.200s' does not exist here (this server plays %s)", model,
			 p->model);
	} else if (ms_profile_for_model(s->profiles_dir, model, p, &err) == 0) {
		return true;
	} else {
		snprintf(why, sizeof(why), "model '%.200s' does not exist here: %s", model, err.message);
	}
	reject(s, rec, out, 404, why);
	return false;
}

/* A verifier request: the tool choice names "verdict" (tools profiles), or
 * the question asks for YES or NO (text profiles). */
static bool is_verifier(const cJSON *root, const struct ms_profile *p)
{
	const cJSON *choice = cJSON_GetObjectItemCaseSensitive(root, "tool_choice"), *tool;
	const char *name = ms_json_str(cJSON_GetObjectItemCaseSensitive(choice, "function"), "name");

	if (name && !strcmp(name, "verdict"))
		return true;
	cJSON_ArrayForEach(tool, cJSON_GetObjectItemCaseSensitive(root, "tools")) {
		name = ms_json_str(cJSON_GetObjectItemCaseSensitive(tool, "function"), "name");
		if (name && !strcmp(name, "verdict"))
			return true;
	}
	if (p->text_actions) {
		const cJSON *m;
		bool found = false;

		cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(root, "messages")) {
			char *text = ms_content_text(m);

			found = found || (text && strstr(text, "Answer YES"));
			free(text);
		}
		return found;
	}
	return false;
}

/* The contract's request options: tools offered with tool_choice "auto" to
 * a tools profile (none to a text-action one), MiniMax's reasoning apart
 * from the content while it thinks. */
static void check_request_options(const cJSON *root, const struct ms_profile *p, bool verifier,
				  struct ms_findings *f)
{
	const cJSON *tools = cJSON_GetObjectItemCaseSensitive(root, "tools");
	const char *choice = ms_json_str(root, "tool_choice");
	const cJSON *split = cJSON_GetObjectItemCaseSensitive(root, "reasoning_split");

	if (p->text_actions && cJSON_GetArraySize(tools) > 0)
		ms_finding(f, false, "tools: %s answers in text actions and takes no tools", p->name);
	if (!p->text_actions && !verifier &&
	    (!cJSON_IsArray(tools) || cJSON_GetArraySize(tools) == 0 || !choice || strcmp(choice, "auto")))
		ms_finding(f, false, "tools: %s needs the action tools with \"tool_choice\": \"auto\"", p->name);
	if (p->thinking && !cJSON_IsTrue(split))
		ms_finding(f, false, "reasoning_split: expected true for %s while it thinks (else the reasoning "
				     "comes inside the content)", p->name);
}

static bool has_assistant(const cJSON *messages)
{
	const cJSON *m;

	cJSON_ArrayForEach(m, messages) {
		const char *role = ms_json_str(m, "role");

		if (role && !strcmp(role, "assistant"))
			return true;
	}
	return false;
}

/* The first user message's text: the task and its plan. */
static char *task_text(const cJSON *messages)
{
	const cJSON *m;

	cJSON_ArrayForEach(m, messages) {
		const char *role = ms_json_str(m, "role");

		if (role && !strcmp(role, "user"))
			return ms_content_text(m);
	}
	return strdup("");
}

static const char *last_image_url(const cJSON *messages)
{
	const char *url = NULL;
	const cJSON *m, *part;

	cJSON_ArrayForEach(m, messages) {
		const cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content");

		cJSON_ArrayForEach(part, (cJSON_IsArray(content) ? content : NULL)) {
			const char *type = ms_json_str(part, "type");
			const char *u = ms_json_str(cJSON_GetObjectItemCaseSensitive(part, "image_url"), "url");

			if (type && !strcmp(type, "image_url") && u)
				url = u;
		}
	}
	return url;
}

/* The tool messages after the last assistant message, for /stats. */
static void note_tool_results(const cJSON *messages, struct ms_record *rec)
{
	int n = cJSON_GetArraySize(messages), first = n;
	size_t len = 0;

	while (first > 0) {
		const char *role = ms_json_str(cJSON_GetArrayItem(messages, first - 1), "role");

		if (role && !strcmp(role, "assistant"))
			break;
		first--;
	}
	for (int i = first; i < n; i++) {
		const cJSON *m = cJSON_GetArrayItem(messages, i);
		const char *role = ms_json_str(m, "role");
		char *text;

		if (!role || strcmp(role, "tool") || !(text = ms_content_text(m)))
			continue;
		if (len < sizeof(rec->tool_results))
			len += (size_t)snprintf(rec->tool_results + len, sizeof(rec->tool_results) - len, "%s%s",
						len ? " | " : "", text);
		free(text);
	}
}

static void note_reply(const cJSON *msg, struct ms_record *rec)
{
	const cJSON *call;
	const char *content = ms_json_str(msg, "content");
	const char *marker = content ? strstr(content, "[step ") : NULL;
	size_t len = 0;

	if (marker)
		snprintf(rec->step, sizeof(rec->step), "%.*s", (int)(strcspn(marker, "]") + 1), marker);
	cJSON_ArrayForEach(call, cJSON_GetObjectItemCaseSensitive(msg, "tool_calls")) {
		const cJSON *fn = cJSON_GetObjectItemCaseSensitive(call, "function");

		if (len < sizeof(rec->reply))
			len += (size_t)snprintf(rec->reply + len, sizeof(rec->reply) - len, "%s%s %s", len ? "; " : "",
						ms_json_str(fn, "name") ? ms_json_str(fn, "name") : "?",
						ms_json_str(fn, "arguments") ? ms_json_str(fn, "arguments") : "");
	}
	if (!len)
		snprintf(rec->reply, sizeof(rec->reply), "%s", content ? content : "");
}

/* The verifier: yes when every "verify" text of the plan is on the final
 * screenshot (or the plan has none). */
static cJSON *verdict(struct ms_server *s, const struct ms_profile *p, const cJSON *messages, bool say_no)
{
	struct ms_plan *plan = calloc(1, sizeof(*plan));
	char *task = task_text(messages), reason[700] = "the screenshot shows the task done";
	const char *url = last_image_url(messages);
	struct dp_frame frame = { 0 };
	bool done = true;
	cJSON *msg;

	if (!plan || !task) {
		free(plan);
		free(task);
		return NULL;
	}
	ms_plan_parse(task, plan);
	if (say_no) {
		done = false;
		snprintf(reason, sizeof(reason), "the screen does not show the result yet");
	} else if (plan->n_verify > 0) {
		struct dp_error err = { 0 };

		if (!url || ms_image_url_decode(url, &frame, &err) < 0) {
			done = false;
			snprintf(reason, sizeof(reason), "there is no final screenshot to judge");
		}
		for (size_t i = 0; done && i < plan->n_verify; i++) {
			struct ms_found f;

			if (!s->screen ||
			    ms_screen_find(s->screen, &frame, plan->verify[i], false, &f, NULL, 0, &err) < 0) {
				done = false;
				snprintf(reason, sizeof(reason), "%s", s->screen ? err.message : "I cannot read text");
			}
		}
		if (frame.pixels)
			dp_image_free(&frame);
	}
	msg = ms_reply_verdict(p, done, reason, ++s->serial);
	free(plan);
	free(task);
	return msg;
}

static cJSON *task_reply(struct ms_server *s, const struct ms_profile *p, const cJSON *messages,
			 enum ms_fault_kind fault)
{
	struct ms_plan *plan = calloc(1, sizeof(*plan));
	char *task = task_text(messages);
	const char *url = last_image_url(messages);
	struct dp_frame frame = { 0 };
	struct ms_reply_ctx ctx = { .profile = p, .screen = s->screen, .max_waits = s->max_waits };
	cJSON *msg = NULL;

	if (!plan || !task)
		goto out;
	ms_plan_parse(task, plan);
	ctx.plan = plan;
	ctx.serial = ++s->serial;
	if (url) {
		struct dp_error err = { 0 };

		if (ms_image_url_decode(url, &frame, &err) == 0)
			ctx.image = &frame;
		else
			dp_log_warn("the last screenshot does not decode: %s", err.message);
	}
	ctx.messages = messages;
	ms_pos_from_history(messages, plan, &ctx.pos);
	if (fault == MS_FAULT_REFUSAL)
		ctx.brk = MS_BREAK_REFUSAL;
	else if (fault == MS_FAULT_BAD_ARGS)
		ctx.brk = s->faults.bad_args_string ? MS_BREAK_ARG_STRING : MS_BREAK_ARG_OUTSIDE;
	else if (s->faults.endless)
		ctx.brk = MS_BREAK_ENDLESS;
	msg = ms_reply_build(&ctx);
out:
	if (frame.pixels)
		dp_image_free(&frame);
	free(plan);
	free(task);
	return msg;
}

static char *completion_body(struct ms_server *s, const char *model, cJSON *msg, const struct ms_record *rec)
{
	cJSON *root = cJSON_CreateObject(), *choices, *choice, *usage, *details;
	char id[48];
	char *text;

	snprintf(id, sizeof(id), "chatcmpl-%lu", s->serial);
	cJSON_AddStringToObject(root, "id", id);
	cJSON_AddStringToObject(root, "object", "chat.completion");
	cJSON_AddNumberToObject(root, "created", (double)time(NULL));
	cJSON_AddStringToObject(root, "model", model);
	choices = cJSON_AddArrayToObject(root, "choices");
	choice = cJSON_CreateObject();
	cJSON_AddNumberToObject(choice, "index", 0);
	cJSON_AddStringToObject(choice, "finish_reason",
				cJSON_GetObjectItemCaseSensitive(msg, "tool_calls") ? "tool_calls" : "stop");
	cJSON_AddItemToObject(choice, "message", cJSON_Duplicate(msg, true));
	cJSON_AddItemToArray(choices, choice);
	usage = cJSON_AddObjectToObject(root, "usage");
	cJSON_AddNumberToObject(usage, "prompt_tokens", (double)rec->prompt_tokens);
	cJSON_AddNumberToObject(usage, "completion_tokens", (double)rec->completion_tokens);
	cJSON_AddNumberToObject(usage, "total_tokens", (double)(rec->prompt_tokens + rec->completion_tokens));
	details = cJSON_AddObjectToObject(usage, "prompt_tokens_details");
	cJSON_AddNumberToObject(details, "cached_tokens", (double)rec->cached_tokens);
	text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return text;
}

/* The broken bodies: cut in half, not JSON, no choices. */
static void break_body(struct ms_response *out, enum ms_fault_kind fault, const char *model)
{
	char *body;

	if (fault == MS_FAULT_TRUNCATED) {
		out->len /= 2;
		out->body[out->len] = '\0';
		return;
	}
	if (fault == MS_FAULT_MALFORMED) {
		free(out->body);
		out->body = strdup("{\"id\": \"chatcmpl-x\", \"object\": \"chat.completion\", "
				   "\"choices\": [{\"index\": 0, \"message\": {\"role\": \"assistant\" "
				   "\"content\": \"a comma is missing\"}}]}");
	} else if (fault == MS_FAULT_EMPTY_CHOICES) {
		free(out->body);
		if (asprintf(&body, "{\"id\":\"chatcmpl-x\",\"object\":\"chat.completion\",\"model\":\"%s\","
				    "\"choices\":[],\"usage\":{\"prompt_tokens\":0,\"completion_tokens\":0,"
				    "\"total_tokens\":0}}",
			     model) < 0)
			body = NULL;
		out->body = body;
	}
	out->len = out->body ? strlen(out->body) : 0;
}

static void handle(struct ms_server *s, const char *body, size_t len, const char *auth, struct ms_record *rec,
		   struct ms_response *out)
{
	struct dp_error err = { 0 };
	struct ms_segments seg = { 0 };
	struct ms_findings *f = calloc(1, sizeof(*f));
	struct ms_profile p;
	struct ms_convo *cv = NULL;
	enum ms_fault_kind fault;
	const cJSON *messages;
	cJSON *root = NULL, *msg = NULL;
	char why[700];
	bool verifier;
	int64_t t0;

	snprintf(rec->kind, sizeof(rec->kind), "invalid");
	if (!f) {
		ms_error_response(out, 500, "server_error", "out of memory");
		goto out;
	}
	if (dp_json_parse(body, len, 1, &root, &err) < 0 || !cJSON_IsObject(root)) {
		snprintf(why, sizeof(why), "the request body is not a JSON object: %s", root ? "" : err.message);
		reject(s, rec, out, 400, why);
		goto out;
	}
	if (check_shape(root, why, sizeof(why)) < 0) {
		reject(s, rec, out, 400, why);
		goto out;
	}
	if (!auth_ok(s, rec, auth, out) || !pick_profile(s, rec, ms_json_str(root, "model"), &p, out))
		goto out;
	{
		/* A request can switch thinking off: no reasoning comes back then. */
		const char *thinking = ms_json_str(cJSON_GetObjectItemCaseSensitive(root, "thinking"), "type");

		if (thinking && !strcmp(thinking, "disabled"))
			p.thinking = false;
	}
	messages = cJSON_GetObjectItemCaseSensitive(root, "messages");
	rec->n_messages = (size_t)cJSON_GetArraySize(messages);
	verifier = is_verifier(root, &p);
	snprintf(rec->kind, sizeof(rec->kind), "%s", verifier ? "verifier" : "task");
	note_tool_results(messages, rec);

	check_request_options(root, &p, verifier, f);
	ms_check_images(messages, &p, f);
	if (f->n_images) {
		rec->image_w = f->image_w[f->n_images - 1];
		rec->image_h = f->image_h[f->n_images - 1];
	}
	ms_check_tool_results(messages, f);
	if (ms_segments_build(cJSON_GetObjectItemCaseSensitive(root, "tools"), messages, &p, &seg) < 0) {
		ms_error_response(out, 500, "server_error", "out of memory");
		goto out;
	}
	{
		/* Named by its system and first user message, with the first
		 * screenshot counted as "a screenshot": a profile that drops old
		 * screenshots replaces that one too, in the same conversation. */
		uint64_t id = ms_hash(MS_HASH_INIT, &seg.norm[1], sizeof(seg.norm[1]));

		if (seg.n > 2)
			id = ms_hash(id, &seg.norm[2], sizeof(seg.norm[2]));
		cv = ms_convos_get(s->convos, id);
	}
	/* A request without any assistant message starts the conversation
	 * (again: a task run twice); only a continuation must extend the
	 * previous request. */
	if (cv && has_assistant(messages))
		ms_check_history(cv, messages, &seg, &p, f);
	for (size_t i = 0; i < f->n; i++) {
		dp_log_warn("request %lu: violation: %s", rec->index, f->reason[i]);
		ms_stats_violation(s->stats, rec->index, f->reason[i]);
	}
	if (f->reject) {
		ms_error_response(out, 400, "invalid_request_error", f->reject_reason);
		rec->status = 400;
		goto out;
	}

	fault = ms_faults_take(&s->faults, verifier);
	snprintf(rec->fault, sizeof(rec->fault), "%s", fault == MS_FAULT_NONE ? "" : ms_fault_name(fault));
	if (fault != MS_FAULT_NONE)
		dp_log_info("request %lu: playing the fault %s", rec->index, ms_fault_name(fault));
	if (fault == MS_FAULT_500) {
		ms_error_response(out, 500, "server_error", "the model server had an internal error");
		rec->status = 500;
		goto out;
	}
	if (fault == MS_FAULT_RATE_LIMIT) {
		ms_error_response(out, 429, "rate_limit_error", "rate limit reached: try again later");
		out->retry_after_s = s->faults.retry_after_s;
		rec->status = 429;
		goto out;
	}

	t0 = dp_now_ns();
	msg = verifier ? verdict(s, &p, messages, fault == MS_FAULT_VERIFIER_NO) : task_reply(s, &p, messages, fault);
	rec->think_ms = (double)(dp_now_ns() - t0) / DP_NSEC_PER_MSEC;
	if (!msg) {
		ms_error_response(out, 500, "server_error", "out of memory");
		goto out;
	}
	rec->prompt_tokens = ms_segments_total(&seg);
	for (size_t i = 0; cv && i < seg.n && i < cv->prev.n && !strcmp(seg.canon[i], cv->prev.canon[i]); i++)
		rec->cached_tokens += seg.tokens[i];
	rec->completion_tokens = ms_message_tokens(msg, &p);
	note_reply(msg, rec);
	out->status = rec->status = 200;
	out->body = completion_body(s, ms_json_str(root, "model"), msg, rec);
	out->len = out->body ? strlen(out->body) : 0;
	if (fault == MS_FAULT_TRUNCATED || fault == MS_FAULT_MALFORMED || fault == MS_FAULT_EMPTY_CHOICES) {
		break_body(out, fault, ms_json_str(root, "model"));
		goto out;
	}
	if (fault == MS_FAULT_STALL) {
		out->stall_s = s->faults.stall_s;
		out->stall_headers = s->faults.stall_headers;
	}
	if (cv && (ms_convo_sent(cv, ms_prefix_key(&seg, seg.n - 1), msg) < 0 ||
		   ms_convo_remember(cv, &seg, messages) < 0))
		dp_log_warn("out of memory: request %lu is not remembered", rec->index);
	dp_log_info("request %lu (%s, %zu messages, image %dx%d, %.0f ms): %s %s", rec->index, rec->kind,
		    rec->n_messages, rec->image_w, rec->image_h, rec->think_ms, rec->step, rec->reply);
out:
	if (!out->body)
		ms_error_response(out, 500, "server_error", "out of memory");
	if (!rec->status)
		rec->status = out->status;
	ms_segments_clear(&seg);
	cJSON_Delete(msg);
	cJSON_Delete(root);
	free(f);
}

void ms_chat_handle(struct ms_server *s, const char *body, size_t len, const char *auth, struct ms_response *out)
{
	struct ms_record spare, *rec;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&s->lock);
	rec = ms_stats_add(s->stats, (dp_now_ns() - s->start_ns) / DP_NSEC_PER_MSEC);
	if (!rec) {
		memset(&spare, 0, sizeof(spare));
		rec = &spare;
	}
	handle(s, body, len, auth, rec, out);
	pthread_mutex_unlock(&s->lock);
}

void ms_control_handle(struct ms_server *s, const char *body, size_t len, struct ms_response *out)
{
	struct dp_error err = { 0 };
	cJSON *root = NULL;

	memset(out, 0, sizeof(*out));
	if (dp_json_parse(body, len, 1, &root, &err) < 0) {
		ms_error_response(out, 400, "invalid_request_error", err.message);
		return;
	}
	pthread_mutex_lock(&s->lock);
	if (ms_faults_control(&s->faults, root, &err) < 0) {
		ms_error_response(out, 400, "invalid_request_error", err.message);
	} else {
		out->status = 200;
		out->body = strdup("{\"ok\":true}");
		out->len = out->body ? strlen(out->body) : 0;
	}
	pthread_mutex_unlock(&s->lock);
	cJSON_Delete(root);
}

void ms_stats_handle(struct ms_server *s, struct ms_response *out)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&s->lock);
	out->body = ms_stats_json(s->stats);
	pthread_mutex_unlock(&s->lock);
	out->status = 200;
	out->len = out->body ? strlen(out->body) : 0;
	if (!out->body)
		ms_error_response(out, 500, "server_error", "out of memory");
}
