#include "engine/image_jpeg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#include "engine/file.h"

int dp_jpeg_encode(const struct dp_frame *frame, int quality, uint8_t **out, size_t *size, struct dp_error *err)
{
	tjhandle tj = tjInitCompress();
	unsigned char *buf = NULL;
	unsigned long len = 0;
	int r;

	if (!tj)
		return dp_error_set(err, -ENOMEM, "cannot start the JPEG encoder");
	if (quality < 1 || quality > 100)
		quality = 85;
	/* The frame's BGRX rows go in as they are: no conversion pass. */
	r = tjCompress2(tj, frame->pixels, frame->width, frame->stride, frame->height, TJPF_BGRX, &buf, &len,
			TJSAMP_420, quality, TJFLAG_FASTDCT);
	if (r != 0) {
		dp_error_set(err, -EIO, "JPEG encoding failed: %s", tjGetErrorStr2(tj));
		tjFree(buf);
		tjDestroy(tj);
		return -EIO;
	}
	tjDestroy(tj);
	*out = malloc(len);
	if (!*out) {
		tjFree(buf);
		return dp_error_set(err, -ENOMEM, "out of memory for a %lu-byte JPEG", len);
	}
	memcpy(*out, buf, len);
	tjFree(buf);
	*size = len;
	return 0;
}

int dp_jpeg_write(const char *path, const struct dp_frame *frame, int quality, struct dp_error *err)
{
	uint8_t *data = NULL;
	size_t size = 0;
	int r = dp_jpeg_encode(frame, quality, &data, &size, err);

	if (r == 0)
		r = dp_file_write_atomic(path, data, size, err);
	free(data);
	return r;
}
