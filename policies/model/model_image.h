/* A screen region as the model is sent it: resized to exactly the
 * profile's smart_resize grid (so the server does not resize again and
 * coordinates map back exactly), encoded as JPEG or PNG, as a data URL;
 * its image-token count known before it is sent. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "capture/frame.h"
#include "engine/coords.h"
#include "engine/error.h"
#include "policies/model/profile.h"

struct dp_model_image {
	int32_t width, height;  /* of the image sent */
	uint64_t tokens;        /* image tokens it costs: (w / factor) * (h / factor) */
	size_t encoded_bytes;   /* JPEG or PNG bytes, before base64 */
	char *data_url;         /* "data:image/jpeg;base64,..." (malloc'ed) */
	struct dp_coord_map map; /* model coordinates <-> screen pixels */
};

struct dp_model_imager;

int dp_model_imager_create(struct dp_model_imager **out, const struct dp_model_profile *profile, struct dp_error *err);
void dp_model_imager_destroy(struct dp_model_imager *im);

/* region: screen pixels inside frame (the whole frame, or a zoom region
 * taken at full resolution and fitted to max_pixels). */
int dp_model_image_make(struct dp_model_imager *im, const struct dp_frame *frame, struct dp_rect region,
			struct dp_model_image *out, struct dp_error *err);
void dp_model_image_clear(struct dp_model_image *img);

/* The grid size for a region of w x h pixels under the profile. */
int dp_model_image_size(const struct dp_model_profile *p, int32_t w, int32_t h, int32_t *out_w, int32_t *out_h,
			struct dp_error *err);

/* Base64 of data (standard alphabet, padded), malloc'ed and NUL-ended,
 * after prefix. */
char *dp_base64_with_prefix(const char *prefix, const uint8_t *data, size_t len);
