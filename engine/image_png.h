/* Frames to PNG files (lossless: what the screen had, pixel for pixel). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "capture/frame.h"
#include "engine/error.h"

/* Writes frame as an 8-bit RGB PNG.  The file appears whole or not at all:
 * it is written beside path and renamed into place. */
int dp_png_write(const char *path, const struct dp_frame *frame, struct dp_error *err);

/* Encodes frame as an 8-bit RGB PNG in memory; *out is malloc'ed. */
int dp_png_encode(const struct dp_frame *frame, uint8_t **out, size_t *size, struct dp_error *err);
