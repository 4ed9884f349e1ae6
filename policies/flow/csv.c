#include "policies/flow/csv.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fields {
	char **v;
	size_t n, cap;
};

static int push_field(struct fields *f, const char *start, size_t len)
{
	char *copy;

	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 8;
		char **grown = realloc(f->v, cap * sizeof(char *));

		if (!grown)
			return -ENOMEM;
		f->v = grown;
		f->cap = cap;
	}
	copy = malloc(len + 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, start, len);
	copy[len] = '\0';
	f->v[f->n++] = copy;
	return 0;
}

static void free_fields(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Parses one record starting at *p (which may span lines inside quotes);
 * advances *p past its line end and counts the lines it used. */
static int parse_record(const char **p, struct fields *f, int *lines, struct dp_error *err, int line)
{
	const char *s = *p;
	char *buf = malloc(strlen(s) + 1);
	size_t len = 0;
	bool quoted = false, was_quoted = false;
	int r = 0;

	if (!buf)
		return -ENOMEM;
	for (;; s++) {
		char c = *s;

		if (quoted) {
			if (c == '\0') {
				r = dp_error_set(err, -EINVAL, "line %d: a quoted field is not closed", line);
				break;
			}
			if (c == '"' && s[1] == '"') {
				buf[len++] = '"';
				s++;
			} else if (c == '"') {
				quoted = false;
			} else {
				if (c == '\n')
					(*lines)++;
				buf[len++] = c;
			}
			continue;
		}
		if (c == '"' && len == 0 && !was_quoted) {
			quoted = was_quoted = true;
		} else if (c == ',' || c == '\n' || c == '\0' || (c == '\r' && (s[1] == '\n' || s[1] == '\0'))) {
			r = push_field(f, buf, len);
			len = 0;
			was_quoted = false;
			if (r < 0 || c == ',')
				continue;
			if (c == '\r')
				s++;
			if (*s)
				s++;
			(*lines)++;
			break;
		} else {
			buf[len++] = c;
		}
		if (r < 0)
			break;
	}
	free(buf);
	*p = s;
	return r;
}

int dp_csv_read(const char *path, struct dp_csv *csv, struct dp_error *err)
{
	FILE *file = fopen(path, "rb");
	char *text = NULL;
	size_t size = 0;
	const char *p;
	int line = 1, r = 0;

	memset(csv, 0, sizeof(*csv));
	if (!file)
		return dp_error_set(err, -errno, "cannot read the CSV file %s: %s", path, strerror(errno));
	if (getdelim(&text, &size, '\0', file) < 0) {
		/* Nothing read: an empty file (the buffer may hold anything). */
		if (ferror(file) || !text) {
			fclose(file);
			free(text);
			return dp_error_set(err, -EIO, "cannot read the CSV file %s", path);
		}
		text[0] = '\0';
	}
	fclose(file);
	p = text;
	if (strncmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3; /* a byte order mark from a spreadsheet export */
	while (*p && r == 0) {
		struct fields f = { 0 };
		int start = line, used = 0;

		if (*p == '\n' || (*p == '\r' && p[1] == '\n')) { /* blank line */
			p += *p == '\r' ? 2 : 1;
			line++;
			continue;
		}
		r = parse_record(&p, &f, &used, err, line);
		line += used;
		if (r < 0) {
			free_fields(f.v, f.n);
			break;
		}
		if (!csv->columns) {
			csv->columns = f.v;
			csv->n_columns = f.n;
			continue;
		}
		if (f.n != csv->n_columns) {
			r = dp_error_set(err, -EINVAL, "%s line %d: %zu fields where the header has %zu", path, start, f.n,
					 csv->n_columns);
			free_fields(f.v, f.n);
			break;
		}
		char ***rows = realloc(csv->rows, (csv->n_rows + 1) * sizeof(*rows));
		int *lines = realloc(csv->row_lines, (csv->n_rows + 1) * sizeof(int));

		if (rows)
			csv->rows = rows;
		if (lines)
			csv->row_lines = lines;
		if (!rows || !lines) {
			free_fields(f.v, f.n);
			r = -ENOMEM;
			break;
		}
		csv->rows[csv->n_rows] = f.v;
		csv->row_lines[csv->n_rows++] = start;
	}
	free(text);
	if (r == 0 && !csv->columns)
		r = dp_error_set(err, -EINVAL, "%s is empty: a CSV needs a header row naming its columns", path);
	if (r < 0)
		dp_csv_clear(csv);
	return r;
}

int dp_csv_column(const struct dp_csv *csv, const char *name)
{
	for (size_t i = 0; i < csv->n_columns; i++)
		if (strcmp(csv->columns[i], name) == 0)
			return (int)i;
	return -1;
}

void dp_csv_clear(struct dp_csv *csv)
{
	for (size_t i = 0; i < csv->n_rows; i++)
		free_fields(csv->rows[i], csv->n_columns);
	free(csv->rows);
	free(csv->row_lines);
	free_fields(csv->columns, csv->n_columns);
	memset(csv, 0, sizeof(*csv));
}
