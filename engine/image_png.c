#include "engine/image_png.h"

#include "engine/file.h"

#include <errno.h>
#include <png.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct png_job {
	FILE *file;
	png_structp png;
	png_infop info;
	const struct dp_frame *frame;
	bool fast; /* for a request in flight: speed over size */
};

/* libpng reports failures by longjmp; keep the setjmp frame in a function
 * with no locals that would need to survive it. */
static int encode(struct png_job *job)
{
	if (setjmp(png_jmpbuf(job->png)))
		return -EIO;
	png_init_io(job->png, job->file);
	png_set_IHDR(job->png, job->info, (png_uint_32)job->frame->width, (png_uint_32)job->frame->height, 8,
		     PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
		     PNG_FILTER_TYPE_DEFAULT);
	/* Screenshots compress well and fast at a low level; an image sent
	 * to a model each step is made faster still. */
	png_set_compression_level(job->png, job->fast ? 1 : 3);
	if (job->fast)
		png_set_filter(job->png, PNG_FILTER_TYPE_BASE, PNG_FILTER_SUB);
	png_write_info(job->png, job->info);
	/* Our BGRX rows go in as they are: libpng drops X and swaps B/R. */
	png_set_filler(job->png, 0, PNG_FILLER_AFTER);
	png_set_bgr(job->png);
	for (int32_t y = 0; y < job->frame->height; y++)
		png_write_row(job->png, job->frame->pixels + (size_t)y * (size_t)job->frame->stride);
	png_write_end(job->png, NULL);
	return 0;
}

int dp_png_write(const char *path, const struct dp_frame *frame, struct dp_error *err)
{
	struct png_job job = { .frame = frame };
	char tmp[4096];
	int r;

	job.file = dp_file_open_part(path, tmp, sizeof(tmp), err);
	if (!job.file)
		return err ? err->code : -EIO;
	job.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	job.info = job.png ? png_create_info_struct(job.png) : NULL;
	r = job.info ? encode(&job) : -ENOMEM;
	png_destroy_write_struct(&job.png, &job.info);
	return dp_file_commit_part(job.file, tmp, path, r, err);
}

int dp_png_encode(const struct dp_frame *frame, uint8_t **out, size_t *size, struct dp_error *err)
{
	struct png_job job = { .frame = frame, .fast = true };
	char *buf = NULL;
	size_t len = 0;
	int r;

	job.file = open_memstream(&buf, &len);
	if (!job.file)
		return dp_error_set(err, -errno, "PNG encoding: %s", strerror(errno));
	job.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	job.info = job.png ? png_create_info_struct(job.png) : NULL;
	r = job.info ? encode(&job) : -ENOMEM;
	png_destroy_write_struct(&job.png, &job.info);
	if (fclose(job.file) != 0 && r == 0)
		r = -EIO;
	if (r < 0) {
		free(buf);
		return dp_error_set(err, r, "PNG encoding of a %dx%d image failed", frame->width, frame->height);
	}
	*out = (uint8_t *)buf;
	*size = len;
	return 0;
}
