/* The model's view of a frame: target size, resize, patch rows.
 *
 * Resize.  The reference (torchvision's resize of a uint8 tensor with
 * antialias=True and bicubic interpolation, which runs PyTorch's
 * separable "AA" kernel) works one axis at a time, width first, and rounds
 * the result of each pass to uint8.  For one axis of in -> out pixels:
 *   scale   = in / out                      (double)
 *   support = 2 * scale when scale >= 1, else 2 (the cubic's reach)
 *   for output i: centre = scale * (i + 0.5),
 *     first = max(trunc(centre - support + 0.5), 0),
 *     last  = min(trunc(centre + support + 0.5), in)   (exclusive),
 *     weight of input j = k((j - centre + 0.5) / max(scale, 1)), normalised
 *     to sum 1, with k Keys' cubic kernel for a = -0.5;
 *   the weights go to 16-bit fixed point with the most fraction bits that
 *   keep the largest weight of the axis below 2^15 (at most 22), each
 *   rounded half away from zero;
 *   out = clamp((2^(bits-1) + sum weight * byte) >> bits, 0, 255).
 * An axis whose size does not change is not filtered at all.  The integer
 * sums do not depend on their order, so any loop order or vector width
 * gives the same bytes.
 *
 * Patch rows.  The reference turns each byte v into
 *   (float)((float)v - m) / s,  m = (float)mean * 255, s = (float)std * 255
 * (all float32: it folds the 1/255 rescale into mean and std), then
 * reshapes [C, H, W] to [H/(p*m), m, p, W/(p*m), m, p] patches, permutes to
 * (block row, block column, row in block, column in block, C, patch row,
 * patch column) and repeats each patch over the temporal slots just after C.
 * A 256-entry table per channel gives the same floats. */
#include "engine/vision.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "engine/vision_simd.h"

/* Larger frames than this are refused rather than risk int overflow. */
#define DP_VISION_MAX_SIDE 32768
/* The reference stops looking for more fraction bits here. */
#define WEIGHT_BITS_MAX 22

void dp_vision_profile_m3(struct dp_vision_profile *p)
{
	*p = (struct dp_vision_profile){
		.name = "m3",
		.patch_size = 14,
		.merge_size = 2,
		.temporal_patch_size = 2,
		.factor = 28,
		.min_pixels = 3136,
		.max_pixels = 451584,
		.max_aspect = 200.0,
		/* OpenAI CLIP's, as transformers spells them */
		.image_mean = { 0.48145466, 0.4578275, 0.40821073 },
		.image_std = { 0.26862954, 0.26130258, 0.27577711 },
		.rescale_factor = 1.0 / 255.0,
	};
}

int dp_vision_profile_by_name(const char *name, struct dp_vision_profile *p, struct dp_error *err)
{
	if (strcmp(name, "m3") == 0 || strcmp(name, "minimax-m3") == 0) {
		dp_vision_profile_m3(p);
		return 0;
	}
	return dp_error_set(err, -ENOENT, "unknown vision profile '%s': the known one is m3", name);
}

int dp_smart_resize(int32_t height, int32_t width, const struct dp_vision_profile *p, int32_t *out_h,
		    int32_t *out_w, struct dp_error *err)
{
	double f = (double)p->factor, ratio, beta;
	int64_t h_bar, w_bar, hi, lo;

	if (height <= 0 || width <= 0)
		return dp_error_set(err, -EINVAL, "cannot resize an empty %dx%d image", width, height);
	if (p->factor <= 0 || p->min_pixels <= 0 || p->max_pixels < p->min_pixels)
		return dp_error_set(err, -EINVAL, "vision profile %s: bad factor or pixel limits",
				    p->name ? p->name : "?");
	hi = height > width ? height : width;
	lo = height > width ? width : height;
	ratio = (double)hi / (double)lo;
	if (ratio > p->max_aspect)
		return dp_error_set(err, -ERANGE,
				    "a %dx%d image is too long and thin for the model: its aspect ratio %.4g is "
				    "over %g; crop it or send a region",
				    width, height, ratio, p->max_aspect);
	/* Python's round() rounds halves to even, as rint does in the default
	 * rounding mode; the divisions are the same IEEE doubles. */
	h_bar = (int64_t)rint((double)height / f) * p->factor;
	w_bar = (int64_t)rint((double)width / f) * p->factor;
	if (h_bar * w_bar > p->max_pixels) {
		beta = sqrt((double)((int64_t)height * width) / (double)p->max_pixels);
		h_bar = (int64_t)floor((double)height / beta / f) * p->factor;
		w_bar = (int64_t)floor((double)width / beta / f) * p->factor;
		if (h_bar < p->factor)
			h_bar = p->factor;
		if (w_bar < p->factor)
			w_bar = p->factor;
	} else if (h_bar * w_bar < p->min_pixels) {
		beta = sqrt((double)p->min_pixels / (double)((int64_t)height * width));
		h_bar = (int64_t)ceil((double)height * beta / f) * p->factor;
		w_bar = (int64_t)ceil((double)width * beta / f) * p->factor;
	}
	if (h_bar > DP_VISION_MAX_SIDE || w_bar > DP_VISION_MAX_SIDE)
		return dp_error_set(err, -ERANGE, "%dx%d resizes to %lldx%lld, larger than deskpilot handles",
				    width, height, (long long)w_bar, (long long)h_bar);
	*out_h = (int32_t)h_bar;
	*out_w = (int32_t)w_bar;
	return 0;
}

size_t dp_vision_row_len(const struct dp_vision_profile *p)
{
	return (size_t)3 * (size_t)p->temporal_patch_size * (size_t)p->patch_size * (size_t)p->patch_size;
}

struct dp_grid dp_vision_grid(int32_t width, int32_t height, const struct dp_vision_profile *p)
{
	return (struct dp_grid){ .t = 1, .h = height / p->patch_size, .w = width / p->patch_size };
}

int64_t dp_grid_rows(struct dp_grid g)
{
	return (int64_t)g.t * g.h * g.w;
}

int64_t dp_grid_tokens(struct dp_grid g, const struct dp_vision_profile *p)
{
	return dp_grid_rows(g) / ((int64_t)p->merge_size * p->merge_size);
}

/* ---- resize ---- */

/* Keys' cubic convolution kernel with a = -0.5, written as the reference
 * writes it so the doubles round the same way. */
static double cubic(double x)
{
	const double a = -0.5;

	x = fabs(x);
	if (x < 1.0)
		return ((a + 2) * x - (a + 3)) * x * x + 1;
	if (x < 2.0)
		return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
	return 0.0;
}

static void axis_release(struct dp_vision_axis *ax)
{
	free(ax->start);
	free(ax->w);
	free(ax->wx);
	*ax = (struct dp_vision_axis){ 0 };
}

/* The filter of one axis (see the top of this file).  Each output's
 * window is widened to ax->taps inputs (the widest window, made even), with
 * zero weights, and moved left where it would run past the end, so vector
 * code can always read ax->taps inputs from ax->start[i] (when in >= taps). */
static int axis_init(struct dp_vision_axis *ax, int32_t in, int32_t out)
{
	double scale = (double)in / (double)out;
	double support = scale >= 1.0 ? 2.0 * scale : 2.0;
	double invscale = scale >= 1.0 ? 1.0 / scale : 1.0;
	int32_t window = (int32_t)ceil(support) * 2 + 1, taps = 2;
	double *wd = NULL, w_max = 0.0;
	int32_t *first = NULL, *size = NULL;
	int bits;

	axis_release(ax);
	wd = calloc((size_t)out * (size_t)window, sizeof(*wd));
	first = calloc((size_t)out, sizeof(*first));
	size = calloc((size_t)out, sizeof(*size));
	if (!wd || !first || !size)
		goto nomem;
	for (int32_t i = 0; i < out; i++) {
		double centre = scale * ((double)i + 0.5), total = 0.0;
		int64_t lo = (int64_t)(centre - support + 0.5), hi = (int64_t)(centre + support + 0.5);
		double *w = wd + (size_t)i * (size_t)window;

		if (lo < 0)
			lo = 0;
		if (hi > in)
			hi = in;
		hi -= lo;
		if (hi < 0)
			hi = 0;
		if (hi > window)
			hi = window;
		first[i] = (int32_t)lo;
		size[i] = (int32_t)hi;
		if (size[i] > taps)
			taps = size[i];
		for (int32_t j = 0; j < size[i]; j++) {
			w[j] = cubic(((double)(j + lo) - centre + 0.5) * invscale);
			total += w[j];
		}
		if (total != 0.0) {
			for (int32_t j = 0; j < size[i]; j++) {
				w[j] /= total;
				if (w[j] > w_max)
					w_max = w[j];
			}
		}
	}
	for (bits = 0; bits < WEIGHT_BITS_MAX; bits++) {
		if ((int)(0.5 + w_max * (double)(1 << (bits + 1))) >= (1 << 15))
			break;
	}
	taps = (taps + 1) & ~1; /* the vector code takes taps in pairs */
	*ax = (struct dp_vision_axis){ .in = in, .out = out, .taps = taps, .bits = bits };
	ax->start = calloc((size_t)out, sizeof(*ax->start));
	ax->w = calloc((size_t)out * (size_t)taps, sizeof(*ax->w));
	if (!ax->start || !ax->w)
		goto nomem;
	for (int32_t i = 0; i < out; i++) {
		int32_t s = first[i];

		if (in >= taps && s + taps > in)
			s = in - taps;
		ax->start[i] = s;
		for (int32_t j = 0; j < size[i]; j++) {
			double v = wd[(size_t)i * (size_t)window + (size_t)j] * (double)(1 << bits);

			ax->w[(size_t)i * (size_t)taps + (size_t)(first[i] - s + j)] =
				(int16_t)(v < 0 ? -0.5 + v : 0.5 + v);
		}
	}
	free(wd);
	free(first);
	free(size);
	return 0;
nomem:
	free(wd);
	free(first);
	free(size);
	axis_release(ax);
	return -ENOMEM;
}

struct dp_resizer {
	int32_t src_w, src_h, dst_w, dst_h; /* what the axes were made for */
	struct dp_vision_axis hx, vy;
	uint8_t *tmp;      /* the horizontal pass's rows: src_h x dst_w x 3 */
	size_t tmp_size;
	int32_t *acc;      /* one row of sums for the vertical pass */
	size_t acc_size;
	bool simd;         /* AVX2 allowed */
};

int dp_resizer_create(struct dp_resizer **out)
{
	struct dp_resizer *rs = calloc(1, sizeof(*rs));

	if (!rs)
		return -ENOMEM;
	rs->simd = true;
	*out = rs;
	return 0;
}

void dp_resizer_destroy(struct dp_resizer *rs)
{
	if (!rs)
		return;
	axis_release(&rs->hx);
	axis_release(&rs->vy);
	free(rs->tmp);
	free(rs->acc);
	free(rs);
}

void dp_resizer_set_simd(struct dp_resizer *rs, enum dp_vision_simd simd)
{
	rs->simd = simd == DP_VISION_SIMD_AUTO;
}

int dp_resizer_uses_avx2(const struct dp_resizer *rs)
{
	return rs->simd && dp_vision_have_avx2();
}

static int grow(void **buf, size_t *size, size_t need)
{
	void *p;

	if (*size >= need)
		return 0;
	p = realloc(*buf, need);
	if (!p)
		return -ENOMEM;
	*buf = p;
	*size = need;
	return 0;
}

static int prepare(struct dp_resizer *rs, const struct dp_frame *src, int32_t out_w, int32_t out_h)
{
	bool need_h = out_w != src->width, need_v = out_h != src->height;
	int r;

	if (rs->src_w != src->width || rs->dst_w != out_w) {
		rs->src_w = rs->dst_w = 0;
		if (need_h && (r = axis_init(&rs->hx, src->width, out_w)) < 0)
			return r;
		rs->src_w = src->width;
		rs->dst_w = out_w;
	}
	if (rs->src_h != src->height || rs->dst_h != out_h) {
		rs->src_h = rs->dst_h = 0;
		if (need_v && (r = axis_init(&rs->vy, src->height, out_h)) < 0)
			return r;
		rs->src_h = src->height;
		rs->dst_h = out_h;
	}
	if (need_v) {
		if (grow((void **)&rs->tmp, &rs->tmp_size, (size_t)src->height * (size_t)out_w * 3) < 0 ||
		    grow((void **)&rs->acc, &rs->acc_size, (size_t)out_w * 3 * sizeof(int32_t) + 64) < 0)
			return -ENOMEM;
	}
	return 0;
}

static inline uint8_t to_byte(int32_t acc, int bits)
{
	if (acc < 0)
		return 0;
	acc >>= bits;
	return (uint8_t)(acc > 255 ? 255 : acc);
}

/* The horizontal pass: every row of the source to packed RGB rows of
 * dst_stride bytes. */
static void horizontal_c(const struct dp_vision_axis *ax, const struct dp_frame *src, uint8_t *dst,
			 size_t dst_stride)
{
	int32_t half = 1 << (ax->bits - 1);

	for (int32_t y = 0; y < src->height; y++) {
		const uint8_t *row = src->pixels + (size_t)y * (size_t)src->stride;
		uint8_t *d = dst + (size_t)y * dst_stride;

		for (int32_t x = 0; x < ax->out; x++) {
			const int16_t *w = ax->w + (size_t)x * (size_t)ax->taps;
			const uint8_t *s = row + (size_t)ax->start[x] * 4;
			int32_t n = ax->in - ax->start[x] < ax->taps ? ax->in - ax->start[x] : ax->taps;
			int32_t b = half, g = half, r = half;

			for (int32_t j = 0; j < n; j++) {
				b += w[j] * s[4 * j];
				g += w[j] * s[4 * j + 1];
				r += w[j] * s[4 * j + 2];
			}
			d[3 * x] = to_byte(r, ax->bits);
			d[3 * x + 1] = to_byte(g, ax->bits);
			d[3 * x + 2] = to_byte(b, ax->bits);
		}
	}
}

/* The vertical pass over packed rows of len bytes (acc: len sums). */
static void vertical_c(const struct dp_vision_axis *ax, const uint8_t *src, size_t len, int32_t *acc,
		       uint8_t *dst)
{
	int32_t half = 1 << (ax->bits - 1);

	for (int32_t y = 0; y < ax->out; y++) {
		const int16_t *w = ax->w + (size_t)y * (size_t)ax->taps;
		int32_t n = ax->in - ax->start[y] < ax->taps ? ax->in - ax->start[y] : ax->taps;
		uint8_t *d = dst + (size_t)y * len;

		for (size_t i = 0; i < len; i++)
			acc[i] = half;
		for (int32_t j = 0; j < n; j++) {
			const uint8_t *s = src + (size_t)(ax->start[y] + j) * len;
			int32_t wj = w[j];

			if (wj == 0)
				continue;
			for (size_t i = 0; i < len; i++)
				acc[i] += wj * s[i];
		}
		for (size_t i = 0; i < len; i++)
			d[i] = to_byte(acc[i], ax->bits);
	}
}

/* BGRX rows to packed RGB, no filtering (the width does not change). */
static void copy_rgb(const struct dp_frame *src, uint8_t *dst, size_t dst_stride)
{
	for (int32_t y = 0; y < src->height; y++) {
		const uint8_t *s = src->pixels + (size_t)y * (size_t)src->stride;
		uint8_t *d = dst + (size_t)y * dst_stride;

		for (int32_t x = 0; x < src->width; x++) {
			d[3 * x] = s[4 * x + 2];
			d[3 * x + 1] = s[4 * x + 1];
			d[3 * x + 2] = s[4 * x];
		}
	}
}

int dp_resizer_run(struct dp_resizer *rs, const struct dp_frame *src, int32_t out_w, int32_t out_h,
		   uint8_t *rgb_out)
{
	bool need_h = out_w != src->width, need_v = out_h != src->height;
	bool avx2 = dp_resizer_uses_avx2(rs);
	size_t out_stride = (size_t)out_w * 3;
	uint8_t *hdst;
	int r;

	if (!src->pixels || src->width <= 0 || src->height <= 0 || src->stride < 4 * src->width ||
	    out_w <= 0 || out_h <= 0 || src->width > DP_VISION_MAX_SIDE || src->height > DP_VISION_MAX_SIDE ||
	    out_w > DP_VISION_MAX_SIDE || out_h > DP_VISION_MAX_SIDE)
		return -EINVAL;
	r = prepare(rs, src, out_w, out_h);
	if (r < 0)
		return r;
	/* Without a vertical pass the horizontal one writes the result. */
	hdst = need_v ? rs->tmp : rgb_out;
	if (!need_h) {
		copy_rgb(src, hdst, out_stride);
	} else if (avx2 && dp_vision_avx2_fits(&rs->hx)) {
		if (!rs->hx.wx && dp_vision_avx2_prepare_horizontal(&rs->hx) < 0)
			return -ENOMEM;
		dp_vision_horizontal_avx2(&rs->hx, src->pixels, (size_t)src->stride, src->height, hdst,
					  out_stride);
	} else {
		horizontal_c(&rs->hx, src, hdst, out_stride);
	}
	if (!need_v)
		return 0;
	if (avx2 && dp_vision_avx2_fits(&rs->vy))
		dp_vision_vertical_avx2(&rs->vy, rs->tmp, out_stride, rgb_out);
	else
		vertical_c(&rs->vy, rs->tmp, out_stride, rs->acc, rgb_out);
	return 0;
}

int dp_vision_resize(const struct dp_frame *src, int32_t out_w, int32_t out_h, uint8_t *rgb_out)
{
	struct dp_resizer *rs;
	int r = dp_resizer_create(&rs);

	if (r < 0)
		return r;
	r = dp_resizer_run(rs, src, out_w, out_h, rgb_out);
	dp_resizer_destroy(rs);
	return r;
}

void dp_vision_rgb_to_bgrx(const uint8_t *rgb, size_t n, uint8_t *bgrx)
{
	if (dp_vision_have_avx2()) {
		dp_vision_rgb_to_bgrx_avx2(rgb, n, bgrx);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		bgrx[4 * i] = rgb[3 * i + 2];
		bgrx[4 * i + 1] = rgb[3 * i + 1];
		bgrx[4 * i + 2] = rgb[3 * i];
		bgrx[4 * i + 3] = 0xff;
	}
}

/* ---- patch rows ---- */

int dp_vision_patches(const uint8_t *rgb, int32_t w, int32_t h, const struct dp_vision_profile *p, float *rows,
		      struct dp_grid *grid)
{
	const int32_t ps = p->patch_size, ms = p->merge_size, ts = p->temporal_patch_size;
	const int32_t block = ps * ms;
	const size_t plane = (size_t)ps * (size_t)ps; /* floats of one channel of one patch */
	float lut[3][256];
	struct dp_grid g;
	float *row = rows;

	if (!rgb || !rows || ps <= 0 || ms <= 0 || ts <= 0 || w <= 0 || h <= 0 || w % block || h % block)
		return -EINVAL;
	for (int c = 0; c < 3; c++) {
		/* float32 throughout, in the reference's order (see the top) */
		float scale = (float)(1.0 / p->rescale_factor);
		float m = (float)p->image_mean[c] * scale, s = (float)p->image_std[c] * scale;

		for (int v = 0; v < 256; v++) {
			/* volatile: rounded to float here even where float
			 * arithmetic runs wider (x87) */
			volatile float diff = (float)v - m;

			lut[c][v] = diff / s;
		}
	}
	g = dp_vision_grid(w, h, p);
	for (int32_t by = 0; by < h / block; by++) {
		for (int32_t bx = 0; bx < w / block; bx++) {
			for (int32_t my = 0; my < ms; my++) {
				for (int32_t mx = 0; mx < ms; mx++) {
					int32_t y0 = by * block + my * ps, x0 = bx * block + mx * ps;

					for (int c = 0; c < 3; c++) {
						float *out = row + (size_t)c * (size_t)ts * plane;

						for (int32_t py = 0; py < ps; py++) {
							const uint8_t *s = rgb + ((size_t)(y0 + py) * (size_t)w + (size_t)x0) * 3 + c;

							for (int32_t px = 0; px < ps; px++)
								out[py * ps + px] = lut[c][s[3 * px]];
						}
						for (int32_t t = 1; t < ts; t++)
							memcpy(out + (size_t)t * plane, out, plane * sizeof(float));
					}
					row += (size_t)3 * (size_t)ts * plane;
				}
			}
		}
	}
	if (grid)
		*grid = g;
	return 0;
}
