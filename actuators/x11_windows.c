/* PLACEHOLDER so the tree builds while the real module is written; it is
 * replaced wholesale (every function fails with -ENOSYS). */
#include "actuators/x11_windows.h"

#include <errno.h>
#include <stdlib.h>

struct dp_x11_windows {
	int unused;
};

int dp_x11_windows_create(struct dp_x11_windows **out, xcb_connection_t *conn, xcb_window_t root,
			  struct dp_error *err)
{
	(void)conn;
	(void)root;
	(void)err;
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

void dp_x11_windows_destroy(struct dp_x11_windows *w)
{
	free(w);
}

bool dp_x11_windows_handle_event(struct dp_x11_windows *w, const xcb_generic_event_t *ev)
{
	(void)w;
	(void)ev;
	return false;
}

bool dp_x11_windows_take_mapping_changed(struct dp_x11_windows *w)
{
	(void)w;
	return false;
}

int dp_x11_windows_list(struct dp_x11_windows *w, const struct dp_window_match *match, struct dp_window_info *out,
			size_t max, size_t *count, struct dp_error *err)
{
	(void)w, (void)match, (void)out, (void)max, (void)count;
	return dp_error_set(err, -ENOSYS, "not yet");
}

int dp_x11_windows_perform(struct dp_x11_windows *w, const struct dp_action *action, struct dp_action_result *result,
			   struct dp_error *err)
{
	(void)w, (void)action, (void)result;
	return dp_error_set(err, -ENOSYS, "not yet");
}

int dp_launch(char *const argv[], const char *display, pid_t *pid, struct dp_error *err)
{
	(void)argv, (void)display, (void)pid;
	return dp_error_set(err, -ENOSYS, "not yet");
}
