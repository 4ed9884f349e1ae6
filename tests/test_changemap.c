/* The change map: exactly the 16x16 blocks that differ, and their box. */
#include <stdint.h>
#include <stdlib.h>

#include "capture/changemap.h"
#include "tst.h"

struct image {
	struct dp_frame frame;
	uint32_t *data;
};

static void image_init(struct image *img, int32_t w, int32_t h, int32_t pad_pixels, uint32_t seed)
{
	int32_t stride_px = w + pad_pixels;

	img->data = calloc((size_t)stride_px * (size_t)h, 4);
	for (int32_t y = 0; y < h; y++)
		for (int32_t x = 0; x < stride_px; x++)
			img->data[y * stride_px + x] = (uint32_t)(x * 7 + y * 13) ^ seed;
	img->frame = (struct dp_frame){ .width = w, .height = h, .stride = stride_px * 4,
					.pixels = (uint8_t *)img->data };
}

static void set_px(struct image *img, int32_t x, int32_t y, uint32_t v)
{
	img->data[y * (img->frame.stride / 4) + x] = v;
}

static void test_identical_frames(void)
{
	struct image a, b;
	struct dp_changemap map = { 0 };

	image_init(&a, 1920, 1080, 0, 0);
	image_init(&b, 1920, 1080, 0, 0);
	TST_EQ_INT(dp_changemap_compute(&map, &a.frame, &b.frame), 0);
	TST_EQ_INT(map.cols, 120);
	TST_EQ_INT(map.rows, 68); /* 1080 / 16 = 67.5: the last row is partial */
	TST_EQ_INT(map.changed, 0);
	TST_CHECK(dp_rect_empty(map.bbox));
	dp_changemap_release(&map);
	free(a.data);
	free(b.data);
}

static void test_single_pixels_mark_their_blocks(void)
{
	struct image a, b;
	struct dp_changemap map = { 0 };

	image_init(&a, 1920, 1080, 0, 0);
	image_init(&b, 1920, 1080, 0, 0);
	set_px(&b, 17, 33, 0x123456);     /* block (1, 2) */
	set_px(&b, 1919, 1079, 0xabcdef); /* block (119, 67), the partial last row */
	TST_EQ_INT(dp_changemap_compute(&map, &a.frame, &b.frame), 0);
	TST_EQ_INT(map.changed, 2);
	TST_EQ_INT(dp_changemap_at(&map, 1, 2), 1);
	TST_EQ_INT(dp_changemap_at(&map, 119, 67), 1);
	TST_EQ_INT(dp_changemap_at(&map, 0, 2), 0);
	TST_EQ_INT(map.bbox.x, 16);
	TST_EQ_INT(map.bbox.y, 32);
	TST_EQ_INT(map.bbox.x + map.bbox.width, 1920);
	TST_EQ_INT(map.bbox.y + map.bbox.height, 1080); /* clipped to the frame */
	dp_changemap_release(&map);
	free(a.data);
	free(b.data);
}

static void test_x_byte_is_ignored(void)
{
	struct image a, b;
	struct dp_changemap map = { 0 };

	image_init(&a, 64, 64, 0, 0);
	image_init(&b, 64, 64, 0, 0);
	for (int32_t y = 0; y < 64; y++)
		for (int32_t x = 0; x < 64; x++)
			set_px(&b, x, y, b.data[y * 64 + x] ^ 0xff000000u);
	TST_EQ_INT(dp_changemap_compute(&map, &a.frame, &b.frame), 0);
	TST_EQ_INT(map.changed, 0);
	dp_changemap_release(&map);
	free(a.data);
	free(b.data);
}

/* Widths that are not a multiple of 16, and rows with padding, as a
 * monitor region or an odd-sized screen gives. */
static void test_odd_width_and_stride(void)
{
	struct image a, b;
	struct dp_changemap map = { 0 };

	image_init(&a, 1366, 768, 10, 0);
	image_init(&b, 1366, 768, 10, 0);
	set_px(&b, 1365, 100, 0x010101); /* in the 6-pixel tail block */
	set_px(&b, 1370, 200, 0x010101); /* padding, outside the frame: ignored */
	TST_EQ_INT(dp_changemap_compute(&map, &a.frame, &b.frame), 0);
	TST_EQ_INT(map.cols, 86);
	TST_EQ_INT(map.changed, 1);
	TST_EQ_INT(dp_changemap_at(&map, 85, 6), 1);
	TST_EQ_INT(map.bbox.x, 1360);
	TST_EQ_INT(map.bbox.width, 6);
	dp_changemap_release(&map);
	free(a.data);
	free(b.data);
}

static void test_every_pixel_of_a_block_is_seen(void)
{
	struct image a, b;
	struct dp_changemap map = { 0 };

	image_init(&a, 48, 48, 0, 0);
	image_init(&b, 48, 48, 0, 0);
	for (int32_t y = 16; y < 32; y++) {
		for (int32_t x = 16; x < 32; x++) {
			uint32_t old = b.data[y * 48 + x];

			set_px(&b, x, y, old ^ 1);
			TST_EQ_INT(dp_changemap_compute(&map, &a.frame, &b.frame), 0);
			TST_EQ_INT(map.changed, 1);
			TST_EQ_INT(dp_changemap_at(&map, 1, 1), 1);
			set_px(&b, x, y, old);
		}
	}
	dp_changemap_release(&map);
	free(a.data);
	free(b.data);
}

static void test_size_mismatch_is_an_error(void)
{
	struct image a, b;
	struct dp_changemap map = { 0 };

	image_init(&a, 32, 32, 0, 0);
	image_init(&b, 48, 32, 0, 0);
	TST_EQ_INT(dp_changemap_compute(&map, &a.frame, &b.frame), -22);
	dp_changemap_release(&map);
	free(a.data);
	free(b.data);
}

int main(void)
{
	TST_RUN(test_identical_frames);
	TST_RUN(test_single_pixels_mark_their_blocks);
	TST_RUN(test_x_byte_is_ignored);
	TST_RUN(test_odd_width_and_stride);
	TST_RUN(test_every_pixel_of_a_block_is_seen);
	TST_RUN(test_size_mismatch_is_an_error);
	TST_EXIT();
}
