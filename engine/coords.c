#include "engine/coords.h"

#include <errno.h>
#include <math.h>

/* How far a model coordinate runs along each axis. */
static void extent(const struct dp_coord_map *map, double *ex, double *ey)
{
	if (map->space == DP_COORDS_NORM1000) {
		*ex = 1000.0;
		*ey = 1000.0;
	} else {
		*ex = (double)map->image_w;
		*ey = (double)map->image_h;
	}
}

int dp_coords_map_init(struct dp_coord_map *map, struct dp_rect region, int32_t image_w, int32_t image_h,
		       enum dp_coord_space space, struct dp_error *err)
{
	if (dp_rect_empty(region) || image_w <= 0 || image_h <= 0)
		return dp_error_set(err, -EINVAL, "cannot map coordinates between a %dx%d image and a %dx%d region",
				    image_w, image_h, region.width, region.height);
	if (space != DP_COORDS_PIXELS && space != DP_COORDS_NORM1000)
		return dp_error_set(err, -EINVAL, "unknown coordinate space %d", (int)space);
	*map = (struct dp_coord_map){ .region = region, .image_w = image_w, .image_h = image_h, .space = space };
	return 0;
}

/* One axis: model coordinate m in [0, e] to a pixel of [origin, origin + size). */
static int32_t axis_to_screen(double m, double e, int32_t origin, int32_t size)
{
	double v = floor(m * (double)size / e + 0.5);

	if (v > (double)size - 1)
		v = (double)size - 1;
	if (v < 0)
		v = 0;
	return origin + (int32_t)v;
}

int dp_coords_to_screen(const struct dp_coord_map *map, double mx, double my, int32_t *sx, int32_t *sy,
			struct dp_error *err)
{
	double ex, ey;

	extent(map, &ex, &ey);
	if (!(mx >= 0 && mx <= ex && my >= 0 && my <= ey))
		return dp_error_set(err, -ERANGE, "point (%g, %g) is outside the image: x goes from 0 to %g, y from 0 to %g",
				    mx, my, ex, ey);
	*sx = axis_to_screen(mx, ex, map->region.x, map->region.width);
	*sy = axis_to_screen(my, ey, map->region.y, map->region.height);
	return 0;
}

int dp_coords_to_model(const struct dp_coord_map *map, int32_t sx, int32_t sy, double *mx, double *my,
		       struct dp_error *err)
{
	const struct dp_rect *r = &map->region;
	double ex, ey;

	if (sx < r->x || sy < r->y || (int64_t)sx >= (int64_t)r->x + r->width ||
	    (int64_t)sy >= (int64_t)r->y + r->height)
		return dp_error_set(err, -ERANGE, "screen pixel (%d, %d) is outside the region %dx%d+%d+%d", sx, sy,
				    r->width, r->height, r->x, r->y);
	extent(map, &ex, &ey);
	*mx = (double)((int64_t)sx - r->x) * ex / (double)r->width;
	*my = (double)((int64_t)sy - r->y) * ey / (double)r->height;
	return 0;
}

int dp_coords_rect_to_screen(const struct dp_coord_map *map, double x0, double y0, double x1, double y1,
			     struct dp_rect *out, struct dp_error *err)
{
	const struct dp_rect *r = &map->region;
	double ex, ey, left, top, right, bottom;

	extent(map, &ex, &ey);
	if (!(x0 >= 0 && y0 >= 0 && x1 <= ex && y1 <= ey && x0 < x1 && y0 < y1))
		return dp_error_set(err, -ERANGE,
				    "region (%g, %g)-(%g, %g) is empty or outside the image: x goes from 0 to %g, "
				    "y from 0 to %g",
				    x0, y0, x1, y1, ex, ey);
	/* Outward to whole pixels; a hair of slack so exact edges stay put. */
	left = floor(x0 * r->width / ex + 1e-9);
	top = floor(y0 * r->height / ey + 1e-9);
	right = ceil(x1 * r->width / ex - 1e-9);
	bottom = ceil(y1 * r->height / ey - 1e-9);
	if (right > r->width)
		right = r->width;
	if (bottom > r->height)
		bottom = r->height;
	if (right <= left)
		right = left + 1;
	if (bottom <= top)
		bottom = top + 1;
	*out = (struct dp_rect){ .x = r->x + (int32_t)left, .y = r->y + (int32_t)top,
				 .width = (int32_t)(right - left), .height = (int32_t)(bottom - top) };
	return 0;
}
