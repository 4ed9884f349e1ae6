/* deskpilot run: one task in the foreground, without the daemon: the same
 * loop, budgets and trajectory, for scripts and debugging. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "actuators/desktop.h"
#include "daemon/commands.h"
#include "daemon/exit_codes.h"
#include "engine/loop.h"
#include "policies/policy_factory.h"

#define MAX_ALLOWED 32

struct run_options {
	const char *instruction;
	const char *script;
	const char *flow;
	const char *data;
	const char *model;
	const char *endpoint;
	const char *api_key_file;
	const char *model_name;
	bool no_verify;
	int thinking;
	long stall_s, request_timeout_s, token_budget;
	const char *vars[MAX_ALLOWED + 1];
	size_t n_vars;
	const char *run_dir;
	const char *allow_launch[MAX_ALLOWED + 1];
	size_t n_allowed;
	const char *confirm[MAX_ALLOWED + 1];
	size_t n_confirm;
	long max_steps, timeout_s;
};

static void run_usage(FILE *out)
{
	fprintf(out,
		"Usage: deskpilot run [INSTRUCTION] --flow FILE [--data CSV] [--var NAME=VALUE]...\n"
		"       deskpilot run [INSTRUCTION] --script FILE\n"
		"       deskpilot run INSTRUCTION --model PROFILE [--endpoint URL] [--api-key-file FILE]\n"
		"                     [--model-name NAME] [--no-verify] [--thinking on|off]\n"
		"                     [--max-steps N] [--timeout SECONDS]\n"
		"                     [--run-dir DIR] [--allow-launch PROGRAM]... [--confirm PATTERN]...\n"
		"Runs one task in the foreground: observe, decide, act, settle, check, record, step\n"
		"after step, and writes the trajectory (traj.jsonl, step images, result.json and\n"
		"report.html) to DIR (default $XDG_STATE_HOME/deskpilot/runs/<task>).\n"
		"  --flow FILE          an RPA flow (docs/flows.md) decides, finding targets by OCR\n"
		"  --data CSV           the rows for the flow's for_each (overrides its \"data\")\n"
		"  --var NAME=VALUE     a value for ${NAME} in the flow (repeatable)\n"
		"  --script FILE        the script policy: one step per line, an action or an array\n"
		"                       of actions in the JSON of docs/actions.md\n"
		"  --model PROFILE      a model decides from screenshots: minimax-m3, qwen3-vl,\n"
		"                       ui-tars-1.5, generic-openai or a profile file (docs/models.md)\n"
		"  --endpoint URL       the OpenAI-compatible base URL (default: the profile's, such as\n"
		"                       https://api.minimax.io/v1)\n"
		"  --api-key-file FILE  the API key, alone in a file (default: the profile's variable,\n"
		"                       such as MINIMAX_API_KEY, else DESKPILOT_API_KEY)\n"
		"  --model-name NAME    the model name sent (default: the profile's)\n"
		"  --no-verify          end on the model's done without the fresh-context check\n"
		"  --thinking on|off    switch the model's thinking (default: the profile's)\n"
		"  --stall-timeout S    a model reply with no bytes for S seconds has stalled and is\n"
		"                       retried (default 120)\n"
		"  --request-timeout S  give up on one model request after S seconds (default 600)\n"
		"  --token-budget N     end a model task once it has used N tokens (default: no limit)\n"
		"  --max-steps N        at most N steps (1-200, default 200)\n"
		"  --timeout SECONDS    give up after this long (default: no limit)\n"
		"  --allow-launch PROG  programs the task may launch (repeatable; default: none)\n"
		"  --confirm PATTERN    actions that need a yes on the terminal first, such as\n"
		"                       key:ctrl+s, launch:*, window:close (repeatable)\n"
		"Ctrl-C cancels the task (a model request in flight ends at once); the trajectory is kept.\n"
		"Exit codes: 0 succeeded, 1 failed, 6 out of steps or time, 2 usage, 3 display.\n");
}

/* A task id that sorts by time: 20261125-123456-4242. */
static void make_task_id(char *id, size_t size)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	snprintf(id, size, "%04d%02d%02d-%02d%02d%02d-%d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (int)getpid());
}

static int default_run_dir(char *buf, size_t size, const char *task_id)
{
	const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");

	if (state && *state)
		snprintf(buf, size, "%s/deskpilot/runs/%s", state, task_id);
	else if (home && *home)
		snprintf(buf, size, "%s/.local/state/deskpilot/runs/%s", home, task_id);
	else
		return -ENOENT;
	return 0;
}

/* Questions and confirmations go to the person at the terminal, if any. */
static int ask_terminal(void *data, const char *question, char *answer, size_t size)
{
	(void)data;
	if (!isatty(STDIN_FILENO))
		return -ENOTCONN;
	fprintf(stderr, "deskpilot: %s ", question);
	if (!fgets(answer, (int)size, stdin))
		return -ENOTCONN;
	answer[strcspn(answer, "\r\n")] = '\0';
	return 0;
}

static void print_step(void *data, const struct dp_step_record *rec)
{
	(void)data;
	if (rec->n_feedback == 0)
		printf("step %u: no action: the reply was invalid, the model was told why\n", rec->step);
	for (size_t i = 0; i < rec->n_feedback; i++)
		printf("step %u: %s — %s\n", rec->step, dp_verdict_name(rec->feedback[i].verdict),
		       rec->feedback[i].message);
	fflush(stdout);
}

static int parse_run_options(int argc, char **argv, struct run_options *o)
{
	static const struct option options[] = {
		{ "script", required_argument, NULL, 's' },
		{ "flow", required_argument, NULL, 'f' },
		{ "model", required_argument, NULL, 'm' },
		{ "endpoint", required_argument, NULL, 'E' },
		{ "api-key-file", required_argument, NULL, 'K' },
		{ "model-name", required_argument, NULL, 'M' },
		{ "no-verify", no_argument, NULL, 'V' },
		{ "thinking", required_argument, NULL, 'T' },
		{ "stall-timeout", required_argument, NULL, 'S' },
		{ "request-timeout", required_argument, NULL, 'R' },
		{ "token-budget", required_argument, NULL, 'B' },
		{ "data", required_argument, NULL, 'D' },
		{ "var", required_argument, NULL, 'v' },
		{ "max-steps", required_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 't' },
		{ "run-dir", required_argument, NULL, 'd' },
		{ "allow-launch", required_argument, NULL, 'a' },
		{ "confirm", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 's': o->script = optarg; break;
		case 'f': o->flow = optarg; break;
		case 'D': o->data = optarg; break;
		case 'm': o->model = optarg; break;
		case 'E': o->endpoint = optarg; break;
		case 'K': o->api_key_file = optarg; break;
		case 'M': o->model_name = optarg; break;
		case 'V': o->no_verify = true; break;
		case 'T':
			if (strcmp(optarg, "on") != 0 && strcmp(optarg, "off") != 0) {
				fprintf(stderr, "deskpilot run: --thinking %s: expected on or off\n", optarg);
				return -EINVAL;
			}
			o->thinking = strcmp(optarg, "on") == 0 ? 1 : -1;
			break;
		case 'S':
		case 'R': {
			long v = strtol(optarg, &end, 10);

			if (*end || v < 1 || v > 86400) {
				fprintf(stderr, "deskpilot run: --%s %s: expected 1 to 86400 seconds\n",
					c == 'S' ? "stall-timeout" : "request-timeout", optarg);
				return -EINVAL;
			}
			*(c == 'S' ? &o->stall_s : &o->request_timeout_s) = v;
			break;
		}
		case 'B': {
			long v = strtol(optarg, &end, 10);

			if (*end || v < 1 || v > UINT32_MAX) {
				fprintf(stderr, "deskpilot run: --token-budget %s: expected 1 to %u tokens\n", optarg,
					UINT32_MAX);
				return -EINVAL;
			}
			o->token_budget = v;
			break;
		}
		case 'v':
			if (o->n_vars == MAX_ALLOWED) {
				fprintf(stderr, "deskpilot run: at most %d --var\n", MAX_ALLOWED);
				return -EINVAL;
			}
			o->vars[o->n_vars++] = optarg;
			break;
		case 'd': o->run_dir = optarg; break;
		case 'n':
		case 't': {
			long v = strtol(optarg, &end, 10);

			if (*end || v < 1 || (c == 'n' && v > DP_MAX_STEPS) || v > 86400) {
				fprintf(stderr, "deskpilot run: --%s %s: expected %s\n", c == 'n' ? "max-steps" : "timeout",
					optarg, c == 'n' ? "1 to 200" : "1 to 86400 seconds");
				return -EINVAL;
			}
			*(c == 'n' ? &o->max_steps : &o->timeout_s) = v;
			break;
		}
		case 'a':
			if (o->n_allowed == MAX_ALLOWED) {
				fprintf(stderr, "deskpilot run: at most %d --allow-launch\n", MAX_ALLOWED);
				return -EINVAL;
			}
			o->allow_launch[o->n_allowed++] = optarg;
			break;
		case 'c':
			if (o->n_confirm == MAX_ALLOWED) {
				fprintf(stderr, "deskpilot run: at most %d --confirm\n", MAX_ALLOWED);
				return -EINVAL;
			}
			o->confirm[o->n_confirm++] = optarg;
			break;
		case 'h':
			run_usage(stdout);
			return 1;
		default:
			run_usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc)
		o->instruction = argv[optind++];
	if (optind < argc) {
		fprintf(stderr, "deskpilot run: unexpected '%s' (quote the instruction)\n", argv[optind]);
		return -EINVAL;
	}
	if (!!o->script + !!o->flow + !!o->model != 1) {
		fprintf(stderr, "deskpilot run: say what decides: --flow FILE, --script FILE or --model PROFILE "
				"(one of them)\n");
		return -EINVAL;
	}
	if (!o->model && (o->endpoint || o->api_key_file || o->model_name || o->no_verify || o->thinking ||
			  o->stall_s || o->request_timeout_s || o->token_budget)) {
		fprintf(stderr, "deskpilot run: --endpoint, --api-key-file, --model-name, --no-verify, --thinking, "
				"--stall-timeout, --request-timeout and --token-budget go with --model\n");
		return -EINVAL;
	}
	if (o->model && (!o->instruction || !*o->instruction)) {
		fprintf(stderr, "deskpilot run: a model needs the task in words: deskpilot run \"INSTRUCTION\" "
				"--model %s\n", o->model);
		return -EINVAL;
	}
	if (o->data && !o->flow) {
		fprintf(stderr, "deskpilot run: --data goes with --flow\n");
		return -EINVAL;
	}
	return 0;
}

static int exit_code(enum dp_task_outcome outcome)
{
	switch (outcome) {
	case DP_TASK_SUCCEEDED: return DP_EXIT_OK;
	case DP_TASK_OUT_OF_STEPS:
	case DP_TASK_TIMED_OUT:
	case DP_TASK_OUT_OF_TOKENS: return DP_EXIT_TIMEOUT;
	default: return DP_EXIT_FAILURE;
	}
}

/* Ctrl-C or SIGTERM cancels the task: an in-flight model request ends at
 * once, the trajectory is closed, held keys are released. */
static struct dp_loop_control *signal_control;

static void on_signal(int sig)
{
	(void)sig;
	if (signal_control)
		dp_loop_control_cancel(signal_control);
}

static void catch_signals(struct dp_loop_control *control, bool on)
{
	struct sigaction sa = { 0 };

	signal_control = on ? control : NULL;
	sa.sa_handler = on ? on_signal : SIG_DFL;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int dp_cmd_run(struct dp_cli *cli, int argc, char **argv)
{
	struct run_options o = { 0 };
	struct dp_desktop_config dc = { .backend = cli->backend, .display = cli->display };
	struct dp_desktop desk = { 0 };
	struct dp_loop_config lc = { 0 };
	struct dp_loop_control control;
	bool have_control = false;
	struct dp_policy *policy = NULL;
	struct dp_loop_result res;
	struct dp_error err = { 0 };
	char run_dir[PATH_MAX], task_id[64] = "";
	int r = parse_run_options(argc, argv, &o);

	if (r != 0)
		return r > 0 ? DP_EXIT_OK : DP_EXIT_USAGE;
	make_task_id(task_id, sizeof(task_id));
	if (o.run_dir) {
		snprintf(run_dir, sizeof(run_dir), "%s", o.run_dir);
	} else if (default_run_dir(run_dir, sizeof(run_dir), task_id) < 0) {
		fprintf(stderr, "deskpilot run: neither XDG_STATE_HOME nor HOME is set: pass --run-dir DIR\n");
		return DP_EXIT_USAGE;
	}
	r = dp_desktop_open(&desk, &dc, DP_DESKTOP_CAPTURE | DP_DESKTOP_INPUT, &err);
	if (r == 0) {
		struct dp_policy_options po = { .flow_path = o.flow, .data_path = o.data, .vars = o.vars,
						.script_path = o.script, .actuator = desk.actuator,
						.profile = o.model, .endpoint = o.endpoint, .api_key_file = o.api_key_file,
						.model_name = o.model_name, .no_verify = o.no_verify,
						.thinking = o.thinking, .stall_s = o.stall_s,
						.request_timeout_s = o.request_timeout_s };

		r = dp_policy_create(&policy, &po, &err);
	}
	if (r == 0) {
		lc.task_id = task_id;
		lc.instruction = o.instruction ? o.instruction : "";
		lc.max_steps = (uint32_t)o.max_steps;
		lc.timeout_ms = o.timeout_s * 1000;
		lc.token_budget = (uint64_t)o.token_budget;
		lc.run_dir = run_dir;
		lc.allow_launch = o.allow_launch;
		lc.confirm_actions = o.confirm;
		lc.ask = ask_terminal;
		lc.on_step = print_step;
		dp_settle_options_default(&lc.settle);
		have_control = dp_loop_control_init(&control) == 0;
		if (have_control)
			catch_signals(&control, true);
		r = dp_loop_run(&lc, desk.capture, desk.actuator, policy, have_control ? &control : NULL, &res, &err);
		if (have_control) {
			catch_signals(&control, false);
			dp_loop_control_release(&control);
		}
	}
	dp_desktop_close(&desk);
	if (policy)
		policy->impl->destroy(policy);
	if (r < 0) {
		fprintf(stderr, "deskpilot run: %s\n", err.message);
		return dp_exit_code_from_errno(r);
	}
	printf("%s after %u steps: %s\nreport: %s/report.html\n", dp_task_outcome_name(res.outcome), res.steps,
	       res.message, run_dir);
	return exit_code(res.outcome);
}
