/* CSV files for flows: a header row names the columns; fields may be
 * quoted ("a, b", "say ""hi"""), UTF-8, LF or CRLF line ends. */
#pragma once

#include <stddef.h>

#include "engine/error.h"

struct dp_csv {
	char **columns;  /* n_columns names from the header */
	size_t n_columns;
	char ***rows;    /* n_rows rows of n_columns fields */
	size_t n_rows;
	int *row_lines;  /* the file line each row starts on, for messages */
};

/* Reads path; a row with the wrong number of fields is an error naming
 * its line.  Returns 0 or a negative errno with err set. */
int dp_csv_read(const char *path, struct dp_csv *csv, struct dp_error *err);

/* The index of a column, or -1. */
int dp_csv_column(const struct dp_csv *csv, const char *name);

void dp_csv_clear(struct dp_csv *csv);
