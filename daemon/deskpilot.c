/* deskpilot: the command line.  Parses the global options and hands the
 * rest to a subcommand. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <config.h> /* the build's: daemon/config.h is deskpilotd's settings */
#include "daemon/commands.h"
#include "daemon/exit_codes.h"
#include "engine/log.h"

struct command {
	const char *name;
	int (*run)(struct dp_cli *cli, int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "run", dp_cmd_run, "run one task in the foreground and write its trajectory and report" },
	{ "act", dp_cmd_act, "perform an action: click, type, key, scroll, drag, window, launch" },
	{ "shot", dp_cmd_shot, "save a screenshot (PNG) of the screen or one monitor" },
	{ "monitors", dp_cmd_monitors, "list the screen size and its monitors" },
	{ "settle", dp_cmd_settle, "wait until the screen stops changing, and say how it went" },
	{ "encode", dp_cmd_encode, "show what a model is sent for an image or the screen: size, tokens, patch rows" },
#if HAVE_SYSTEMD
	{ "submit", dp_cmd_submit, "hand a task to deskpilotd (the arguments of run); --follow, --wait" },
	{ "list", dp_cmd_list, "list deskpilotd's tasks" },
	{ "show", dp_cmd_show, "show every property of a task" },
	{ "follow", dp_cmd_follow, "show a task's steps as they happen, until its outcome" },
	{ "cancel", dp_cmd_cancel, "cancel a task" },
	{ "pause", dp_cmd_pause, "pause a task between two actions" },
	{ "resume", dp_cmd_resume, "let a paused task go on" },
	{ "answer", dp_cmd_answer, "answer the question a task waits on" },
	{ "report", dp_cmd_report, "print the path of a task's report.html (--open opens it)" },
#endif
	{ "doctor", dp_cmd_doctor, "check what deskpilot needs: display, bus, deskpilotd, OCR, store, config" },
};

int dp_exit_code_from_errno(int err)
{
	switch (err) {
	case -EDESTADDRREQ:
	case -ECONNREFUSED:
	case -EPIPE:
		return DP_EXIT_DISPLAY;
	case -ENOTSUP:
		return DP_EXIT_UNSUPPORTED;
	case -ERANGE:
	case -EINVAL:
	case -EILSEQ:
	case -E2BIG:
		return DP_EXIT_USAGE;
	case -ENOENT:
		return DP_EXIT_NOT_FOUND;
	case -ETIMEDOUT:
		return DP_EXIT_TIMEOUT;
	case -EACCES:
	case -EIO:
	case -ENOSPC:
	case -EROFS:
	case -ENAMETOOLONG:
		return DP_EXIT_IO;
	default:
		return DP_EXIT_FAILURE;
	}
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: deskpilot [--display :N] [--backend x11|mutter] [-v|--verbose] [--log-level LEVEL]\n"
		"                 COMMAND [ARGS]\n"
		"\n"
		"Desktop automation for Linux: see the screen, act on it, check the result.\n"
		"\n"
		"Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(out,
		"\n"
		"Options:\n"
		"  --display :N       X display to use (default: $DISPLAY)\n"
		"  --backend NAME     x11, mutter (GNOME Wayland: its remote-desktop API) or portal\n"
		"                     (xdg-desktop-portal, asks the user once); default: chosen by\n"
		"                     the session (deskpilot doctor says which and why)\n"
		"  --bus-address ADDR the D-Bus of deskpilotd (default: $DESKPILOT_BUS_ADDRESS, then the\n"
		"                     session bus)\n"
		"  -v, --verbose      log more (repeat for debug)\n"
		"  --log-level LEVEL  error, warn, info or debug (also $DESKPILOT_LOG)\n"
		"  -h, --help         this help; COMMAND --help for a command's own\n"
		"  --version          print the version\n"
		"\n"
		"Exit codes: 0 ok, 1 failure, 2 usage, 3 display unreachable, 4 unsupported by the\n"
		"display, 5 no visible effect, 6 timed out (still changing, no focus; a task out of\n"
		"steps or time), 7 file error, 8 not found (window, key name, task), 9 not allowed\n"
		"(another user's task), 10 the bus or deskpilotd cannot be reached, 11 the task was\n"
		"cancelled or interrupted.\n");
}

static int run_help(struct dp_cli *cli, const char *name)
{
	char *argv[] = { (char *)name, (char *)"--help", NULL };

	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(name, commands[i].name) == 0) {
			optind = 0;
			return commands[i].run(cli, 2, argv);
		}
	}
	fprintf(stderr, "deskpilot help: unknown command '%s'; see deskpilot --help\n", name);
	return DP_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "display", required_argument, NULL, 'd' },
		{ "backend", required_argument, NULL, 'b' },
		{ "bus-address", required_argument, NULL, 'B' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	struct dp_cli cli = { 0 };
	enum dp_log_level level;
	int c;

	/* A display server that dies mid-write must give an error, not kill us. */
	signal(SIGPIPE, SIG_IGN);
	dp_log_init_from_env();
	/* "+" stops at the command name: the rest belongs to the command. */
	while ((c = getopt_long(argc, argv, "+vh", options, NULL)) != -1) {
		switch (c) {
		case 'd':
			cli.display = optarg;
			break;
		case 'b':
			cli.backend = optarg;
			break;
		case 'B':
			cli.bus_address = optarg;
			break;
		case 'v':
			dp_log_set_level(dp_log_get_level() + 1);
			break;
		case 'l':
			if (dp_log_level_from_string(optarg, &level) < 0) {
				fprintf(stderr, "deskpilot: --log-level %s: use error, warn, info or debug\n", optarg);
				return DP_EXIT_USAGE;
			}
			dp_log_set_level(level);
			break;
		case 'h':
			usage(stdout);
			return DP_EXIT_OK;
		case 'V':
			printf("deskpilot %s\n", DP_VERSION);
			return DP_EXIT_OK;
		default:
			usage(stderr);
			return DP_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return DP_EXIT_USAGE;
	}
	/* "help COMMAND" is "COMMAND --help". */
	if (strcmp(argv[optind], "help") == 0) {
		if (optind + 1 >= argc) {
			usage(stdout);
			return DP_EXIT_OK;
		}
		optind++;
		return run_help(&cli, argv[optind]);
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[optind], commands[i].name) == 0) {
			int first = optind;

			optind = 0; /* reinitialise getopt for the command's own options */
			return commands[i].run(&cli, argc - first, argv + first);
		}
	}
#if !HAVE_SYSTEMD
	static const char *const bus_commands[] = { "submit", "list", "show", "follow", "cancel",
						    "pause", "resume", "answer", "report" };

	for (size_t i = 0; i < sizeof(bus_commands) / sizeof(bus_commands[0]); i++) {
		if (strcmp(argv[optind], bus_commands[i]) == 0) {
			fprintf(stderr, "deskpilot %s: this deskpilot was built without D-Bus (libsystemd): install "
				"libsystemd-dev and build again with -Dsystemd=enabled\n", argv[optind]);
			return DP_EXIT_UNSUPPORTED;
		}
	}
#endif
	fprintf(stderr, "deskpilot: unknown command '%s'; see deskpilot --help\n", argv[optind]);
	return DP_EXIT_USAGE;
}
