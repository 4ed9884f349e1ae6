#include "capture/pixfmt.h"

#include <string.h>

const char *dp_pixfmt_name(enum dp_pixfmt format)
{
	static const char *const names[] = {
		[DP_PIXFMT_BGRX] = "BGRx", [DP_PIXFMT_RGBX] = "RGBx",
		[DP_PIXFMT_XRGB] = "xRGB", [DP_PIXFMT_XBGR] = "xBGR",
	};

	return (unsigned)format < sizeof(names) / sizeof(names[0]) ? names[format] : "?";
}

void dp_pixfmt_row_to_bgrx(enum dp_pixfmt format, uint8_t *dst, const uint8_t *src, size_t width)
{
	/* Byte positions of B, G, R in the source pixel. */
	static const uint8_t order[][3] = {
		[DP_PIXFMT_BGRX] = { 0, 1, 2 },
		[DP_PIXFMT_RGBX] = { 2, 1, 0 },
		[DP_PIXFMT_XRGB] = { 3, 2, 1 },
		[DP_PIXFMT_XBGR] = { 1, 2, 3 },
	};
	const uint8_t *o;

	if (format == DP_PIXFMT_BGRX) {
		memcpy(dst, src, width * 4);
		return;
	}
	o = order[format];
	for (size_t i = 0; i < width; i++, dst += 4, src += 4) {
		dst[0] = src[o[0]];
		dst[1] = src[o[1]];
		dst[2] = src[o[2]];
		dst[3] = 0;
	}
}
