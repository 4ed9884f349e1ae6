#define DP_LOG_SUBSYS "model"

#include "policies/model/http.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "engine/clock.h"
#include "engine/log.h"

#define MAX_BODY (64u << 20) /* a reply larger than this is not a chat completion */
#define POLL_MS 20           /* how soon a cancel is noticed while waiting */

struct dp_http {
	CURLM *multi;
	CURL *easy;
	struct dp_http_options options;
};

struct sink {
	char *data;
	size_t len, cap;
	bool too_big;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_status = CURLE_OK;

static void global_init(void)
{
	global_status = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct sink *s = userdata;
	size_t n = size * nmemb;

	if (s->len + n > MAX_BODY) {
		s->too_big = true;
		return 0;
	}
	if (s->len + n + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : 16384;
		char *grown;

		while (cap < s->len + n + 1)
			cap *= 2;
		grown = realloc(s->data, cap);
		if (!grown)
			return 0;
		s->data = grown;
		s->cap = cap;
	}
	memcpy(s->data + s->len, ptr, n);
	s->len += n;
	s->data[s->len] = '\0';
	return n;
}

/* libcurl calls this often while a transfer runs: a cancel ends it. */
static int on_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	const struct dp_http *http = userdata;

	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	return http->options.cancel && atomic_load(http->options.cancel) ? 1 : 0;
}

int dp_http_create(struct dp_http **out, const struct dp_http_options *options, struct dp_error *err)
{
	struct dp_http *http;

	pthread_once(&global_once, global_init);
	if (global_status != CURLE_OK)
		return dp_error_set(err, -EIO, "libcurl would not start: %s", curl_easy_strerror(global_status));
	http = calloc(1, sizeof(*http));
	if (!http)
		return dp_error_set(err, -ENOMEM, "out of memory");
	if (options)
		http->options = *options;
	if (!http->options.connect_timeout_ms)
		http->options.connect_timeout_ms = 10000;
	if (!http->options.total_timeout_ms)
		http->options.total_timeout_ms = 600000;
	if (!http->options.stall_s)
		http->options.stall_s = 120;
	http->multi = curl_multi_init();
	http->easy = curl_easy_init();
	if (!http->multi || !http->easy) {
		dp_http_destroy(http);
		return dp_error_set(err, -ENOMEM, "libcurl could not make a handle");
	}
	*out = http;
	return 0;
}

void dp_http_destroy(struct dp_http *http)
{
	if (!http)
		return;
	if (http->easy)
		curl_easy_cleanup(http->easy);
	if (http->multi)
		curl_multi_cleanup(http->multi);
	free(http);
}

void dp_http_set_cancel(struct dp_http *http, const atomic_bool *cancel)
{
	http->options.cancel = cancel;
}

void dp_http_response_clear(struct dp_http_response *resp)
{
	free(resp->body);
	memset(resp, 0, sizeof(*resp));
	resp->retry_after_ms = -1;
}

static enum dp_http_failure classify(CURLcode code, const struct dp_http *http, double seconds, double connect_s)
{
	switch (code) {
	case CURLE_OK:
		return DP_HTTP_OK;
	case CURLE_COULDNT_CONNECT:
		return DP_HTTP_REFUSED;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return DP_HTTP_DNS;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_USE_SSL_FAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
		return DP_HTTP_TLS;
	case CURLE_OPERATION_TIMEDOUT:
		/* The same code for all three limits: tell them apart by when. */
		if (connect_s <= 0.0 || seconds * 1000.0 >= (double)http->options.total_timeout_ms - 500.0)
			return DP_HTTP_TIMEOUT;
		return DP_HTTP_STALLED;
	case CURLE_ABORTED_BY_CALLBACK:
		return DP_HTTP_CANCELLED;
	default:
		return DP_HTTP_NETWORK;
	}
}

static void setup(struct dp_http *http, const char *url, const char *body, size_t len, struct curl_slist *headers,
		  struct sink *sink, char *errbuf)
{
	CURL *e = http->easy;

	curl_easy_reset(e);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_POST, 1L);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, sink);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, http->options.connect_timeout_ms);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, http->options.total_timeout_ms);
	/* A reply that stops coming: under 1 byte/s for stall_s seconds. */
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, http->options.stall_s);
	curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(e, CURLOPT_XFERINFODATA, http);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_USERAGENT, "deskpilot/" DP_VERSION);
	/* Proxies: libcurl reads http_proxy, https_proxy and no_proxy itself. */
}

/* Runs the transfer on our own multi handle, so a cancel is seen within
 * POLL_MS even while the server is silent. */
static CURLcode perform(struct dp_http *http)
{
	CURLcode result = CURLE_OK;
	bool done = false;
	int running = 1;

	if (curl_multi_add_handle(http->multi, http->easy) != CURLM_OK)
		return CURLE_OUT_OF_MEMORY;
	while (!done) {
		CURLMsg *msg;
		int left;

		if (curl_multi_perform(http->multi, &running) != CURLM_OK) {
			result = CURLE_RECV_ERROR;
			break;
		}
		while ((msg = curl_multi_info_read(http->multi, &left))) {
			if (msg->msg == CURLMSG_DONE && msg->easy_handle == http->easy) {
				result = msg->data.result;
				done = true;
			}
		}
		if (done || !running)
			break;
		if (http->options.cancel && atomic_load(http->options.cancel)) {
			result = CURLE_ABORTED_BY_CALLBACK;
			break;
		}
		if (curl_multi_poll(http->multi, NULL, 0, POLL_MS, NULL) != CURLM_OK) {
			result = CURLE_RECV_ERROR;
			break;
		}
	}
	curl_multi_remove_handle(http->multi, http->easy);
	return result;
}

int dp_http_post_json(struct dp_http *http, const char *url, const char *key, const char *body, size_t len,
		      struct dp_http_response *resp)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *headers = NULL, *h;
	struct sink sink = { 0 };
	char *auth = NULL;
	int64_t start = dp_now_ns();
	double connect_s = 0.0;
	curl_off_t retry_after = -1;
	CURLcode code;
	long status = 0;

	memset(resp, 0, sizeof(*resp));
	resp->retry_after_ms = -1;
	h = curl_slist_append(NULL, "Content-Type: application/json");
	headers = h;
	/* No "Expect: 100-continue" wait before a large body. */
	if (headers)
		h = curl_slist_append(headers, "Expect:");
	if (h && key && *key) {
		size_t n = strlen(key) + 32;

		auth = malloc(n);
		if (auth) {
			snprintf(auth, n, "Authorization: Bearer %s", key);
			h = curl_slist_append(headers, auth);
		}
	}
	if (!h || (key && *key && !auth)) {
		if (auth)
			explicit_bzero(auth, strlen(auth));
		free(auth);
		curl_slist_free_all(headers);
		resp->failure = DP_HTTP_NETWORK;
		snprintf(resp->detail, sizeof(resp->detail), "out of memory");
		return -ENOMEM;
	}
	setup(http, url, body, len, headers, &sink, errbuf);
	code = perform(http);
	curl_easy_getinfo(http->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(http->easy, CURLINFO_CONNECT_TIME, &connect_s);
	curl_easy_getinfo(http->easy, CURLINFO_RETRY_AFTER, &retry_after);
	/* The header list held the key: wipe it. */
	for (struct curl_slist *it = headers; it; it = it->next)
		explicit_bzero(it->data, strlen(it->data));
	curl_slist_free_all(headers);
	if (auth) {
		explicit_bzero(auth, strlen(auth));
		free(auth);
	}
	resp->seconds = (double)(dp_now_ns() - start) / 1e9;
	resp->status = status;
	resp->body = sink.data;
	resp->body_len = sink.len;
	/* libcurl says 0 for "no Retry-After" too: treat it as none. */
	resp->retry_after_ms = retry_after > 0 ? (int64_t)retry_after * 1000 : -1;
	if (sink.too_big) {
		resp->failure = DP_HTTP_NETWORK;
		snprintf(resp->detail, sizeof(resp->detail), "the reply is over %u MiB", MAX_BODY >> 20);
		return -EMSGSIZE;
	}
	resp->failure = classify(code, http, resp->seconds, connect_s);
	snprintf(resp->detail, sizeof(resp->detail), "%s", errbuf[0] ? errbuf : curl_easy_strerror(code));
	switch (resp->failure) {
	case DP_HTTP_OK:
		if (status < 200 || status > 299)
			resp->failure = DP_HTTP_STATUS;
		return 0;
	case DP_HTTP_STATUS:
		return 0;
	case DP_HTTP_CANCELLED:
		return -ECANCELED;
	case DP_HTTP_REFUSED:
		return -ECONNREFUSED;
	case DP_HTTP_DNS:
		return -EHOSTUNREACH;
	case DP_HTTP_TLS:
		return -EPROTO;
	case DP_HTTP_TIMEOUT:
	case DP_HTTP_STALLED:
		return -ETIMEDOUT;
	case DP_HTTP_NETWORK:
		return -ECONNRESET;
	}
	return -EIO;
}

static const char *reason_phrase(long status)
{
	switch (status) {
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 408: return "Request Timeout";
	case 413: return "Payload Too Large";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "";
	}
}

void dp_http_describe(const struct dp_http_response *resp, char *buf, size_t size)
{
	switch (resp->failure) {
	case DP_HTTP_OK:
	case DP_HTTP_STATUS:
		snprintf(buf, size, "%ld%s%s", resp->status, *reason_phrase(resp->status) ? " " : "",
			 reason_phrase(resp->status));
		break;
	case DP_HTTP_REFUSED:
		snprintf(buf, size, "connection refused (%s)", resp->detail);
		break;
	case DP_HTTP_DNS:
		snprintf(buf, size, "host name not found (%s)", resp->detail);
		break;
	case DP_HTTP_TLS:
		snprintf(buf, size, "TLS error (%s)", resp->detail);
		break;
	case DP_HTTP_TIMEOUT:
		snprintf(buf, size, "timed out (%s)", resp->detail);
		break;
	case DP_HTTP_STALLED:
		snprintf(buf, size, "the reply stalled (%s)", resp->detail);
		break;
	case DP_HTTP_NETWORK:
		snprintf(buf, size, "connection broken (%s)", resp->detail);
		break;
	case DP_HTTP_CANCELLED:
		snprintf(buf, size, "cancelled");
		break;
	}
}
