/* Pixel layouts a compositor may send, converted to BGRX. */
#include "capture/pixfmt.h"
#include "tst.h"

/* One pixel with B=0x11 G=0x22 R=0x33 in each layout, and a padding byte. */
static void check(enum dp_pixfmt format, const uint8_t src[8])
{
	uint8_t dst[8] = { 0 };

	dp_pixfmt_row_to_bgrx(format, dst, src, 2);
	for (int i = 0; i < 2; i++) {
		TST_EQ_INT(dst[i * 4 + 0], 0x11);
		TST_EQ_INT(dst[i * 4 + 1], 0x22);
		TST_EQ_INT(dst[i * 4 + 2], 0x33);
	}
}

static void test_layouts(void)
{
	static const uint8_t bgrx[8] = { 0x11, 0x22, 0x33, 0xff, 0x11, 0x22, 0x33, 0x00 };
	static const uint8_t rgbx[8] = { 0x33, 0x22, 0x11, 0xff, 0x33, 0x22, 0x11, 0x00 };
	static const uint8_t xrgb[8] = { 0xff, 0x33, 0x22, 0x11, 0x00, 0x33, 0x22, 0x11 };
	static const uint8_t xbgr[8] = { 0xff, 0x11, 0x22, 0x33, 0x00, 0x11, 0x22, 0x33 };

	check(DP_PIXFMT_BGRX, bgrx);
	check(DP_PIXFMT_RGBX, rgbx);
	check(DP_PIXFMT_XRGB, xrgb);
	check(DP_PIXFMT_XBGR, xbgr);
	TST_EQ_STR(dp_pixfmt_name(DP_PIXFMT_XRGB), "xRGB");
}

int main(void)
{
	TST_RUN(test_layouts);
	TST_EXIT();
}
