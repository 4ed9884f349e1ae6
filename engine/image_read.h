/* PNG and JPEG files to BGRX frames: the images `deskpilot encode` is given. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "capture/frame.h"
#include "engine/error.h"

/* Decodes a PNG or JPEG (told apart by their first bytes, not by name).
 * The frame's pixels are malloc'ed: release them with dp_image_free.
 * Colour is taken as the file stores it, as PIL's convert("RGB") does:
 * grey is repeated over R, G and B, palettes are expanded, 16-bit samples
 * keep their high byte, alpha is dropped, gamma and ICC profiles are
 * ignored.  JPEGs decode with libjpeg-turbo's accurate DCT and smooth
 * chroma upsampling, PIL's defaults.  EXIF orientation is not applied.
 * name is used in messages. */
int dp_image_decode(const uint8_t *data, size_t size, const char *name, struct dp_frame *frame,
		    struct dp_error *err);

/* Reads path and decodes it. */
int dp_image_read(const char *path, struct dp_frame *frame, struct dp_error *err);

void dp_image_free(struct dp_frame *frame);
