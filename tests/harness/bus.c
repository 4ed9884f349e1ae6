#include "bus.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#include "xvfb.h"

static int read_line(int fd, char *buf, size_t size, int timeout_ms)
{
	size_t len = 0;

	while (len + 1 < size) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, timeout_ms) <= 0)
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

int dp_test_bus_start(struct dp_test_bus *b, const char *config_file)
{
	char fdarg[32], config[4200];
	int pipefd[2], r;

	memset(b, 0, sizeof(*b));
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	snprintf(fdarg, sizeof(fdarg), "--print-address=%d", pipefd[1]);
	if (config_file)
		snprintf(config, sizeof(config), "--config-file=%s", config_file);
	else
		snprintf(config, sizeof(config), "--session");
	b->pid = fork();
	if (b->pid < 0)
		return -errno;
	if (b->pid == 0) {
		int devnull = open("/dev/null", O_RDWR);

		fcntl(pipefd[1], F_SETFD, 0);
		if (devnull >= 0) {
			dup2(devnull, STDIN_FILENO);
			/* It warns that it cannot raise its fd limit when not root. */
			if (!getenv("DP_TEST_BUS_LOG")) {
				dup2(devnull, STDOUT_FILENO);
				dup2(devnull, STDERR_FILENO);
			}
		}
		execlp("dbus-daemon", "dbus-daemon", config, "--nofork", "--nopidfile", fdarg, (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	r = read_line(pipefd[0], b->address, sizeof(b->address), 10000);
	close(pipefd[0]);
	if (r < 0 || !*b->address) {
		fprintf(stderr, "harness: dbus-daemon did not start (apt-get install dbus)\n");
		dp_test_bus_stop(b);
		return r < 0 ? r : -EIO;
	}
	return 0;
}

void dp_test_bus_stop(struct dp_test_bus *b)
{
	dp_reap(b->pid);
	b->pid = 0;
}

bool dp_test_bus_has_owner(const struct dp_test_bus *b, const char *name)
{
	sd_bus *bus = NULL;
	sd_bus_message *reply = NULL;
	int has = 0;

	if (sd_bus_new(&bus) >= 0 && sd_bus_set_address(bus, b->address) >= 0 && sd_bus_set_bus_client(bus, 1) >= 0 &&
	    sd_bus_start(bus) >= 0 &&
	    sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
			       "NameHasOwner", NULL, &reply, "s", name) >= 0)
		sd_bus_message_read(reply, "b", &has);
	sd_bus_message_unref(reply);
	sd_bus_flush_close_unref(bus);
	return has;
}

int dp_test_daemon_home(struct dp_test_daemon *d)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char path[400];

	snprintf(d->home, sizeof(d->home), "%s/dp-daemon-XXXXXX", tmp);
	if (!mkdtemp(d->home))
		return -errno;
	snprintf(d->state_home, sizeof(d->state_home), "%s/state", d->home);
	snprintf(d->config_home, sizeof(d->config_home), "%s/config", d->home);
	snprintf(d->log, sizeof(d->log), "%s/deskpilotd.log", d->home);
	mkdir(d->state_home, 0700);
	mkdir(d->config_home, 0700);
	snprintf(path, sizeof(path), "%s/deskpilot", d->config_home);
	mkdir(path, 0700);
	return 0;
}

int dp_test_daemon_start(struct dp_test_daemon *d, const struct dp_test_bus *b, const char *display,
			 const char *const *extra)
{
	const char *exe = getenv("DP_DESKPILOTD");
	const char *argv[32] = { exe };
	struct timespec pause = { 0, 20 * 1000 * 1000 };
	int n = 1, status;

	if (!exe) {
		fprintf(stderr, "harness: DP_DESKPILOTD is not set\n");
		return -ENOENT;
	}
	if (!*d->home && dp_test_daemon_home(d) < 0)
		return -errno;
	for (int i = 0; extra && extra[i] && n < 31; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	d->pid = fork();
	if (d->pid < 0)
		return -errno;
	if (d->pid == 0) {
		int log = open(d->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

		if (log >= 0) {
			dup2(log, STDOUT_FILENO);
			dup2(log, STDERR_FILENO);
		}
		setenv("DBUS_SESSION_BUS_ADDRESS", b->address, 1);
		setenv("XDG_STATE_HOME", d->state_home, 1);
		setenv("XDG_CONFIG_HOME", d->config_home, 1);
		unsetenv("CREDENTIALS_DIRECTORY");
		if (display)
			setenv("DISPLAY", display, 1);
		else
			unsetenv("DISPLAY");
		if (!getenv("DESKPILOT_LOG"))
			setenv("DESKPILOT_LOG", "info", 1);
		execv(exe, (char *const *)argv);
		_exit(127);
	}
	/* Ready when it owns its name: up to 20 s (a sanitizer build is slow). */
	for (int i = 0; i < 1000; i++) {
		if (dp_test_bus_has_owner(b, "org.deskpilot.Agent1"))
			return 0;
		if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
			fprintf(stderr, "harness: deskpilotd exited before it owned org.deskpilot.Agent1 (status %d)\n",
				status);
			d->pid = 0;
			dp_test_daemon_print_log(d);
			return -ECHILD;
		}
		nanosleep(&pause, NULL);
	}
	fprintf(stderr, "harness: deskpilotd did not own org.deskpilot.Agent1 within 20 s\n");
	dp_test_daemon_print_log(d);
	dp_test_daemon_stop(d, true);
	return -ETIMEDOUT;
}

void dp_test_daemon_stop(struct dp_test_daemon *d, bool kill_it)
{
	if (d->pid > 0 && kill_it) {
		kill(d->pid, SIGKILL);
		waitpid(d->pid, NULL, 0);
	} else {
		dp_reap(d->pid);
	}
	d->pid = 0;
}

void dp_test_daemon_print_log(const struct dp_test_daemon *d)
{
	char *text = dp_read_file(d->log);

	fprintf(stderr, "---- deskpilotd log (%s) ----\n%s---- end of log ----\n", d->log, text ? text : "(none)\n");
	free(text);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) < 0 ? 0 : 0;
}

void dp_test_daemon_remove_home(struct dp_test_daemon *d)
{
	if (*d->home)
		nftw(d->home, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	d->home[0] = '\0';
}

static struct dp_test_signal *add_signal(struct dp_test_watch *w, const char *member, const char *path)
{
	struct dp_test_signal *s;

	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		struct dp_test_signal *grown = realloc(w->sig, cap * sizeof(*grown));

		if (!grown)
			return NULL;
		w->sig = grown;
		w->cap = cap;
	}
	s = &w->sig[w->n++];
	memset(s, 0, sizeof(*s));
	snprintf(s->member, sizeof(s->member), "%s", member);
	snprintf(s->path, sizeof(s->path), "%s", path ? path : "");
	return s;
}

/* The value of one key of an a{sv} whose variant is a string, or "". */
static void read_string_entry(sd_bus_message *m, const char *want, char *out, size_t size)
{
	const char *key, *contents, *value;
	char type;

	*out = '\0';
	if (sd_bus_message_enter_container(m, 'a', "{sv}") <= 0)
		return;
	while (sd_bus_message_enter_container(m, 'e', "sv") > 0) {
		if (sd_bus_message_read(m, "s", &key) < 0 || sd_bus_message_peek_type(m, &type, &contents) < 0)
			return;
		if (strcmp(key, want) == 0 && strcmp(contents, "s") == 0 && sd_bus_message_read(m, "v", "s", &value) >= 0)
			snprintf(out, size, "%s", value);
		else if (sd_bus_message_skip(m, "v") < 0)
			return;
		if (sd_bus_message_exit_container(m) < 0)
			return;
	}
	sd_bus_message_exit_container(m);
}

static int on_signal(sd_bus_message *m, void *data, sd_bus_error *error)
{
	struct dp_test_watch *w = data;
	const char *path = sd_bus_message_get_path(m), *member = sd_bus_message_get_member(m), *s1, *s2;
	struct dp_test_signal *s;
	uint32_t step;
	char state[64];

	(void)error;
	if (!path || !member)
		return 0;
	if (strcmp(member, "TaskAdded") == 0 && sd_bus_message_read(m, "o", &s1) >= 0) {
		add_signal(w, member, s1);
	} else if (strcmp(member, "TaskFinished") == 0 && sd_bus_message_read(m, "os", &s1, &s2) >= 0) {
		if ((s = add_signal(w, member, s1)))
			snprintf(s->arg, sizeof(s->arg), "%s", s2);
	} else if (strcmp(member, "PropertiesChanged") == 0 && sd_bus_message_read(m, "s", &s1) >= 0 &&
		   strcmp(s1, "org.deskpilot.Agent1.Task") == 0) {
		read_string_entry(m, "State", state, sizeof(state));
		if (*state && (s = add_signal(w, "State", path)))
			snprintf(s->arg, sizeof(s->arg), "%s", state);
	} else if (strcmp(member, "StepCompleted") == 0 && sd_bus_message_read(m, "us", &step, &s1) >= 0) {
		if ((s = add_signal(w, member, path))) {
			s->step = step;
			snprintf(s->arg, sizeof(s->arg), "%s", s1);
			read_string_entry(m, "verdict", s->verdict, sizeof(s->verdict));
		}
	} else if ((strcmp(member, "NeedsInput") == 0 || strcmp(member, "Finished") == 0) &&
		   sd_bus_message_read(m, "s", &s1) >= 0) {
		if ((s = add_signal(w, member, path)))
			snprintf(s->arg, sizeof(s->arg), "%s", s1);
	}
	return 0;
}

int dp_test_watch_start(struct dp_test_watch *w, const struct dp_test_bus *b)
{
	sd_bus *bus = NULL;
	sd_bus_slot *slot = NULL;
	int r;

	memset(w, 0, sizeof(*w));
	r = sd_bus_new(&bus);
	if (r >= 0)
		r = sd_bus_set_address(bus, b->address);
	if (r >= 0)
		r = sd_bus_set_bus_client(bus, 1);
	if (r >= 0)
		r = sd_bus_start(bus);
	if (r >= 0)
		r = sd_bus_add_match(bus, &slot, "type='signal',path_namespace='/org/deskpilot/Agent1'", on_signal, w);
	if (r < 0) {
		sd_bus_flush_close_unref(bus);
		return r;
	}
	w->bus = bus;
	w->slot = slot;
	return 0;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int dp_test_watch_wait(struct dp_test_watch *w, const char *member, const char *path, size_t from, int timeout_ms)
{
	int64_t end = mono_ms() + timeout_ms;

	for (;;) {
		int r;

		for (size_t i = from; i < w->n; i++)
			if (strcmp(w->sig[i].member, member) == 0 && (!path || strcmp(w->sig[i].path, path) == 0))
				return (int)i;
		r = sd_bus_process(w->bus, NULL);
		if (r < 0)
			return r;
		if (r > 0)
			continue;
		if (mono_ms() >= end)
			return -ETIMEDOUT;
		sd_bus_wait(w->bus, (uint64_t)(end - mono_ms()) * 1000);
	}
}

void dp_test_watch_drain(struct dp_test_watch *w, int ms)
{
	int64_t end = mono_ms() + ms;

	while (mono_ms() < end) {
		int r = sd_bus_process(w->bus, NULL);

		if (r < 0)
			return;
		if (r == 0)
			sd_bus_wait(w->bus, (uint64_t)(end - mono_ms()) * 1000);
	}
}

void dp_test_watch_stop(struct dp_test_watch *w)
{
	sd_bus_slot_unref(w->slot);
	sd_bus_flush_close_unref(w->bus);
	free(w->sig);
	memset(w, 0, sizeof(*w));
}
