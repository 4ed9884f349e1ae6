/* The Tesseract recognizer, through its C API. */
#include "engine/ocr_backend.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tesseract/capi.h>

struct dp_ocr_backend {
	TessBaseAPI *api;
	void (*omp_set_max_active_levels)(int);
};

/* Debian's Tesseract is built with OpenMP and runs parts of its LSTM on 4
 * threads (a num_threads clause, which omp_set_num_threads cannot lower);
 * on a small machine that is 2-3 times slower than one thread (1.4 s
 * against 0.45 s for a 1280x800 screen on 2 cores).  OMP_THREAD_LIMIT=1
 * fixes it but is read once, when libgomp loads, before main.  Allowing no
 * active parallel level in the thread that recognizes does the same, so
 * it is set before each recognition.  Looked up at run time: a Tesseract
 * built without OpenMP has no libgomp, and then there is nothing to do. */
static void serial_openmp(struct dp_ocr_backend *b)
{
	if (b->omp_set_max_active_levels)
		b->omp_set_max_active_levels(0);
}

int dp_ocr_backend_create(struct dp_ocr_backend **out, const char *lang, struct dp_error *err)
{
	/* Tesseract prints its own diagnostics; ours say what to do. */
	char *names[] = { "debug_file" };
	char *values[] = { "/dev/null" };
	struct dp_ocr_backend *b;

	*out = NULL;
	b = calloc(1, sizeof(*b));
	if (!b || !(b->api = TessBaseAPICreate())) {
		free(b);
		return dp_error_set(err, -ENOMEM, "ocr: out of memory for Tesseract");
	}
	if (TessBaseAPIInit4(b->api, NULL, lang, OEM_DEFAULT, NULL, 0, names, values, 1, false) != 0) {
		TessBaseAPIDelete(b->api);
		free(b);
		if (strchr(lang, '+'))
			return dp_error_set(err, -ENOENT,
					    "ocr: Tesseract has no data for one of the languages '%s': install "
					    "tesseract-ocr-LANG for each (apt-get), or set TESSDATA_PREFIX to their folder",
					    lang);
		return dp_error_set(err, -ENOENT,
				    "ocr: Tesseract has no data for language '%s': install it "
				    "(apt-get install tesseract-ocr-%s) or set TESSDATA_PREFIX to its folder",
				    lang, lang);
	}
	/* Without it, Tesseract's row model (x-height and ascenders) at times
	 * drops a tall thin letter at a word's end: "Cancel" read as "Cance"
	 * in a whole 1280x800 screen, but not in a crop of its top 180 rows.
	 * With it both read right; label accuracy is unchanged and terminal
	 * text loses 1% (bench/ocr_bench.c). */
	TessBaseAPISetVariable(b->api, "textord_single_height_mode", "1");
	TessBaseAPISetPageSegMode(b->api, PSM_SPARSE_TEXT);
	b->omp_set_max_active_levels = (void (*)(int))dlsym(RTLD_DEFAULT, "omp_set_max_active_levels");
	*out = b;
	return 0;
}

void dp_ocr_backend_destroy(struct dp_ocr_backend *b)
{
	if (!b)
		return;
	TessBaseAPIEnd(b->api);
	TessBaseAPIDelete(b->api);
	free(b);
}

void dp_ocr_backend_set_psm(struct dp_ocr_backend *b, enum dp_ocr_psm psm)
{
	TessBaseAPISetPageSegMode(b->api, psm == DP_OCR_PSM_AUTO ? PSM_AUTO : PSM_SPARSE_TEXT);
}

static int append(struct dp_ocr_word **words, size_t *n, size_t *cap)
{
	if (*n == *cap) {
		size_t grown = *cap ? *cap * 2 : 256;
		struct dp_ocr_word *w = realloc(*words, grown * sizeof(**words));

		if (!w)
			return -ENOMEM;
		*words = w;
		*cap = grown;
	}
	return 0;
}

/* Copies text, cut at a character boundary to fit. */
static void copy_utf8(char *dst, size_t size, const char *src)
{
	size_t len = strlen(src);

	if (len >= size) {
		len = size - 1;
		while (len > 0 && ((unsigned char)src[len] & 0xc0) == 0x80)
			len--;
	}
	memcpy(dst, src, len);
	dst[len] = '\0';
}

static bool blank(const char *s)
{
	for (; *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n')
			return false;
	return true;
}

int dp_ocr_backend_recognize(struct dp_ocr_backend *b, const struct dp_ocr_image *img, int dpi,
			     struct dp_ocr_word **words, size_t *n, size_t *cap, struct dp_error *err)
{
	TessResultIterator *it;
	TessPageIterator *pit;
	int line = -1, r = 0;

	serial_openmp(b);
	TessBaseAPISetImage(b->api, img->pixels, img->width, img->height, 1, img->stride);
	TessBaseAPISetSourceResolution(b->api, dpi);
	if (TessBaseAPIRecognize(b->api, NULL) != 0) {
		TessBaseAPIClear(b->api);
		return dp_error_set(err, -EIO, "ocr: Tesseract could not read a %dx%d image", img->width,
				    img->height);
	}
	it = TessBaseAPIGetIterator(b->api);
	if (!it) { /* nothing found */
		TessBaseAPIClear(b->api);
		return 0;
	}
	pit = TessResultIteratorGetPageIterator(it);
	do {
		int left, top, right, bottom;
		char *text;

		if (TessPageIteratorIsAtBeginningOf(pit, RIL_TEXTLINE))
			line++;
		if (!TessPageIteratorBoundingBox(pit, RIL_WORD, &left, &top, &right, &bottom))
			continue;
		text = TessResultIteratorGetUTF8Text(it, RIL_WORD);
		if (!text)
			continue;
		if (!blank(text)) {
			struct dp_ocr_word *w;

			if (append(words, n, cap) < 0) {
				TessDeleteText(text);
				r = dp_error_set(err, -ENOMEM, "ocr: out of memory for words");
				break;
			}
			w = &(*words)[(*n)++];
			copy_utf8(w->text, sizeof(w->text), text);
			w->box = (struct dp_rect){ left, top, right - left, bottom - top };
			w->confidence = TessResultIteratorConfidence(it, RIL_WORD) / 100.0f;
			w->line = line < 0 ? 0 : (uint32_t)line;
		}
		TessDeleteText(text);
	} while (TessResultIteratorNext(it, RIL_WORD));
	TessResultIteratorDelete(it);
	TessBaseAPIClear(b->api);
	return r;
}
