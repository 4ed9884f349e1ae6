/* Exit codes shared by every deskpilot command (documented in README.md). */
#pragma once

enum dp_exit_code {
	DP_EXIT_OK = 0,          /* done */
	DP_EXIT_FAILURE = 1,     /* failed for a reason not listed below */
	DP_EXIT_USAGE = 2,       /* bad command line: see --help */
	DP_EXIT_DISPLAY = 3,     /* no display, or the display server went away */
	DP_EXIT_UNSUPPORTED = 4, /* the display lacks something needed (an extension) */
	DP_EXIT_NO_EFFECT = 5,   /* settle: a change was expected and none came */
	DP_EXIT_TIMEOUT = 6,     /* timed out: the screen kept changing, a window never got focus */
	DP_EXIT_IO = 7,          /* a file could not be read or written */
	DP_EXIT_NOT_FOUND = 8,   /* no such window, key name, program or task */
	DP_EXIT_DENIED = 9,      /* not allowed: the task belongs to another user */
	DP_EXIT_NO_DAEMON = 10,  /* the session bus or deskpilotd cannot be reached */
	DP_EXIT_CANCELLED = 11,  /* the task was cancelled, or interrupted by a restart of deskpilotd */
};

/* Maps a negative errno from a deskpilot call to the exit code above. */
int dp_exit_code_from_errno(int err);
