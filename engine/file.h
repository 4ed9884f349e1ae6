/* Files that appear whole or not at all. */
#pragma once

#include <stddef.h>
#include <stdio.h>

#include "engine/error.h"

/* Writes data to "<path>.part" and renames it into place. */
int dp_file_write_atomic(const char *path, const void *data, size_t size, struct dp_error *err);

/* For writers that stream: opens "<path>.part" (*tmp gets its name) ... */
FILE *dp_file_open_part(const char *path, char *tmp, size_t tmp_size, struct dp_error *err);
/* ... then commits it (ok) or removes it (!ok).  Returns 0 or -errno. */
int dp_file_commit_part(FILE *file, const char *tmp, const char *path, int ok, struct dp_error *err);
