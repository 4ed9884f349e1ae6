/* Frame sources behind one interface.
 *
 * A source grabs frames, waits for the screen to settle after an action,
 * and reports the monitor layout.  X11 is the first backend; PipeWire will
 * sit behind the same table.  Every call returns 0 or a negative errno and,
 * on failure, fills err with a message that says what to do. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "capture/frame.h"
#include "capture/settle.h"
#include "engine/error.h"

#define DP_MONITORS_MAX 16

struct dp_monitor {
	char name[64];
	struct dp_rect rect; /* in screen pixels */
	bool primary;
};

struct dp_geometry {
	int32_t width, height; /* the whole screen */
	size_t n_monitors;     /* at least 1: without RandR the screen is one monitor */
	struct dp_monitor monitors[DP_MONITORS_MAX];
};

struct dp_capture_config {
	const char *backend; /* "x11" or "pipewire"; NULL picks the first one available */
	const char *display; /* NULL: $DISPLAY */
	bool no_shm;         /* grab with plain GetImage even where MIT-SHM works */
	struct {
		uint32_t node;   /* the stream's node id; 0: whichever the session manager links */
		int fd;          /* a remote opened by a portal (OpenPipeWireRemote), if use_fd */
		bool use_fd;     /* false: the user's own PipeWire daemon */
	} pipewire;
};

enum dp_grab_flags {
	DP_GRAB_CURSOR = 1 << 0, /* draw the pointer into the frame */
};

struct dp_capture;

struct dp_capture_impl {
	const char *name;
	int (*create)(struct dp_capture **out, const struct dp_capture_config *config,
		      struct dp_error *err);
	int (*grab)(struct dp_capture *cap, const struct dp_rect *region, unsigned flags,
		    struct dp_frame *frame, struct dp_error *err);
	int (*settle)(struct dp_capture *cap, const struct dp_settle_options *opts,
		      struct dp_settle_result *result, struct dp_error *err);
	int (*geometry)(struct dp_capture *cap, struct dp_geometry *geometry, struct dp_error *err);
	void (*destroy)(struct dp_capture *cap);
};

/* Every backend's state starts with this. */
struct dp_capture {
	const struct dp_capture_impl *impl;
};

int dp_capture_create(struct dp_capture **out, const struct dp_capture_config *config,
		      struct dp_error *err);
void dp_capture_destroy(struct dp_capture *cap);

/* Grabs the whole screen (region NULL) or one rectangle of it, such as a
 * monitor's.  The frame's pixels stay valid until the next grab. */
int dp_capture_grab(struct dp_capture *cap, const struct dp_rect *region, unsigned flags,
		    struct dp_frame *frame, struct dp_error *err);

/* Waits until the screen is ready to look at after an action (see
 * settle.h); damage since the last grab counts as the action's effect. */
int dp_capture_settle(struct dp_capture *cap, const struct dp_settle_options *opts,
		      struct dp_settle_result *result, struct dp_error *err);

int dp_capture_geometry(struct dp_capture *cap, struct dp_geometry *geometry, struct dp_error *err);

/* The names of the compiled-in backends, NULL-terminated. */
const char *const *dp_capture_backends(void);
