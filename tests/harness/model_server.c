#include "model_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int dp_model_server_start(struct dp_model_server *s, const char *dir, const char *profile,
			  const char *const *extra)
{
	const char *argv[32] = { getenv("DP_MODEL_SERVER"), "--port", "0", "-v" };
	int out[2], n = 4, len = 0;
	char line[128];

	memset(s, 0, sizeof(*s));
	if (!argv[0]) {
		fprintf(stderr, "DP_MODEL_SERVER is not set: run through meson test\n");
		return -1;
	}
	if (profile) {
		argv[n++] = "--profile";
		argv[n++] = profile;
	}
	for (int i = 0; extra && extra[i] && n < 31; i++)
		argv[n++] = extra[i];
	snprintf(s->log, sizeof(s->log), "%s/server-%s.log", dir, profile ? profile : "any");
	if (pipe(out) < 0)
		return -1;
	s->pid = fork();
	if (s->pid == 0) {
		int log = open(s->log, O_WRONLY | O_CREAT | O_APPEND, 0600);

		dup2(out[1], STDOUT_FILENO);
		if (log >= 0)
			dup2(log, STDERR_FILENO);
		close(out[0]);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(out[1]);
	/* Its first line: {"port": N}. */
	while (len + 1 < (int)sizeof(line)) {
		struct pollfd pfd = { .fd = out[0], .events = POLLIN };

		if (poll(&pfd, 1, 20000) <= 0 || read(out[0], line + len, 1) != 1)
			break;
		if (line[len] == '\n')
			break;
		len++;
	}
	line[len] = '\0';
	close(out[0]);
	if (sscanf(line, "{\"port\": %d}", &s->port) != 1 || s->port <= 0) {
		fprintf(stderr, "the model server did not say its port (got \"%s\"; log: %s)\n", line, s->log);
		dp_model_server_stop(s);
		return -1;
	}
	snprintf(s->endpoint, sizeof(s->endpoint), "http://127.0.0.1:%d/v1", s->port);
	return 0;
}

void dp_model_server_stop(struct dp_model_server *s)
{
	dp_reap(s->pid);
	s->pid = 0;
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One HTTP/1.0 exchange; the body of the answer (malloc'ed) or NULL. */
static char *exchange(const struct dp_model_server *s, const char *method, const char *path, const char *body,
		      const char *key, int *status)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)s->port) };
	size_t len = 0, cap = 65536;
	char head[512], *buf = malloc(cap), *start;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ssize_t n;

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || !buf || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		goto fail;
	snprintf(head, sizeof(head), "%s %s HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
		 "%s%.200s%sContent-Length: %zu\r\n\r\n", method, path, key ? "Authorization: Bearer " : "",
		 key ? key : "", key ? "\r\n" : "", body ? strlen(body) : 0);
	if (write_all(fd, head, strlen(head)) < 0 || (body && write_all(fd, body, strlen(body)) < 0))
		goto fail;
	while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += (size_t)n;
		if (len + 1 == cap) {
			char *grown = realloc(buf, cap *= 2);

			if (!grown)
				goto fail;
			buf = grown;
		}
	}
	buf[len] = '\0';
	close(fd);
	if (sscanf(buf, "HTTP/1.%*d %d", status) != 1 || !(start = strstr(buf, "\r\n\r\n"))) {
		free(buf);
		return NULL;
	}
	memmove(buf, start + 4, strlen(start + 4) + 1);
	return buf;
fail:
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

char *dp_model_server_request(const struct dp_model_server *s, const char *method, const char *path,
			      const char *body, int *status)
{
	return exchange(s, method, path, body, NULL, status);
}

char *dp_model_server_request_key(const struct dp_model_server *s, const char *path, const char *body,
				  const char *key, int *status)
{
	return exchange(s, "POST", path, body, key, status);
}

int dp_model_server_control(const struct dp_model_server *s, const char *json)
{
	int status = 0;
	char *answer = exchange(s, "POST", "/control", json, NULL, &status);

	if (!answer || status != 200)
		fprintf(stderr, "POST /control %s: %d %s\n", json, status, answer ? answer : "(no answer)");
	free(answer);
	return status == 200 ? 0 : -1;
}

cJSON *dp_model_server_stats(const struct dp_model_server *s)
{
	int status = 0;
	char *answer = exchange(s, "GET", "/stats", NULL, NULL, &status);
	cJSON *stats = answer && status == 200 ? cJSON_Parse(answer) : NULL;

	if (!stats)
		fprintf(stderr, "GET /stats failed: %d\n", status);
	free(answer);
	return stats;
}

int dp_model_stats_violations(const cJSON *stats)
{
	const cJSON *v, *list = cJSON_GetObjectItemCaseSensitive(stats, "violations");

	cJSON_ArrayForEach(v, list) {
		const cJSON *reason = cJSON_GetObjectItemCaseSensitive(v, "reason");

		fprintf(stderr, "  violation: %s\n", cJSON_IsString(reason) ? reason->valuestring : "?");
	}
	return list ? cJSON_GetArraySize(list) : -1;
}

double dp_model_stats_num(const cJSON *stats, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(stats, name);

	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

int dp_model_run(const struct dp_xvfb *x, const struct dp_model_server *s, const char *task, const char *profile,
		 const char *run_dir, const char *const *extra, char *out, size_t out_size, char *err,
		 size_t err_size)
{
	const char *argv[40] = { getenv("DP_DESKPILOT"), "--display", x->display, "run", task, "--model", profile,
				 "--endpoint", s ? s->endpoint : "http://127.0.0.1:9/v1", "--run-dir", run_dir };
	int n = 11;

	for (int i = 0; extra && extra[i] && n < 39; i++)
		argv[n++] = extra[i];
	return dp_run(argv, NULL, out, out_size, err, err_size);
}
