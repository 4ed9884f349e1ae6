/* Private to engine/ocr*.c: the recognizer behind dp_ocr (Tesseract,
 * engine/ocr_tess.c, built only where it was found). */
#pragma once

#include <stddef.h>

#include "engine/error.h"
#include "engine/ocr.h"
#include "engine/ocr_prep.h"

struct dp_ocr_backend;

int dp_ocr_backend_create(struct dp_ocr_backend **out, const char *lang, struct dp_error *err);
void dp_ocr_backend_destroy(struct dp_ocr_backend *b);

void dp_ocr_backend_set_psm(struct dp_ocr_backend *b, enum dp_ocr_psm psm);

/* Recognizes img (dpi: the resolution to tell Tesseract) and appends its
 * words to *words (n used, cap allocated; grown with realloc), boxes in
 * img's pixels, line numbered from 0 within this image.  Returns 0,
 * -ENOMEM, or -EIO when Tesseract fails. */
int dp_ocr_backend_recognize(struct dp_ocr_backend *b, const struct dp_ocr_image *img, int dpi,
			     struct dp_ocr_word **words, size_t *n, size_t *cap, struct dp_error *err);
