/* Private to engine/ocr*.c: lines that are not text, taken out before
 * recognition.
 *
 * Screens frame text in thin lines: entry and button frames, focus rings,
 * table grids, separators, underlines.  Tesseract's sparse-text layout
 * takes framed text for an image and reads nothing there (a grid of
 * framed labels: 0 words of 72), or reads a frame's side as "|" or "[".
 * So, on the flattened image (text dark on white):
 *   - a horizontal rule is a row of dark pixels at least 24 long (gaps of
 *     one pixel bridged, for dotted lines), at most 3 thick;
 *   - a vertical rule is a column of dark pixels at most 3 thick, at least
 *     8 long where it ends on a horizontal rule (a frame's side), at least
 *     32 long elsewhere;
 * and their pixels become white, with the corners and crossings between
 * them.  A letter's strokes are shorter (a 13 px font's longest is about
 * 10 px), and where a stroke crosses a rule, the crossing is thicker than 3
 * and stays. */
#pragma once

#include <stdint.h>

/* flat: width x height bytes, rows stride apart, changed in place.  0 or
 * -ENOMEM. */
int dp_ocr_remove_rules(uint8_t *flat, int32_t width, int32_t height, int32_t stride);
