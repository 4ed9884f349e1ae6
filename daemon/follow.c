/* Watching a task of deskpilotd to its end. */
#include "daemon/follow.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "daemon/bus_client.h"
#include "daemon/exit_codes.h"

struct dp_follow {
	const char *cmd;
	sd_bus *bus;
	sd_bus_slot *tasks_slot, *owner_slot;
	char path[256];
	char daemon[256];  /* deskpilotd's unique name: signals from others are ignored */
	enum dp_follow_mode mode;
	bool tty, bar_shown;
	struct dp_task_props t;
	char action[256], verdict[64], message[512];
	bool finished, daemon_gone;
	uint32_t finished_steps;
};

/* Ctrl-C stops the watching, not the task. */
static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
	(void)sig;
	interrupted = 1;
}

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static double elapsed_s(const struct dp_follow *f)
{
	uint64_t end = f->t.finished ? f->t.finished : now_usec();

	return f->t.started && end > f->t.started ? (double)(end - f->t.started) / 1e6 : 0.0;
}

static void clear_bar(struct dp_follow *f)
{
	if (f->bar_shown) {
		fputs("\r\033[K", stdout);
		f->bar_shown = false;
	}
}

/* The one line redrawn in place on a terminal. */
static void draw_bar(struct dp_follow *f)
{
	struct winsize ws;
	char line[512], bar[24];
	int width = 80, secs = (int)elapsed_s(f), filled = 0;
	uint32_t max = f->t.max_steps ? f->t.max_steps : 200;

	if (f->mode != DP_FOLLOW_LIVE || !f->tty)
		return;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20)
		width = ws.ws_col;
	filled = (int)((uint64_t)f->t.step * 20 / max);
	if (filled > 20)
		filled = 20;
	memset(bar, '#', (size_t)filled);
	memset(bar + filled, '.', (size_t)(20 - filled));
	bar[20] = '\0';
	snprintf(line, sizeof(line), "[%s] %u/%u %d:%02d %s%s%s%s%s", bar, f->t.step, max, secs / 60, secs % 60,
		 strcmp(f->t.state, "running") == 0 ? "" : f->t.state, strcmp(f->t.state, "running") == 0 ? "" : " ",
		 f->action, *f->verdict ? ": " : "", f->verdict);
	/* Bytes, not columns: a UTF-8 action may end the line early; never late. */
	if ((int)strlen(line) > width - 1)
		line[width - 1] = '\0';
	printf("\r%s\033[K", line);
	fflush(stdout);
	f->bar_shown = true;
}

/* Prints a line of its own above the progress line. */
static void say(struct dp_follow *f, FILE *out, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(struct dp_follow *f, FILE *out, const char *fmt, ...)
{
	va_list ap;

	clear_bar(f);
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fflush(out);
	draw_bar(f);
}

static void on_properties(struct dp_follow *f, sd_bus_message *m)
{
	char before[sizeof(f->t.state)];
	const char *iface;
	cJSON *props = NULL;

	if (sd_bus_message_read(m, "s", &iface) < 0 || strcmp(iface, DP_BUS_TASK) != 0 ||
	    dp_busc_read_json(m, &props) < 0)
		return;
	memcpy(before, f->t.state, sizeof(before));
	dp_task_props_update(&f->t, props);
	cJSON_Delete(props);
	if (strcmp(before, f->t.state) != 0 && f->mode == DP_FOLLOW_LIVE && !dp_task_state_is_final(f->t.state)) {
		if (f->tty)
			draw_bar(f);
		else
			say(f, stdout, "state: %s\n", f->t.state);
	}
}

static void on_step(struct dp_follow *f, sd_bus_message *m)
{
	const cJSON *v;
	cJSON *details = NULL;
	const char *action;
	uint32_t step;

	if (sd_bus_message_read(m, "us", &step, &action) < 0 || dp_busc_read_json(m, &details) < 0)
		return;
	f->t.step = step;
	snprintf(f->action, sizeof(f->action), "%s", action);
	v = cJSON_GetObjectItemCaseSensitive(details, "verdict");
	snprintf(f->verdict, sizeof(f->verdict), "%s", cJSON_IsString(v) ? v->valuestring : "");
	v = cJSON_GetObjectItemCaseSensitive(details, "message");
	snprintf(f->message, sizeof(f->message), "%s", cJSON_IsString(v) ? v->valuestring : "");
	cJSON_Delete(details);
	if (f->mode != DP_FOLLOW_LIVE)
		return;
	if (f->tty)
		draw_bar(f);
	else
		say(f, stdout, "step %u/%u (%.1fs) %s: %s%s%s\n", step, f->t.max_steps, elapsed_s(f), f->action,
		    *f->verdict ? f->verdict : "done", *f->message ? " — " : "", f->message);
}

static void on_question(struct dp_follow *f, sd_bus_message *m)
{
	const char *question;

	if (sd_bus_message_read(m, "s", &question) < 0)
		return;
	say(f, f->mode == DP_FOLLOW_LIVE ? stdout : stderr,
	    "question: %s\n  answer with: deskpilot answer %s 'TEXT'   (or cancel: deskpilot cancel %s)\n", question,
	    dp_busc_task_id(f->path), dp_busc_task_id(f->path));
}

static void on_finished(struct dp_follow *f, sd_bus_message *m)
{
	const char *state;
	cJSON *details = NULL;
	const cJSON *steps;

	if (sd_bus_message_read(m, "s", &state) < 0)
		return;
	snprintf(f->t.state, sizeof(f->t.state), "%s", state);
	if (dp_busc_read_json(m, &details) == 0) {
		cJSON *renamed = cJSON_CreateObject(), *result = cJSON_GetObjectItem(details, "result"),
		      *error = cJSON_GetObjectItem(details, "error");

		/* The details carry the outcome under the property names' meaning. */
		if (result)
			cJSON_AddItemToObject(renamed, "Result", cJSON_Duplicate(result, 1));
		if (error)
			cJSON_AddItemToObject(renamed, "Error", cJSON_Duplicate(error, 1));
		dp_task_props_update(&f->t, renamed);
		cJSON_Delete(renamed);
		steps = cJSON_GetObjectItemCaseSensitive(details, "steps");
		if (cJSON_IsNumber(steps))
			f->t.step = (uint32_t)steps->valuedouble;
	}
	cJSON_Delete(details);
	f->finished = true;
}

static int on_task_signal(sd_bus_message *m, void *data, sd_bus_error *error)
{
	struct dp_follow *f = data;
	const char *path = sd_bus_message_get_path(m), *sender = sd_bus_message_get_sender(m);

	(void)error;
	if (!*f->path || !path || strcmp(path, f->path) != 0 || f->finished)
		return 0;
	if (*f->daemon && (!sender || strcmp(sender, f->daemon) != 0))
		return 0;
	if (sd_bus_message_is_signal(m, "org.freedesktop.DBus.Properties", "PropertiesChanged"))
		on_properties(f, m);
	else if (sd_bus_message_is_signal(m, DP_BUS_TASK, "StepCompleted"))
		on_step(f, m);
	else if (sd_bus_message_is_signal(m, DP_BUS_TASK, "NeedsInput"))
		on_question(f, m);
	else if (sd_bus_message_is_signal(m, DP_BUS_TASK, "Finished"))
		on_finished(f, m);
	return 0;
}

static int on_owner_changed(sd_bus_message *m, void *data, sd_bus_error *error)
{
	struct dp_follow *f = data;
	const char *name, *old_owner, *new_owner;

	(void)error;
	if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) >= 0 && strcmp(name, DP_BUS_NAME) == 0 &&
	    *f->daemon && strcmp(old_owner, f->daemon) == 0)
		f->daemon_gone = true;
	return 0;
}

int dp_follow_watch(const char *cmd, sd_bus *bus, struct dp_follow **out)
{
	struct dp_follow *f = calloc(1, sizeof(*f));
	int r;

	if (!f)
		return DP_EXIT_FAILURE;
	f->cmd = cmd;
	f->bus = sd_bus_ref(bus);
	r = sd_bus_add_match(bus, &f->tasks_slot,
			     "type='signal',path_namespace='" DP_BUS_PATH "/task'", on_task_signal, f);
	if (r >= 0)
		r = sd_bus_add_match(bus, &f->owner_slot,
				     "type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',"
				     "member='NameOwnerChanged',arg0='" DP_BUS_NAME "'", on_owner_changed, f);
	if (r < 0) {
		fprintf(stderr, "deskpilot %s: cannot watch the task's signals: %s\n", cmd, strerror(-r));
		dp_follow_free(f);
		return DP_EXIT_NO_DAEMON;
	}
	*out = f;
	return DP_EXIT_OK;
}

void dp_follow_free(struct dp_follow *f)
{
	if (!f)
		return;
	sd_bus_slot_unref(f->tasks_slot);
	sd_bus_slot_unref(f->owner_slot);
	sd_bus_unref(f->bus);
	dp_task_props_clear(&f->t);
	free(f);
}

static void find_daemon(struct dp_follow *f)
{
	sd_bus_message *reply = NULL;
	const char *owner;

	if (sd_bus_call_method(f->bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
			       "GetNameOwner", NULL, &reply, "s", DP_BUS_NAME) >= 0 &&
	    sd_bus_message_read(reply, "s", &owner) >= 0)
		snprintf(f->daemon, sizeof(f->daemon), "%s", owner);
	sd_bus_message_unref(reply);
}

static int print_outcome(struct dp_follow *f, bool json)
{
	cJSON *props = NULL;
	int code;

	clear_bar(f);
	/* The properties have the trajectory and the final step count. */
	if (dp_busc_get_task(f->cmd, f->bus, f->path, &f->t, json ? &props : NULL) != DP_EXIT_OK)
		fprintf(stderr, "deskpilot %s: the outcome below is from the task's last signal\n", f->cmd);
	code = dp_task_exit_code(&f->t);
	if (json) {
		char *text = props ? cJSON_Print(props) : NULL;

		if (text)
			printf("%s\n", text);
		free(text);
		cJSON_Delete(props);
		return code;
	}
	printf("%s after %u step%s", f->t.state, f->t.step, f->t.step == 1 ? "" : "s");
	if (f->t.error && *f->t.error)
		printf(": %s", f->t.error);
	else if (f->t.result && *f->t.result)
		printf(": %s", f->t.result);
	printf("\n");
	if (f->t.trajectory && *f->t.trajectory) {
		char report[4096];

		/* A dry run, or a task that never started, has none. */
		snprintf(report, sizeof(report), "%s/report.html", f->t.trajectory);
		if (access(report, R_OK) == 0)
			printf("report: %s\n", report);
	}
	fflush(stdout);
	return code;
}

int dp_follow_run(struct dp_follow *f, const char *path, enum dp_follow_mode mode, bool json)
{
	int r;

	snprintf(f->path, sizeof(f->path), "%s", path);
	f->mode = mode;
	f->tty = !json && isatty(STDOUT_FILENO);
	r = dp_busc_get_task(f->cmd, f->bus, path, &f->t, NULL);
	if (r != DP_EXIT_OK)
		return r;
	find_daemon(f);
	/* A task that ran while we asked: its signals came before the answer. */
	if (dp_task_state_is_final(f->t.state)) {
		while (!f->finished && sd_bus_process(f->bus, NULL) > 0)
			;
		return print_outcome(f, json);
	}
	if (mode == DP_FOLLOW_LIVE) {
		if (f->tty)
			draw_bar(f);
		else
			say(f, stdout, "task %s: %s, step %u/%u\n", f->t.id, f->t.state, f->t.step, f->t.max_steps);
	}
	if (mode == DP_FOLLOW_LIVE && f->t.question && *f->t.question)
		say(f, stdout, "question: %s\n  answer with: deskpilot answer %s 'TEXT'\n", f->t.question, f->t.id);
	/* No SA_RESTART: the wait returns at once on Ctrl-C. */
	sigaction(SIGINT, &(struct sigaction){ .sa_handler = on_interrupt }, NULL);
	while (!f->finished && !f->daemon_gone && !interrupted) {
		r = sd_bus_process(f->bus, NULL);
		if (r > 0)
			continue;
		if (r >= 0)
			r = sd_bus_wait(f->bus, f->tty ? 1000000 : UINT64_MAX);
		if (r < 0 && r != -EINTR) {
			clear_bar(f);
			fprintf(stderr, "deskpilot %s: lost the connection to the bus: %s\n", f->cmd, strerror(-r));
			return DP_EXIT_NO_DAEMON;
		}
		draw_bar(f);
	}
	if (interrupted) {
		clear_bar(f);
		fprintf(stderr, "deskpilot %s: stopped watching; task %s goes on "
			"(deskpilot follow %s, deskpilot cancel %s)\n", f->cmd, f->t.id, f->t.id, f->t.id);
		return 130;
	}
	if (f->daemon_gone) {
		clear_bar(f);
		fprintf(stderr, "deskpilot %s: deskpilotd stopped while task %s was %s; when it starts again the task "
			"shows as interrupted (deskpilot show %s)\n", f->cmd, f->t.id, f->t.state, f->t.id);
		return DP_EXIT_NO_DAEMON;
	}
	return print_outcome(f, json);
}
