#include "engine/json.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

static int syntax_error(const char *text, const char *at, int line, struct dp_error *err)
{
	int column = 1;

	for (const char *p = text; at && p < at; p++) {
		if (*p == '\n') {
			line++;
			column = 1;
		} else if (((unsigned char)*p & 0xc0) != 0x80) {
			column++; /* count characters, not UTF-8 continuation bytes */
		}
	}
	return dp_error_set(err, -EINVAL, "line %d, column %d: JSON syntax error", line, column);
}

int dp_json_parse(const char *text, size_t len, int first_line, cJSON **out, struct dp_error *err)
{
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, false);

	if (!root)
		return syntax_error(text, end, first_line, err);
	while (end && (size_t)(end - text) < len && strchr(" \t\r\n", *end))
		end++;
	if (end && (size_t)(end - text) < len) {
		cJSON_Delete(root);
		return syntax_error(text, end, first_line, err);
	}
	*out = root;
	return 0;
}
