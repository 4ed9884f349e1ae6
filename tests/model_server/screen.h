/* What the server "sees": the images of a request (data URLs, JPEG or PNG)
 * and the text on them, read with the engine's OCR after upscaling (a
 * 1080p screen sent at 896x504 has text about 6 pixels high). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture/frame.h"
#include "engine/error.h"

/* The size of an image in a data URL ("data:image/jpeg;base64,..." or
 * image/png), from its header only.  -EINVAL with a message for anything
 * else (another scheme, bad base64, not a JPEG or PNG). */
int ms_image_url_size(const char *url, int32_t *w, int32_t *h, struct dp_error *err);

/* Decodes the image of a data URL into a frame (free with dp_image_free). */
int ms_image_url_decode(const char *url, struct dp_frame *frame, struct dp_error *err);

struct ms_screen;

/* -ENOTSUP when OCR is not available in this build. */
int ms_screen_create(struct ms_screen **out, struct dp_error *err);
void ms_screen_destroy(struct ms_screen *s);

/* A text found on an image: its box in the image's pixels. */
struct ms_found {
	double x, y, width, height;
	char text[512]; /* as read */
	double score;   /* 1: the words match; below: similarity of the best near miss */
	double field_x; /* a label's field: where its frame starts (-1: none seen) */
};

/* Finds text (a word or phrase, case folded, near misses of OCR allowed) on
 * image; of equal matches the first in reading order, or with label set the
 * one with a field frame right of it or ending with a colon (a field's label
 * rather than a heading).  0 and *out; -ENOENT when nothing comes close, with
 * the lines read in the message.  seen (may be NULL) gets a short summary of
 * what is on the image: the first lines read, quoted. */
int ms_screen_find(struct ms_screen *s, const struct dp_frame *image, const char *text, bool label,
		   struct ms_found *out, char *seen, size_t seen_size, struct dp_error *err);

/* Only the summary of what is on image (as ms_screen_find gives it). */
int ms_screen_summary(struct ms_screen *s, const struct dp_frame *image, char *seen, size_t seen_size,
		      struct dp_error *err);
