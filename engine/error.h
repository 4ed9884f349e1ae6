/* An error message a fallible function hands back to its caller, beside the
 * negative errno it returns.  Messages say what went wrong and what to do. */
#pragma once

struct dp_error {
	int code; /* negative errno, 0 when unset */
	char message[512];
};

/* Fills err (which may be NULL) and returns code, so callers can write
 * `return dp_error_set(err, -ENOENT, "no such monitor %d", n);` */
int dp_error_set(struct dp_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

void dp_error_clear(struct dp_error *err);
