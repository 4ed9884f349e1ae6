/* The subcommands of the deskpilot CLI; each returns an exit code. */
#pragma once

struct dp_cli {
	const char *display; /* --display, or NULL for $DISPLAY */
	const char *backend; /* --backend x11|mutter, or NULL: chosen by the session */
};

int dp_cmd_shot(struct dp_cli *cli, int argc, char **argv);
int dp_cmd_monitors(struct dp_cli *cli, int argc, char **argv);
int dp_cmd_settle(struct dp_cli *cli, int argc, char **argv);
int dp_cmd_act(struct dp_cli *cli, int argc, char **argv);
int dp_cmd_run(struct dp_cli *cli, int argc, char **argv);
int dp_cmd_encode(struct dp_cli *cli, int argc, char **argv);
