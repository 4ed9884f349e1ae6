#include "engine/image_read.h"

#include <errno.h>
#include <limits.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <turbojpeg.h>

/* Bigger images than this are refused: they are no screenshots, and their
 * pixels would take gigabytes. */
#define MAX_SIDE 32768
#define MAX_PIXELS ((int64_t)1 << 28)

static int alloc_frame(struct dp_frame *frame, int32_t w, int32_t h, const char *name, struct dp_error *err)
{
	if (w <= 0 || h <= 0 || w > MAX_SIDE || h > MAX_SIDE || (int64_t)w * h > MAX_PIXELS)
		return dp_error_set(err, -E2BIG, "%s: a %dx%d image is too large to read", name, w, h);
	*frame = (struct dp_frame){ .width = w, .height = h, .stride = 4 * w };
	frame->pixels = malloc((size_t)frame->stride * (size_t)h);
	if (!frame->pixels)
		return dp_error_set(err, -ENOMEM, "%s: out of memory for a %dx%d image", name, w, h);
	return 0;
}

struct png_source {
	const uint8_t *data;
	size_t size, pos;
	char message[200];
};

static void png_read_mem(png_structp png, png_bytep out, size_t n)
{
	struct png_source *s = png_get_io_ptr(png);

	if (n > s->size - s->pos)
		png_error(png, "the file ends early");
	memcpy(out, s->data + s->pos, n);
	s->pos += n;
}

static void png_on_error(png_structp png, png_const_charp msg)
{
	struct png_source *s = png_get_error_ptr(png);

	snprintf(s->message, sizeof(s->message), "%s", msg);
	png_longjmp(png, 1);
}

static void png_on_warning(png_structp png, png_const_charp msg)
{
	(void)png;
	(void)msg;
}

struct png_job {
	png_structp png;
	png_infop info;
	png_bytep *rows;
	struct dp_frame *frame;
	const char *name;
	struct dp_error *err;
	int result;
};

/* Everything that libpng may longjmp out of; no locals live across it. */
static int png_decode(struct png_job *job)
{
	png_uint_32 w, h;
	int depth, type;

	if (setjmp(png_jmpbuf(job->png)))
		return -EILSEQ;
	png_set_user_limits(job->png, MAX_SIDE, MAX_SIDE);
	png_read_info(job->png, job->info);
	png_get_IHDR(job->png, job->info, &w, &h, &depth, &type, NULL, NULL, NULL);
	/* To 8-bit BGRX whatever the file holds. */
	png_set_expand(job->png);
	png_set_strip_16(job->png);
	if (type == PNG_COLOR_TYPE_GRAY || type == PNG_COLOR_TYPE_GRAY_ALPHA)
		png_set_gray_to_rgb(job->png);
	png_set_bgr(job->png);
	/* Alpha, where there is some, takes the X byte: it is not looked at. */
	png_set_filler(job->png, 0xff, PNG_FILLER_AFTER);
	png_set_interlace_handling(job->png);
	png_read_update_info(job->png, job->info);
	if (png_get_rowbytes(job->png, job->info) != (size_t)w * 4) {
		job->result = dp_error_set(job->err, -ENOTSUP, "%s: unsupported PNG pixel format", job->name);
		return job->result;
	}
	job->result = alloc_frame(job->frame, (int32_t)w, (int32_t)h, job->name, job->err);
	if (job->result < 0)
		return job->result;
	job->rows = malloc(sizeof(*job->rows) * h);
	if (!job->rows) {
		job->result = dp_error_set(job->err, -ENOMEM, "%s: out of memory", job->name);
		return job->result;
	}
	for (png_uint_32 y = 0; y < h; y++)
		job->rows[y] = job->frame->pixels + (size_t)y * (size_t)job->frame->stride;
	png_read_image(job->png, job->rows);
	png_read_end(job->png, NULL);
	return 0;
}

static int decode_png(const uint8_t *data, size_t size, const char *name, struct dp_frame *frame,
		      struct dp_error *err)
{
	struct png_source src = { .data = data, .size = size };
	struct png_job job = { .frame = frame, .name = name, .err = err };
	int r;

	*frame = (struct dp_frame){ 0 };
	job.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &src, png_on_error, png_on_warning);
	job.info = job.png ? png_create_info_struct(job.png) : NULL;
	if (!job.info) {
		png_destroy_read_struct(&job.png, NULL, NULL);
		return dp_error_set(err, -ENOMEM, "%s: out of memory", name);
	}
	png_set_read_fn(job.png, &src, png_read_mem);
	r = png_decode(&job);
	png_destroy_read_struct(&job.png, &job.info, NULL);
	free(job.rows);
	if (r < 0) {
		dp_image_free(frame);
		if (r == -EILSEQ && job.result == 0)
			dp_error_set(err, r, "%s: not a valid PNG image (%s)", name, src.message);
	}
	return r;
}

static int decode_jpeg(const uint8_t *data, size_t size, const char *name, struct dp_frame *frame,
		       struct dp_error *err)
{
	tjhandle tj = tjInitDecompress();
	int w, h, subsamp, colorspace, r = 0;

	*frame = (struct dp_frame){ 0 };
	if (!tj)
		return dp_error_set(err, -ENOMEM, "cannot start the JPEG decoder");
	if (size > ULONG_MAX ||
	    tjDecompressHeader3(tj, data, (unsigned long)size, &w, &h, &subsamp, &colorspace) != 0 || w <= 0 ||
	    h <= 0) {
		r = dp_error_set(err, -EILSEQ, "%s: not a valid JPEG image (%s)", name, tjGetErrorStr2(tj));
		goto out;
	}
	if (colorspace == TJCS_CMYK || colorspace == TJCS_YCCK) {
		r = dp_error_set(err, -ENOTSUP, "%s: CMYK JPEGs are not supported; save it as RGB", name);
		goto out;
	}
	r = alloc_frame(frame, w, h, name, err);
	if (r < 0)
		goto out;
	/* Flags 0: accurate integer DCT and smooth upsampling, as PIL decodes. */
	/* Warnings (stray bytes between markers, say) are let through, as PIL
	 * lets them; a file that ends early is refused, as PIL refuses it. */
	if (tjDecompress2(tj, data, (unsigned long)size, frame->pixels, w, frame->stride, h, TJPF_BGRX, 0) != 0 &&
	    (tjGetErrorCode(tj) == TJERR_FATAL || strstr(tjGetErrorStr2(tj), "Premature end"))) {
		r = dp_error_set(err, -EILSEQ, "%s: broken JPEG image (%s)", name, tjGetErrorStr2(tj));
		dp_image_free(frame);
	}
out:
	tjDestroy(tj);
	return r;
}

int dp_image_decode(const uint8_t *data, size_t size, const char *name, struct dp_frame *frame,
		    struct dp_error *err)
{
	static const uint8_t png_magic[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };

	*frame = (struct dp_frame){ 0 };
	if (size >= 8 && memcmp(data, png_magic, 8) == 0)
		return decode_png(data, size, name, frame, err);
	if (size >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff)
		return decode_jpeg(data, size, name, frame, err);
	return dp_error_set(err, -EILSEQ, "%s: not a PNG or JPEG image%s", name, size == 0 ? " (the file is empty)" : "");
}

int dp_image_read(const char *path, struct dp_frame *frame, struct dp_error *err)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data = NULL;
	struct stat st;
	long size;
	int r;

	*frame = (struct dp_frame){ 0 };
	if (!f)
		return dp_error_set(err, -errno, "cannot open %s: %s", path, strerror(errno));
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || fseek(f, 0, SEEK_END) != 0 ||
	    (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		r = dp_error_set(err, -EIO, "cannot read %s: not a regular file", path);
		goto out;
	}
	if (size > ((long)1 << 30)) {
		r = dp_error_set(err, -E2BIG, "%s: %ld bytes is too large for an image", path, size);
		goto out;
	}
	data = malloc(size ? (size_t)size : 1);
	if (!data) {
		r = dp_error_set(err, -ENOMEM, "out of memory reading %s", path);
		goto out;
	}
	if (fread(data, 1, (size_t)size, f) != (size_t)size) {
		r = dp_error_set(err, -EIO, "cannot read %s: %s", path, ferror(f) ? strerror(errno) : "short read");
		goto out;
	}
	r = dp_image_decode(data, (size_t)size, path, frame, err);
out:
	free(data);
	fclose(f);
	return r;
}

void dp_image_free(struct dp_frame *frame)
{
	free(frame->pixels);
	frame->pixels = NULL;
}
