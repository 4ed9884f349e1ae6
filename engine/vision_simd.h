/* Private to engine/vision*.c: one axis's resize filter, and the AVX2
 * versions of the two resize passes (engine/vision_avx2.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The filter for one axis of in -> out pixels: output i is
 * (sum over j < taps of w[i * taps + j] * input[start[i] + j]) >> bits,
 * rounded; see engine/vision.c. */
struct dp_vision_axis {
	int32_t in, out;
	int32_t taps;     /* weights per output: even, zero-padded */
	int32_t bits;     /* fraction bits of the fixed-point weights */
	int32_t *start;   /* first input of each output's window */
	int16_t *w;       /* out * taps weights */
	int16_t *wx;      /* the AVX2 code's copy of w, laid out for it (or NULL) */
};

bool dp_vision_have_avx2(void);

/* Whether the AVX2 passes can run this axis (its windows stay inside the
 * input). */
bool dp_vision_avx2_fits(const struct dp_vision_axis *ax);

/* Lays the horizontal weights out for the AVX2 pass in ax->wx: 0 or
 * -ENOMEM. */
int dp_vision_avx2_prepare_horizontal(struct dp_vision_axis *ax);

/* The horizontal pass: rows of BGRX pixels (src_stride bytes apart) to rows
 * of packed RGB (dst_stride apart); needs ax->wx.  Writes no byte past a
 * row's last pixel. */
void dp_vision_horizontal_avx2(const struct dp_vision_axis *ax, const uint8_t *src, size_t src_stride,
			       int32_t rows, uint8_t *dst, size_t dst_stride);

/* The vertical pass over packed rows of len bytes. */
void dp_vision_vertical_avx2(const struct dp_vision_axis *ax, const uint8_t *src, size_t len, uint8_t *dst);

/* Packed RGB to BGRX with X = 0xff. */
void dp_vision_rgb_to_bgrx_avx2(const uint8_t *rgb, size_t n, uint8_t *bgrx);
