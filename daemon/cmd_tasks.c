/* deskpilot list, show, follow, cancel, pause, resume, answer, report: the
 * tasks of deskpilotd, over D-Bus.  Each is one or two calls that busctl
 * can make as well (docs/cli.md shows them). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/bus_client.h"
#include "daemon/commands.h"
#include "daemon/exit_codes.h"
#include "daemon/follow.h"

struct task_args {
	const char *bus_address;
	const char *positional[2];
	int n_positional;
	bool json, open;
};

struct task_cmd {
	const char *name;
	const char *usage;     /* after "Usage: deskpilot NAME " */
	const char *help;
	int n_positional;      /* exactly this many */
	bool json, open;       /* the options it takes */
};

static int parse_task_args(const struct task_cmd *cmd, struct dp_cli *cli, int argc, char **argv, struct task_args *a)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "open", no_argument, NULL, 'o' },
		{ "bus-address", required_argument, NULL, 'B' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	memset(a, 0, sizeof(*a));
	a->bus_address = cli->bus_address;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (c == 'h') {
			printf("Usage: deskpilot %s %s\n%s", cmd->name, cmd->usage, cmd->help);
			return 1;
		}
		if (c == 'B') {
			a->bus_address = optarg;
		} else if (c == 'j' && cmd->json) {
			a->json = true;
		} else if (c == 'o' && cmd->open) {
			a->open = true;
		} else {
			if (c == 'j' || c == 'o')
				fprintf(stderr, "deskpilot %s: %s is not an option of this command\n", cmd->name,
					argv[optind - 1]);
			fprintf(stderr, "Usage: deskpilot %s %s\n", cmd->name, cmd->usage);
			return -EINVAL;
		}
	}
	while (optind < argc) {
		if (a->n_positional == cmd->n_positional) {
			fprintf(stderr, "deskpilot %s: unexpected '%s'%s\nUsage: deskpilot %s %s\n", cmd->name,
				argv[optind], cmd->n_positional == 2 ? " (quote the text)" : "", cmd->name, cmd->usage);
			return -EINVAL;
		}
		a->positional[a->n_positional++] = argv[optind++];
	}
	if (a->n_positional < cmd->n_positional) {
		fprintf(stderr, "deskpilot %s: missing %s\nUsage: deskpilot %s %s\n", cmd->name,
			a->n_positional == 0 ? "the task's id" : "the answer's text", cmd->name, cmd->usage);
		return -EINVAL;
	}
	return 0;
}

/* Parses the arguments, connects, and names the task: the start of every
 * command here.  Returns an exit code, or -1 to stop with 0 (--help). */
static int begin(const struct task_cmd *cmd, struct dp_cli *cli, int argc, char **argv, struct task_args *a,
		 sd_bus **bus, char *path, size_t size)
{
	int r = parse_task_args(cmd, cli, argc, argv, a);

	if (r != 0)
		return r > 0 ? -1 : DP_EXIT_USAGE;
	if (cmd->n_positional > 0) {
		r = dp_busc_task_path(cmd->name, a->positional[0], path, size);
		if (r != DP_EXIT_OK)
			return r;
	}
	return dp_busc_connect(cmd->name, a->bus_address, bus);
}

static void print_json(cJSON *json)
{
	char *text = json ? cJSON_Print(json) : NULL;

	if (text)
		printf("%s\n", text);
	free(text);
}

static const struct task_cmd list_cmd = {
	"list", "[--json]",
	"Lists deskpilotd's tasks, oldest first: id, state, step/max, when created, and the\n"
	"instruction (or the policy, when there is none).\n"
	"  --json   an array of objects, one per task, with every property\n",
	0, true, false,
};

/* What the list shows of a task in its last column. */
static const char *what(const struct dp_task_props *t)
{
	return t->instruction && *t->instruction ? t->instruction : t->policy;
}

int dp_cmd_list(struct dp_cli *cli, int argc, char **argv)
{
	sd_bus_error error = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	struct task_args a;
	sd_bus *bus = NULL;
	cJSON *paths = NULL, *all = cJSON_CreateArray(), *path;
	int code = begin(&list_cmd, cli, argc, argv, &a, &bus, NULL, 0), r;

	if (code != DP_EXIT_OK) {
		cJSON_Delete(all);
		return code < 0 ? DP_EXIT_OK : code;
	}
	r = sd_bus_call_method(bus, DP_BUS_NAME, DP_BUS_PATH, DP_BUS_MANAGER, "ListTasks", &error, &reply, "");
	if (r >= 0)
		r = dp_busc_read_json(reply, &paths);
	if (r < 0) {
		code = dp_busc_error("list", &error, r);
		goto out;
	}
	if (!a.json && cJSON_GetArraySize(paths) > 0)
		printf("%-24s %-12s %-9s %-19s %s\n", "ID", "STATE", "STEP", "CREATED", "INSTRUCTION");
	cJSON_ArrayForEach(path, paths) {
		struct dp_task_props t = { 0 };
		cJSON *props = NULL;
		char steps[24], created[32];

		if (!cJSON_IsString(path))
			continue;
		/* A task removed between the two calls is not an error. */
		if (dp_busc_get_task("list", bus, path->valuestring, &t, &props) == DP_EXIT_NOT_FOUND)
			continue;
		if (a.json) {
			cJSON_AddItemToArray(all, props);
			props = NULL;
		} else {
			snprintf(steps, sizeof(steps), "%u/%u", t.step, t.max_steps);
			dp_format_time(t.created, created, sizeof(created));
			printf("%-24s %-12s %-9s %-19s %s\n", t.id, t.state, steps, created, what(&t));
		}
		cJSON_Delete(props);
		dp_task_props_clear(&t);
	}
	if (a.json)
		print_json(all);
	else if (cJSON_GetArraySize(paths) == 0)
		printf("no tasks (deskpilot submit adds one)\n");
out:
	cJSON_Delete(all);
	cJSON_Delete(paths);
	sd_bus_message_unref(reply);
	sd_bus_error_free(&error);
	sd_bus_flush_close_unref(bus);
	return code;
}

static const struct task_cmd show_cmd = {
	"show", "ID [--json]",
	"Shows every property of a task (ID: its id or object path).\n"
	"  --json   as one JSON object, named as on the bus\n",
	1, true, false,
};

static void show_text(const struct dp_task_props *t)
{
	char created[32], started[32], finished[32];

	dp_format_time(t->created, created, sizeof(created));
	dp_format_time(t->started, started, sizeof(started));
	dp_format_time(t->finished, finished, sizeof(finished));
	printf("Id:          %s\n", t->id);
	printf("State:       %s\n", t->state);
	printf("Step:        %u/%u\n", t->step, t->max_steps);
	printf("Instruction: %s\n", t->instruction ? t->instruction : "");
	printf("Policy:      %s\n", t->policy);
	printf("Result:      %s\n", t->result ? t->result : "");
	printf("Error:       %s\n", t->error ? t->error : "");
	printf("Question:    %s\n", t->question ? t->question : "");
	printf("Submitter:   uid %u (%s)\n", t->submitter_uid, t->submitter_name);
	printf("Created:     %s\n", created);
	printf("Started:     %s\n", started);
	printf("Finished:    %s\n", finished);
	printf("Trajectory:  %s\n", t->trajectory ? t->trajectory : "");
}

int dp_cmd_show(struct dp_cli *cli, int argc, char **argv)
{
	struct dp_task_props t = { 0 };
	struct task_args a;
	char path[256];
	sd_bus *bus = NULL;
	cJSON *props = NULL;
	int code = begin(&show_cmd, cli, argc, argv, &a, &bus, path, sizeof(path));

	if (code != DP_EXIT_OK)
		return code < 0 ? DP_EXIT_OK : code;
	code = dp_busc_get_task("show", bus, path, &t, &props);
	if (code == DP_EXIT_OK) {
		if (a.json)
			print_json(props);
		else
			show_text(&t);
	}
	cJSON_Delete(props);
	dp_task_props_clear(&t);
	sd_bus_flush_close_unref(bus);
	return code;
}

static const struct task_cmd follow_cmd = {
	"follow", "ID [--json]",
	"Shows a task's steps as they happen, until it ends: step n/max, the time since it\n"
	"started, each action and its verdict; on a terminal one progress line redrawn in\n"
	"place, otherwise one line per step.  Questions of the task (ask_user, confirmations)\n"
	"are printed with how to answer them.  Ends with the outcome and the report's path.\n"
	"  --json   no progress; at the end, every property of the task as JSON\n"
	"Exit codes: 0 succeeded, 1 failed, 6 out of steps or time, 11 cancelled or interrupted,\n"
	"8 no such task, 10 deskpilotd cannot be reached or stopped, 130 Ctrl-C (it stops the\n"
	"watching, not the task).\n",
	1, true, false,
};

int dp_cmd_follow(struct dp_cli *cli, int argc, char **argv)
{
	struct dp_follow *f = NULL;
	struct task_args a;
	char path[256];
	sd_bus *bus = NULL;
	int code = begin(&follow_cmd, cli, argc, argv, &a, &bus, path, sizeof(path));

	if (code != DP_EXIT_OK)
		return code < 0 ? DP_EXIT_OK : code;
	code = dp_follow_watch("follow", bus, &f);
	if (code == DP_EXIT_OK)
		code = dp_follow_run(f, path, a.json ? DP_FOLLOW_QUIET : DP_FOLLOW_LIVE, a.json);
	dp_follow_free(f);
	sd_bus_flush_close_unref(bus);
	return code;
}

/* Calls one of the Task methods; says what happened. */
static int control(const struct task_cmd *cmd, const char *method, struct dp_cli *cli, int argc, char **argv,
		   const char *done)
{
	sd_bus_error error = SD_BUS_ERROR_NULL;
	struct task_args a;
	char path[256];
	sd_bus *bus = NULL;
	int code = begin(cmd, cli, argc, argv, &a, &bus, path, sizeof(path)), r;

	if (code != DP_EXIT_OK)
		return code < 0 ? DP_EXIT_OK : code;
	if (cmd->n_positional == 2)
		r = sd_bus_call_method(bus, DP_BUS_NAME, path, DP_BUS_TASK, method, &error, NULL, "s", a.positional[1]);
	else
		r = sd_bus_call_method(bus, DP_BUS_NAME, path, DP_BUS_TASK, method, &error, NULL, "");
	if (r < 0 && sd_bus_error_has_name(&error, "org.freedesktop.DBus.Error.UnknownObject")) {
		fprintf(stderr, "deskpilot %s: no task %s (deskpilot list shows them)\n", cmd->name,
			dp_busc_task_id(path));
		code = DP_EXIT_NOT_FOUND;
	} else if (r < 0) {
		code = dp_busc_error(cmd->name, &error, r);
	} else {
		printf("%s %s\n", dp_busc_task_id(path), done);
	}
	sd_bus_error_free(&error);
	sd_bus_flush_close_unref(bus);
	return code;
}

static const struct task_cmd cancel_cmd = {
	"cancel", "ID",
	"Cancels a task: a queued one never runs, a running one stops before its next action\n"
	"(keys and buttons it holds are released).  Only its submitter (or root) may.\n", 1, false, false,
};
static const struct task_cmd pause_cmd = {
	"pause", "ID",
	"Pauses a task between two actions; deskpilot resume lets it go on.  Only its\n"
	"submitter (or root) may.\n", 1, false, false,
};
static const struct task_cmd resume_cmd = {
	"resume", "ID", "Lets a paused task go on.  Only its submitter (or root) may.\n", 1, false, false,
};
static const struct task_cmd answer_cmd = {
	"answer", "ID TEXT",
	"Answers the question a task is waiting on (its Question: an ask_user action, or a\n"
	"confirmation, which goes on only with \"yes\").  Only its submitter (or root) may.\n", 2, false, false,
};

int dp_cmd_cancel(struct dp_cli *cli, int argc, char **argv)
{
	return control(&cancel_cmd, "Cancel", cli, argc, argv, "cancelled");
}

int dp_cmd_pause(struct dp_cli *cli, int argc, char **argv)
{
	return control(&pause_cmd, "Pause", cli, argc, argv, "paused");
}

int dp_cmd_resume(struct dp_cli *cli, int argc, char **argv)
{
	return control(&resume_cmd, "Resume", cli, argc, argv, "resumed");
}

int dp_cmd_answer(struct dp_cli *cli, int argc, char **argv)
{
	return control(&answer_cmd, "Answer", cli, argc, argv, "answered");
}

static const struct task_cmd report_cmd = {
	"report", "ID [--open]",
	"Prints the path of a task's report (report.html in its trajectory: every step's\n"
	"screenshot with the click marked, the verdicts and the timings).\n"
	"  --open   open it with xdg-open\n", 1, false, true,
};

/* xdg-open with an argv: the path never meets a shell. */
static int open_report(const char *file)
{
	int status = 0;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		execlp("xdg-open", "xdg-open", file, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return -ENOENT;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

int dp_cmd_report(struct dp_cli *cli, int argc, char **argv)
{
	struct dp_task_props t = { 0 };
	struct task_args a;
	char path[256], file[4096];
	sd_bus *bus = NULL;
	int code = begin(&report_cmd, cli, argc, argv, &a, &bus, path, sizeof(path)), r;

	if (code != DP_EXIT_OK)
		return code < 0 ? DP_EXIT_OK : code;
	code = dp_busc_get_task("report", bus, path, &t, NULL);
	sd_bus_flush_close_unref(bus);
	if (code != DP_EXIT_OK)
		goto out;
	if (!t.trajectory || !*t.trajectory) {
		fprintf(stderr, "deskpilot report: task %s has no trajectory (it is %s%s)\n", t.id, t.state,
			strcmp(t.state, "queued") == 0 ? ": it gets one when it starts" : "");
		code = DP_EXIT_NOT_FOUND;
		goto out;
	}
	snprintf(file, sizeof(file), "%s/report.html", t.trajectory);
	if (access(file, R_OK) < 0) {
		int e = errno;

		fprintf(stderr, "deskpilot report: %s: %s%s\n", file, strerror(e),
			dp_task_state_is_final(t.state) ? "" : " (the report is written when the task ends)");
		code = e == ENOENT ? DP_EXIT_NOT_FOUND : DP_EXIT_IO;
		goto out;
	}
	printf("%s\n", file);
	if (a.open) {
		fflush(stdout);
		r = open_report(file);
		if (r < 0) {
			fprintf(stderr, "deskpilot report: xdg-open %s: %s\n", file,
				r == -ENOENT ? "xdg-open is not installed (apt-get install xdg-utils)" : "it failed");
			code = DP_EXIT_FAILURE;
		}
	}
out:
	dp_task_props_clear(&t);
	return code;
}
