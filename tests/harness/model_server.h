/* Test helpers for the end-to-end model tests: the test model server
 * (tests/model_server, path in $DP_MODEL_SERVER) started on a free port,
 * its /stats and /control, and `deskpilot run --model` against it. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "harness/xvfb.h"

struct dp_model_server {
	pid_t pid;
	int port;
	char endpoint[64]; /* http://127.0.0.1:PORT/v1 */
	char log[300];     /* its stderr */
};

/* Starts the server (--port 0 --profile profile, then extra, NULL-ended
 * or NULL; profile NULL: the requests' model names pick it) with its
 * stderr in dir/server-<profile>.log.  Returns 0 or -1
 * after a message. */
int dp_model_server_start(struct dp_model_server *s, const char *dir, const char *profile,
			  const char *const *extra);
void dp_model_server_stop(struct dp_model_server *s);

/* One request (method GET or POST, body or NULL); the answer's body
 * (malloc'ed) and *status, or NULL when nothing came back. */
char *dp_model_server_request(const struct dp_model_server *s, const char *method, const char *path,
			      const char *body, int *status);

/* The same as a POST with "Authorization: Bearer key". */
char *dp_model_server_request_key(const struct dp_model_server *s, const char *path, const char *body,
				  const char *key, int *status);

/* POST /control with json; 0 on a 200. */
int dp_model_server_control(const struct dp_model_server *s, const char *json);
/* GET /stats, parsed (cJSON_Delete it); NULL on failure. */
cJSON *dp_model_server_stats(const struct dp_model_server *s);
/* The number of violations in stats, printing each. */
int dp_model_stats_violations(const cJSON *stats);
/* A top-level number of stats (-1 if absent). */
double dp_model_stats_num(const cJSON *stats, const char *name);

/* deskpilot --display D run TASK --model PROFILE --endpoint E --run-dir DIR
 * [extra...]; stdout and stderr into out and err.  Returns the exit status. */
int dp_model_run(const struct dp_xvfb *x, const struct dp_model_server *s, const char *task, const char *profile,
		 const char *run_dir, const char *const *extra, char *out, size_t out_size, char *err,
		 size_t err_size);
