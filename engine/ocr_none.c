/* The recognizer of a build without Tesseract: there is none. */
#include "engine/ocr_backend.h"

#include <errno.h>

int dp_ocr_backend_create(struct dp_ocr_backend **out, const char *lang, struct dp_error *err)
{
	(void)lang;
	*out = NULL;
	return dp_error_set(err, -ENOTSUP,
			    "ocr: deskpilot was built without Tesseract, so text cannot be read: install "
			    "libtesseract-dev (and tesseract-ocr-eng to run), then rebuild "
			    "(meson configure build -Dtesseract=enabled && ninja -C build)");
}

void dp_ocr_backend_destroy(struct dp_ocr_backend *b)
{
	(void)b;
}

void dp_ocr_backend_set_psm(struct dp_ocr_backend *b, enum dp_ocr_psm psm)
{
	(void)b;
	(void)psm;
}

int dp_ocr_backend_recognize(struct dp_ocr_backend *b, const struct dp_ocr_image *img, int dpi,
			     struct dp_ocr_word **words, size_t *n, size_t *cap, struct dp_error *err)
{
	(void)b;
	(void)img;
	(void)dpi;
	(void)words;
	(void)n;
	(void)cap;
	return dp_error_set(err, -ENOTSUP, "ocr: built without Tesseract");
}
