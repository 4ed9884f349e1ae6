#include "policies/model/model_image.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/image_jpeg.h"
#include "engine/image_png.h"
#include "engine/vision.h"

struct dp_model_imager {
	struct dp_model_profile profile;
	struct dp_vision_profile vision;
	struct dp_resizer *resizer;
	uint8_t *rgb, *bgrx;
	size_t capacity; /* pixels */
};

int dp_model_imager_create(struct dp_model_imager **out, const struct dp_model_profile *profile, struct dp_error *err)
{
	struct dp_model_imager *im = calloc(1, sizeof(*im));

	if (!im || dp_resizer_create(&im->resizer) < 0) {
		free(im);
		return dp_error_set(err, -ENOMEM, "out of memory");
	}
	im->profile = *profile;
	/* The M3 processor's rules with this profile's grid: smart_resize
	 * only uses factor, min, max and the aspect limit. */
	dp_vision_profile_m3(&im->vision);
	im->vision.factor = profile->factor;
	im->vision.patch_size = profile->factor / 2;
	im->vision.min_pixels = profile->min_pixels;
	im->vision.max_pixels = profile->max_pixels;
	*out = im;
	return 0;
}

void dp_model_imager_destroy(struct dp_model_imager *im)
{
	if (!im)
		return;
	dp_resizer_destroy(im->resizer);
	free(im->rgb);
	free(im->bgrx);
	free(im);
}

void dp_model_image_clear(struct dp_model_image *img)
{
	free(img->data_url);
	memset(img, 0, sizeof(*img));
}

int dp_model_image_size(const struct dp_model_profile *p, int32_t w, int32_t h, int32_t *out_w, int32_t *out_h,
			struct dp_error *err)
{
	struct dp_vision_profile v;

	dp_vision_profile_m3(&v);
	v.factor = p->factor;
	v.patch_size = p->factor / 2;
	v.min_pixels = p->min_pixels;
	v.max_pixels = p->max_pixels;
	return dp_smart_resize(h, w, &v, out_h, out_w, err);
}

char *dp_base64_with_prefix(const char *prefix, const uint8_t *data, size_t len)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t plen = strlen(prefix), o = plen;
	char *out = malloc(plen + (len + 2) / 3 * 4 + 1);

	if (!out)
		return NULL;
	memcpy(out, prefix, plen);
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)data[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)data[i + 1] << 8;
		if (i + 2 < len)
			v |= data[i + 2];
		out[o++] = abc[(v >> 18) & 63];
		out[o++] = abc[(v >> 12) & 63];
		out[o++] = i + 1 < len ? abc[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < len ? abc[v & 63] : '=';
	}
	out[o] = '\0';
	return out;
}

int dp_model_image_make(struct dp_model_imager *im, const struct dp_frame *frame, struct dp_rect region,
			struct dp_model_image *out, struct dp_error *err)
{
	struct dp_rect whole = { frame->x, frame->y, frame->width, frame->height };
	struct dp_frame view = *frame, sent = { 0 };
	uint8_t *encoded = NULL;
	size_t encoded_size = 0, n;
	int32_t w, h;
	int r;

	memset(out, 0, sizeof(*out));
	region = dp_rect_intersect(region, whole);
	if (dp_rect_empty(region))
		return dp_error_set(err, -EINVAL, "the region to show the model is outside the screen");
	/* A view of the region inside the frame's pixels: no copy. */
	view.pixels = frame->pixels + (size_t)(region.y - frame->y) * (size_t)frame->stride +
		      (size_t)(region.x - frame->x) * 4;
	view.width = region.width;
	view.height = region.height;
	view.x = region.x;
	view.y = region.y;
	r = dp_smart_resize(region.height, region.width, &im->vision, &h, &w, err);
	if (r < 0)
		return r;
	n = (size_t)w * (size_t)h;
	if (n > im->capacity) {
		uint8_t *rgb = realloc(im->rgb, n * 3), *bgrx;

		if (!rgb)
			return dp_error_set(err, -ENOMEM, "out of memory for the model's image");
		im->rgb = rgb;
		bgrx = realloc(im->bgrx, n * 4);
		if (!bgrx)
			return dp_error_set(err, -ENOMEM, "out of memory for the model's image");
		im->bgrx = bgrx;
		im->capacity = n;
	}
	r = dp_resizer_run(im->resizer, &view, w, h, im->rgb);
	if (r < 0)
		return dp_error_set(err, r, "resizing the screen to %dx%d failed", w, h);
	dp_vision_rgb_to_bgrx(im->rgb, n, im->bgrx);
	sent.width = w;
	sent.height = h;
	sent.stride = w * 4;
	sent.pixels = im->bgrx;
	if (im->profile.image_format == DP_MODEL_IMAGE_PNG)
		r = dp_png_encode(&sent, &encoded, &encoded_size, err);
	else
		r = dp_jpeg_encode(&sent, im->profile.image_quality, &encoded, &encoded_size, err);
	if (r < 0)
		return r;
	out->data_url = dp_base64_with_prefix(im->profile.image_format == DP_MODEL_IMAGE_PNG ? "data:image/png;base64,"
											       : "data:image/jpeg;base64,",
					      encoded, encoded_size);
	free(encoded);
	if (!out->data_url)
		return dp_error_set(err, -ENOMEM, "out of memory for the model's image");
	out->width = w;
	out->height = h;
	out->encoded_bytes = encoded_size;
	out->tokens = (uint64_t)(w / im->profile.factor) * (uint64_t)(h / im->profile.factor);
	r = dp_coords_map_init(&out->map, region, w, h, im->profile.coords, err);
	if (r < 0)
		dp_model_image_clear(out);
	return r;
}
