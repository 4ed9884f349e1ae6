/* JSON documents in, with errors that point at the input: a syntax error
 * names the line and column, as DESIGN.md asks of every input we read. */
#pragma once

#include <stddef.h>

#include <cjson/cJSON.h>

#include "engine/error.h"

/* Parses text (len bytes; nothing but white space may follow the value).
 * first_line numbers the first line (1 for a file, N for line N of a
 * JSON-lines stream).  On error returns -EINVAL with
 * "line L, column C: JSON syntax error". */
int dp_json_parse(const char *text, size_t len, int first_line, cJSON **out, struct dp_error *err);
