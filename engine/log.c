#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The one piece of process-wide state: logging is configured once in main()
 * and read from every thread, so a plain int is enough. */
static enum dp_log_level current_level = DP_LOG_WARN;

static const char *const level_names[] = {
	[DP_LOG_ERROR] = "error",
	[DP_LOG_WARN] = "warn",
	[DP_LOG_INFO] = "info",
	[DP_LOG_DEBUG] = "debug",
};

void dp_log_set_level(enum dp_log_level level)
{
	if (level > DP_LOG_DEBUG)
		level = DP_LOG_DEBUG;
	current_level = level;
}

enum dp_log_level dp_log_get_level(void)
{
	return current_level;
}

int dp_log_level_from_string(const char *name, enum dp_log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcasecmp(name, level_names[i]) == 0) {
			*out = (enum dp_log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

void dp_log_init_from_env(void)
{
	const char *env = getenv("DESKPILOT_LOG");
	enum dp_log_level level;

	if (!env || !*env)
		return;
	if (dp_log_level_from_string(env, &level) < 0) {
		dp_log_write(DP_LOG_WARN, "log",
			     "DESKPILOT_LOG=%s is not a level; use error, warn, info or debug", env);
		return;
	}
	dp_log_set_level(level);
}

void dp_log_writev(enum dp_log_level level, const char *subsys, const char *fmt, va_list ap)
{
	char line[1024];
	int n;

	if (level > current_level)
		return;
	/* Format the whole line first so that lines from two threads never
	 * interleave mid-line (one fputs is atomic enough on stderr). */
	n = snprintf(line, sizeof(line), "deskpilot %s: %s: ", level_names[level], subsys);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	strcat(line, "\n");
	fputs(line, stderr);
}

void dp_log_write(enum dp_log_level level, const char *subsys, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dp_log_writev(level, subsys, fmt, ap);
	va_end(ap);
}

int dp_log_errno_write(enum dp_log_level level, const char *subsys, int err, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	dp_log_write(level, subsys, "%s: %s", msg, strerror(err < 0 ? -err : err));
	return err;
}
