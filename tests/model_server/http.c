#define DP_LOG_SUBSYS "model-server"

#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>

#include "engine/log.h"

#define MS_MAX_BODY ((size_t)256 << 20)

struct ms_http {
	struct MHD_Daemon *daemon;
	struct ms_server *server;
};

struct upload {
	char *data;
	size_t len, cap;
	bool too_big;
};

/* Sleeps up to seconds, in small steps, until the server stops. */
static void stall(struct ms_server *s, int seconds)
{
	struct timespec step = { 0, 50 * 1000 * 1000 };

	for (int i = 0; i < seconds * 20 && !atomic_load(&s->stopping); i++)
		nanosleep(&step, NULL);
}

struct slow_body {
	struct ms_server *server;
	struct ms_response resp;
	bool stalled;
};

/* Headers go out first; the body waits for the stall. */
static ssize_t read_slow(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct slow_body *b = cls;
	size_t n;

	if (!b->stalled) {
		b->stalled = true;
		stall(b->server, b->resp.stall_s);
	}
	if (pos >= b->resp.len)
		return MHD_CONTENT_READER_END_OF_STREAM;
	n = b->resp.len - (size_t)pos < max ? b->resp.len - (size_t)pos : max;
	memcpy(buf, b->resp.body + pos, n);
	return (ssize_t)n;
}

static void free_slow(void *cls)
{
	struct slow_body *b = cls;

	free(b->resp.body);
	free(b);
}

static enum MHD_Result send_response(struct ms_http *h, struct MHD_Connection *c, struct ms_response *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (r->stall_s > 0 && !r->stall_headers)
		stall(h->server, r->stall_s);
	if (r->stall_s > 0 && r->stall_headers) {
		struct slow_body *b = calloc(1, sizeof(*b));

		if (!b) {
			free(r->body);
			return MHD_NO;
		}
		b->server = h->server;
		b->resp = *r;
		resp = MHD_create_response_from_callback(r->len, 4096, read_slow, b, free_slow);
		if (!resp) {
			free_slow(b);
			return MHD_NO;
		}
	} else {
		resp = MHD_create_response_from_buffer(r->len, r->body, MHD_RESPMEM_MUST_FREE);
		if (!resp) {
			free(r->body);
			return MHD_NO;
		}
	}
	MHD_add_response_header(resp, "Content-Type", "application/json");
	if (r->retry_after_s > 0) {
		char value[16];

		snprintf(value, sizeof(value), "%d", r->retry_after_s);
		MHD_add_response_header(resp, "Retry-After", value);
	}
	ret = MHD_queue_response(c, (unsigned int)r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				  const char *version, const char *data, size_t *size, void **con_cls)
{
	struct ms_http *h = cls;
	struct upload *up = *con_cls;
	struct ms_response r = { 0 };
	bool post = !strcmp(method, "POST");

	(void)version;
	if (!up) {
		if (!(up = calloc(1, sizeof(*up))))
			return MHD_NO;
		*con_cls = up;
		return MHD_YES;
	}
	if (*size) {
		if (up->len + *size > MS_MAX_BODY) {
			up->too_big = true;
		} else if (!up->too_big) {
			if (up->len + *size + 1 > up->cap) {
				size_t cap = (up->len + *size + 1) * 2;
				char *grown = realloc(up->data, cap);

				if (!grown)
					return MHD_NO;
				up->data = grown;
				up->cap = cap;
			}
			memcpy(up->data + up->len, data, *size);
			up->len += *size;
		}
		*size = 0;
		return MHD_YES;
	}
	if (up->too_big) {
		ms_error_response(&r, 413, "invalid_request_error", "the request body is over 256 MiB");
	} else if (post && (!strcmp(url, "/v1/chat/completions") || !strcmp(url, "/chat/completions"))) {
		ms_chat_handle(h->server, up->data ? up->data : "", up->len,
			       MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization"), &r);
	} else if (post && !strcmp(url, "/control")) {
		ms_control_handle(h->server, up->data ? up->data : "", up->len, &r);
	} else if (!strcmp(method, "GET") && !strcmp(url, "/stats")) {
		ms_stats_handle(h->server, &r);
	} else {
		ms_error_response(&r, 404, "not_found",
				  "no such endpoint: POST /v1/chat/completions, POST /control and GET /stats "
				  "are served");
	}
	dp_log_debug("%s %s: %d", method, url, r.status);
	return send_response(h, c, &r);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode code)
{
	struct upload *up = *con_cls;

	(void)cls;
	(void)c;
	(void)code;
	if (up) {
		free(up->data);
		free(up);
		*con_cls = NULL;
	}
}

int ms_http_start(struct ms_http **out, struct ms_server *s, uint16_t port, uint16_t *bound, struct dp_error *err)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct ms_http *h = calloc(1, sizeof(*h));
	const union MHD_DaemonInfo *info;

	if (!h)
		return dp_error_set(err, -ENOMEM, "out of memory");
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	h->server = s;
	h->daemon = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
					     MHD_USE_ERROR_LOG,
				     port, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
				     MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_CONNECTION_TIMEOUT,
				     (unsigned int)600, MHD_OPTION_END);
	if (!h->daemon) {
		free(h);
		return dp_error_set(err, -EADDRINUSE, "cannot listen on 127.0.0.1:%u (in use? try --port 0)", port);
	}
	info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
	*bound = info ? info->port : port;
	*out = h;
	return 0;
}

void ms_http_stop(struct ms_http *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->daemon);
	free(h);
}
