/* The test model server's state, shared by the HTTP threads under one lock. */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tests/model_server/convo.h"
#include "tests/model_server/faults.h"
#include "tests/model_server/profile.h"
#include "tests/model_server/screen.h"
#include "tests/model_server/stats.h"

struct ms_server {
	pthread_mutex_t lock;
	char profiles_dir[1024];
	struct ms_profile profile; /* with fixed_profile; else looked up by each request's model */
	bool fixed_profile;
	char *key;                 /* --require-key; never logged */
	struct ms_screen *screen;  /* NULL without OCR */
	struct ms_convos *convos;
	struct ms_faults faults;
	struct ms_stats *stats;
	int max_waits;
	unsigned long serial;
	int64_t start_ns;
	atomic_bool stopping;      /* stalls end early when set */
};

/* An answer for the HTTP layer to send. */
struct ms_response {
	int status;
	char *body;            /* malloc'ed */
	size_t len;
	int retry_after_s;     /* a Retry-After header when > 0 */
	int stall_s;           /* sleep this long ... */
	bool stall_headers;    /* ... after the headers (else before answering at all) */
};

/* POST /v1/chat/completions.  auth: the Authorization header or NULL. */
void ms_chat_handle(struct ms_server *s, const char *body, size_t len, const char *auth, struct ms_response *out);
/* POST /control and GET /stats. */
void ms_control_handle(struct ms_server *s, const char *body, size_t len, struct ms_response *out);
void ms_stats_handle(struct ms_server *s, struct ms_response *out);

/* An OpenAI-style error body {"error": {"message", "type", "code"}}. */
void ms_error_response(struct ms_response *out, int status, const char *type, const char *message);
