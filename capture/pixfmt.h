/* 32-bit pixel layouts a compositor may hand over, and their conversion to
 * the BGRX frames every deskpilot module reads.  Names give the byte order
 * in memory, as PipeWire's SPA_VIDEO_FORMAT_* do (BGRx: B first). */
#pragma once

#include <stddef.h>
#include <stdint.h>

enum dp_pixfmt {
	DP_PIXFMT_BGRX, /* also BGRA: the alpha byte is ignored */
	DP_PIXFMT_RGBX, /* also RGBA */
	DP_PIXFMT_XRGB, /* also ARGB */
	DP_PIXFMT_XBGR, /* also ABGR */
};

const char *dp_pixfmt_name(enum dp_pixfmt format);

/* Converts one row of width pixels; dst and src must not overlap. */
void dp_pixfmt_row_to_bgrx(enum dp_pixfmt format, uint8_t *dst, const uint8_t *src, size_t width);
