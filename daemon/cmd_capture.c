/* deskpilot shot | monitors | settle: the capture side of the CLI. */
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
#include "engine/image_jpeg.h"
#include "engine/image_png.h"

static int fail(const struct dp_error *err, int code)
{
	fprintf(stderr, "deskpilot: %s\n", err->message);
	return dp_exit_code_from_errno(code);
}

/* Parses a whole non-negative decimal number no larger than max. */
static int parse_count(const char *option, const char *text, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || end == text || *end || v < 0 || v > max) {
		fprintf(stderr, "deskpilot: %s %s: expected a whole number from 0 to %ld\n", option, text, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static bool has_suffix(const char *path, const char *suffix)
{
	size_t n = strlen(path), m = strlen(suffix);

	return n >= m && strcasecmp(path + n - m, suffix) == 0;
}

/* The format follows the file name: .png (lossless) or .jpg/.jpeg. */
static int write_image(const char *path, const struct dp_frame *frame, int quality, struct dp_error *err)
{
	if (has_suffix(path, ".png"))
		return dp_png_write(path, frame, err);
	if (has_suffix(path, ".jpg") || has_suffix(path, ".jpeg"))
		return dp_jpeg_write(path, frame, quality, err);
	return dp_error_set(err, -EINVAL, "%s: name the file .png or .jpg", path);
}

/* The frame source of the desktop the CLI was pointed at (X11 or mutter). */
static int open_capture(const struct dp_cli *cli, struct dp_desktop *desk, struct dp_capture **cap,
			struct dp_error *err)
{
	struct dp_desktop_config config = { .backend = cli->backend, .display = cli->display };
	int r = dp_desktop_open(desk, &config, DP_DESKTOP_CAPTURE, err);

	*cap = desk->capture;
	return r;
}

int dp_cmd_shot(struct dp_cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "monitor", required_argument, NULL, 'm' },
		{ "cursor", no_argument, NULL, 'c' },
		{ "quality", required_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct dp_error err = { 0 };
	struct dp_capture *cap = NULL;
	struct dp_desktop desk = { 0 };
	struct dp_geometry geometry;
	struct dp_frame frame;
	const struct dp_rect *region = NULL;
	unsigned flags = 0;
	long monitor = -1, quality = 85;
	int c, r;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (parse_count("--monitor", optarg, DP_MONITORS_MAX - 1, &monitor) < 0)
				return DP_EXIT_USAGE;
			break;
		case 'c':
			flags |= DP_GRAB_CURSOR;
			break;
		case 'q':
			if (parse_count("--quality", optarg, 100, &quality) < 0 || quality < 1)
				return DP_EXIT_USAGE;
			break;
		case 'h':
			printf("Usage: deskpilot shot FILE.png|FILE.jpg [--monitor N] [--cursor] [--quality 1-100]\n"
			       "Saves the screen (or monitor N, as numbered by 'deskpilot monitors') as PNG\n"
			       "(lossless) or JPEG (--quality, default 85). --cursor draws the pointer in.\n");
			return DP_EXIT_OK;
		default:
			return DP_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "deskpilot shot: give one output file, such as screen.png or screen.jpg\n");
		return DP_EXIT_USAGE;
	}
	r = open_capture(cli, &desk, &cap, &err);
	if (r < 0)
		return fail(&err, r);
	if (monitor >= 0) {
		r = dp_capture_geometry(cap, &geometry, &err);
		if (r < 0)
			goto out;
		if ((size_t)monitor >= geometry.n_monitors) {
			r = dp_error_set(&err, -ERANGE, "--monitor %ld: the display has %zu monitor(s), numbered from 0",
					 monitor, geometry.n_monitors);
			goto out;
		}
		region = &geometry.monitors[monitor].rect;
	}
	r = dp_capture_grab(cap, region, flags, &frame, &err);
	if (r == 0) {
		r = write_image(argv[optind], &frame, (int)quality, &err);
		if (r < 0 && r != -EINVAL) {
			/* Whatever the errno, this is a file that could not be written. */
			dp_desktop_close(&desk);
			fprintf(stderr, "deskpilot: %s\n", err.message);
			return DP_EXIT_IO;
		}
	}
	if (r == 0)
		printf("%s: %dx%d at +%d+%d\n", argv[optind], frame.width, frame.height, frame.x, frame.y);
out:
	dp_desktop_close(&desk);
	return r < 0 ? fail(&err, r) : DP_EXIT_OK;
}

int dp_cmd_monitors(struct dp_cli *cli, int argc, char **argv)
{
	struct dp_error err = { 0 };
	struct dp_capture *cap = NULL;
	struct dp_desktop desk = { 0 };
	struct dp_geometry g;
	int r;

	if (argc > 1) {
		if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
			printf("Usage: deskpilot monitors\nPrints the screen size and each monitor: number, name, "
			       "geometry WxH+X+Y, and whether it is the primary one.\n");
			return DP_EXIT_OK;
		}
		fprintf(stderr, "deskpilot monitors: takes no arguments\n");
		return DP_EXIT_USAGE;
	}
	r = open_capture(cli, &desk, &cap, &err);
	if (r == 0)
		r = dp_capture_geometry(cap, &g, &err);
	dp_desktop_close(&desk);
	if (r < 0)
		return fail(&err, r);
	printf("screen %dx%d\n", g.width, g.height);
	for (size_t i = 0; i < g.n_monitors; i++)
		printf("%zu %s %dx%d+%d+%d%s\n", i, g.monitors[i].name[0] ? g.monitors[i].name : "-",
		       g.monitors[i].rect.width, g.monitors[i].rect.height, g.monitors[i].rect.x,
		       g.monitors[i].rect.y, g.monitors[i].primary ? " primary" : "");
	return DP_EXIT_OK;
}

static void settle_usage(FILE *out)
{
	fprintf(out,
		"Usage: deskpilot settle [--no-change-expected] [--response MS] [--quiet MS]\n"
		"                        [--timeout MS] [--small-area PIXELS]\n"
		"Waits until the screen is ready to look at after an action, and says how it went:\n"
		"  settled             it changed (if a change was expected) and then went quiet\n"
		"  no visible effect   a change was expected and none came within --response (exit 5)\n"
		"  still changing      it never went quiet before --timeout (exit 6)\n"
		"Options (defaults in brackets):\n"
		"  --no-change-expected  only wait for quiet, not for a first change\n"
		"  --response MS         how long to wait for the first change [2000]\n"
		"  --quiet MS            quiet time that counts as settled [75]\n"
		"  --timeout MS          give up waiting for quiet after [10000]\n"
		"  --small-area PIXELS   changes smaller than this (a caret) do not break the quiet [1024]\n");
}

static void print_rect(const char *label, struct dp_rect r)
{
	if (!dp_rect_empty(r))
		printf(" %s=%dx%d+%d+%d", label, r.width, r.height, r.x, r.y);
}

int dp_cmd_settle(struct dp_cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "no-change-expected", no_argument, NULL, 'n' },
		{ "response", required_argument, NULL, 'r' },
		{ "quiet", required_argument, NULL, 'q' },
		{ "timeout", required_argument, NULL, 't' },
		{ "small-area", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct dp_settle_options opts;
	struct dp_settle_result res;
	struct dp_error err = { 0 };
	struct dp_capture *cap = NULL;
	struct dp_desktop desk = { 0 };
	long v;
	int c, r;

	dp_settle_options_default(&opts);
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 'n':
			opts.expect_change = false;
			break;
		case 'r':
			if (parse_count("--response", optarg, 600000, &v) < 0)
				return DP_EXIT_USAGE;
			opts.response_ms = (int32_t)v;
			break;
		case 'q':
			if (parse_count("--quiet", optarg, 60000, &v) < 0 || v == 0)
				return DP_EXIT_USAGE;
			opts.quiet_ms = (int32_t)v;
			break;
		case 't':
			if (parse_count("--timeout", optarg, 3600000, &v) < 0)
				return DP_EXIT_USAGE;
			opts.timeout_ms = (int32_t)v;
			break;
		case 's':
			if (parse_count("--small-area", optarg, 100000000, &v) < 0)
				return DP_EXIT_USAGE;
			opts.small_area = v;
			break;
		case 'h':
			settle_usage(stdout);
			return DP_EXIT_OK;
		default:
			settle_usage(stderr);
			return DP_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "deskpilot settle: unexpected argument '%s'\n", argv[optind]);
		return DP_EXIT_USAGE;
	}
	r = open_capture(cli, &desk, &cap, &err);
	if (r == 0)
		r = dp_capture_settle(cap, &opts, &res, &err);
	dp_desktop_close(&desk);
	if (r < 0)
		return fail(&err, r);
	printf("%s after %.0f ms", dp_settle_outcome_name(res.outcome), (double)res.elapsed_ns / 1e6);
	if (res.first_damage_ns >= 0)
		printf(" first_change=%.0fms last_change=%.0fms", (double)res.first_damage_ns / 1e6,
		       (double)res.last_damage_ns / 1e6);
	print_rect("changed", res.damage);
	if (res.outcome == DP_SETTLE_STILL_CHANGING)
		print_rect("still_changing", res.changing);
	printf(" events=%u ignored_small=%u\n", res.events, res.ignored);
	switch (res.outcome) {
	case DP_SETTLE_SETTLED: return DP_EXIT_OK;
	case DP_SETTLE_NO_EFFECT: return DP_EXIT_NO_EFFECT;
	case DP_SETTLE_STILL_CHANGING: return DP_EXIT_TIMEOUT;
	}
	return DP_EXIT_FAILURE;
}
