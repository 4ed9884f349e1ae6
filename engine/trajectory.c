#define DP_LOG_SUBSYS "trajectory"

#include "engine/trajectory.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "engine/clock.h"
#include "engine/file.h"
#include "engine/log.h"
#include "engine/report.h"

struct dp_trajectory {
	char dir[PATH_MAX - 32];
	char *task_id;
	char *instruction;
	FILE *jsonl;
	time_t started;
	int64_t started_ns;
	uint64_t prompt, completion, cached; /* summed over the steps */
};

static const char *const phase_names[DP_PHASE_COUNT] = {
	"observe", "decide", "guard", "act", "settle", "check", "record",
};

const char *dp_phase_name(enum dp_phase phase)
{
	return phase < DP_PHASE_COUNT ? phase_names[phase] : "unknown";
}

static int mkdir_p(const char *path)
{
	char buf[PATH_MAX];

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return mkdir(buf, 0700) < 0 && errno != EEXIST ? -errno : 0;
}

int dp_trajectory_open(struct dp_trajectory **out, const char *dir, const char *task_id, const char *instruction,
		       struct dp_error *err)
{
	struct dp_trajectory *t = calloc(1, sizeof(*t));
	char path[PATH_MAX];
	int r;

	if (!t)
		return dp_error_set(err, -ENOMEM, "out of memory");
	if (snprintf(t->dir, sizeof(t->dir), "%s", dir) >= (int)sizeof(t->dir)) {
		free(t);
		return dp_error_set(err, -ENAMETOOLONG, "run folder name too long: %s", dir);
	}
	r = mkdir_p(dir);
	if (r < 0) {
		free(t);
		return dp_error_set(err, r, "cannot create the run folder %s: %s", dir, strerror(-r));
	}
	snprintf(path, sizeof(path), "%s/traj.jsonl", dir);
	t->jsonl = fopen(path, "w");
	if (!t->jsonl) {
		r = -errno;
		free(t);
		return dp_error_set(err, r, "cannot write %s: %s", path, strerror(-r));
	}
	t->task_id = strdup(task_id ? task_id : "");
	t->instruction = strdup(instruction ? instruction : "");
	t->started = time(NULL);
	t->started_ns = dp_now_ns();
	*out = t;
	return 0;
}

static cJSON *rect_json(struct dp_rect r)
{
	int v[4] = { r.x, r.y, r.width, r.height };

	return cJSON_CreateIntArray(v, 4);
}

static cJSON *step_json(const struct dp_step_record *rec, const char *image, int64_t record_us)
{
	cJSON *line = cJSON_CreateObject();
	cJSON *actions = cJSON_AddArrayToObject(line, "actions");
	cJSON *feedback = cJSON_AddArrayToObject(line, "feedback");
	cJSON *timings = cJSON_AddObjectToObject(line, "timings_us");
	cJSON *tokens = cJSON_AddObjectToObject(line, "tokens");

	cJSON_AddNumberToObject(line, "step", rec->step);
	cJSON_AddStringToObject(line, "image", image);
	cJSON_AddNumberToObject(line, "image_width", rec->width);
	cJSON_AddNumberToObject(line, "image_height", rec->height);
	for (size_t i = 0; rec->decision && i < rec->decision->n_actions; i++) {
		char *json = dp_action_to_json(&rec->decision->actions[i]);

		cJSON_AddItemToArray(actions, json ? cJSON_Parse(json) : cJSON_CreateNull());
		free(json);
	}
	if (rec->decision && rec->decision->reasoning)
		cJSON_AddStringToObject(line, "reasoning", rec->decision->reasoning);
	for (size_t i = 0; i < rec->n_feedback; i++) {
		cJSON *fb = cJSON_CreateObject();

		cJSON_AddStringToObject(fb, "verdict", dp_verdict_name(rec->feedback[i].verdict));
		if (!dp_rect_empty(rec->feedback[i].changed))
			cJSON_AddItemToObject(fb, "changed", rect_json(rec->feedback[i].changed));
		cJSON_AddStringToObject(fb, "message", rec->feedback[i].message);
		cJSON_AddItemToArray(feedback, fb);
	}
	for (int p = 0; p < DP_PHASE_COUNT; p++)
		cJSON_AddNumberToObject(timings, phase_names[p],
					(double)(p == DP_PHASE_RECORD ? record_us : rec->phase_us[p]));
	cJSON_AddNumberToObject(tokens, "in", rec->decision ? (double)rec->decision->tokens_in : 0);
	cJSON_AddNumberToObject(tokens, "out", rec->decision ? (double)rec->decision->tokens_out : 0);
	cJSON_AddNumberToObject(tokens, "cached", rec->decision ? (double)rec->decision->tokens_cached : 0);
	return line;
}

int dp_trajectory_add_step(struct dp_trajectory *t, const struct dp_step_record *rec, struct dp_error *err)
{
	char image[32], path[PATH_MAX];
	int64_t start = dp_now_ns();
	cJSON *line;
	char *text;
	int r = 0;

	if (rec->decision) {
		t->prompt += rec->decision->tokens_in;
		t->completion += rec->decision->tokens_out;
		t->cached += rec->decision->tokens_cached;
	}
	snprintf(image, sizeof(image), "step_%03u.jpg", rec->step);
	snprintf(path, sizeof(path), "%s/%s", t->dir, image);
	if (rec->jpeg && (r = dp_file_write_atomic(path, rec->jpeg, rec->jpeg_size, err)) < 0)
		return r;
	/* The record phase is this function: the image written, the line
	 * built (its own write is the microseconds left out). */
	line = step_json(rec, rec->jpeg ? image : "", (dp_now_ns() - start) / 1000);
	text = cJSON_PrintUnformatted(line);
	cJSON_Delete(line);
	if (!text)
		return dp_error_set(err, -ENOMEM, "out of memory");
	/* One line per step, flushed: a crash loses at most the step in hand. */
	if (fprintf(t->jsonl, "%s\n", text) < 0 || fflush(t->jsonl) != 0)
		r = dp_error_set(err, -EIO, "cannot write %s/traj.jsonl: %s", t->dir, strerror(errno));
	free(text);
	return r;
}

static void iso_time(time_t when, char *buf, size_t size)
{
	struct tm tm;

	gmtime_r(&when, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int dp_trajectory_close(struct dp_trajectory *t, const char *outcome, const char *message, uint32_t steps,
			uint64_t tokens, struct dp_error *err)
{
	cJSON *result = cJSON_CreateObject();
	char started[32], finished[32], path[PATH_MAX];
	char *text;
	int r;

	iso_time(t->started, started, sizeof(started));
	iso_time(time(NULL), finished, sizeof(finished));
	cJSON_AddStringToObject(result, "task", t->task_id);
	cJSON_AddStringToObject(result, "instruction", t->instruction);
	cJSON_AddStringToObject(result, "outcome", outcome);
	cJSON_AddStringToObject(result, "message", message ? message : "");
	cJSON_AddNumberToObject(result, "steps", steps);
	cJSON_AddNumberToObject(result, "tokens", (double)tokens);
	if (t->prompt || t->completion) {
		cJSON *detail = cJSON_AddObjectToObject(result, "token_detail");

		cJSON_AddNumberToObject(detail, "prompt", (double)t->prompt);
		cJSON_AddNumberToObject(detail, "completion", (double)t->completion);
		cJSON_AddNumberToObject(detail, "cached", (double)t->cached);
	}
	cJSON_AddStringToObject(result, "started", started);
	cJSON_AddStringToObject(result, "finished", finished);
	cJSON_AddNumberToObject(result, "duration_ms", (double)((dp_now_ns() - t->started_ns) / 1000000));
	text = cJSON_Print(result);
	cJSON_Delete(result);
	fclose(t->jsonl);
	snprintf(path, sizeof(path), "%s/result.json", t->dir);
	r = text ? dp_file_write_atomic(path, text, strlen(text), err) : -ENOMEM;
	free(text);
	if (r == 0)
		r = dp_report_write(t->dir, err);
	free(t->task_id);
	free(t->instruction);
	free(t);
	return r;
}
