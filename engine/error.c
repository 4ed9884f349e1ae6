#include "error.h"

#include <stdarg.h>
#include <stdio.h>

int dp_error_set(struct dp_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return code;
}

void dp_error_clear(struct dp_error *err)
{
	if (!err)
		return;
	err->code = 0;
	err->message[0] = '\0';
}
