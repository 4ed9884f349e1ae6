#include "screen.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <turbojpeg.h>

#include "engine/gray.h"
#include "engine/image_read.h"
#include "engine/ocr.h"
#include "engine/textmatch.h"
#include "engine/vision.h"
#include "util.h"

#define MS_MATCH_MIN 0.75 /* similarity an OCR near miss needs to count as the text */

struct ms_screen {
	struct dp_ocr *ocr;
};

/* The bytes of a data URL's image. */
static int url_bytes(const char *url, uint8_t **data, size_t *size, struct dp_error *err)
{
	const char *comma;

	if (strncmp(url, "data:image/jpeg;base64,", 23) && strncmp(url, "data:image/png;base64,", 22))
		return dp_error_set(err, -EINVAL,
				    "image_url.url: expected a data URL of a JPEG or PNG (data:image/jpeg;base64,...)");
	comma = strchr(url, ',');
	if (ms_base64_decode(comma + 1, strlen(comma + 1), data, size) < 0)
		return dp_error_set(err, -EINVAL, "image_url.url: the base64 data is not valid");
	return 0;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int ms_image_url_size(const char *url, int32_t *w, int32_t *h, struct dp_error *err)
{
	static const uint8_t png_sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	uint8_t *data;
	size_t size;
	int r;

	if ((r = url_bytes(url, &data, &size, err)) < 0)
		return r;
	r = -EINVAL;
	if (size >= 24 && !memcmp(data, png_sig, 8) && !memcmp(data + 12, "IHDR", 4)) {
		uint32_t pw = be32(data + 16), ph = be32(data + 20);

		if (pw > 0 && ph > 0 && pw < 1u << 20 && ph < 1u << 20) {
			*w = (int32_t)pw;
			*h = (int32_t)ph;
			r = 0;
		}
	} else if (size > 2 && data[0] == 0xff && data[1] == 0xd8) {
		tjhandle tj = tjInitDecompress();
		int jw, jh, sub, cs;

		if (tj && size <= 0xffffffffu &&
		    tjDecompressHeader3(tj, data, (unsigned long)size, &jw, &jh, &sub, &cs) == 0) {
			*w = jw;
			*h = jh;
			r = 0;
		}
		if (tj)
			tjDestroy(tj);
	}
	free(data);
	if (r < 0)
		dp_error_set(err, r, "image_url.url: not a readable JPEG or PNG image");
	return r;
}

int ms_image_url_decode(const char *url, struct dp_frame *frame, struct dp_error *err)
{
	uint8_t *data;
	size_t size;
	int r;

	if ((r = url_bytes(url, &data, &size, err)) < 0)
		return r;
	r = dp_image_decode(data, size, "the screenshot", frame, err);
	free(data);
	return r;
}

int ms_screen_create(struct ms_screen **out, struct dp_error *err)
{
	struct ms_screen *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return dp_error_set(err, -ENOMEM, "out of memory");
	if ((r = dp_ocr_create(&s->ocr, NULL, err)) < 0) {
		free(s);
		return r;
	}
	/* The image is upscaled before OCR already (upscale_factor): Tesseract
	 * needs only 2x more of it, which reads these images as well as 3x and
	 * faster (measured on the sample ERP app at 896x504). */
	if ((r = dp_ocr_set_options(s->ocr, &(struct dp_ocr_options){ .scale = 2 }, err)) < 0) {
		dp_ocr_destroy(s->ocr);
		free(s);
		return r;
	}
	*out = s;
	return 0;
}

void ms_screen_destroy(struct ms_screen *s)
{
	if (!s)
		return;
	dp_ocr_destroy(s->ocr);
	free(s);
}

/* Small images are upscaled so that their text reaches the size OCR reads
 * well; the factor brings a 1080p screenshot's width back near 1800. */
static int upscale_factor(int32_t w)
{
	return w < 700 ? 3 : w < 1400 ? 2 : 1;
}

static int upscale(const struct dp_frame *in, int k, struct dp_frame *out)
{
	size_t n = (size_t)in->width * k * (size_t)in->height * k;
	uint8_t *rgb = malloc(n * 3);

	memset(out, 0, sizeof(*out));
	out->pixels = malloc(n * 4);
	if (!rgb || !out->pixels || dp_vision_resize(in, in->width * k, in->height * k, rgb) < 0) {
		free(rgb);
		free(out->pixels);
		out->pixels = NULL;
		return -ENOMEM;
	}
	dp_vision_rgb_to_bgrx(rgb, n, out->pixels);
	free(rgb);
	out->width = in->width * k;
	out->height = in->height * k;
	out->stride = out->width * 4;
	return 0;
}

/* Whether an input field starts right of box: going right from its end,
 * a frame line (darker than the background) within four text heights,
 * then a light inside. */
static bool field_right_of(const struct dp_frame *f, struct dp_rect box, int32_t *frame_x)
{
	int32_t y = box.y + box.height / 2, x0 = box.x + box.width + 1, h = box.height > 4 ? box.height : 4;
	int bg;

	if (y < 0 || y >= f->height || x0 >= f->width)
		return false;
	bg = dp_luma(dp_frame_pixel(f, x0, y));
	for (int32_t x = x0 + 1; x < x0 + 4 * h && x + 3 < f->width; x++) {
		if (dp_luma(dp_frame_pixel(f, x, y)) + 40 < bg) {
			/* Past the frame (a few pixels at most), the inside. */
			for (int32_t k = x + 1; k < x + 6 && k < f->width; k++)
				if (dp_luma(dp_frame_pixel(f, k, y)) >= 200) {
					if (frame_x)
						*frame_x = x;
					return true;
				}
			return false;
		}
	}
	return false;
}

static int query_words(const char *text, char words[][128], int max)
{
	int n = 0;
	const char *p = text;

	while (*p && n < max) {
		size_t len;

		while (*p == ' ')
			p++;
		len = strcspn(p, " ");
		if (!len)
			break;
		snprintf(words[n++], 128, "%.*s", (int)(len < 127 ? len : 127), p);
		p += len;
	}
	return n;
}

/* Scores the run of n words starting at words[i] (all on one line). */
static double run_score(const struct dp_ocr_result *res, size_t i, int n, char q[][128], const char *text,
			char *joined, size_t size)
{
	bool exact = true;
	size_t len = 0;

	joined[0] = '\0';
	for (int k = 0; k < n; k++) {
		const char *w = res->words[i + (size_t)k].text;

		exact = exact && dp_text_word_equal(w, q[k], true);
		len += (size_t)snprintf(joined + len, len < size ? size - len : 0, "%s%s", k ? " " : "", w);
		if (len >= size)
			len = size - 1;
	}
	return exact ? 1.0 : dp_text_similarity(joined, text);
}

static void summarise(const struct dp_ocr_result *res, char *seen, size_t size)
{
	size_t len = 0;

	if (!seen || !size)
		return;
	seen[0] = '\0';
	for (size_t i = 0; i < res->n_lines && i < 8 && len + 1 < size; i++) {
		int n = snprintf(seen + len, size - len, "%s\"%.60s\"", i ? ", " : "", res->lines[i].text);

		if (n < 0)
			break;
		len += (size_t)n;
	}
	if (len >= size)
		seen[size - 1] = '\0';
	if (!res->n_lines)
		snprintf(seen, size, "no text");
}

int ms_screen_summary(struct ms_screen *s, const struct dp_frame *image, char *seen, size_t seen_size,
		      struct dp_error *err)
{
	struct dp_ocr_result res = { 0 };
	struct dp_frame big;
	int r;

	if (upscale(image, upscale_factor(image->width), &big) < 0)
		return dp_error_set(err, -ENOMEM, "out of memory upscaling the screenshot");
	r = dp_ocr_read(s->ocr, &big, NULL, &res, err);
	if (r == 0)
		summarise(&res, seen, seen_size);
	dp_ocr_result_clear(&res);
	dp_image_free(&big);
	return r;
}

int ms_screen_find(struct ms_screen *s, const struct dp_frame *image, const char *text, bool label,
		   struct ms_found *out, char *seen, size_t seen_size, struct dp_error *err)
{
	struct dp_ocr_result res = { 0 };
	struct dp_frame big;
	char q[16][128], joined[512], lines[600];
	int k = upscale_factor(image->width), n = query_words(text, q, 16), r;
	double best = 0;
	size_t best_i = 0;
	int32_t frame_x;

	if (n == 0)
		return dp_error_set(err, -EINVAL, "empty text to find");
	if (upscale(image, k, &big) < 0)
		return dp_error_set(err, -ENOMEM, "out of memory upscaling the screenshot");
	r = dp_ocr_read(s->ocr, &big, NULL, &res, err);
	if (r < 0) {
		dp_image_free(&big);
		return r;
	}
	for (size_t i = 0; i + (size_t)n <= res.n_words; i++) {
		double score;

		if (res.words[i].line != res.words[i + (size_t)n - 1].line)
			continue;
		score = run_score(&res, i, n, q, text, joined, sizeof(joined));
		if (label && score >= MS_MATCH_MIN) {
			struct dp_rect box = res.words[i].box;

			for (int j = 1; j < n; j++)
				box = dp_rect_union(box, res.words[i + (size_t)j].box);
			/* A field's label has the field right of it (and often ends
			 * with a colon); a column heading of the same text does not. */
			if (field_right_of(&big, box, NULL))
				score += 0.1;
			if (joined[0] && joined[strlen(joined) - 1] == ':')
				score += 0.05;
		}
		if (score > best + 1e-9) {
			best = score;
			best_i = i;
		}
	}
	summarise(&res, seen, seen_size);
	if (best >= MS_MATCH_MIN) {
		struct dp_rect box = res.words[best_i].box;

		for (int j = 1; j < n; j++)
			box = dp_rect_union(box, res.words[best_i + (size_t)j].box);
		run_score(&res, best_i, n, q, text, out->text, sizeof(out->text));
		out->x = (double)box.x / k;
		out->y = (double)box.y / k;
		out->width = (double)box.width / k;
		out->height = (double)box.height / k;
		out->score = best > 1 ? 1 : best;
		out->field_x = -1;
		if (label && field_right_of(&big, box, &frame_x))
			out->field_x = (double)frame_x / k;
		r = 0;
	} else {
		summarise(&res, lines, sizeof(lines));
		r = dp_error_set(err, -ENOENT, "\"%s\" is not on the screen (I read: %s)", text, lines);
	}
	dp_ocr_result_clear(&res);
	dp_image_free(&big);
	return r;
}
