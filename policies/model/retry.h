/* A model request with bounded retries: exponential backoff with jitter,
 * Retry-After honoured for 429 and 503, and a final error that names the
 * cause ("model server at URL: 503 Service Unavailable 4 times: <body>"). */
#pragma once

#include <stdatomic.h>

#include "engine/error.h"
#include "policies/model/http.h"

struct dp_retry_options {
	int attempts;           /* in all, 1 or more; 0: 4 */
	int base_delay_ms;      /* before the 2nd attempt; doubled each time; 0: 500 */
	int max_delay_ms;       /* 0: 30000 */
	const char *server;     /* named in errors: the endpoint */
	const char *secret;     /* never shown in an error (an API key echoed back) */
	const atomic_bool *cancel;
};

/* Whether a failure is worth another try: the server may recover. */
bool dp_retry_worth_it(const struct dp_http_response *resp);

/* The delay before attempt n + 1 (n >= 1) after resp: Retry-After for
 * 429/503 when given, else base * 2^(n-1), with up to 25% jitter. */
int64_t dp_retry_delay_ms(const struct dp_retry_options *o, int n, const struct dp_http_response *resp,
			  uint64_t *seed);

/* POSTs until a 2xx reply (0, resp holds it) or the bound is reached
 * (negative errno, err says what failed, how often, and what to do). */
int dp_retry_post(struct dp_http *http, const struct dp_retry_options *o, const char *url, const char *key,
		  const char *body, size_t len, struct dp_http_response *resp, struct dp_error *err);

/* Copies up to size-1 bytes of text for an error message: one line, key
 * replaced by "[key]". */
void dp_retry_snippet(const char *text, size_t len, const char *secret, char *out, size_t size);
