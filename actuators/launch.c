/* Starting a program from an explicit argv (no shell), with posix_spawnp. */
#define DP_LOG_SUBSYS "windows"

#include "actuators/launch.h"

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/log.h"

extern char **environ;

static bool is_executable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* posix_spawnp reports a missing program only as ENOENT; finding it first
 * lets the message name it and the PATH searched. */
static bool find_in_path(const char *name, const char *path)
{
	char candidate[4096];

	if (strchr(name, '/'))
		return is_executable(name);
	for (const char *dir = path; dir; dir = strchr(dir, ':') ? strchr(dir, ':') + 1 : NULL) {
		size_t len = strcspn(dir, ":");

		if (len == 0)
			snprintf(candidate, sizeof(candidate), "./%s", name);
		else
			snprintf(candidate, sizeof(candidate), "%.*s/%s", (int)len, dir, name);
		if (is_executable(candidate))
			return true;
	}
	return false;
}

/* environ with DISPLAY replaced; the array is the caller's to free, the
 * strings stay environ's except *display_var. */
static char **environment_for(const char *display, char **display_var)
{
	size_t n = 0, k = 0;
	char **env;

	while (environ && environ[n])
		n++;
	env = calloc(n + 2, sizeof(*env));
	if (!env)
		return NULL;
	*display_var = NULL;
	if (display && asprintf(display_var, "DISPLAY=%s", display) < 0) {
		free(env);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		if (!*display_var || strncmp(environ[i], "DISPLAY=", 8) != 0)
			env[k++] = environ[i];
	if (*display_var)
		env[k++] = *display_var;
	env[k] = NULL;
	return env;
}

/* The child starts clean: no blocked signals, default dispositions (an
 * ignored SIGPIPE would otherwise survive exec), and its own process group
 * so a Ctrl-C meant for the daemon does not reach it. */
static int spawn_attributes(posix_spawnattr_t *attr)
{
	sigset_t none, all;
	int r = posix_spawnattr_init(attr);

	if (r)
		return -r;
	sigemptyset(&none);
	sigfillset(&all);
	sigdelset(&all, SIGKILL);
	sigdelset(&all, SIGSTOP);
	r = posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
	if (!r)
		r = posix_spawnattr_setsigmask(attr, &none);
	if (!r)
		r = posix_spawnattr_setsigdefault(attr, &all);
	if (!r)
		r = posix_spawnattr_setpgroup(attr, 0);
	if (r)
		posix_spawnattr_destroy(attr);
	return -r;
}

int dp_launch(char *const argv[], const char *display, pid_t *pid, struct dp_error *err)
{
	const char *path = getenv("PATH");
	char **env, *display_var = NULL;
	posix_spawnattr_t attr;
	int r;

	if (!argv || !argv[0] || !argv[0][0])
		return dp_error_set(err, -EINVAL, "launch needs a program: argv[0] is empty");
	if (!path || !*path)
		path = "/bin:/usr/bin"; /* what posix_spawnp searches then */
	if (!find_in_path(argv[0], path))
		return dp_error_set(err, -ENOENT, "cannot launch '%.100s': %s (PATH is %.200s); install it or give "
				    "its full path", argv[0], strchr(argv[0], '/') ? "no such executable file" :
				    "not found in PATH", path);
	env = environment_for(display, &display_var);
	if (!env)
		return dp_error_set(err, -ENOMEM, "out of memory");
	r = spawn_attributes(&attr);
	if (r == 0) {
		r = -posix_spawnp(pid, argv[0], NULL, &attr, argv, env);
		posix_spawnattr_destroy(&attr);
	}
	free(display_var);
	free(env);
	if (r < 0)
		return dp_error_set(err, r, "cannot launch '%.100s': %s", argv[0], strerror(-r));
	dp_log_debug("launched %s as pid %d", argv[0], (int)*pid);
	return 0;
}
