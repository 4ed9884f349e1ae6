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
	DP_EXIT_NOT_FOUND = 8,   /* no such window, key name or program */
};

/* Maps a negative errno from a deskpilot call to the exit code above. */
int dp_exit_code_from_errno(int err);
