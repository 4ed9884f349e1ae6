/* Input and window actions behind one interface.
 *
 * X11 (XTest, deskpilot's keymap engine, EWMH) is the first backend; the
 * Wayland RemoteDesktop one will sit behind the same table.  perform()
 * carries out one action and returns when the display server has received
 * all of it (a round trip), so the caller can settle and observe. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "capture/frame.h"
#include "engine/action.h"
#include "engine/error.h"

struct dp_remote_input;

struct dp_actuator_config {
	const char *backend; /* "x11" or "remote-desktop"; NULL picks the first available */
	const char *display; /* NULL: $DISPLAY */
	/* remote-desktop: the session input goes through (actuators/remote_input.h),
	 * and the keyboard layout it types with (NULL: $XKB_DEFAULT_LAYOUT, else us). */
	const struct dp_remote_input *remote;
	const char *keyboard_layout;
};

struct dp_window_info {
	uint32_t id;
	char title[256];
	char instance[128]; /* WM_CLASS, first part */
	char class_name[128];
	int32_t pid;        /* 0 when unknown */
	int32_t desktop;    /* -1 on all desktops or unknown */
	struct dp_rect geometry; /* of the client area, in root coordinates */
	bool focused, minimized, maximized;
};

/* What an action did, for the caller and its log. */
struct dp_action_result {
	char summary[256];        /* "typed 12 characters (3 through spare keycodes)" */
	struct dp_window_info window; /* window actions: the window acted on */
	pid_t pid;                /* launch: the new process */
};

struct dp_actuator;

struct dp_actuator_impl {
	const char *name;
	int (*create)(struct dp_actuator **out, const struct dp_actuator_config *config, struct dp_error *err);
	int (*perform)(struct dp_actuator *act, const struct dp_action *action, struct dp_action_result *result,
		       struct dp_error *err);
	int (*windows)(struct dp_actuator *act, const struct dp_window_match *match, struct dp_window_info *out,
		       size_t max, size_t *count, struct dp_error *err);
	void (*release_all)(struct dp_actuator *act);
	void (*destroy)(struct dp_actuator *act);
};

struct dp_actuator {
	const struct dp_actuator_impl *impl;
};

int dp_actuator_create(struct dp_actuator **out, const struct dp_actuator_config *config, struct dp_error *err);
/* Releases every key and button still held, restores the keyboard map. */
void dp_actuator_destroy(struct dp_actuator *act);

/* Releases every key and button still held (after a cancel, at a task's end). */
void dp_actuator_release_all(struct dp_actuator *act);

int dp_actuator_perform(struct dp_actuator *act, const struct dp_action *action, struct dp_action_result *result,
			struct dp_error *err);

/* The windows matching match (NULL: all), in stacking order, bottom first. */
int dp_actuator_windows(struct dp_actuator *act, const struct dp_window_match *match, struct dp_window_info *out,
			size_t max, size_t *count, struct dp_error *err);
