/* Reading order and lines of OCR words (engine/ocr.c, engine/locate.c). */
#pragma once

#include <stddef.h>

#include "capture/frame.h"
#include "engine/ocr.h"

/* The reading order of n boxes into order[]: boxes whose vertical centres
 * are within half the smaller height of a row's first box form a row; rows
 * go top to bottom, a row's boxes left to right.  0 or -ENOMEM. */
int dp_reading_order(const struct dp_rect *boxes, size_t n, size_t *order);

/* Puts words in reading order and groups them into lines: the words of a
 * row, split where the gap between two words is wider than 1.5 times the
 * taller one.  Sets each word's line; *lines is malloc'ed (free it).
 * 0 or -ENOMEM. */
int dp_ocr_layout(struct dp_ocr_word *words, size_t n, struct dp_ocr_line **lines, size_t *n_lines);
