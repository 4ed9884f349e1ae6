/* Private to engine/ocr*.c: screen text of either polarity made dark on
 * white, each pixel replaced by its distance from the background it lies on.
 *
 * The background of a 16x16 block is its commonest grey level where that
 * covers half the block, else the commonest of the 3x3 blocks around.  A
 * block whose neighbours have other backgrounds (a window's edge) is settled
 * pixel by pixel: each neighbour's background floods in through the pixels
 * close to it, and what is left (text) takes the background beside it. */
#pragma once

#include <stdint.h>

#include "engine/gray.h"

#define DP_OCR_FLATTEN_BLOCK 16

/* out: g->width * g->height bytes, rows packed.  0 or -ENOMEM. */
int dp_ocr_flatten(const struct dp_gray *g, uint8_t *out);
