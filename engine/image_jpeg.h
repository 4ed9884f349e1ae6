/* Frames to JPEG through libjpeg-turbo: what a model is sent, small and fast. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "capture/frame.h"
#include "engine/error.h"

/* Encodes frame at quality 1..100; *out is malloc'ed (free it). */
int dp_jpeg_encode(const struct dp_frame *frame, int quality, uint8_t **out, size_t *size, struct dp_error *err);

/* Writes frame to path as JPEG, whole or not at all. */
int dp_jpeg_write(const char *path, const struct dp_frame *frame, int quality, struct dp_error *err);
