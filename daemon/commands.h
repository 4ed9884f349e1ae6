/* The subcommands of the deskpilot CLI; each returns an exit code. */
#pragma once

struct dp_cli {
	const char *display; /* --display, or NULL for $DISPLAY */
	const char *backend; /* --backend x11|mutter|portal, or NULL: chosen by the session */
	const char *bus_address; /* --bus-address, or NULL: $DESKPILOT_BUS_ADDRESS, then the session bus */
};

int dp_cmd_shot(struct dp_cli *cli, int argc, char **argv);
int dp_cmd_monitors(struct dp_cli *cli, int argc, char **argv);
int dp_cmd_settle(struct dp_cli *cli, int argc, char **argv);
int dp_cmd_act(struct dp_cli *cli, int argc, char **argv);
int dp_cmd_run(struct dp_cli *cli, int argc, char **argv);
int dp_cmd_encode(struct dp_cli *cli, int argc, char **argv);
int dp_cmd_doctor(struct dp_cli *cli, int argc, char **argv);

/* Clients of deskpilotd (daemon/cmd_submit.c, cmd_tasks.c, cmd_follow.c). */
int dp_cmd_submit(struct dp_cli *cli, int argc, char **argv);
int dp_cmd_list(struct dp_cli *cli, int argc, char **argv);
int dp_cmd_show(struct dp_cli *cli, int argc, char **argv);
int dp_cmd_follow(struct dp_cli *cli, int argc, char **argv);
int dp_cmd_cancel(struct dp_cli *cli, int argc, char **argv);
int dp_cmd_pause(struct dp_cli *cli, int argc, char **argv);
int dp_cmd_resume(struct dp_cli *cli, int argc, char **argv);
int dp_cmd_answer(struct dp_cli *cli, int argc, char **argv);
int dp_cmd_report(struct dp_cli *cli, int argc, char **argv);
