/* deskpilot submit: hands a task to deskpilotd (Manager.Submit) with the
 * same arguments as deskpilot run, and prints its id; --follow watches it,
 * --wait waits for its outcome. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/bus_client.h"
#include "daemon/commands.h"
#include "daemon/exit_codes.h"
#include "daemon/follow.h"

#define MAX_LIST 32

struct submit_options {
	const char *instruction, *flow, *script, *data, *policy, *profile, *display;
	const char *vars[MAX_LIST];
	size_t n_vars;
	const char *secrets[MAX_LIST + 1];
	size_t n_secrets;
	const char *allow_launch[MAX_LIST + 1];
	size_t n_allowed;
	const char *confirm[MAX_LIST + 1];
	size_t n_confirm;
	long max_steps, timeout_s, priority, token_budget;
	bool has_priority, dry_run, follow, wait, json;
	const char *bus_address;
	/* Absolute forms of the paths given */
	char flow_abs[PATH_MAX], script_abs[PATH_MAX], data_abs[PATH_MAX];
};

static void submit_usage(FILE *out)
{
	fprintf(out,
		"Usage: deskpilot submit [INSTRUCTION] [--flow FILE|JSON [--data CSV] [--var NAME=VALUE]...]\n"
		"                        [--script FILE] [--policy flow|script|model] [--profile NAME]\n"
		"                        [--max-steps N] [--timeout SECONDS] [--token-budget N] [--priority N]\n"
		"                        [--display :N]\n"
		"                        [--allow-launch PROGRAM]... [--confirm PATTERN]... [--secret NAME]...\n"
		"                        [--dry-run] [--follow | --wait] [--json] [--bus-address ADDRESS]\n"
		"Hands a task to deskpilotd and prints its id.  The arguments are those of deskpilot run:\n"
		"  --flow FILE|JSON     an RPA flow file (docs/flows.md), or the flow's JSON text itself\n"
		"  --data CSV           the rows for the flow's for_each\n"
		"  --var NAME=VALUE     a value for ${NAME} in the flow (repeatable)\n"
		"  --script FILE        the script policy: one action or array of actions per line\n"
		"  --policy NAME        flow, script or model (default: from --flow/--script, else model)\n"
		"  --profile NAME       the model profile (model policy)\n"
		"  --max-steps N        at most N steps (1-200; default from deskpilotd's config)\n"
		"  --timeout SECONDS    give up after this long (default: no limit)\n"
		"  --token-budget N     stop a model task after N tokens (default: no limit)\n"
		"  --priority N         -100..100 (default 0): higher runs first, in order of submission within one\n"
		"  --display :N         the X display to work on (default: deskpilotd's)\n"
		"  --allow-launch PROG  a program the task may launch (repeatable)\n"
		"  --confirm PATTERN    actions that need an answer \"yes\" first: key:ctrl+s, launch:* (repeatable)\n"
		"  --secret NAME        a secret the task needs, from deskpilotd's secret store (repeatable)\n"
		"  --dry-run            check the task and build its policy, but do not run it\n"
		"  --follow             then show its steps as they happen (as deskpilot follow)\n"
		"  --wait               then wait quietly for its outcome\n"
		"  --json               print the task's properties as JSON (with --wait: when it ends)\n"
		"Relative paths are made absolute.  Without --follow/--wait the exit code says only\n"
		"whether deskpilotd accepted the task; with them it is the task's: 0 succeeded,\n"
		"1 failed, 6 out of steps or time, 11 cancelled or interrupted.\n");
}

static int add_to_list(const char **list, size_t *n, const char *value, const char *option)
{
	if (*n == MAX_LIST) {
		fprintf(stderr, "deskpilot submit: at most %d --%s\n", MAX_LIST, option);
		return -EINVAL;
	}
	list[(*n)++] = value;
	return 0;
}

static int parse_long(const char *option, const char *text, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || end == text || *end || v < min || v > max) {
		fprintf(stderr, "deskpilot submit: --%s %s: expected a whole number from %ld to %ld\n", option, text,
			min, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

/* deskpilotd resolves paths as given, in its own working directory. */
static int make_absolute(const char *path, char *buf, size_t size)
{
	char cwd[PATH_MAX];

	if (path[0] == '/') {
		snprintf(buf, size, "%s", path);
		return 0;
	}
	if (!getcwd(cwd, sizeof(cwd)))
		return -errno;
	if ((size_t)snprintf(buf, size, "%s/%s", cwd, path) >= size)
		return -ENAMETOOLONG;
	return 0;
}

static int parse_submit_options(int argc, char **argv, struct submit_options *o)
{
	static const struct option options[] = {
		{ "flow", required_argument, NULL, 'f' },
		{ "data", required_argument, NULL, 'D' },
		{ "var", required_argument, NULL, 'v' },
		{ "script", required_argument, NULL, 's' },
		{ "max-steps", required_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 't' },
		{ "token-budget", required_argument, NULL, 'K' },
		{ "allow-launch", required_argument, NULL, 'a' },
		{ "confirm", required_argument, NULL, 'c' },
		{ "profile", required_argument, NULL, 'P' },
		{ "policy", required_argument, NULL, 'p' },
		{ "priority", required_argument, NULL, 'r' },
		{ "display", required_argument, NULL, 'd' },
		{ "secret", required_argument, NULL, 'S' },
		{ "dry-run", no_argument, NULL, 'N' },
		{ "follow", no_argument, NULL, 'F' },
		{ "wait", no_argument, NULL, 'W' },
		{ "json", no_argument, NULL, 'j' },
		{ "bus-address", required_argument, NULL, 'B' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c, r = 0;

	while (r == 0 && (c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 'f': o->flow = optarg; break;
		case 'D': o->data = optarg; break;
		case 's': o->script = optarg; break;
		case 'P': o->profile = optarg; break;
		case 'd': o->display = optarg; break;
		case 'B': o->bus_address = optarg; break;
		case 'N': o->dry_run = true; break;
		case 'F': o->follow = true; break;
		case 'W': o->wait = true; break;
		case 'j': o->json = true; break;
		case 'p':
			if (strcmp(optarg, "flow") != 0 && strcmp(optarg, "script") != 0 &&
			    strcmp(optarg, "model") != 0) {
				fprintf(stderr, "deskpilot submit: --policy %s: use flow, script or model\n", optarg);
				return -EINVAL;
			}
			o->policy = optarg;
			break;
		case 'v':
			if (!strchr(optarg, '=') || optarg[0] == '=') {
				fprintf(stderr, "deskpilot submit: --var %s: expected NAME=VALUE\n", optarg);
				return -EINVAL;
			}
			r = add_to_list(o->vars, &o->n_vars, optarg, "var");
			break;
		case 'S': r = add_to_list(o->secrets, &o->n_secrets, optarg, "secret"); break;
		case 'a': r = add_to_list(o->allow_launch, &o->n_allowed, optarg, "allow-launch"); break;
		case 'c': r = add_to_list(o->confirm, &o->n_confirm, optarg, "confirm"); break;
		case 'n': r = parse_long("max-steps", optarg, 1, 200, &o->max_steps); break;
		case 't': r = parse_long("timeout", optarg, 0, 86400 * 7, &o->timeout_s); break;
		case 'K': r = parse_long("token-budget", optarg, 1, UINT32_MAX, &o->token_budget); break;
		case 'r':
			r = parse_long("priority", optarg, -100, 100, &o->priority);
			o->has_priority = true;
			break;
		case 'h':
			submit_usage(stdout);
			return 1;
		default:
			submit_usage(stderr);
			return -EINVAL;
		}
	}
	if (r < 0)
		return r;
	if (optind < argc)
		o->instruction = argv[optind++];
	if (optind < argc) {
		fprintf(stderr, "deskpilot submit: unexpected '%s' (quote the instruction)\n", argv[optind]);
		return -EINVAL;
	}
	if (o->follow && o->wait) {
		fprintf(stderr, "deskpilot submit: --follow or --wait, not both\n");
		return -EINVAL;
	}
	if (o->follow && o->json) {
		fprintf(stderr, "deskpilot submit: --json goes with --wait, not --follow\n");
		return -EINVAL;
	}
	if (!o->instruction && !o->flow && !o->script) {
		fprintf(stderr, "deskpilot submit: say what to do: an INSTRUCTION (for the model), --flow FILE or "
			"--script FILE\n");
		return -EINVAL;
	}
	if ((o->flow && o->flow[0] != '{' && make_absolute(o->flow, o->flow_abs, sizeof(o->flow_abs)) < 0) ||
	    (o->script && make_absolute(o->script, o->script_abs, sizeof(o->script_abs)) < 0) ||
	    (o->data && make_absolute(o->data, o->data_abs, sizeof(o->data_abs)) < 0)) {
		fprintf(stderr, "deskpilot submit: cannot make the paths absolute: %m\n");
		return -EINVAL;
	}
	return 0;
}

static int append_string(sd_bus_message *m, const char *key, const char *value)
{
	return value ? sd_bus_message_append(m, "{sv}", key, "s", value) : 0;
}

static int append_strv(sd_bus_message *m, const char *key, const char **list, size_t n)
{
	int r;

	if (n == 0)
		return 0;
	list[n] = NULL;
	r = sd_bus_message_open_container(m, SD_BUS_TYPE_DICT_ENTRY, "sv");
	if (r >= 0)
		r = sd_bus_message_append_basic(m, SD_BUS_TYPE_STRING, key);
	if (r >= 0)
		r = sd_bus_message_open_container(m, SD_BUS_TYPE_VARIANT, "as");
	if (r >= 0)
		r = sd_bus_message_append_strv(m, (char **)list);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	return r >= 0 ? sd_bus_message_close_container(m) : r;
}

/* "variables": a{ss} from the NAME=VALUE arguments. */
static int append_vars(sd_bus_message *m, const struct submit_options *o)
{
	int r;

	if (o->n_vars == 0)
		return 0;
	r = sd_bus_message_open_container(m, SD_BUS_TYPE_DICT_ENTRY, "sv");
	if (r >= 0)
		r = sd_bus_message_append_basic(m, SD_BUS_TYPE_STRING, "variables");
	if (r >= 0)
		r = sd_bus_message_open_container(m, SD_BUS_TYPE_VARIANT, "a{ss}");
	if (r >= 0)
		r = sd_bus_message_open_container(m, SD_BUS_TYPE_ARRAY, "{ss}");
	for (size_t i = 0; r >= 0 && i < o->n_vars; i++) {
		const char *eq = strchr(o->vars[i], '=');
		char name[256];

		snprintf(name, sizeof(name), "%.*s", (int)(eq - o->vars[i]), o->vars[i]);
		r = sd_bus_message_append(m, "{ss}", name, eq + 1);
	}
	for (int i = 0; r >= 0 && i < 3; i++)
		r = sd_bus_message_close_container(m);
	return r;
}

static int build_task(sd_bus_message *m, const struct submit_options *o, const char *display)
{
	int r = sd_bus_message_open_container(m, SD_BUS_TYPE_ARRAY, "{sv}");

	if (r >= 0)
		r = append_string(m, "instruction", o->instruction);
	if (r >= 0)
		r = append_string(m, "flow", o->flow ? (o->flow[0] == '{' ? o->flow : o->flow_abs) : NULL);
	if (r >= 0)
		r = append_string(m, "script", o->script ? o->script_abs : NULL);
	if (r >= 0)
		r = append_string(m, "data", o->data ? o->data_abs : NULL);
	if (r >= 0)
		r = append_string(m, "policy", o->policy);
	if (r >= 0)
		r = append_string(m, "profile", o->profile);
	if (r >= 0)
		r = append_string(m, "display", display);
	if (r >= 0)
		r = append_vars(m, o);
	if (r >= 0)
		r = append_strv(m, "secrets", (const char **)o->secrets, o->n_secrets);
	if (r >= 0)
		r = append_strv(m, "allow_launch", (const char **)o->allow_launch, o->n_allowed);
	if (r >= 0)
		r = append_strv(m, "confirm", (const char **)o->confirm, o->n_confirm);
	if (r >= 0 && o->max_steps)
		r = sd_bus_message_append(m, "{sv}", "max_steps", "u", (uint32_t)o->max_steps);
	if (r >= 0 && o->timeout_s)
		r = sd_bus_message_append(m, "{sv}", "timeout", "u", (uint32_t)o->timeout_s);
	if (r >= 0 && o->token_budget)
		r = sd_bus_message_append(m, "{sv}", "token_budget", "u", (uint32_t)o->token_budget);
	if (r >= 0 && o->has_priority)
		r = sd_bus_message_append(m, "{sv}", "priority", "i", (int32_t)o->priority);
	if (r >= 0 && o->dry_run)
		r = sd_bus_message_append(m, "{sv}", "dry_run", "b", 1);
	return r >= 0 ? sd_bus_message_close_container(m) : r;
}

int dp_cmd_submit(struct dp_cli *cli, int argc, char **argv)
{
	struct submit_options *o = calloc(1, sizeof(*o));
	sd_bus_error error = SD_BUS_ERROR_NULL;
	sd_bus_message *m = NULL, *reply = NULL;
	struct dp_follow *follow = NULL;
	sd_bus *bus = NULL;
	const char *path;
	int r, code;

	if (!o)
		return DP_EXIT_FAILURE;
	r = parse_submit_options(argc, argv, o);
	if (r != 0) {
		free(o);
		return r > 0 ? DP_EXIT_OK : DP_EXIT_USAGE;
	}
	code = dp_busc_connect("submit", o->bus_address ? o->bus_address : cli->bus_address, &bus);
	/* Watch before submitting: the first step may come right after. */
	if (code == DP_EXIT_OK && (o->follow || o->wait))
		code = dp_follow_watch("submit", bus, &follow);
	if (code != DP_EXIT_OK)
		goto out;
	r = sd_bus_message_new_method_call(bus, &m, DP_BUS_NAME, DP_BUS_PATH, DP_BUS_MANAGER, "Submit");
	if (r >= 0)
		r = build_task(m, o, o->display ? o->display : cli->display);
	if (r >= 0)
		r = sd_bus_call(bus, m, 0, &error, &reply);
	if (r >= 0)
		r = sd_bus_message_read(reply, "o", &path);
	if (r < 0) {
		code = dp_busc_error("submit", &error, r);
		goto out;
	}
	if (o->follow || o->wait) {
		if (!o->json)
			printf("%s\n", dp_busc_task_id(path));
		fflush(stdout);
		code = dp_follow_run(follow, path, o->follow ? DP_FOLLOW_LIVE : DP_FOLLOW_QUIET, o->json);
	} else if (o->json) {
		cJSON *props = NULL;
		char *text;

		code = dp_busc_get_task("submit", bus, path, NULL, &props);
		text = props ? cJSON_Print(props) : NULL;
		if (text)
			printf("%s\n", text);
		free(text);
		cJSON_Delete(props);
	} else {
		printf("%s\n", dp_busc_task_id(path));
	}
out:
	dp_follow_free(follow);
	sd_bus_error_free(&error);
	sd_bus_message_unref(m);
	sd_bus_message_unref(reply);
	sd_bus_flush_close_unref(bus);
	free(o);
	return code;
}
