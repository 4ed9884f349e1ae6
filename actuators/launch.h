/* Launching a program: an explicit argv, never a shell. */
#pragma once

#include <sys/types.h>

#include "engine/error.h"

/* Starts argv[0] (looked up in PATH first, so a missing program is named in
 * the error) with argv, with DISPLAY set to display (NULL: the environment's
 * as it is); no shell.  The child gets an empty signal mask, default signal
 * dispositions and its own process group.  Fills *pid.
 * The child is not reaped here: the caller must waitpid() it (or handle
 * SIGCHLD), or it stays a zombie after it exits. */
int dp_launch(char *const argv[], const char *display, pid_t *pid, struct dp_error *err);
