#define DP_LOG_SUBSYS "model"

#include "policies/model/retry.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "engine/clock.h"
#include "engine/log.h"

bool dp_retry_worth_it(const struct dp_http_response *resp)
{
	switch (resp->failure) {
	case DP_HTTP_STATUS:
		return resp->status == 408 || resp->status == 409 || resp->status == 429 || resp->status >= 500;
	case DP_HTTP_REFUSED:   /* a server restarting */
	case DP_HTTP_TIMEOUT:
	case DP_HTTP_STALLED:
	case DP_HTTP_NETWORK:
		return true;
	default:
		return false; /* DNS, TLS, cancel, 4xx: another try would fail the same way */
	}
}

static uint64_t next_random(uint64_t *s)
{
	/* xorshift64*: jitter needs spread, not secrecy. */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

int64_t dp_retry_delay_ms(const struct dp_retry_options *o, int n, const struct dp_http_response *resp,
			  uint64_t *seed)
{
	int64_t base = o->base_delay_ms > 0 ? o->base_delay_ms : 500, cap = o->max_delay_ms > 0 ? o->max_delay_ms : 30000;
	int64_t delay = base;

	if (resp->failure == DP_HTTP_STATUS && (resp->status == 429 || resp->status == 503) &&
	    resp->retry_after_ms >= 0)
		return resp->retry_after_ms < cap ? resp->retry_after_ms : cap;
	for (int i = 1; i < n && delay < cap; i++)
		delay *= 2;
	if (delay > cap)
		delay = cap;
	/* Up to 25% less, so clients that failed together do not return together. */
	return delay - (int64_t)(next_random(seed) % (uint64_t)(delay / 4 + 1));
}

void dp_retry_snippet(const char *text, size_t len, const char *secret, char *out, size_t size)
{
	size_t slen = secret ? strlen(secret) : 0, o = 0;

	for (size_t i = 0; text && i < len && text[i] && o + 1 < size;) {
		if (slen && i + slen <= len && memcmp(text + i, secret, slen) == 0) {
			const char *mask = "[key]";

			for (size_t k = 0; mask[k] && o + 1 < size; k++)
				out[o++] = mask[k];
			i += slen;
			continue;
		}
		out[o++] = text[i] == '\n' || text[i] == '\r' || text[i] == '\t' ? ' ' : text[i];
		i++;
	}
	if (size)
		out[o] = '\0';
}

/* Sleeps ms, in slices, so a cancel is seen soon. */
static bool sleep_unless_cancelled(int64_t ms, const atomic_bool *cancel)
{
	int64_t end = dp_now_ns() + ms * DP_NSEC_PER_MSEC;

	while (!(cancel && atomic_load(cancel))) {
		int64_t left = end - dp_now_ns();
		struct timespec ts;

		if (left <= 0)
			return true;
		if (left > 20 * DP_NSEC_PER_MSEC)
			left = 20 * DP_NSEC_PER_MSEC;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)left;
		nanosleep(&ts, NULL);
	}
	return false;
}

static const char *hint(const struct dp_http_response *resp)
{
	switch (resp->failure) {
	case DP_HTTP_REFUSED: return "; is the model server running there?";
	case DP_HTTP_DNS: return "; check the host name of the endpoint";
	case DP_HTTP_TLS: return "; check the server's certificate (or the system's CA certificates)";
	case DP_HTTP_STATUS:
		if (resp->status == 401 || resp->status == 403)
			return "; check the API key (the profile's api_key_env, DESKPILOT_API_KEY or --api-key-file)";
		if (resp->status == 404)
			return "; check the endpoint: a base URL such as https://api.minimax.io/v1, and the model name";
		return "";
	default: return "";
	}
}

int dp_retry_post(struct dp_http *http, const struct dp_retry_options *o, const char *url, const char *key,
		  const char *body, size_t len, struct dp_http_response *resp, struct dp_error *err)
{
	int attempts = o->attempts > 0 ? o->attempts : 4, n, r = 0;
	uint64_t seed = (uint64_t)dp_now_ns() | 1;
	char what[320], snippet[240] = "";
	enum dp_http_failure first_failure = DP_HTTP_OK;
	long first_status = 0;
	int same = 0;

	for (n = 1; n <= attempts; n++) {
		int64_t delay;

		r = dp_http_post_json(http, url, key, body, len, resp);
		if (r == 0 && resp->failure == DP_HTTP_OK)
			return 0;
		if (r == -ECANCELED)
			return dp_error_set(err, -ECANCELED, "the model request was cancelled");
		dp_http_describe(resp, what, sizeof(what));
		/* The same failure each time (libcurl's words vary: timings). */
		if (n == 1) {
			first_failure = resp->failure;
			first_status = resp->status;
		}
		if (resp->failure == first_failure && resp->status == first_status)
			same++;
		if (resp->body_len)
			dp_retry_snippet(resp->body, resp->body_len, o->secret ? o->secret : key, snippet,
					 sizeof(snippet));
		else
			snippet[0] = '\0';
		if (!dp_retry_worth_it(resp) || n == attempts)
			break;
		delay = dp_retry_delay_ms(o, n, resp, &seed);
		dp_log_warn("model server at %s: %s (attempt %d of %d); trying again in %lld ms", o->server, what, n,
			    attempts, (long long)delay);
		dp_http_response_clear(resp);
		if (!sleep_unless_cancelled(delay, o->cancel))
			return dp_error_set(err, -ECANCELED, "the model request was cancelled");
	}
	if (n > attempts)
		n = attempts;
	if (r == 0)
		r = resp->status == 401 || resp->status == 403 ? -EACCES : resp->status == 404 ? -ENOENT : -EIO;
	if (n > 1 && same == n)
		return dp_error_set(err, r, "model server at %s: %s %d times%s%s%s", o->server, what, n,
				    snippet[0] ? ": " : "", snippet, hint(resp));
	if (n > 1)
		return dp_error_set(err, r, "model server at %s: %s (after %d attempts)%s%s%s", o->server, what, n,
				    snippet[0] ? ": " : "", snippet, hint(resp));
	return dp_error_set(err, r, "model server at %s: %s%s%s%s", o->server, what, snippet[0] ? ": " : "", snippet,
			    hint(resp));
}
