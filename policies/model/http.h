/* One HTTP client for model servers: POST a JSON body, get the reply, and
 * say precisely what went wrong when none came (refused, DNS, TLS, timeout,
 * a stalled response, cancel, an HTTP status).  libcurl underneath: TLS
 * verified, proxies from the environment, HTTP/2 where the server offers
 * it, and the connection kept between requests. */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/error.h"

enum dp_http_failure {
	DP_HTTP_OK,        /* a 2xx reply */
	DP_HTTP_STATUS,    /* a reply with another status: see status and body */
	DP_HTTP_REFUSED,   /* nothing listens there (or it is unreachable) */
	DP_HTTP_DNS,       /* the host name does not resolve */
	DP_HTTP_TLS,       /* handshake or certificate failure */
	DP_HTTP_TIMEOUT,   /* connect or total time limit */
	DP_HTTP_STALLED,   /* the reply stopped: no bytes for stall_s seconds */
	DP_HTTP_NETWORK,   /* the connection broke (reset, closed without a reply) */
	DP_HTTP_CANCELLED, /* the task was cancelled */
};

struct dp_http_options {
	long connect_timeout_ms; /* 0: 10 s */
	long total_timeout_ms;   /* 0: 10 min */
	long stall_s;            /* no bytes for this long ends the request; 0: 120 s */
	const atomic_bool *cancel; /* set by another thread: the request ends at once */
};

struct dp_http_response {
	enum dp_http_failure failure;
	long status;            /* HTTP status, 0 if none came */
	char *body;             /* NUL-terminated, may be NULL */
	size_t body_len;
	int64_t retry_after_ms; /* from Retry-After; -1 if none */
	double seconds;         /* how long the request took */
	char detail[256];       /* libcurl's words for a transport failure */
};

struct dp_http;

int dp_http_create(struct dp_http **out, const struct dp_http_options *options, struct dp_error *err);
void dp_http_destroy(struct dp_http *http);
/* The task's cancel flag, known once it starts. */
void dp_http_set_cancel(struct dp_http *http, const atomic_bool *cancel);

/* POSTs body (JSON) to url, with "Authorization: Bearer <key>" when key
 * is set.  Returns 0 when a reply came (failure OK or STATUS), -ECANCELED
 * on cancel, or another negative errno with resp->failure saying which
 * transport failure it was.  resp is always filled; clear it after. */
int dp_http_post_json(struct dp_http *http, const char *url, const char *key, const char *body, size_t len,
		      struct dp_http_response *resp);

void dp_http_response_clear(struct dp_http_response *resp);

/* "503 Service Unavailable", "connection refused", ... */
void dp_http_describe(const struct dp_http_response *resp, char *buf, size_t size);
