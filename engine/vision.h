/* What a vision-language model sees of a frame: the image resized to the
 * model's patch grid, and that image cut into normalised patch rows (the
 * model's native image tokens).
 *
 * The numbers follow Hugging Face transformers 5.17's
 * MiniMaxM3VLImageProcessor, the one AutoImageProcessor picks for MiniMax
 * M3 (it is a torchvision-backend processor; no PIL variant exists):
 *  1. smart_resize picks the target size: each side rounded to a multiple
 *     of factor (patch * merge), then scaled down or up when the area is
 *     above max_pixels or below min_pixels (dp_smart_resize);
 *  2. torchvision resizes the uint8 image with antialiased bicubic
 *     interpolation (Keys' kernel, a = -0.5, support widened by the
 *     downscale factor), in 16-bit fixed point, width first, each pass
 *     rounded back to uint8 (dp_resizer_run);
 *  3. each byte v becomes (v - 255 * mean) / (255 * std) in float32 and the
 *     image is cut into patch rows (dp_vision_patches).
 * The CPU code here matches the reference bit for bit on the images we
 * checked (see tests/test_vision.c), as the reference runs by default: on
 * the CPU (PyTorch's AVX2 and plain kernels agree).  A server that runs the
 * processor on a GPU (device="cuda") resizes in floating point and differs
 * from both by up to about 20 levels of a byte at a few percent of the
 * values, around sharp edges. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "capture/frame.h"
#include "engine/error.h"

struct dp_vision_profile {
	const char *name;
	int32_t patch_size;          /* pixels per patch side */
	int32_t merge_size;          /* patches per token side (merged 2x2 into one token) */
	int32_t temporal_patch_size; /* frames per patch; a still image is repeated */
	int32_t factor;              /* both sides of the image are multiples of this */
	int64_t min_pixels, max_pixels;
	double max_aspect;           /* smart_resize refuses longer/shorter above this */
	double image_mean[3], image_std[3]; /* per channel, R G B, for values in 0..1 */
	double rescale_factor;       /* bytes to 0..1: 1/255 */
};

/* The shape of the patch rows: t * h * w rows (t frames of h x w patches). */
struct dp_grid {
	int32_t t, h, w;
};

/* MiniMax M3: patch 14, merge 2, temporal 2, factor 28, 3136..451584
 * pixels, the CLIP mean and std. */
void dp_vision_profile_m3(struct dp_vision_profile *p);

/* Looks a profile up by name ("m3"); -ENOENT with a message if unknown. */
int dp_vision_profile_by_name(const char *name, struct dp_vision_profile *p, struct dp_error *err);

/* The size the reference processor resizes a height x width image to.
 * -EINVAL for an empty size, -ERANGE where the reference refuses the
 * aspect ratio (longer side over 200 times the shorter for M3). */
int dp_smart_resize(int32_t height, int32_t width, const struct dp_vision_profile *p, int32_t *out_h,
		    int32_t *out_w, struct dp_error *err);

/* Floats in one patch row: 3 * temporal * patch * patch (1176 for M3). */
size_t dp_vision_row_len(const struct dp_vision_profile *p);

/* Patch rows and image tokens of an image of width x height pixels (each a
 * multiple of factor, as dp_smart_resize gives). */
struct dp_grid dp_vision_grid(int32_t width, int32_t height, const struct dp_vision_profile *p);
int64_t dp_grid_rows(struct dp_grid g);
int64_t dp_grid_tokens(struct dp_grid g, const struct dp_vision_profile *p);

/* Resizes BGRX frames to packed RGB8 exactly as the reference does.  Keeps
 * the filter weights for the last (source size, target size) and its
 * scratch rows, so a stream of same-sized frames allocates nothing. */
struct dp_resizer;

int dp_resizer_create(struct dp_resizer **out);
void dp_resizer_destroy(struct dp_resizer *rs);

/* rgb_out holds out_w * out_h * 3 bytes.  Returns 0, -EINVAL (empty or
 * huge size) or -ENOMEM. */
int dp_resizer_run(struct dp_resizer *rs, const struct dp_frame *src, int32_t out_w, int32_t out_h,
		   uint8_t *rgb_out);

/* Which code dp_resizer_run uses: the portable C loops, or the same
 * arithmetic with AVX2 where the processor has it (the default).  Both give
 * the same bytes; the switch exists for tests and benchmarks. */
enum dp_vision_simd { DP_VISION_SIMD_AUTO, DP_VISION_SIMD_NONE };
void dp_resizer_set_simd(struct dp_resizer *rs, enum dp_vision_simd simd);
/* Whether AVX2 code runs for rs (false under DP_VISION_SIMD_NONE or on a
 * processor without it). */
int dp_resizer_uses_avx2(const struct dp_resizer *rs);

/* One-off form of dp_resizer_run (allocates its weights each call). */
int dp_vision_resize(const struct dp_frame *src, int32_t out_w, int32_t out_h, uint8_t *rgb_out);

/* Packed RGB (n pixels) to BGRX with X = 0xff, the format of struct
 * dp_frame and of the image writers. */
void dp_vision_rgb_to_bgrx(const uint8_t *rgb, size_t n, uint8_t *bgrx);

/* Cuts a w x h RGB8 image (w and h multiples of factor) into patch rows:
 * rows holds dp_grid_rows(grid) * dp_vision_row_len(p) floats.  Rows go
 * in 2x2 merge groups (group by group, left to right then down; inside a
 * group top-left, top-right, bottom-left, bottom-right); inside a row the
 * values go channel (R, G, B), then temporal slot (the still image twice),
 * then pixel row and column of the patch.  Returns 0 or -EINVAL. */
int dp_vision_patches(const uint8_t *rgb, int32_t w, int32_t h, const struct dp_vision_profile *p, float *rows,
		      struct dp_grid *grid);
