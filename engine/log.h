/* One log API for every deskpilot module.
 *
 * Each .c file that logs defines DP_LOG_SUBSYS before including this header
 * ("capture", "bus", ...); every line is prefixed with it.  Messages go to
 * stderr; the level is set once at start-up (command line or DESKPILOT_LOG). */
#pragma once

#include <stdarg.h>

enum dp_log_level {
	DP_LOG_ERROR = 0,
	DP_LOG_WARN,
	DP_LOG_INFO,
	DP_LOG_DEBUG,
};

void dp_log_set_level(enum dp_log_level level);
enum dp_log_level dp_log_get_level(void);

/* Parses "error", "warn", "info" or "debug"; returns 0 or -EINVAL. */
int dp_log_level_from_string(const char *name, enum dp_log_level *out);

/* Reads DESKPILOT_LOG, if set and valid. */
void dp_log_init_from_env(void);

void dp_log_write(enum dp_log_level level, const char *subsys, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void dp_log_writev(enum dp_log_level level, const char *subsys, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

/* Appends ": <strerror(-err)>" and returns err (a negative errno), so a
 * failure can be logged and returned in one statement. */
int dp_log_errno_write(enum dp_log_level level, const char *subsys, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#ifndef DP_LOG_SUBSYS
#define DP_LOG_SUBSYS "deskpilot"
#endif

#define dp_log_error(...) dp_log_write(DP_LOG_ERROR, DP_LOG_SUBSYS, __VA_ARGS__)
#define dp_log_warn(...) dp_log_write(DP_LOG_WARN, DP_LOG_SUBSYS, __VA_ARGS__)
#define dp_log_info(...) dp_log_write(DP_LOG_INFO, DP_LOG_SUBSYS, __VA_ARGS__)
#define dp_log_debug(...) dp_log_write(DP_LOG_DEBUG, DP_LOG_SUBSYS, __VA_ARGS__)
#define dp_log_errno(level, err, ...) dp_log_errno_write(level, DP_LOG_SUBSYS, err, __VA_ARGS__)
