#include "xvfb.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "apps/probe_pattern.h"
#include "capture/frame.h"
#include "engine/clock.h"

static int read_line_with_timeout(int fd, char *buf, size_t size, int timeout_ms)
{
	size_t len = 0;
	int64_t end = dp_now_ns() + (int64_t)timeout_ms * DP_NSEC_PER_MSEC;

	while (len + 1 < size) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int64_t left = (end - dp_now_ns()) / DP_NSEC_PER_MSEC;
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			return -ETIMEDOUT;
		n = read(fd, buf + len, 1);
		if (n <= 0)
			return -EPIPE;
		if (buf[len] == '\n')
			break;
		len++;
	}
	buf[len] = '\0';
	return 0;
}

int dp_xvfb_start(struct dp_xvfb *x, int width, int height, const char *const *extra)
{
	char screen[32], fdarg[16], line[32];
	const char *argv[32];
	int pipefd[2], n = 0, r;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	snprintf(screen, sizeof(screen), "%dx%dx24", width, height);
	snprintf(fdarg, sizeof(fdarg), "%d", pipefd[1]);
	argv[n++] = "Xvfb";
	argv[n++] = "-displayfd";
	argv[n++] = fdarg;
	argv[n++] = "-screen";
	argv[n++] = "0";
	argv[n++] = screen;
	argv[n++] = "-nolisten";
	argv[n++] = "tcp";
	argv[n++] = "-noreset";
	for (int i = 0; extra && extra[i] && n < 31; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;

	x->pid = fork();
	if (x->pid < 0)
		return -errno;
	if (x->pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);

		fcntl(pipefd[1], F_SETFD, 0); /* Xvfb writes its number here */
		if (devnull >= 0 && !getenv("DP_TEST_XVFB_LOG")) {
			dup2(devnull, STDOUT_FILENO);
			dup2(devnull, STDERR_FILENO);
		}
		execvp("Xvfb", (char *const *)argv);
		_exit(127);
	}
	close(pipefd[1]);
	r = read_line_with_timeout(pipefd[0], line, sizeof(line), 20000);
	close(pipefd[0]);
	if (r < 0) {
		dp_xvfb_stop(x);
		return r;
	}
	x->number = atoi(line);
	snprintf(x->display, sizeof(x->display), ":%d", x->number);
	return 0;
}

void dp_reap(pid_t pid)
{
	struct timespec pause = { 0, 10 * 1000 * 1000 };

	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	/* Give it a moment to exit cleanly, then insist. */
	for (int i = 0; i < 300; i++) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return;
		nanosleep(&pause, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

void dp_xvfb_stop(struct dp_xvfb *x)
{
	dp_reap(x->pid);
	x->pid = 0;
}

pid_t dp_spawn_on(const struct dp_xvfb *x, const char *const *argv)
{
	pid_t pid = fork();

	if (pid == 0) {
		if (x)
			setenv("DISPLAY", x->display, 1);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

static void *read_output(void *data)
{
	struct dp_probe *p = data;
	char chunk[65536];
	ssize_t n;

	while ((n = read(p->out_fd, chunk, sizeof(chunk))) > 0) {
		pthread_mutex_lock(&p->lock);
		if (p->len + (size_t)n > p->cap) {
			size_t cap = (p->len + (size_t)n) * 2;
			char *grown = realloc(p->buf, cap);

			if (!grown) {
				pthread_mutex_unlock(&p->lock);
				break;
			}
			p->buf = grown;
			p->cap = cap;
		}
		memcpy(p->buf + p->len, chunk, (size_t)n);
		p->len += (size_t)n;
		pthread_cond_broadcast(&p->more);
		pthread_mutex_unlock(&p->lock);
	}
	pthread_mutex_lock(&p->lock);
	p->eof = true;
	pthread_cond_broadcast(&p->more);
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

static int start_reader(struct dp_probe *p)
{
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&p->more, &attr);
	pthread_condattr_destroy(&attr);
	pthread_mutex_init(&p->lock, NULL);
	if (pthread_create(&p->reader, NULL, read_output, p) != 0)
		return -EAGAIN;
	p->reading = true;
	return 0;
}

int dp_app_start(struct dp_probe *p, const struct dp_xvfb *x, const char *const *argv)
{
	char line[512];
	int in[2], out[2], r;

	memset(p, 0, sizeof(*p));
	if (!argv[0])
		return -ENOENT;
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
		return -errno;
	p->pid = fork();
	if (p->pid < 0)
		return -errno;
	if (p->pid == 0) {
		dup2(in[0], STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		if (x)
			setenv("DISPLAY", x->display, 1);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	p->in = fdopen(in[1], "w");
	p->out_fd = out[0];
	r = start_reader(p);
	if (r == 0)
		r = dp_probe_wait(p, "ready", 20000, line, sizeof(line));
	if (r < 0) {
		dp_probe_stop(p);
		return r;
	}
	snprintf(p->ready, sizeof(p->ready), "%s", line);
	p->window = (long)dp_json_int(line, "window");
	p->x = (long)dp_json_int(line, "x");
	p->y = (long)dp_json_int(line, "y");
	p->width = (long)dp_json_int(line, "width");
	p->height = (long)dp_json_int(line, "height");
	return 0;
}

int dp_probe_start(struct dp_probe *p, const struct dp_xvfb *x, int wx, int wy, int w, int h)
{
	char sx[16], sy[16], sw[16], sh[16];
	const char *argv[] = { getenv("DP_PROBE"), "--x", sx, "--y", sy, "--width", sw, "--height", sh,
			       "--override-redirect", NULL };

	snprintf(sx, sizeof(sx), "%d", wx);
	snprintf(sy, sizeof(sy), "%d", wy);
	snprintf(sw, sizeof(sw), "%d", w);
	snprintf(sh, sizeof(sh), "%d", h);
	return dp_app_start(p, x, argv);
}

int dp_app_collect(struct dp_probe *p, char (*lines)[512], size_t max, size_t *n)
{
	char line[512];
	int64_t end = dp_now_ns() + 10 * DP_NSEC_PER_SEC;

	*n = 0;
	dp_probe_send(p, "sync");
	while (dp_now_ns() < end) {
		int r = dp_probe_wait(p, "", 10000, line, sizeof(line));

		if (r < 0)
			return r;
		if (strstr(line, "\"event\":\"synced\""))
			return 0;
		if (*n < max)
			snprintf(lines[(*n)++], 512, "%s", line);
	}
	return -ETIMEDOUT;
}

int dp_app_text(struct dp_probe *p, char *text, size_t size)
{
	char *line = malloc(1 << 20);
	cJSON *obj;
	int r;

	if (!line)
		return -ENOMEM;
	dp_probe_send(p, "text");
	r = dp_probe_wait(p, "text", 10000, line, 1 << 20);
	obj = r == 0 ? cJSON_Parse(line) : NULL;
	if (obj && cJSON_IsString(cJSON_GetObjectItem(obj, "text")))
		snprintf(text, size, "%s", cJSON_GetObjectItem(obj, "text")->valuestring);
	else if (r == 0)
		r = -EPROTO;
	cJSON_Delete(obj);
	free(line);
	return r;
}

int dp_probe_send(struct dp_probe *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(p->in, fmt, ap);
	va_end(ap);
	fputc('\n', p->in);
	return fflush(p->in) == 0 ? 0 : -EPIPE;
}

/* Takes one complete line out of the buffer, if there is one. */
static bool take_line(struct dp_probe *p, char *line, size_t size)
{
	char *nl = p->buf ? memchr(p->buf, '\n', p->len) : NULL;
	size_t n;

	if (!nl)
		return false;
	n = (size_t)(nl - p->buf);
	snprintf(line, size, "%.*s", (int)n, p->buf);
	memmove(p->buf, nl + 1, p->len - n - 1);
	p->len -= n + 1;
	return true;
}

int dp_probe_wait(struct dp_probe *p, const char *event, int timeout_ms, char *line, size_t size)
{
	char want[64];
	struct timespec end;
	int r = 0;

	/* An empty event name takes the next line, whatever it is. */
	snprintf(want, sizeof(want), *event ? "\"event\":\"%s\"" : "\"event\":\"%s", event);
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += timeout_ms / 1000;
	end.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (end.tv_nsec >= 1000000000L) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&p->lock);
	for (;;) {
		bool found = false;

		while (!found && take_line(p, line, size))
			found = strstr(line, want) != NULL;
		if (found)
			break;
		if (p->eof) {
			r = -EPIPE;
			break;
		}
		if (pthread_cond_timedwait(&p->more, &p->lock, &end) == ETIMEDOUT) {
			r = -ETIMEDOUT;
			break;
		}
	}
	pthread_mutex_unlock(&p->lock);
	return r;
}

void dp_probe_stop(struct dp_probe *p)
{
	if (p->in) {
		fputs("quit\n", p->in);
		fclose(p->in);
		p->in = NULL;
	}
	dp_reap(p->pid);
	if (p->reading)
		pthread_join(p->reader, NULL);
	if (p->out_fd > 0)
		close(p->out_fd);
	free(p->buf);
	p->buf = NULL;
	p->len = p->cap = 0;
	p->reading = false;
	p->pid = 0;
	p->out_fd = 0;
}

long long dp_json_int(const char *line, const char *key)
{
	char want[64];
	const char *at;

	snprintf(want, sizeof(want), "\"%s\":", key);
	at = strstr(line, want);
	return at ? strtoll(at + strlen(want), NULL, 10) : -1;
}

long dp_probe_mismatches(const struct dp_probe *p, const struct dp_frame *f, uint32_t stamp_counter)
{
	long bad = 0;

	for (int y = 0; y < f->height; y++) {
		for (int x = 0; x < f->width; x++) {
			int wx = f->x + x - (int)p->x, wy = f->y + y - (int)p->y;
			uint32_t want = wx < DP_PROBE_STAMP_SIZE && wy < DP_PROBE_STAMP_SIZE
						? dp_probe_stamp_color(stamp_counter)
						: dp_probe_pattern(wx, wy);

			bad += dp_frame_pixel(f, x, y) != want;
		}
	}
	return bad;
}

char *dp_read_file(const char *path)
{
	struct stat st;
	char *buf = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd >= 0 && fstat(fd, &st) == 0 && (buf = calloc(1, (size_t)st.st_size + 1)) &&
	    read(fd, buf, (size_t)st.st_size) != st.st_size) {
		free(buf);
		buf = NULL;
	}
	if (fd >= 0)
		close(fd);
	return buf;
}

int dp_probe_start_focused(struct dp_probe *p, struct dp_xvfb *x, int width, int height)
{
	char line[256];

	if (dp_xvfb_start(x, width, height, NULL) < 0) {
		fprintf(stderr, "cannot start Xvfb (apt-get install xvfb)\n");
		return -1;
	}
	if (dp_probe_start(p, x, 0, 0, width, height) < 0) {
		fprintf(stderr, "cannot start the probe ($DP_PROBE)\n");
		dp_xvfb_stop(x);
		return -1;
	}
	dp_probe_send(p, "focus");
	return dp_probe_wait(p, "focused", 5000, line, sizeof(line)) < 0 ? -1 : 0;
}

static void read_all(int fd, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t got;

	while (len + 1 < size && (got = read(fd, buf + len, size - len - 1)) > 0)
		len += (size_t)got;
	buf[len] = '\0';
	/* Drain what did not fit, so the child never blocks on a full pipe. */
	while (read(fd, (char[4096]){ 0 }, 4096) > 0)
		;
}

int dp_run(const char *const *argv, const char *stdin_text, char *out, size_t out_size, char *err, size_t err_size)
{
	int in[2], o[2], e[2], status = 0;
	pid_t pid;

	if (pipe(in) < 0 || pipe(o) < 0 || pipe(e) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(o[1], 1);
		dup2(e[1], 2);
		close(in[1]);
		close(o[0]);
		close(e[0]);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(in[0]);
	close(o[1]);
	close(e[1]);
	if (stdin_text && write(in[1], stdin_text, strlen(stdin_text)) < 0)
		perror("write");
	close(in[1]);
	/* stderr is read after stdout: keep what a test runs quiet on stderr. */
	read_all(o[0], out, out_size);
	read_all(e[0], err, err_size);
	close(o[0]);
	close(e[0]);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
