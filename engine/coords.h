/* Model image space <-> physical screen pixels.
 *
 * A model points into the image it was sent: in that image's pixels (M3,
 * UI-TARS) or on a 0..1000 scale of its width and height (Qwen3-VL).  The
 * image shows one region of the screen: the whole screen, one monitor, or a
 * zoom region, each a rectangle in screen pixels (struct dp_frame's x, y,
 * width, height).  Both spaces are continuous with the origin at the
 * top-left corner of the region, and the image is stretched over it:
 *   screen = region.x + model * region.width / image_width   (x; y alike)
 * so pixel i of the image covers screen pixels from region.x + i * sx to
 * region.x + (i + 1) * sx, sx = region.width / image_width.  This is how
 * models trained on resized screenshots are scored, and it is exact in
 * both directions up to rounding to whole pixels. */
#pragma once

#include <stdint.h>

#include "capture/frame.h"
#include "engine/error.h"

enum dp_coord_space {
	DP_COORDS_PIXELS,   /* pixels of the sent image */
	DP_COORDS_NORM1000, /* 0..1000 of the sent image's width and height */
};

struct dp_coord_map {
	struct dp_rect region;    /* the screen pixels the image shows */
	int32_t image_w, image_h; /* the size of the image the model was sent */
	enum dp_coord_space space;
};

/* A map for an image of image_w x image_h showing region; -EINVAL if either
 * is empty. */
int dp_coords_map_init(struct dp_coord_map *map, struct dp_rect region, int32_t image_w, int32_t image_h,
		       enum dp_coord_space space, struct dp_error *err);

/* Model coordinates to the screen pixel under them, rounded to the nearest
 * and kept inside the region.  -ERANGE, naming the allowed range, for a
 * point outside the image (0..width, 0..height, or 0..1000; the far edge
 * itself is allowed and maps to the last pixel). */
int dp_coords_to_screen(const struct dp_coord_map *map, double mx, double my, int32_t *sx, int32_t *sy,
			struct dp_error *err);

/* A screen pixel (its top-left corner, as screen coordinates are whole
 * numbers) to model coordinates: the exact inverse of dp_coords_to_screen
 * before its rounding.  -ERANGE for a pixel outside the region. */
int dp_coords_to_model(const struct dp_coord_map *map, int32_t sx, int32_t sy, double *mx, double *my,
		       struct dp_error *err);

/* The same for a rectangle, such as a zoom region the model asks for in
 * its coordinates: the smallest whole-pixel screen rectangle covering it,
 * clipped to the region. */
int dp_coords_rect_to_screen(const struct dp_coord_map *map, double x0, double y0, double x1, double y1,
			     struct dp_rect *out, struct dp_error *err);
