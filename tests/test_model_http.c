/* The model client's HTTP failures, against a server on the loopback that
 * misbehaves on purpose: refused, a reply that never comes (stall and
 * cancel), a status with a body and Retry-After, TLS spoken to plain
 * HTTP; and the retries: how often, how long, and an error that names the
 * cause without the key. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine/clock.h"
#include "policies/model/retry.h"
#include "tst.h"

#define KEY "sk-test-5ecret-KEY"

enum mode { SILENT, STATUS_503, FLAKY, OK };

static struct server {
	int fd;
	int port;
	enum mode mode;
	int requests;
	char auth[128];
	pthread_t thread;
} srv;

static void reply(int c, const char *status, const char *extra, const char *body)
{
	char buf[1024];
	int n = snprintf(buf, sizeof(buf), "HTTP/1.1 %s\r\nContent-Type: application/json\r\n%sContent-Length: %zu\r\n"
					   "Connection: close\r\n\r\n%s", status, extra, strlen(body), body);

	if (write(c, buf, (size_t)n) < 0)
		perror("write");
}

/* One connection: read the request, answer as the mode says. */
static void *handle(void *arg)
{
	int c = (int)(intptr_t)arg;
	char req[65536], *a;
	ssize_t got = 0, r;

	/* The headers and the body (ours are small JSON objects); a TLS
	 * hello (not text) is answered at once, in plain HTTP. */
	while (got < (ssize_t)sizeof(req) - 1 && (r = read(c, req + got, sizeof(req) - 1 - (size_t)got)) > 0) {
		got += r;
		req[got] = '\0';
		if ((unsigned char)req[0] < 'A' || (strstr(req, "\r\n\r\n") && strstr(req, "}")))
			break;
	}
	req[got > 0 ? got : 0] = '\0';
	srv.requests++;
	if ((a = strstr(req, "Authorization: ")))
		sscanf(a, "Authorization: %127[^\r]", srv.auth);
	switch (srv.mode) {
	case SILENT:
		/* never answer: wait until the client hangs up */
		while (read(c, req, sizeof(req)) > 0)
			;
		break;
	case STATUS_503:
		reply(c, "503 Service Unavailable", "Retry-After: 2\r\n", "{\"error\": \"overloaded; key " KEY "\"}");
		break;
	case FLAKY:
		if (srv.requests < 4)
			reply(c, "503 Service Unavailable", "", "{\"error\": \"busy\"}");
		else
			reply(c, "200 OK", "", "{\"choices\": []}");
		break;
	case OK:
		reply(c, "200 OK", "", "{\"choices\": []}");
		break;
	}
	close(c);
	return NULL;
}

static void *serve(void *arg)
{
	(void)arg;
	for (;;) {
		int c = accept(srv.fd, NULL, NULL);
		pthread_t t;

		if (c < 0)
			return NULL;
		pthread_create(&t, NULL, handle, (void *)(intptr_t)c);
		pthread_detach(t);
	}
}

static void start_server(void)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(addr);

	srv.fd = socket(AF_INET, SOCK_STREAM, 0);
	bind(srv.fd, (struct sockaddr *)&addr, sizeof(addr));
	listen(srv.fd, 16);
	getsockname(srv.fd, (struct sockaddr *)&addr, &len);
	srv.port = ntohs(addr.sin_port);
	pthread_create(&srv.thread, NULL, serve, NULL);
	pthread_detach(srv.thread);
}

static void url(char *buf, size_t size, const char *scheme, int port)
{
	snprintf(buf, size, "%s://127.0.0.1:%d/v1/chat/completions", scheme, port);
}

static void test_connection_refused(void)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(addr);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;
	struct dp_http *http;
	struct dp_http_response resp;
	char u[128], what[300];

	/* a port that was free a moment ago: nothing listens there */
	bind(fd, (struct sockaddr *)&addr, sizeof(addr));
	getsockname(fd, (struct sockaddr *)&addr, &len);
	port = ntohs(addr.sin_port);
	close(fd);
	TST_REQUIRE(dp_http_create(&http, NULL, NULL) == 0);
	url(u, sizeof(u), "http", port);
	TST_EQ_INT(dp_http_post_json(http, u, NULL, "{}", 2, &resp), -ECONNREFUSED);
	TST_EQ_INT(resp.failure, DP_HTTP_REFUSED);
	dp_http_describe(&resp, what, sizeof(what));
	TST_CHECK(strstr(what, "connection refused"));
	dp_http_response_clear(&resp);
	dp_http_destroy(http);
}

static void test_status_body_retry_after_and_key(void)
{
	struct dp_http *http;
	struct dp_http_response resp;
	char u[128];

	srv.mode = STATUS_503;
	TST_REQUIRE(dp_http_create(&http, NULL, NULL) == 0);
	url(u, sizeof(u), "http", srv.port);
	TST_EQ_INT(dp_http_post_json(http, u, KEY, "{\"model\": \"m\"}", 14, &resp), 0);
	TST_EQ_INT(resp.failure, DP_HTTP_STATUS);
	TST_EQ_INT(resp.status, 503);
	TST_EQ_INT(resp.retry_after_ms, 2000);
	TST_CHECK(resp.body && strstr(resp.body, "overloaded"));
	TST_EQ_STR(srv.auth, "Bearer " KEY);
	dp_http_response_clear(&resp);
	dp_http_destroy(http);
}

static void test_stalled_reply(void)
{
	struct dp_http_options o = { .stall_s = 1 };
	struct dp_http *http;
	struct dp_http_response resp;
	char u[128];

	srv.mode = SILENT;
	TST_REQUIRE(dp_http_create(&http, &o, NULL) == 0);
	url(u, sizeof(u), "http", srv.port);
	TST_EQ_INT(dp_http_post_json(http, u, NULL, "{}", 2, &resp), -ETIMEDOUT);
	TST_EQ_INT(resp.failure, DP_HTTP_STALLED);
	dp_http_response_clear(&resp);
	dp_http_destroy(http);
}

static atomic_bool cancel_flag;

static void *cancel_soon(void *arg)
{
	(void)arg;
	usleep(200 * 1000);
	atomic_store(&cancel_flag, true);
	return NULL;
}

static void test_cancel_ends_a_request_in_flight(void)
{
	struct dp_http_options o = { .stall_s = 30, .cancel = &cancel_flag };
	struct dp_http *http;
	struct dp_http_response resp;
	pthread_t t;
	int64_t start;
	char u[128];

	srv.mode = SILENT;
	atomic_store(&cancel_flag, false);
	TST_REQUIRE(dp_http_create(&http, &o, NULL) == 0);
	url(u, sizeof(u), "http", srv.port);
	pthread_create(&t, NULL, cancel_soon, NULL);
	start = dp_now_ns();
	TST_EQ_INT(dp_http_post_json(http, u, NULL, "{}", 2, &resp), -ECANCELED);
	/* ended by the cancel, long before the 30 s stall limit */
	TST_CHECK(dp_now_ns() - start < 10 * DP_NSEC_PER_SEC);
	fprintf(stderr, "  cancelled after %.0f ms (cancel at 200 ms)\n", (double)(dp_now_ns() - start) / 1e6);
	TST_EQ_INT(resp.failure, DP_HTTP_CANCELLED);
	pthread_join(t, NULL);
	dp_http_response_clear(&resp);
	dp_http_destroy(http);
}

static void test_tls_to_a_plain_server(void)
{
	struct dp_http *http;
	struct dp_http_response resp;
	char u[128];

	srv.mode = OK;
	TST_REQUIRE(dp_http_create(&http, NULL, NULL) == 0);
	url(u, sizeof(u), "https", srv.port);
	TST_EQ_INT(dp_http_post_json(http, u, NULL, "{}", 2, &resp), -EPROTO);
	TST_EQ_INT(resp.failure, DP_HTTP_TLS);
	dp_http_response_clear(&resp);
	dp_http_destroy(http);
}

static void test_retries_until_it_works(void)
{
	struct dp_retry_options o = { .attempts = 4, .base_delay_ms = 10, .server = "http://127.0.0.1/v1" };
	struct dp_http *http;
	struct dp_http_response resp;
	struct dp_error err = { 0 };
	char u[128];

	srv.mode = FLAKY;
	srv.requests = 0;
	TST_REQUIRE(dp_http_create(&http, NULL, NULL) == 0);
	url(u, sizeof(u), "http", srv.port);
	TST_EQ_INT(dp_retry_post(http, &o, u, NULL, "{}", 2, &resp, &err), 0);
	TST_EQ_INT(srv.requests, 4);
	TST_EQ_INT(resp.status, 200);
	dp_http_response_clear(&resp);
	dp_http_destroy(http);
}

static void test_retries_give_up_naming_the_cause(void)
{
	char server[64];
	/* Retry-After says 2 s; the cap keeps the test short */
	struct dp_retry_options o = { .attempts = 4, .base_delay_ms = 10, .max_delay_ms = 50, .server = server };
	struct dp_http *http;
	struct dp_http_response resp;
	struct dp_error err = { 0 };
	char u[128], want[160];

	snprintf(server, sizeof(server), "http://127.0.0.1:%d/v1", srv.port);
	srv.mode = STATUS_503;
	srv.requests = 0;
	TST_REQUIRE(dp_http_create(&http, NULL, NULL) == 0);
	url(u, sizeof(u), "http", srv.port);
	TST_CHECK(dp_retry_post(http, &o, u, KEY, "{}", 2, &resp, &err) < 0);
	TST_EQ_INT(srv.requests, 4);
	snprintf(want, sizeof(want), "model server at %s: 503 Service Unavailable 4 times: {\"error\": \"overloaded; "
				     "key [key]\"}", server);
	TST_EQ_STR(err.message, want);
	TST_CHECK(!strstr(err.message, KEY));
	dp_http_response_clear(&resp);
	dp_http_destroy(http);
}

static void test_backoff_and_retry_after(void)
{
	struct dp_retry_options o = { .base_delay_ms = 400, .max_delay_ms = 5000 };
	struct dp_http_response r503 = { .failure = DP_HTTP_STATUS, .status = 503, .retry_after_ms = 3000 };
	struct dp_http_response r500 = { .failure = DP_HTTP_STATUS, .status = 500, .retry_after_ms = 3000 };
	struct dp_http_response r400 = { .failure = DP_HTTP_STATUS, .status = 400, .retry_after_ms = -1 };
	struct dp_http_response tls = { .failure = DP_HTTP_TLS, .retry_after_ms = -1 };
	uint64_t seed = 12345;

	/* Retry-After is honoured for 503 (and 429), capped */
	TST_EQ_INT(dp_retry_delay_ms(&o, 1, &r503, &seed), 3000);
	r503.retry_after_ms = 60000;
	TST_EQ_INT(dp_retry_delay_ms(&o, 1, &r503, &seed), 5000);
	/* otherwise exponential, with up to 25% taken off */
	for (int n = 1; n <= 6; n++) {
		int64_t full = 400LL << (n - 1), d = dp_retry_delay_ms(&o, n, &r500, &seed);

		if (full > 5000)
			full = 5000;
		TST_CHECK(d <= full && d >= full - full / 4);
	}
	TST_CHECK(dp_retry_worth_it(&r500));
	TST_CHECK(!dp_retry_worth_it(&r400));
	TST_CHECK(!dp_retry_worth_it(&tls));
}

static void test_snippet_hides_the_key(void)
{
	char out[64];

	dp_retry_snippet("bad key " KEY "\nsee docs", strlen("bad key " KEY "\nsee docs"), KEY, out, sizeof(out));
	TST_EQ_STR(out, "bad key [key] see docs");
}

int main(void)
{
	start_server();
	TST_RUN(test_connection_refused);
	TST_RUN(test_status_body_retry_after_and_key);
	TST_RUN(test_stalled_reply);
	TST_RUN(test_cancel_ends_a_request_in_flight);
	TST_RUN(test_tls_to_a_plain_server);
	TST_RUN(test_retries_until_it_works);
	TST_RUN(test_retries_give_up_naming_the_cause);
	TST_RUN(test_backoff_and_retry_after);
	TST_RUN(test_snippet_hides_the_key);
	TST_EXIT();
}
