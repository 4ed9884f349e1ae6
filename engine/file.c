#include "engine/file.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

FILE *dp_file_open_part(const char *path, char *tmp, size_t tmp_size, struct dp_error *err)
{
	FILE *f;

	if ((size_t)snprintf(tmp, tmp_size, "%s.part", path) >= tmp_size) {
		dp_error_set(err, -ENAMETOOLONG, "file name too long: %s", path);
		return NULL;
	}
	f = fopen(tmp, "wb");
	if (!f)
		dp_error_set(err, -errno, "cannot write %s: %s", path, strerror(errno));
	return f;
}

int dp_file_commit_part(FILE *file, const char *tmp, const char *path, int ok, struct dp_error *err)
{
	int r = ok;

	if (fclose(file) != 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return dp_error_set(err, r, "cannot write %s: %s", path, strerror(-r));
	}
	return 0;
}

int dp_file_write_atomic(const char *path, const void *data, size_t size, struct dp_error *err)
{
	char tmp[4096];
	FILE *f = dp_file_open_part(path, tmp, sizeof(tmp), err);

	if (!f)
		return err ? err->code : -EIO;
	return dp_file_commit_part(f, tmp, path, fwrite(data, 1, size, f) == size ? 0 : -EIO, err);
}
