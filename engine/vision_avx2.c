/* The resize passes of engine/vision.c with AVX2: the same integer sums in
 * 16-bit x 16-bit multiply-adds (vpmaddwd), so the same bytes come out.
 * Built for every x86-64 target through function attributes and chosen at
 * run time; other processors use the C loops. */
#include "engine/vision_simd.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_AVX2_CODE 1
#include <immintrin.h>
#define AVX2 __attribute__((target("avx2")))
#else
#define HAVE_AVX2_CODE 0
#endif

bool dp_vision_have_avx2(void)
{
#if HAVE_AVX2_CODE
	return __builtin_cpu_supports("avx2");
#else
	return false;
#endif
}

bool dp_vision_avx2_fits(const struct dp_vision_axis *ax)
{
	return HAVE_AVX2_CODE && ax->in >= ax->taps && ax->taps % 2 == 0;
}

/* The horizontal pass takes two outputs at a time, one in each 128-bit
 * lane, four taps at a time: four BGRX pixels are shuffled to the 16-bit
 * values B0 B1 G0 G1 R0 R1 X0 X1 and B2 B3 G2 G3 R2 R3 X2 X3 and multiplied
 * by (w0, w1) and (w2, w3) pairs; a last pair of taps, if any, alone.
 * wx holds those pairs: for each pair of outputs, a 32-byte vector for
 * each pair of taps. */
int dp_vision_avx2_prepare_horizontal(struct dp_vision_axis *ax)
{
	int32_t pairs = ax->out / 2, tap_pairs = ax->taps / 2;
	int16_t *wx;

	free(ax->wx);
	ax->wx = NULL;
	wx = aligned_alloc(32, (size_t)(pairs > 0 ? pairs : 1) * (size_t)tap_pairs * 32);
	if (!wx)
		return -ENOMEM;
	for (int32_t p = 0; p < pairs; p++) {
		for (int32_t t = 0; t < tap_pairs; t++) {
			int16_t *v = wx + ((size_t)p * (size_t)tap_pairs + (size_t)t) * 16;

			for (int lane = 0; lane < 2; lane++) {
				const int16_t *w = ax->w + (size_t)(2 * p + lane) * (size_t)ax->taps + 2 * t;

				for (int k = 0; k < 4; k++) {
					v[lane * 8 + 2 * k] = w[0];
					v[lane * 8 + 2 * k + 1] = w[1];
				}
			}
		}
	}
	ax->wx = wx;
	return 0;
}

#if HAVE_AVX2_CODE

static inline uint8_t to_byte(int32_t acc, int bits)
{
	if (acc < 0)
		return 0;
	acc >>= bits;
	return (uint8_t)(acc > 255 ? 255 : acc);
}

/* One output pixel the plain way (the odd ones at the end of a row). */
static void horizontal_pixel(const struct dp_vision_axis *ax, const uint8_t *row, int32_t x, uint8_t *d)
{
	const int16_t *w = ax->w + (size_t)x * (size_t)ax->taps;
	const uint8_t *s = row + (size_t)ax->start[x] * 4;
	int32_t half = 1 << (ax->bits - 1), b = half, g = half, r = half;

	for (int32_t j = 0; j < ax->taps; j++) {
		b += w[j] * s[4 * j];
		g += w[j] * s[4 * j + 1];
		r += w[j] * s[4 * j + 2];
	}
	d[0] = to_byte(r, ax->bits);
	d[1] = to_byte(g, ax->bits);
	d[2] = to_byte(b, ax->bits);
}

/* Sums of the BGRX channels of outputs 2p (low lane) and 2p + 1 of rows
 * r0 and r1, for a known number of groups (so the loop unrolls); the two
 * rows share the weights' loads. */
__attribute__((always_inline)) AVX2 static inline void horizontal_two(const struct dp_vision_axis *ax,
								     const uint8_t *r0, const uint8_t *r1,
								     int32_t p, int32_t groups, bool tail,
								     __m256i taps01, __m256i taps23,
								     __m256i *acc0, __m256i *acc1)
{
	const int32_t tap_pairs = 2 * groups + tail;
	const __m256i *wv = (const __m256i *)(const void *)(ax->wx + (size_t)p * (size_t)tap_pairs * 16);
	size_t o0 = (size_t)ax->start[2 * p] * 4, o1 = (size_t)ax->start[2 * p + 1] * 4;
	__m256i a0 = _mm256_setzero_si256(), a1 = _mm256_setzero_si256();

	for (int32_t g = 0; g < groups; g++) {
		__m256i w01 = _mm256_load_si256(wv + 2 * g), w23 = _mm256_load_si256(wv + 2 * g + 1);
		__m256i v = _mm256_inserti128_si256(
			_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)(r0 + o0 + 16 * g))),
			_mm_loadu_si128((const __m128i *)(const void *)(r0 + o1 + 16 * g)), 1);
		__m256i u = _mm256_inserti128_si256(
			_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)(r1 + o0 + 16 * g))),
			_mm_loadu_si128((const __m128i *)(const void *)(r1 + o1 + 16 * g)), 1);

		a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(_mm256_shuffle_epi8(v, taps01), w01));
		a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(_mm256_shuffle_epi8(v, taps23), w23));
		a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(_mm256_shuffle_epi8(u, taps01), w01));
		a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(_mm256_shuffle_epi8(u, taps23), w23));
	}
	if (tail) {
		/* Two pixels: 8 bytes, so nothing past the window is read. */
		__m256i w01 = _mm256_load_si256(wv + 2 * groups);
		__m256i v = _mm256_inserti128_si256(
			_mm256_castsi128_si256(_mm_loadl_epi64((const __m128i *)(const void *)(r0 + o0 + 16 * groups))),
			_mm_loadl_epi64((const __m128i *)(const void *)(r0 + o1 + 16 * groups)), 1);
		__m256i u = _mm256_inserti128_si256(
			_mm256_castsi128_si256(_mm_loadl_epi64((const __m128i *)(const void *)(r1 + o0 + 16 * groups))),
			_mm_loadl_epi64((const __m128i *)(const void *)(r1 + o1 + 16 * groups)), 1);

		a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(_mm256_shuffle_epi8(v, taps01), w01));
		a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(_mm256_shuffle_epi8(u, taps01), w01));
	}
	*acc0 = a0;
	*acc1 = a1;
}

/* Sums of outputs x, x+1 (a) and x+2, x+3 (b) to 12 bytes of R G B. */
AVX2 static inline void store_quad(__m256i a, __m256i b, __m256i half, __m128i bits, __m256i to_rgb, uint8_t *d)
{
	__m256i v;
	__m128i out;
	uint8_t tmp[16];

	a = _mm256_sra_epi32(_mm256_add_epi32(a, half), bits);
	b = _mm256_sra_epi32(_mm256_add_epi32(b, half), bits);
	v = _mm256_packs_epi32(a, b);  /* lanes: x, x+2 | x+1, x+3 (16-bit) */
	v = _mm256_packus_epi16(v, v); /* the same as bytes, twice */
	v = _mm256_shuffle_epi8(v, to_rgb);
	/* low lane: R G B of x at 0..2 and x+2 at 6..8; high lane: x+1 at 3..5, x+3 at 9..11 */
	out = _mm_or_si128(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
	_mm_storeu_si128((__m128i *)(void *)tmp, out);
	memcpy(d, tmp, 12);
}

/* All rows, for a known number of groups. */
__attribute__((always_inline)) AVX2 static inline void horizontal_rows(const struct dp_vision_axis *ax,
								       const uint8_t *src, size_t src_stride,
								       int32_t rows, uint8_t *dst,
								       size_t dst_stride, int32_t groups,
								       bool tail)
{
	/* Per lane: the B G R X bytes of pixels 0 and 1 to the 16-bit values
	 * B0 B1 G0 G1 R0 R1 X0 X1 (zeros come from the -1 indices), and the
	 * same for pixels 2 and 3. */
	const __m256i taps01 = _mm256_setr_epi8(0, -1, 4, -1, 1, -1, 5, -1, 2, -1, 6, -1, 3, -1, 7, -1, 0, -1, 4, -1,
						1, -1, 5, -1, 2, -1, 6, -1, 3, -1, 7, -1);
	const __m256i taps23 = _mm256_setr_epi8(8, -1, 12, -1, 9, -1, 13, -1, 10, -1, 14, -1, 11, -1, 15, -1, 8, -1,
						12, -1, 9, -1, 13, -1, 10, -1, 14, -1, 11, -1, 15, -1);
	/* After packing: x = 4q .. 4q + 3 as B G R X bytes in the order
	 * x, x+2 (low lane), x+1, x+3 (high lane); to R G B of x..x+3. */
	const __m256i to_rgb = _mm256_setr_epi8(2, 1, 0, -1, -1, -1, 6, 5, 4, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
						2, 1, 0, -1, -1, -1, 6, 5, 4, -1, -1, -1, -1);
	const __m256i half = _mm256_set1_epi32(1 << (ax->bits - 1));
	const __m128i bits = _mm_cvtsi32_si128(ax->bits);
	const int32_t quads = ax->out / 4;

	for (int32_t y = 0; y < rows; y += 2) {
		const uint8_t *r0 = src + (size_t)y * src_stride;
		const uint8_t *r1 = y + 1 < rows ? r0 + src_stride : r0; /* an odd last row is done twice */
		uint8_t *d0 = dst + (size_t)y * dst_stride;
		uint8_t *d1 = y + 1 < rows ? d0 + dst_stride : d0;

		for (int32_t q = 0; q < quads; q++) {
			__m256i a0, a1, b0, b1;

			horizontal_two(ax, r0, r1, 2 * q, groups, tail, taps01, taps23, &a0, &a1);     /* x, x+1 */
			horizontal_two(ax, r0, r1, 2 * q + 1, groups, tail, taps01, taps23, &b0, &b1); /* x+2, x+3 */
			store_quad(a0, b0, half, bits, to_rgb, d0 + (size_t)q * 12);
			store_quad(a1, b1, half, bits, to_rgb, d1 + (size_t)q * 12);
		}
		for (int32_t x = quads * 4; x < ax->out; x++) {
			horizontal_pixel(ax, r0, x, d0 + (size_t)x * 3);
			horizontal_pixel(ax, r1, x, d1 + (size_t)x * 3);
		}
	}
}

AVX2 void dp_vision_horizontal_avx2(const struct dp_vision_axis *ax, const uint8_t *src, size_t src_stride,
				    int32_t rows, uint8_t *dst, size_t dst_stride)
{
	/* Unrolled for the common widths: 4 taps (upscaling, 4 or 5 real
	 * ones), 6 (up to 1.5x down), 10 (up to 2.5x: 1080p to M3's 896x504),
	 * 12 (3x), 14 (3.5x: 4K). */
	switch (ax->taps) {
	case 4:
		horizontal_rows(ax, src, src_stride, rows, dst, dst_stride, 1, false);
		break;
	case 6:
		horizontal_rows(ax, src, src_stride, rows, dst, dst_stride, 1, true);
		break;
	case 10:
		horizontal_rows(ax, src, src_stride, rows, dst, dst_stride, 2, true);
		break;
	case 12:
		horizontal_rows(ax, src, src_stride, rows, dst, dst_stride, 3, false);
		break;
	case 14:
		horizontal_rows(ax, src, src_stride, rows, dst, dst_stride, 3, true);
		break;
	default:
		horizontal_rows(ax, src, src_stride, rows, dst, dst_stride, ax->taps / 4, ax->taps % 4 != 0);
		break;
	}
}

/* The vertical pass runs along rows 32 bytes at a time, two taps at a
 * time: bytes of rows j and j + 1 interleaved, widened to 16 bits and
 * multiplied by the pair (w_j, w_j+1). */
AVX2 void dp_vision_vertical_avx2(const struct dp_vision_axis *ax, const uint8_t *src, size_t len, uint8_t *dst)
{
	const __m256i zero = _mm256_setzero_si256();
	const __m256i half = _mm256_set1_epi32(1 << (ax->bits - 1));
	const __m128i bits = _mm_cvtsi32_si128(ax->bits);
	const size_t blocks = len / 32;

	for (int32_t y = 0; y < ax->out; y++) {
		const int16_t *w = ax->w + (size_t)y * (size_t)ax->taps;
		const uint8_t *base = src + (size_t)ax->start[y] * len;
		uint8_t *d = dst + (size_t)y * len;
		int32_t lo = 0, hi = ax->taps;

		/* Only the taps with weights; whole pairs. */
		while (lo < hi && w[lo] == 0)
			lo++;
		while (hi > lo && w[hi - 1] == 0)
			hi--;
		lo &= ~1;
		hi = (hi + 1) & ~1;
		for (size_t b = 0; b < blocks; b++) {
			__m256i acc0 = half, acc1 = half, acc2 = half, acc3 = half;

			for (int32_t j = lo; j < hi; j += 2) {
				const uint8_t *r0 = base + (size_t)j * len + 32 * b;
				__m256i r = _mm256_loadu_si256((const __m256i *)(const void *)r0);
				__m256i s = _mm256_loadu_si256((const __m256i *)(const void *)(r0 + len));
				__m256i wp = _mm256_set1_epi32((int32_t)(((uint32_t)(uint16_t)w[j + 1] << 16) |
									 (uint16_t)w[j]));
				__m256i rs_lo = _mm256_unpacklo_epi8(r, s), rs_hi = _mm256_unpackhi_epi8(r, s);

				acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(_mm256_unpacklo_epi8(rs_lo, zero), wp));
				acc1 = _mm256_add_epi32(acc1, _mm256_madd_epi16(_mm256_unpackhi_epi8(rs_lo, zero), wp));
				acc2 = _mm256_add_epi32(acc2, _mm256_madd_epi16(_mm256_unpacklo_epi8(rs_hi, zero), wp));
				acc3 = _mm256_add_epi32(acc3, _mm256_madd_epi16(_mm256_unpackhi_epi8(rs_hi, zero), wp));
			}
			acc0 = _mm256_sra_epi32(acc0, bits);
			acc1 = _mm256_sra_epi32(acc1, bits);
			acc2 = _mm256_sra_epi32(acc2, bits);
			acc3 = _mm256_sra_epi32(acc3, bits);
			/* The unpacks split each lane in order; the packs put it back. */
			_mm256_storeu_si256((__m256i *)(void *)(d + 32 * b),
					    _mm256_packus_epi16(_mm256_packs_epi32(acc0, acc1),
								_mm256_packs_epi32(acc2, acc3)));
		}
		for (size_t i = blocks * 32; i < len; i++) {
			int32_t acc = 1 << (ax->bits - 1);

			for (int32_t j = lo; j < hi; j++)
				acc += w[j] * base[(size_t)j * len + i];
			d[i] = to_byte(acc, ax->bits);
		}
	}
}

/* Four pixels a step: 12 bytes of RGB to 16 of BGRX. */
AVX2 void dp_vision_rgb_to_bgrx_avx2(const uint8_t *rgb, size_t n, uint8_t *bgrx)
{
	/* Pixel k of a 16-byte load at byte 12 * k ... to B G R X. */
	const __m128i shuffle = _mm_setr_epi8(2, 1, 0, -1, 5, 4, 3, -1, 8, 7, 6, -1, 11, 10, 9, -1);
	const __m128i opaque = _mm_set1_epi32((int32_t)0xff000000u);
	size_t i = 0;

	/* Each load reads 16 bytes for 12; stop while 4 spare bytes remain. */
	for (; i + 6 <= n; i += 4) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(rgb + 3 * i));

		_mm_storeu_si128((__m128i *)(void *)(bgrx + 4 * i), _mm_or_si128(_mm_shuffle_epi8(v, shuffle), opaque));
	}
	for (; i < n; i++) {
		bgrx[4 * i] = rgb[3 * i + 2];
		bgrx[4 * i + 1] = rgb[3 * i + 1];
		bgrx[4 * i + 2] = rgb[3 * i];
		bgrx[4 * i + 3] = 0xff;
	}
}

#else

void dp_vision_rgb_to_bgrx_avx2(const uint8_t *rgb, size_t n, uint8_t *bgrx)
{
	(void)rgb, (void)n, (void)bgrx;
	abort();
}

void dp_vision_horizontal_avx2(const struct dp_vision_axis *ax, const uint8_t *src, size_t src_stride,
			       int32_t rows, uint8_t *dst, size_t dst_stride)
{
	(void)ax, (void)src, (void)src_stride, (void)rows, (void)dst, (void)dst_stride;
	abort(); /* dp_vision_avx2_fits said no */
}

void dp_vision_vertical_avx2(const struct dp_vision_axis *ax, const uint8_t *src, size_t len, uint8_t *dst)
{
	(void)ax, (void)src, (void)len, (void)dst;
	abort();
}

#endif
