#define DP_LOG_SUBSYS "model"

#include "policies/model/model_policy.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/clock.h"
#include "engine/json.h"
#include "engine/log.h"
#include "policies/model/conversation.h"
#include "policies/model/http.h"
#include "policies/model/model_image.h"
#include "policies/model/profile.h"
#include "policies/model/reply.h"
#include "policies/model/retry.h"
#include "policies/model/tools.h"
#include "policies/model/uitars.h"

#define MAX_KEY 4096
#define NOTE_MAX 4096

struct call_state {
	char *id;       /* the tool call's id (tools profiles) */
	int action;     /* index into the decision's actions, -1 when not performed */
	enum dp_action_type type;
	char text[600]; /* the result when not performed */
};

struct model_policy {
	struct dp_policy base;
	struct dp_model_profile profile;
	enum dp_model_thinking thinking;
	bool verify;
	char endpoint[512], url[600];
	char *key;
	struct dp_http *http;
	struct dp_retry_options retry;
	struct dp_model_imager *imager;
	struct dp_conversation *conv;
	cJSON *tools;
	char *instruction;
	const atomic_bool *cancel;
	/* the last decision */
	struct dp_coord_map map;
	struct call_state calls[64]; /* each answered, performed or not */
	size_t n_calls;
	bool zoom_pending;
	struct dp_rect zoom;
	char note[NOTE_MAX]; /* told to the model with the next screenshot */
	/* The decision being performed (between decide and feedback): the
	 * verifier's tokens count in its step.  Otherwise they wait for the
	 * next decision. */
	struct dp_decision *current;
	uint64_t verify_in, verify_out, verify_cached;
	uint64_t total_in, total_out, total_cached;
	struct dp_model_step_stats stats;
	bool context_warned;
};

static void clear_calls(struct model_policy *self)
{
	for (size_t i = 0; i < self->n_calls; i++)
		free(self->calls[i].id);
	memset(self->calls, 0, sizeof(self->calls));
	self->n_calls = 0;
}

static void append_note(struct model_policy *self, const char *text)
{
	size_t used = strlen(self->note);

	snprintf(self->note + used, sizeof(self->note) - used, "%s%s", used ? "\n" : "", text);
}

/* --- the prompt ----------------------------------------------------------- */

static char *system_prompt(const struct model_policy *self, int32_t w, int32_t h)
{
	char coords[300], *out = malloc(4096);

	if (!out)
		return NULL;
	if (self->profile.coords == DP_COORDS_NORM1000)
		snprintf(coords, sizeof(coords),
			 "Coordinates are normalized: 0 to 1000 across the width and the height of the screenshot, "
			 "(0,0) at its top-left corner, whatever its size (%dx%d pixels now).", w, h);
	else
		snprintf(coords, sizeof(coords),
			 "Coordinates are pixels of the screenshot you were sent (%dx%d): x from 0 to %d, y from 0 to "
			 "%d, (0,0) at the top-left corner.", w, h, w, h);
	if (self->profile.actions == DP_MODEL_ACTIONS_UI_TARS_TEXT) {
		snprintf(out, 4096,
			 "You are a GUI agent operating a Linux desktop. You are given a task and screenshots of the "
			 "screen. Decide the next action.\n%s\n\n"
			 "Output format:\nThought: ...\nAction: ...\n\n"
			 "Action space:\n"
			 "click(start_box='(x,y)')\nleft_double(start_box='(x,y)')\nright_single(start_box='(x,y)')\n"
			 "drag(start_box='(x1,y1)', end_box='(x2,y2)')\n"
			 "hotkey(key='ctrl c')  # keys separated by spaces\n"
			 "type(content='...')  # escape ' as \\' and end with \\n to press Enter\n"
			 "scroll(start_box='(x,y)', direction='down or up or right or left')\n"
			 "wait()  # 5 seconds, then a new screenshot\n"
			 "finished(content='what was done')\n"
			 "call_user()  # when the task needs the user's help\n\n"
			 "After each action you get its result and a new screenshot.",
			 coords);
		return out;
	}
	snprintf(out, 4096,
		 "You operate a Linux desktop with the mouse and keyboard to complete the user's task. You see "
		 "screenshots of the screen and act with the tools.\n%s\n\n"
		 "Several tool calls in one reply run in order; after they ran you get each call's result "
		 "(\"changed at (x,y,w,h)\" with the changed area in the same coordinates, \"no visible effect\", "
		 "\"rejected: ...\", \"failed: ...\" or \"invalid call: ...\") and a new screenshot.\n"
		 "Click a field before typing into it. Use zoom to read small text. Call done with a short summary "
		 "when the task is complete (the final screen is checked), fail when it cannot be done, ask_user "
		 "when you need information only the user has.",
		 coords);
	return out;
}

/* --- requests ------------------------------------------------------------ */

static void add_thinking(const struct model_policy *self, cJSON *req)
{
	const char *mode = self->thinking == DP_MODEL_THINKING_ADAPTIVE ? "adaptive" : "disabled";

	if (self->thinking == DP_MODEL_THINKING_NONE)
		return;
	if (self->profile.thinking_style == DP_MODEL_THINKING_STYLE_MINIMAX) {
		cJSON *t = cJSON_AddObjectToObject(req, "thinking");

		cJSON_AddStringToObject(t, "type", mode);
		cJSON_AddBoolToObject(req, "reasoning_split", 1);
	} else {
		cJSON *k = cJSON_AddObjectToObject(req, "chat_template_kwargs");

		cJSON_AddStringToObject(k, "thinking_mode", mode);
	}
}

/* The request body: the messages as the conversation printed them (only
 * the new ones each step), then the rest; tools are referenced, not copied. */
static char *request_body(const struct model_policy *self, struct dp_conversation *conv, const cJSON *tools,
			  const char *forced_tool)
{
	cJSON *req = cJSON_CreateObject();
	const char *messages;
	char *rest, *body = NULL;
	size_t len;

	if (!req)
		return NULL;
	cJSON_AddStringToObject(req, "model", self->profile.model);
	if (tools) {
		cJSON_AddItemReferenceToObject(req, "tools", (cJSON *)tools);
		if (forced_tool) {
			cJSON *choice = cJSON_AddObjectToObject(req, "tool_choice");

			cJSON_AddStringToObject(choice, "type", "function");
			cJSON_AddStringToObject(cJSON_AddObjectToObject(choice, "function"), "name", forced_tool);
		} else {
			cJSON_AddStringToObject(req, "tool_choice", "auto");
		}
	}
	cJSON_AddNumberToObject(req, "max_completion_tokens", self->profile.max_completion_tokens);
	cJSON_AddBoolToObject(req, "stream", 0);
	add_thinking(self, req);
	rest = cJSON_PrintUnformatted(req);
	cJSON_Delete(req);
	messages = dp_conversation_json(conv, &len);
	/* {"messages":[...],"model":...}: rest is "{...}" with at least the model */
	if (rest && messages && asprintf(&body, "{\"messages\":%s,%s", messages, rest + 1) < 0)
		body = NULL;
	free(rest);
	return body;
}

static int post(struct model_policy *self, const char *body, struct dp_model_reply *reply, struct dp_error *err)
{
	struct dp_http_response resp;
	int r;

	memset(reply, 0, sizeof(*reply));
	int64_t t = dp_now_ns();

	r = dp_retry_post(self->http, &self->retry, self->url, self->key, body, strlen(body), &resp, err);
	self->stats.round_trip_ns = dp_now_ns() - t;
	self->stats.request_bytes = strlen(body);
	if (r < 0) {
		dp_http_response_clear(&resp);
		return r;
	}
	dp_log_debug("reply of %zu bytes in %.3f s", resp.body_len, resp.seconds);
	t = dp_now_ns();
	r = dp_model_reply_parse(resp.body, resp.body_len, reply, err);
	self->stats.parse_ns = dp_now_ns() - t;
	if (r < 0 && err) {
		char msg[sizeof(err->message)], snippet[160];

		snprintf(msg, sizeof(msg), "%s", err->message);
		dp_retry_snippet(resp.body, resp.body_len, self->key, snippet, sizeof(snippet));
		dp_error_set(err, r, "model server at %s: %.300s: %s", self->endpoint, msg, snippet);
	}
	dp_http_response_clear(&resp);
	return r;
}

/* --- decide ---------------------------------------------------------------- */

static void take_action(struct model_policy *self, struct dp_decision *d, struct call_state *cs, struct dp_action *a)
{
	if (a->type == DP_ACTION_ZOOM) {
		struct dp_rect rect;

		if (dp_coords_rect_to_screen(&self->map, a->point.x, a->point.y, a->point.x + a->width,
					     a->point.y + a->height, &rect, NULL) == 0) {
			self->zoom = rect;
			self->zoom_pending = true;
		}
	}
	cs->action = (int)d->n_actions;
	cs->type = a->type;
	d->actions[d->n_actions++] = *a;
	memset(a, 0, sizeof(*a));
}

static int tool_calls(struct model_policy *self, const struct dp_model_reply *reply, struct dp_decision *d,
		      struct dp_error *err)
{
	const cJSON *calls = cJSON_GetObjectItemCaseSensitive(reply->message, "tool_calls"), *call;
	bool stop = false;

	cJSON_ArrayForEach(call, calls) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(call, "id");
		struct call_state *cs;
		struct dp_action a;
		struct dp_error perr = { 0 };

		if (!cJSON_IsString(id) || !*id->valuestring)
			return dp_error_set(err, -EPROTO, "model server at %s: a tool call without an id", self->endpoint);
		if (self->n_calls == sizeof(self->calls) / sizeof(self->calls[0]))
			return dp_error_set(err, -EPROTO, "model server at %s: over %zu tool calls in one reply",
					    self->endpoint, sizeof(self->calls) / sizeof(self->calls[0]));
		cs = &self->calls[self->n_calls++];
		cs->action = -1;
		if (!(cs->id = strdup(id->valuestring)))
			return -ENOMEM;
		if (stop) {
			snprintf(cs->text, sizeof(cs->text), "rejected: not performed: an earlier call in this reply was "
							      "invalid or final");
			continue;
		}
		if (d->n_actions == DP_DECISION_MAX_ACTIONS) {
			snprintf(cs->text, sizeof(cs->text), "invalid call: more than %d calls in one reply",
				 DP_DECISION_MAX_ACTIONS);
			stop = true;
			continue;
		}
		if (dp_model_tool_call_parse(call, &self->map, &a, &perr) < 0) {
			snprintf(cs->text, sizeof(cs->text), "invalid call: %.500s", perr.message);
			stop = true;
			continue;
		}
		stop = a.type == DP_ACTION_DONE || a.type == DP_ACTION_FAIL;
		take_action(self, d, cs, &a);
	}
	if (self->n_calls == 0)
		append_note(self, !strcmp(reply->finish_reason, "length")
					  ? "Your last reply was cut off (max_completion_tokens) before any tool call. "
					    "Answer with a tool call."
					  : "Your last reply had no tool call. Act with the tools; call done when the task "
					    "is complete.");
	return 0;
}

static int text_actions(struct model_policy *self, const struct dp_model_reply *reply, struct dp_decision *d)
{
	const cJSON *content = cJSON_GetObjectItemCaseSensitive(reply->message, "content");
	struct dp_action actions[DP_DECISION_MAX_ACTIONS];
	struct dp_error perr = { 0 };
	size_t n = 0;
	char msg[700];

	if (dp_uitars_parse(cJSON_IsString(content) ? content->valuestring : "", &self->map, actions,
			    DP_DECISION_MAX_ACTIONS, &n, &perr) < 0) {
		snprintf(msg, sizeof(msg), "Invalid action: %.600s", perr.message);
		append_note(self, msg);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		struct call_state *cs = &self->calls[self->n_calls++];

		take_action(self, d, cs, &actions[i]);
	}
	return 0;
}

static int first_messages(struct model_policy *self, const struct dp_model_image *img)
{
	char *prompt = system_prompt(self, img->width, img->height), *task = NULL, caption[96];
	int r = -ENOMEM;

	if (prompt && asprintf(&task, "Task: %s", self->instruction) >= 0) {
		snprintf(caption, sizeof(caption), "Screenshot before step 1 (%dx%d):", img->width, img->height);
		r = dp_conversation_add_system(self->conv, prompt);
		if (r == 0)
			r = dp_conversation_add_user(self->conv, task, caption, img->data_url, 0);
	}
	free(prompt);
	free(task);
	return r;
}

static int decide(struct dp_policy *policy, const struct dp_observation *obs, struct dp_decision *d,
		  struct dp_error *err)
{
	struct model_policy *self = (struct model_policy *)policy;
	struct dp_rect whole = { obs->frame->x, obs->frame->y, obs->frame->width, obs->frame->height };
	struct dp_model_image img;
	struct dp_model_reply reply;
	char caption[96], zoom_note[300];
	int64_t t = dp_now_ns();
	char *body;
	int r;

	clear_calls(self);
	memset(&self->stats, 0, sizeof(self->stats));
	r = dp_model_image_make(self->imager, obs->frame, self->zoom_pending ? self->zoom : whole, &img, err);
	if (r < 0)
		return r;
	self->stats.image_ns = dp_now_ns() - t;
	self->stats.image_bytes = img.encoded_bytes;
	self->stats.image_tokens = img.tokens;
	self->stats.image_w = img.width;
	self->stats.image_h = img.height;
	if (!self->tools && self->profile.actions == DP_MODEL_ACTIONS_TOOLS &&
	    !(self->tools = dp_model_tools_build(self->profile.coords, img.width, img.height))) {
		dp_model_image_clear(&img);
		return dp_error_set(err, -ENOMEM, "out of memory");
	}
	if (cJSON_GetArraySize(dp_conversation_messages(self->conv)) == 0) {
		r = first_messages(self, &img);
	} else {
		if (self->zoom_pending) {
			snprintf(zoom_note, sizeof(zoom_note),
				 "The next image is the zoomed region (%d,%d %dx%d screen pixels) at full resolution, "
				 "%dx%d; coordinates in your next actions refer to this image.",
				 self->zoom.x, self->zoom.y, self->zoom.width, self->zoom.height, img.width, img.height);
			append_note(self, zoom_note);
		}
		snprintf(caption, sizeof(caption), "Screenshot after step %u (%dx%d):", obs->step - 1, img.width,
			 img.height);
		r = dp_conversation_add_user(self->conv, self->note[0] ? self->note : NULL, caption, img.data_url,
					     obs->step - 1);
	}
	self->note[0] = '\0';
	self->zoom_pending = false;
	self->map = img.map;
	dp_log_debug("step %u: image %dx%d, %llu image tokens, %zu bytes", obs->step, img.width, img.height,
		     (unsigned long long)img.tokens, img.encoded_bytes);
	dp_model_image_clear(&img);
	if (r < 0)
		return dp_error_set(err, r, "out of memory for the conversation");
	t = dp_now_ns();
	body = request_body(self, self->conv, self->tools, NULL);
	if (!body)
		return dp_error_set(err, -ENOMEM, "out of memory for the request");
	self->stats.build_ns = dp_now_ns() - t;
	r = post(self, body, &reply, err);
	free(body);
	if (r < 0)
		return r;
	t = dp_now_ns();
	if (!self->context_warned && reply.tokens_in > self->profile.context_tokens / 10 * 9) {
		/* The server will refuse the next requests soon: say why now. */
		dp_log_warn("the prompt is %llu tokens, over 90%% of the %llu the profile %s allows: lower "
			    "keep_screenshots in the profile, or give the task fewer steps",
			    (unsigned long long)reply.tokens_in, (unsigned long long)self->profile.context_tokens,
			    self->profile.name);
		self->context_warned = true;
	}
	r = dp_conversation_add_assistant(self->conv, reply.message);
	if (r == 0) {
		d->reasoning = dp_model_reply_reasoning(reply.message);
		d->tokens_in = reply.tokens_in + self->verify_in;
		d->tokens_out = reply.tokens_out + self->verify_out;
		d->tokens_cached = reply.tokens_cached + self->verify_cached;
		self->verify_in = self->verify_out = self->verify_cached = 0;
		self->current = d;
		self->total_in += reply.tokens_in;
		self->total_out += reply.tokens_out;
		self->total_cached += reply.tokens_cached;
		d->has_coords = true;
		d->coords = self->map;
		if (self->profile.actions == DP_MODEL_ACTIONS_TOOLS)
			r = tool_calls(self, &reply, d, err);
		else
			r = text_actions(self, &reply, d);
	}
	cJSON_Delete(reply.root);
	if (r == 0 && d->n_actions == 0)
		d->nothing_valid = true;
	self->stats.parse_ns += dp_now_ns() - t;
	return r;
}

/* --- feedback --------------------------------------------------------------- */

/* A screen rectangle in the model's coordinates (clipped to its image). */
static bool rect_to_model(const struct dp_coord_map *map, struct dp_rect rect, int32_t out[4])
{
	struct dp_rect r = dp_rect_intersect(rect, map->region);
	double ex = map->space == DP_COORDS_NORM1000 ? 1000.0 : map->image_w;
	double ey = map->space == DP_COORDS_NORM1000 ? 1000.0 : map->image_h;
	double sx = ex / map->region.width, sy = ey / map->region.height;

	if (dp_rect_empty(r))
		return false;
	out[0] = (int32_t)((r.x - map->region.x) * sx + 0.5);
	out[1] = (int32_t)((r.y - map->region.y) * sy + 0.5);
	out[2] = (int32_t)(r.width * sx + 0.5);
	out[3] = (int32_t)(r.height * sy + 0.5);
	if (out[2] < 1)
		out[2] = 1;
	if (out[3] < 1)
		out[3] = 1;
	return true;
}

static void verdict_text(const struct model_policy *self, const struct dp_action_feedback *fb,
			 enum dp_action_type type, char *buf, size_t size)
{
	int32_t r[4];

	switch (fb->verdict) {
	case DP_VERDICT_REJECTED:
		snprintf(buf, size, "rejected: %s", fb->message);
		return;
	case DP_VERDICT_FAILED:
		snprintf(buf, size, "failed: %s", fb->message);
		return;
	case DP_VERDICT_NO_EFFECT:
		snprintf(buf, size, "no visible effect");
		return;
	default:
		break;
	}
	if (type == DP_ACTION_ZOOM) {
		snprintf(buf, size, "zoomed: the region comes as the next image");
		return;
	}
	if (type == DP_ACTION_ASK_USER || type == DP_ACTION_DONE || type == DP_ACTION_FAIL ||
	    (type == DP_ACTION_WINDOW && fb->verdict == DP_VERDICT_UNCHECKED)) {
		snprintf(buf, size, "%s", fb->message);
		return;
	}
	if (!dp_rect_empty(fb->changed) && rect_to_model(&self->map, fb->changed, r))
		snprintf(buf, size, "changed at (%d,%d,%d,%d)", r[0], r[1], r[2], r[3]);
	else if (!dp_rect_empty(fb->changed))
		snprintf(buf, size, "changed outside the image shown");
	else
		snprintf(buf, size, "no visible effect");
}

static void feedback(struct dp_policy *policy, const struct dp_feedback *fb)
{
	struct model_policy *self = (struct model_policy *)policy;
	char text[700];

	self->current = NULL;
	for (size_t i = 0; i < self->n_calls; i++) {
		struct call_state *cs = &self->calls[i];

		if (cs->action >= 0 && (size_t)cs->action < fb->n_actions)
			verdict_text(self, &fb->actions[cs->action], cs->type, text, sizeof(text));
		else if (cs->action >= 0)
			snprintf(text, sizeof(text), "rejected: not performed");
		else
			snprintf(text, sizeof(text), "%s", cs->text);
		if (self->profile.actions == DP_MODEL_ACTIONS_TOOLS) {
			if (dp_conversation_add_tool_result(self->conv, cs->id, text) < 0)
				dp_log_warn("out of memory for a tool result");
		} else {
			char line[760];

			snprintf(line, sizeof(line), "Result of action %zu: %s", i + 1, text);
			append_note(self, line);
		}
	}
}

/* --- verify ----------------------------------------------------------------- */

static int verify(struct dp_policy *policy, const struct dp_observation *obs, const char *summary, bool *agree,
		  char **reason, struct dp_error *err)
{
	struct model_policy *self = (struct model_policy *)policy;
	struct dp_rect whole = { obs->frame->x, obs->frame->y, obs->frame->width, obs->frame->height };
	bool text = self->profile.actions == DP_MODEL_ACTIONS_UI_TARS_TEXT;
	struct dp_conversation *conv = NULL;
	struct dp_model_image img = { 0 };
	cJSON *tool = NULL, *tools = NULL;
	char *task = NULL, *ask = NULL, *body = NULL;
	struct dp_model_reply reply = { 0 };
	int r;

	*agree = true;
	*reason = NULL;
	if (!self->verify)
		return 0;
	r = dp_model_image_make(self->imager, obs->frame, whole, &img, err);
	if (r < 0)
		return r;
	r = -ENOMEM;
	if (dp_conversation_create(&conv, 0, 0) < 0 ||
	    asprintf(&task, "Task: %s", self->instruction) < 0 ||
	    asprintf(&ask, "The agent that worked on the task says it is done: %s\n\nDoes the final screenshot below "
			   "show the task done? %s\n\nFinal screenshot (%dx%d):",
		     summary && *summary ? summary : "(no summary)",
		     text ? "Answer YES, or NO: and what is still missing."
			  : "Answer with the verdict tool (or, without tools, YES or NO: and what is still missing).",
		     img.width,
		     img.height) < 0)
		goto out;
	if (dp_conversation_add_system(conv, "You check the work of a desktop automation agent. Judge only by what "
					     "the screenshot shows; be strict: a task is done only when the screen shows "
					     "it done.") < 0 ||
	    dp_conversation_add_user(conv, task, ask, img.data_url, obs->step) < 0)
		goto out;
	if (!text) {
		tool = dp_model_verdict_tool();
		tools = cJSON_CreateArray();
		if (!tool || !tools)
			goto out;
		cJSON_AddItemToArray(tools, tool);
		tool = NULL;
	}
	body = request_body(self, conv, tools, text ? NULL : "verdict");
	if (!body)
		goto out;
	r = post(self, body, &reply, err);
	if (r < 0)
		goto out;
	if (self->current) {
		self->current->tokens_in += reply.tokens_in;
		self->current->tokens_out += reply.tokens_out;
		self->current->tokens_cached += reply.tokens_cached;
	} else {
		self->verify_in += reply.tokens_in;
		self->verify_out += reply.tokens_out;
		self->verify_cached += reply.tokens_cached;
	}
	self->total_in += reply.tokens_in;
	self->total_out += reply.tokens_out;
	self->total_cached += reply.tokens_cached;
	if (text) {
		const cJSON *content = cJSON_GetObjectItemCaseSensitive(reply.message, "content");

		r = dp_uitars_verdict(cJSON_IsString(content) ? content->valuestring : "", agree, reason, err);
	} else {
		const cJSON *call = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(reply.message, "tool_calls"), 0);
		const cJSON *content = cJSON_GetObjectItemCaseSensitive(reply.message, "content");

		/* A server that ignores a forced tool_choice may answer in words:
		 * "YES" or "NO: reason" is read as well. */
		if (call)
			r = dp_model_verdict_parse(call, agree, reason, err);
		else if (!cJSON_IsString(content) || dp_uitars_verdict(content->valuestring, agree, reason, NULL) < 0)
			r = dp_error_set(err, -EPROTO, "model server at %s: neither a verdict call nor YES or NO: reason",
					 self->endpoint);
	}
	if (r == 0)
		dp_log_info("verifier: %s%s%s", *agree ? "done" : "not done", *reason ? ": " : "", *reason ? *reason : "");
	else if (r != -ENOMEM && err) {
		char msg[sizeof(err->message)];

		snprintf(msg, sizeof(msg), "%s", err->message);
		dp_error_set(err, r, "the verifier's reply: %s", msg);
	}
out:
	cJSON_Delete(reply.root);
	cJSON_Delete(tool);
	cJSON_Delete(tools);
	free(body);
	free(ask);
	free(task);
	dp_conversation_destroy(conv);
	dp_model_image_clear(&img);
	if (r == -ENOMEM && err && !err->message[0])
		dp_error_set(err, r, "out of memory for the verifier's request");
	return r;
}

/* --- life cycle -------------------------------------------------------------- */

static int start(struct dp_policy *policy, const struct dp_task_info *task, struct dp_error *err)
{
	struct model_policy *self = (struct model_policy *)policy;

	free(self->instruction);
	self->instruction = strdup(task->instruction ? task->instruction : "");
	if (!self->instruction)
		return dp_error_set(err, -ENOMEM, "out of memory");
	self->cancel = task->cancel;
	self->retry.cancel = task->cancel;
	dp_http_set_cancel(self->http, task->cancel);
	dp_conversation_destroy(self->conv);
	self->conv = NULL;
	if (dp_conversation_create(&self->conv, self->profile.keep_screenshots, self->profile.drop_chunk) < 0)
		return dp_error_set(err, -ENOMEM, "out of memory");
	clear_calls(self);
	self->note[0] = '\0';
	self->zoom_pending = false;
	return 0;
}

static void destroy(struct dp_policy *policy)
{
	struct model_policy *self = (struct model_policy *)policy;

	if (self->total_in || self->total_out)
		dp_log_info("tokens for the task: %llu prompt (%llu cached), %llu completion",
			    (unsigned long long)self->total_in, (unsigned long long)self->total_cached,
			    (unsigned long long)self->total_out);
	clear_calls(self);
	if (self->key) {
		explicit_bzero(self->key, strlen(self->key));
		free(self->key);
	}
	cJSON_Delete(self->tools);
	dp_conversation_destroy(self->conv);
	dp_model_imager_destroy(self->imager);
	dp_http_destroy(self->http);
	free(self->instruction);
	free(self);
}

static const struct dp_policy_impl model_impl;

int dp_model_policy_step_stats(const struct dp_policy *policy, struct dp_model_step_stats *stats)
{
	if (!policy || policy->impl != &model_impl)
		return -EINVAL;
	*stats = ((const struct model_policy *)policy)->stats;
	return 0;
}

static const struct dp_policy_impl model_impl = {
	.name = "model",
	.start = start,
	.decide = decide,
	.feedback = feedback,
	.verify = verify,
	.destroy = destroy,
};

/* The key, from a file (the whole file, trailing white space dropped) or
 * the environment.  Never logged, never in an error message. */
static int read_key(struct model_policy *self, const char *file, struct dp_error *err)
{
	const char *env_names[2] = { self->profile.api_key_env, "DESKPILOT_API_KEY" };
	char buf[MAX_KEY + 1];
	struct stat st;
	ssize_t n;
	int fd;

	if (file) {
		fd = open(file, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return dp_error_set(err, -errno, "cannot read the API key file %s: %s", file, strerror(errno));
		if (fstat(fd, &st) == 0 && (st.st_mode & 077))
			dp_log_warn("the API key file %s can be read by others: chmod 600 it", file);
		n = read(fd, buf, sizeof(buf));
		close(fd);
		if (n < 0)
			return dp_error_set(err, -errno, "cannot read the API key file %s: %s", file, strerror(errno));
		if ((size_t)n > MAX_KEY) {
			explicit_bzero(buf, sizeof(buf));
			return dp_error_set(err, -EINVAL, "the API key file %s is over %d bytes: is it the right file?",
					    file, MAX_KEY);
		}
		while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' || buf[n - 1] == '\t'))
			n--;
		buf[n] = '\0';
		if (n == 0 || memchr(buf, '\n', (size_t)n))
			return dp_error_set(err, -EINVAL, "the API key file %s must hold the key on one line", file);
		self->key = strdup(buf);
		explicit_bzero(buf, sizeof(buf));
		return self->key ? 0 : -ENOMEM;
	}
	for (int i = 0; i < 2; i++) {
		const char *v = *env_names[i] ? getenv(env_names[i]) : NULL;

		if (v && *v) {
			if (strlen(v) > MAX_KEY || strpbrk(v, "\r\n"))
				return dp_error_set(err, -EINVAL, "%s does not look like an API key (one line, at most %d "
								  "bytes)", env_names[i], MAX_KEY);
			self->key = strdup(v);
			return self->key ? 0 : -ENOMEM;
		}
	}
	return 0;
}

int dp_model_policy_create(struct dp_policy **out, const struct dp_model_options *o, struct dp_error *err)
{
	struct model_policy *self = calloc(1, sizeof(*self));
	struct dp_http_options ho = { 0 };
	size_t n;
	int r;

	*out = NULL;
	if (!self)
		return dp_error_set(err, -ENOMEM, "out of memory");
	self->base.impl = &model_impl;
	r = dp_model_profile_load(o->profile, &self->profile, err);
	if (r < 0)
		goto fail;
	if (o->model_name && *o->model_name)
		snprintf(self->profile.model, sizeof(self->profile.model), "%s", o->model_name);
	self->thinking = self->profile.thinking;
	if (o->thinking != DP_MODEL_THINKING_PROFILE) {
		if (self->profile.thinking == DP_MODEL_THINKING_NONE) {
			r = dp_error_set(err, -EINVAL, "the profile %s has no thinking switch (its \"thinking\" is "
						       "\"none\"): leave --thinking out", self->profile.name);
			goto fail;
		}
		self->thinking = o->thinking == DP_MODEL_THINKING_ON ? DP_MODEL_THINKING_ADAPTIVE
								     : DP_MODEL_THINKING_DISABLED;
	}
	self->verify = !o->no_verify;
	snprintf(self->endpoint, sizeof(self->endpoint), "%s",
		 o->endpoint && *o->endpoint ? o->endpoint : self->profile.endpoint);
	n = strlen(self->endpoint);
	while (n > 0 && self->endpoint[n - 1] == '/')
		self->endpoint[--n] = '\0';
	if (strncmp(self->endpoint, "http://", 7) != 0 && strncmp(self->endpoint, "https://", 8) != 0) {
		r = dp_error_set(err, -EINVAL, "endpoint '%s': expected an http:// or https:// base URL such as "
					       "https://api.minimax.io/v1", self->endpoint);
		goto fail;
	}
	snprintf(self->url, sizeof(self->url), "%s/chat/completions", self->endpoint);
	r = read_key(self, o->api_key_file, err);
	if (r < 0)
		goto fail;
	if (!self->key && strncmp(self->endpoint, "https://", 8) == 0) {
		r = dp_error_set(err, -EINVAL, "no API key for %s: put it in a file only you can read and pass "
					       "--api-key-file FILE, or set %s", self->endpoint,
				 self->profile.api_key_env[0] ? self->profile.api_key_env : "DESKPILOT_API_KEY");
		goto fail;
	}
	ho.stall_s = o->stall_s;
	ho.total_timeout_ms = o->request_timeout_s * 1000;
	r = dp_http_create(&self->http, &ho, err);
	if (r == 0)
		r = dp_model_imager_create(&self->imager, &self->profile, err);
	if (r == 0)
		r = dp_conversation_create(&self->conv, self->profile.keep_screenshots, self->profile.drop_chunk);
	if (r < 0)
		goto fail;
	self->retry.attempts = o->attempts;
	self->retry.server = self->endpoint;
	self->retry.secret = self->key;
	dp_log_info("model %s (profile %s) at %s, %s coordinates, thinking %s, verifier %s", self->profile.model,
		    self->profile.name, self->endpoint, dp_model_coords_name(self->profile.coords),
		    self->thinking == DP_MODEL_THINKING_NONE ? "n/a"
		    : self->thinking == DP_MODEL_THINKING_ADAPTIVE ? "adaptive" : "disabled",
		    self->verify ? "on" : "off");
	*out = &self->base;
	return 0;
fail:
	if (err && !err->message[0])
		dp_error_set(err, r, "the model policy could not start: %s", strerror(-r));
	destroy(&self->base);
	return r;
}
