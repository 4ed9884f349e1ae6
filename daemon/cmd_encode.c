/* deskpilot encode: what a model would be sent for an image or the screen
 * (the resized image, its patch grid and token count, the patch rows). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "actuators/desktop.h"
#include "capture/capture.h"
#include "daemon/commands.h"
#include "daemon/exit_codes.h"
#include "engine/clock.h"
#include "engine/file.h"
#include "engine/image_jpeg.h"
#include "engine/image_png.h"
#include "engine/image_read.h"
#include "engine/vision.h"

#define JPEG_QUALITY 85

static void encode_usage(FILE *out)
{
	fprintf(out,
		"Usage: deskpilot encode IMAGE|--screen [--monitor N] [--profile m3] [--out FILE.jpg|FILE.png]\n"
		"                        [--quality 1-100] [--tokens ROWS.f32]\n"
		"Shows what a model is sent for IMAGE (PNG or JPEG) or for the screen: the image resized\n"
		"to the model's patch grid, the grid, its image tokens and the bytes of the sent JPEG.\n"
		"  --screen        grab the screen (or --monitor N) instead of reading a file\n"
		"  --profile NAME  the model's image processor [m3: MiniMax M3]\n"
		"  --out FILE      write the resized image (.jpg as sent, or .png lossless)\n"
		"  --quality Q     JPEG quality [85]\n"
		"  --tokens FILE   write the patch rows: rows x values float32, little-endian\n");
}

static int read_input(const struct dp_cli *cli, const char *path, long monitor, struct dp_desktop *desk,
		      struct dp_frame *frame, bool *owned, struct dp_error *err)
{
	struct dp_desktop_config config = { .backend = cli->backend, .display = cli->display };
	struct dp_capture **cap = &desk->capture;
	struct dp_geometry geometry;
	const struct dp_rect *region = NULL;
	int r;

	if (path) {
		*owned = true;
		return dp_image_read(path, frame, err);
	}
	*owned = false;
	r = dp_desktop_open(desk, &config, DP_DESKTOP_CAPTURE, err);
	if (r < 0)
		return r;
	if (monitor >= 0) {
		r = dp_capture_geometry(*cap, &geometry, err);
		if (r < 0)
			return r;
		if ((size_t)monitor >= geometry.n_monitors)
			return dp_error_set(err, -ERANGE, "--monitor %ld: the display has %zu monitor(s), numbered from 0",
					    monitor, geometry.n_monitors);
		region = &geometry.monitors[monitor].rect;
	}
	return dp_capture_grab(*cap, region, 0, frame, err);
}

static bool has_suffix(const char *path, const char *suffix)
{
	size_t n = strlen(path), m = strlen(suffix);

	return n >= m && strcasecmp(path + n - m, suffix) == 0;
}

/* Packed RGB to a BGRX frame, the writers' format. */
static void rgb_to_frame(const uint8_t *rgb, int32_t w, int32_t h, uint8_t *bgrx, struct dp_frame *frame)
{
	dp_vision_rgb_to_bgrx(rgb, (size_t)w * (size_t)h, bgrx);
	*frame = (struct dp_frame){ .width = w, .height = h, .stride = 4 * w, .pixels = bgrx };
}

static int write_rows(const char *path, float *rows, size_t n, struct dp_error *err)
{
	/* The file is little-endian float32 whatever the host. */
	if (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__) {
		for (size_t i = 0; i < n; i++) {
			uint32_t v;

			memcpy(&v, &rows[i], 4);
			v = __builtin_bswap32(v);
			memcpy(&rows[i], &v, 4);
		}
	}
	return dp_file_write_atomic(path, rows, n * sizeof(float), err);
}

static double ms_since(int64_t t0)
{
	return (double)(dp_now_ns() - t0) / 1e6;
}

int dp_cmd_encode(struct dp_cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "screen", no_argument, NULL, 's' },
		{ "monitor", required_argument, NULL, 'm' },
		{ "profile", required_argument, NULL, 'p' },
		{ "out", required_argument, NULL, 'o' },
		{ "quality", required_argument, NULL, 'q' },
		{ "tokens", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *profile_name = "m3", *out_path = NULL, *tokens_path = NULL, *in_path = NULL;
	struct dp_vision_profile profile;
	struct dp_error err = { 0 };
	struct dp_desktop desk = { 0 };
	struct dp_resizer *rs = NULL;
	struct dp_frame frame = { 0 }, sent;
	struct dp_grid grid;
	bool screen = false, owned = false;
	uint8_t *rgb = NULL, *bgrx = NULL, *jpeg = NULL;
	float *rows = NULL;
	size_t jpeg_size = 0, n_values;
	long monitor = -1, quality = JPEG_QUALITY;
	int32_t out_w, out_h;
	int64_t t0;
	double t_resize, t_patch = 0, t_jpeg;
	char *end;
	int c, r, code = DP_EXIT_OK;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 's':
			screen = true;
			break;
		case 'm':
			errno = 0;
			monitor = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || monitor < 0 || monitor >= DP_MONITORS_MAX) {
				fprintf(stderr, "deskpilot encode: --monitor %s: expected a monitor number from 0 to %d\n",
					optarg, DP_MONITORS_MAX - 1);
				return DP_EXIT_USAGE;
			}
			break;
		case 'p':
			profile_name = optarg;
			break;
		case 'o':
			out_path = optarg;
			break;
		case 'q':
			errno = 0;
			quality = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || quality < 1 || quality > 100) {
				fprintf(stderr, "deskpilot encode: --quality %s: expected a whole number from 1 to 100\n",
					optarg);
				return DP_EXIT_USAGE;
			}
			break;
		case 't':
			tokens_path = optarg;
			break;
		case 'h':
			encode_usage(stdout);
			return DP_EXIT_OK;
		default:
			encode_usage(stderr);
			return DP_EXIT_USAGE;
		}
	}
	if (optind < argc)
		in_path = argv[optind++];
	if (optind < argc || (in_path && screen) || (!in_path && !screen)) {
		fprintf(stderr, "deskpilot encode: give one image file, or --screen\n");
		return DP_EXIT_USAGE;
	}
	if (monitor >= 0 && !screen) {
		fprintf(stderr, "deskpilot encode: --monitor goes with --screen\n");
		return DP_EXIT_USAGE;
	}
	if (out_path && !has_suffix(out_path, ".jpg") && !has_suffix(out_path, ".jpeg") &&
	    !has_suffix(out_path, ".png")) {
		fprintf(stderr, "deskpilot encode: --out %s: name the file .jpg or .png\n", out_path);
		return DP_EXIT_USAGE;
	}
	if (dp_vision_profile_by_name(profile_name, &profile, &err) < 0) {
		fprintf(stderr, "deskpilot encode: --profile: %s\n", err.message);
		return DP_EXIT_USAGE;
	}

	r = read_input(cli, in_path, monitor, &desk, &frame, &owned, &err);
	if (r < 0) {
		/* A file that is missing, unreadable or no image is a file error. */
		code = in_path && r != -ENOMEM && r != -E2BIG ? DP_EXIT_IO : dp_exit_code_from_errno(r);
		goto fail;
	}
	r = dp_smart_resize(frame.height, frame.width, &profile, &out_h, &out_w, &err);
	if (r < 0)
		goto fail_errno;
	grid = dp_vision_grid(out_w, out_h, &profile);
	n_values = (size_t)dp_grid_rows(grid) * dp_vision_row_len(&profile);
	rgb = malloc((size_t)out_w * (size_t)out_h * 3);
	bgrx = malloc((size_t)out_w * (size_t)out_h * 4);
	if (!rgb || !bgrx || dp_resizer_create(&rs) < 0) {
		r = dp_error_set(&err, -ENOMEM, "out of memory for a %dx%d image", out_w, out_h);
		goto fail_errno;
	}
	t0 = dp_now_ns();
	r = dp_resizer_run(rs, &frame, out_w, out_h, rgb);
	t_resize = ms_since(t0);
	if (r < 0) {
		dp_error_set(&err, r, "cannot resize %dx%d to %dx%d", frame.width, frame.height, out_w, out_h);
		goto fail_errno;
	}
	if (tokens_path) {
		rows = malloc(n_values * sizeof(float));
		if (!rows) {
			r = dp_error_set(&err, -ENOMEM, "out of memory for %zu patch values", n_values);
			goto fail_errno;
		}
		t0 = dp_now_ns();
		r = dp_vision_patches(rgb, out_w, out_h, &profile, rows, &grid);
		t_patch = ms_since(t0);
		if (r < 0) {
			dp_error_set(&err, r, "cannot cut a %dx%d image into patches", out_w, out_h);
			goto fail_errno;
		}
	}
	rgb_to_frame(rgb, out_w, out_h, bgrx, &sent);
	t0 = dp_now_ns();
	r = dp_jpeg_encode(&sent, (int)quality, &jpeg, &jpeg_size, &err);
	t_jpeg = ms_since(t0);
	if (r < 0)
		goto fail_errno;

	printf("input %dx%d (%s)\n", frame.width, frame.height, in_path ? in_path : "screen");
	printf("resized %dx%d for %s (factor %d, %lld..%lld pixels) in %.2f ms\n", out_w, out_h, profile.name,
	       profile.factor, (long long)profile.min_pixels, (long long)profile.max_pixels, t_resize);
	printf("grid t=%d h=%d w=%d: %lld patch rows of %zu values, %lld image tokens\n", grid.t, grid.h, grid.w,
	       (long long)dp_grid_rows(grid), dp_vision_row_len(&profile), (long long)dp_grid_tokens(grid, &profile));
	printf("sent image: JPEG quality %ld, %zu bytes (encoded in %.2f ms)\n", quality, jpeg_size, t_jpeg);
	if (out_path) {
		if (has_suffix(out_path, ".png"))
			r = dp_png_write(out_path, &sent, &err);
		else
			r = dp_file_write_atomic(out_path, jpeg, jpeg_size, &err);
		if (r < 0)
			goto fail_io;
		printf("wrote %s\n", out_path);
	}
	if (tokens_path) {
		r = write_rows(tokens_path, rows, n_values, &err);
		if (r < 0)
			goto fail_io;
		printf("wrote %s: %lld x %zu float32, little-endian (patch rows made in %.2f ms)\n", tokens_path,
		       (long long)dp_grid_rows(grid), dp_vision_row_len(&profile), t_patch);
	}
	goto out;

fail_io:
	code = DP_EXIT_IO;
	goto fail;
fail_errno:
	code = dp_exit_code_from_errno(r);
fail:
	fprintf(stderr, "deskpilot encode: %s\n", err.message);
out:
	if (owned)
		dp_image_free(&frame);
	dp_desktop_close(&desk);
	dp_resizer_destroy(rs);
	free(rows);
	free(jpeg);
	free(bgrx);
	free(rgb);
	return code;
}
