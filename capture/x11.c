/* The X11 frame source: MIT-SHM grabs into one reused segment (plain
 * GetImage where SHM is missing), the pointer from XFixes, monitors from
 * RandR, and settle detection from DAMAGE events. */
#define DP_LOG_SUBSYS "capture"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>

#include <xcb/damage.h>
#include <xcb/randr.h>
#include <xcb/shm.h>
#include <xcb/xcb.h>
#include <xcb/xfixes.h>

#include "capture/capture.h"
#include "engine/clock.h"
#include "engine/log.h"

/* Damage that arrived after the last grab and before a settle started. */
#define PENDING_MAX 64

struct x11_capture {
	struct dp_capture base;
	char display[64];      /* as the user gave it, for messages and reconnects */
	bool no_shm;

	xcb_connection_t *conn;
	xcb_window_t root;
	int32_t width, height; /* the root window's current size */
	bool has_damage, has_xfixes, has_randr, has_shm;
	uint8_t damage_event_base, randr_event_base;
	xcb_damage_damage_t damage;

	/* The frame buffer: a SysV shared segment the server writes into, or
	 * heap memory for the GetImage fallback.  Sized for the whole root. */
	xcb_shm_seg_t shm_seg;
	int shm_id;
	uint8_t *pixels;
	size_t pixels_size;
	bool pixels_are_shm;

	uint64_t sequence;
	struct dp_rect damage_since_grab;
	struct dp_rect pending[PENDING_MAX];
	size_t n_pending;
	struct dp_damage_history history;
	bool warned_no_xfixes;
};

static struct x11_capture *x11_of(struct dp_capture *cap)
{
	return (struct x11_capture *)cap;
}

static const char *display_name(const struct x11_capture *self)
{
	return self->display[0] ? self->display : "(unset)";
}

static void free_pixels(struct x11_capture *self)
{
	if (self->pixels_are_shm) {
		if (self->conn && !xcb_connection_has_error(self->conn))
			xcb_shm_detach(self->conn, self->shm_seg);
		shmdt(self->pixels);
	} else {
		free(self->pixels);
	}
	self->pixels = NULL;
	self->pixels_size = 0;
	self->pixels_are_shm = false;
}

static void disconnect(struct x11_capture *self)
{
	free_pixels(self);
	if (self->conn)
		xcb_disconnect(self->conn);
	self->conn = NULL;
}

/* A shared segment the server can write a whole-root image into.  Marked
 * for removal at once, so it cannot outlive both processes. */
static int alloc_shm(struct x11_capture *self, size_t size)
{
	xcb_generic_error_t *xerr;
	void *addr;
	int id = shmget(IPC_PRIVATE, size, IPC_CREAT | 0600);

	if (id < 0)
		return -errno;
	addr = shmat(id, NULL, 0);
	if (addr == (void *)-1) {
		int r = -errno;

		shmctl(id, IPC_RMID, NULL);
		return r;
	}
	self->shm_seg = xcb_generate_id(self->conn);
	xerr = xcb_request_check(self->conn, xcb_shm_attach_checked(self->conn, self->shm_seg, (uint32_t)id, 0));
	shmctl(id, IPC_RMID, NULL);
	if (xerr) {
		/* A remote server cannot see our memory. */
		free(xerr);
		shmdt(addr);
		return -EREMOTE;
	}
	self->shm_id = id;
	self->pixels = addr;
	self->pixels_size = size;
	self->pixels_are_shm = true;
	return 0;
}

static int ensure_pixels(struct x11_capture *self, struct dp_error *err)
{
	size_t size = (size_t)self->width * (size_t)self->height * 4;
	int r;

	if (self->pixels && self->pixels_size >= size)
		return 0;
	free_pixels(self);
	if (self->has_shm) {
		r = alloc_shm(self, size);
		if (r == 0)
			return 0;
		dp_log_warn("MIT-SHM is offered by %s but unusable (%s); falling back to GetImage, "
			    "which copies every frame through the socket", display_name(self), strerror(-r));
		self->has_shm = false;
	}
	self->pixels = malloc(size);
	if (!self->pixels)
		return dp_error_set(err, -ENOMEM, "out of memory for a %dx%d frame", self->width, self->height);
	self->pixels_size = size;
	return 0;
}

static const xcb_query_extension_reply_t *extension(struct x11_capture *self, xcb_extension_t *ext)
{
	const xcb_query_extension_reply_t *reply = xcb_get_extension_data(self->conn, ext);

	return reply && reply->present ? reply : NULL;
}

static void query_extensions(struct x11_capture *self)
{
	const xcb_query_extension_reply_t *ext;

	/* Prefetch all four in one round trip. */
	xcb_prefetch_extension_data(self->conn, &xcb_shm_id);
	xcb_prefetch_extension_data(self->conn, &xcb_damage_id);
	xcb_prefetch_extension_data(self->conn, &xcb_xfixes_id);
	xcb_prefetch_extension_data(self->conn, &xcb_randr_id);

	self->has_shm = !self->no_shm && extension(self, &xcb_shm_id);
	if (!self->no_shm && !self->has_shm)
		dp_log_warn("%s has no MIT-SHM extension (a remote display?): grabbing with GetImage, "
			    "which is slower", display_name(self));

	if ((ext = extension(self, &xcb_xfixes_id))) {
		/* DAMAGE needs XFixes negotiated first. */
		free(xcb_xfixes_query_version_reply(self->conn, xcb_xfixes_query_version(self->conn, 5, 0), NULL));
		self->has_xfixes = true;
	}
	if ((ext = extension(self, &xcb_damage_id)) && self->has_xfixes) {
		free(xcb_damage_query_version_reply(self->conn, xcb_damage_query_version(self->conn, 1, 1), NULL));
		self->has_damage = true;
		self->damage_event_base = ext->first_event;
	}
	if ((ext = extension(self, &xcb_randr_id))) {
		xcb_randr_query_version_reply_t *v =
			xcb_randr_query_version_reply(self->conn, xcb_randr_query_version(self->conn, 1, 5), NULL);

		self->has_randr = v && (v->major_version > 1 || v->minor_version >= 5);
		if (!self->has_randr)
			dp_log_info("%s has RandR older than 1.5: the screen is treated as one monitor",
				    display_name(self));
		free(v);
		self->randr_event_base = ext->first_event;
	}
	if (!self->has_damage)
		dp_log_warn("%s has no DAMAGE extension: grabs work, settle detection does not "
			    "(start Xvfb with +extension DAMAGE)", display_name(self));
}

static int check_visual(struct x11_capture *self, const xcb_screen_t *screen, struct dp_error *err)
{
	const xcb_setup_t *setup = xcb_get_setup(self->conn);
	xcb_format_iterator_t it;

	if (screen->root_depth != 24 && screen->root_depth != 32)
		goto unsupported;
	for (it = xcb_setup_pixmap_formats_iterator(setup); it.rem; xcb_format_next(&it)) {
		if (it.data->depth == screen->root_depth && it.data->bits_per_pixel == 32)
			return 0;
	}
unsupported:
	return dp_error_set(err, -ENOTSUP,
			    "%s has a %d-bit screen; deskpilot captures 24-bit TrueColor screens "
			    "(start Xvfb with -screen 0 1920x1080x24)", display_name(self), screen->root_depth);
}

static int lost(struct x11_capture *self, struct dp_error *err);
static void drain_queued(struct x11_capture *self, const unsigned int *grab_sequence);

/* A new DAMAGE object reports the whole screen as damaged at once.  That
 * is not a change anyone made: a round trip brings it in, and it goes. */
static int discard_initial_damage(struct x11_capture *self)
{
	xcb_get_input_focus_cookie_t ck = xcb_get_input_focus(self->conn);
	xcb_get_input_focus_reply_t *reply = xcb_get_input_focus_reply(self->conn, ck, NULL);

	if (!reply)
		return -EPIPE;
	free(reply);
	drain_queued(self, &ck.sequence);
	self->n_pending = 0;
	self->damage_since_grab = (struct dp_rect){ 0, 0, 0, 0 };
	return 0;
}

static int connect_display(struct x11_capture *self, struct dp_error *err)
{
	const xcb_screen_t *screen;
	xcb_screen_iterator_t it;
	int screen_num = 0, r;

	self->conn = xcb_connect(self->display, &screen_num);
	r = xcb_connection_has_error(self->conn);
	if (r) {
		xcb_disconnect(self->conn);
		self->conn = NULL;
		return dp_error_set(err, -ECONNREFUSED,
				    "cannot connect to the X server on %s: is it running, and may this user "
				    "open it (xhost, XAUTHORITY)? For a virtual display: Xvfb %s -screen 0 "
				    "1920x1080x24 &", display_name(self), display_name(self));
	}
	it = xcb_setup_roots_iterator(xcb_get_setup(self->conn));
	for (int i = 0; i < screen_num && it.rem; i++)
		xcb_screen_next(&it);
	screen = it.data;
	self->root = screen->root;
	self->width = screen->width_in_pixels;
	self->height = screen->height_in_pixels;
	r = check_visual(self, screen, err);
	if (r < 0)
		return r;

	query_extensions(self);
	/* Root ConfigureNotify tells us when the screen is resized. */
	xcb_change_window_attributes(self->conn, self->root, XCB_CW_EVENT_MASK,
				     (uint32_t[]){ XCB_EVENT_MASK_STRUCTURE_NOTIFY });
	if (self->has_damage) {
		self->damage = xcb_generate_id(self->conn);
		xcb_damage_create(self->conn, self->damage, self->root,
				  XCB_DAMAGE_REPORT_LEVEL_RAW_RECTANGLES);
	}
	self->damage_since_grab = (struct dp_rect){ 0, 0, 0, 0 };
	self->n_pending = 0;
	return discard_initial_damage(self) < 0 ? lost(self, err) : ensure_pixels(self, err);
}

/* A broken connection is replaced on the next call, so a daemon survives
 * an X server restart; until then every call says what is wrong. */
static int ensure_connected(struct x11_capture *self, struct dp_error *err)
{
	int r;

	if (self->conn && !xcb_connection_has_error(self->conn))
		return 0;
	if (self->conn) {
		dp_log_warn("lost the connection to the X server on %s; reconnecting", display_name(self));
		disconnect(self);
	}
	r = connect_display(self, err);
	if (r < 0) {
		disconnect(self);
		return r;
	}
	dp_log_info("connected to %s (%dx%d, %s)", display_name(self), self->width, self->height,
		    self->has_shm ? "MIT-SHM" : "GetImage");
	return 0;
}

static int lost(struct x11_capture *self, struct dp_error *err)
{
	return dp_error_set(err, -EPIPE,
			    "lost the connection to the X server on %s (did it exit?); the next call "
			    "reconnects when it is back", display_name(self));
}

/* Damage events carry a 16-bit request sequence: events stamped with the
 * grab's own request (or later) happened after the image was taken. */
static bool after_request(uint16_t event_sequence, unsigned int request_sequence)
{
	return (uint16_t)(event_sequence - (uint16_t)request_sequence) < 0x8000;
}

static void remember_pending(struct x11_capture *self, struct dp_rect rect)
{
	if (self->n_pending < PENDING_MAX) {
		self->pending[self->n_pending++] = rect;
		return;
	}
	/* Full: fold into the last slot; the settle rules only need extents. */
	self->pending[PENDING_MAX - 1] = dp_rect_union(self->pending[PENDING_MAX - 1], rect);
}

/* Handles one event.  With a tracker (during settle) damage feeds it; with
 * grab_sequence set, damage is sorted before / after that grab request. */
static void handle_event(struct x11_capture *self, xcb_generic_event_t *ev, struct dp_settle_tracker *tracker,
			 const unsigned int *grab_sequence, int64_t now_ns)
{
	uint8_t type = ev->response_type & 0x7f;

	if (self->has_damage && type == self->damage_event_base + XCB_DAMAGE_NOTIFY) {
		const xcb_damage_notify_event_t *dn = (const xcb_damage_notify_event_t *)ev;
		struct dp_rect rect = { dn->area.x, dn->area.y, dn->area.width, dn->area.height };

		self->damage_since_grab = dp_rect_union(self->damage_since_grab, rect);
		if (tracker) {
			dp_settle_tracker_damage(tracker, rect, now_ns);
		} else if (grab_sequence && !after_request(dn->sequence, *grab_sequence)) {
			/* Drawn before the grab: already in the frame. Only a
			 * small one is remembered, as possible background. */
			if (dp_rect_area(rect) < 32 * 32)
				dp_damage_history_add(&self->history, rect, now_ns);
		} else {
			remember_pending(self, rect);
		}
		return;
	}
	if (type == XCB_CONFIGURE_NOTIFY) {
		const xcb_configure_notify_event_t *cn = (const xcb_configure_notify_event_t *)ev;

		if (cn->window == self->root && (cn->width != self->width || cn->height != self->height)) {
			dp_log_info("screen of %s resized to %dx%d", display_name(self), cn->width, cn->height);
			self->width = cn->width;
			self->height = cn->height;
		}
		return;
	}
	if (type == 0) {
		const xcb_generic_error_t *e = (const xcb_generic_error_t *)ev;

		dp_log_debug("X error %d on request %d.%d", e->error_code, e->major_code, e->minor_code);
	}
}

static void drain_queued(struct x11_capture *self, const unsigned int *grab_sequence)
{
	xcb_generic_event_t *ev;
	int64_t now = dp_now_ns();

	while ((ev = xcb_poll_for_queued_event(self->conn))) {
		handle_event(self, ev, NULL, grab_sequence, now);
		free(ev);
	}
}

static int check_region(struct x11_capture *self, const struct dp_rect *region, struct dp_rect *out,
			struct dp_error *err)
{
	struct dp_rect screen = { 0, 0, self->width, self->height };

	if (!region) {
		*out = screen;
		return 0;
	}
	if (dp_rect_empty(*region) || region->x < 0 || region->y < 0 ||
	    region->x + region->width > self->width || region->y + region->height > self->height)
		return dp_error_set(err, -ERANGE,
				    "region %dx%d+%d+%d is not inside the %dx%d screen of %s",
				    region->width, region->height, region->x, region->y,
				    self->width, self->height, display_name(self));
	*out = *region;
	return 0;
}

static int fetch_image(struct x11_capture *self, struct dp_rect r, unsigned int *sequence)
{
	xcb_generic_error_t *xerr = NULL;

	if (self->pixels_are_shm) {
		xcb_shm_get_image_cookie_t ck = xcb_shm_get_image(self->conn, self->root, (int16_t)r.x, (int16_t)r.y,
								  (uint16_t)r.width, (uint16_t)r.height, ~0u,
								  XCB_IMAGE_FORMAT_Z_PIXMAP, self->shm_seg, 0);
		xcb_shm_get_image_reply_t *reply = xcb_shm_get_image_reply(self->conn, ck, &xerr);

		*sequence = ck.sequence;
		free(reply);
		if (!reply) {
			free(xerr);
			return -EIO;
		}
		return 0;
	}

	xcb_get_image_cookie_t ck = xcb_get_image(self->conn, XCB_IMAGE_FORMAT_Z_PIXMAP, self->root,
						  (int16_t)r.x, (int16_t)r.y, (uint16_t)r.width,
						  (uint16_t)r.height, ~0u);
	xcb_get_image_reply_t *reply = xcb_get_image_reply(self->conn, ck, &xerr);
	size_t want = (size_t)r.width * (size_t)r.height * 4;

	*sequence = ck.sequence;
	if (!reply) {
		free(xerr);
		return -EIO;
	}
	if ((size_t)xcb_get_image_data_length(reply) < want) {
		free(reply);
		return -EIO;
	}
	memcpy(self->pixels, xcb_get_image_data(reply), want);
	free(reply);
	return 0;
}

/* XFixes hands out the cursor as premultiplied ARGB: blend it over. */
static bool draw_cursor(struct x11_capture *self, struct dp_frame *frame)
{
	xcb_xfixes_get_cursor_image_reply_t *cursor;
	const uint32_t *src;

	if (!self->has_xfixes) {
		if (!self->warned_no_xfixes)
			dp_log_warn("%s has no XFixes extension: frames are captured without the pointer",
				    display_name(self));
		self->warned_no_xfixes = true;
		return false;
	}
	cursor = xcb_xfixes_get_cursor_image_reply(self->conn, xcb_xfixes_get_cursor_image(self->conn), NULL);
	if (!cursor)
		return false;
	src = xcb_xfixes_get_cursor_image_cursor_image(cursor);
	for (int cy = 0; cy < cursor->height; cy++) {
		int y = cursor->y - cursor->yhot + cy - frame->y;

		if (y < 0 || y >= frame->height)
			continue;
		for (int cx = 0; cx < cursor->width; cx++) {
			int x = cursor->x - cursor->xhot + cx - frame->x;
			uint32_t s = src[cy * cursor->width + cx], a = s >> 24, d, out = 0;
			uint32_t *dst;

			if (x < 0 || x >= frame->width || a == 0)
				continue;
			dst = (uint32_t *)(void *)(frame->pixels + (size_t)y * (size_t)frame->stride) + x;
			d = *dst;
			for (int shift = 0; shift < 24; shift += 8) {
				uint32_t c = ((s >> shift) & 0xff) + (((d >> shift) & 0xff) * (255 - a) + 127) / 255;

				out |= (c > 255 ? 255 : c) << shift;
			}
			*dst = out;
		}
	}
	free(cursor);
	return true;
}

static int x11_grab(struct dp_capture *cap, const struct dp_rect *region, unsigned flags,
		    struct dp_frame *frame, struct dp_error *err)
{
	struct x11_capture *self = x11_of(cap);
	struct dp_rect r = { 0, 0, 0, 0 };
	unsigned int sequence = 0;
	int ret;

	ret = ensure_connected(self, err);
	if (ret < 0)
		return ret;
	/* Events already read may include a resize; apply it first. */
	drain_queued(self, NULL);
	ret = ensure_pixels(self, err);
	if (ret < 0)
		return ret;
	ret = check_region(self, region, &r, err);
	if (ret < 0)
		return ret;
	ret = fetch_image(self, r, &sequence);
	if (ret < 0) {
		if (xcb_connection_has_error(self->conn))
			return lost(self, err);
		return dp_error_set(err, ret, "the X server on %s refused to hand out the image of %dx%d+%d+%d",
				    display_name(self), r.width, r.height, r.x, r.y);
	}
	*frame = (struct dp_frame){
		.width = r.width,
		.height = r.height,
		.stride = r.width * 4,
		.pixels = self->pixels,
		.x = r.x,
		.y = r.y,
		.timestamp_ns = dp_now_ns(),
		.sequence = ++self->sequence,
	};
	/* Damage that came before the image is in it; what came after is the
	 * start of the next change and stays pending for settle. */
	self->n_pending = 0;
	self->damage_since_grab = (struct dp_rect){ 0, 0, 0, 0 };
	drain_queued(self, &sequence);
	if (flags & DP_GRAB_CURSOR)
		frame->cursor_drawn = draw_cursor(self, frame);
	frame->damage = self->damage_since_grab;
	return 0;
}

/* Sleeps until the server sends something, the deadline passes, or the
 * interrupt fd (a cancel) becomes readable: then -ECANCELED. */
static int wait_readable(struct x11_capture *self, int64_t deadline_ns, int interrupt_fd)
{
	int64_t left = deadline_ns - dp_now_ns();
	struct pollfd pfd[2] = {
		{ .fd = xcb_get_file_descriptor(self->conn), .events = POLLIN },
		{ .fd = interrupt_fd, .events = POLLIN },
	};
	struct timespec ts;

	if (left <= 0)
		return 0;
	ts.tv_sec = left / DP_NSEC_PER_SEC;
	ts.tv_nsec = left % DP_NSEC_PER_SEC;
	if (ppoll(pfd, interrupt_fd >= 0 ? 2 : 1, &ts, NULL) < 0 && errno != EINTR)
		return -errno;
	return interrupt_fd >= 0 && (pfd[1].revents & POLLIN) ? -ECANCELED : 0;
}

static int x11_settle(struct dp_capture *cap, const struct dp_settle_options *opts,
		      struct dp_settle_result *result, struct dp_error *err)
{
	struct x11_capture *self = x11_of(cap);
	struct dp_settle_tracker tracker;
	int64_t deadline = 0, start;
	int ret = ensure_connected(self, err);

	if (ret < 0)
		return ret;
	if (!self->has_damage)
		return dp_error_set(err, -ENOTSUP,
				    "the X server on %s has no DAMAGE extension, so deskpilot cannot tell when "
				    "the screen is quiet; start Xvfb with +extension DAMAGE",
				    display_name(self));
	start = dp_now_ns();
	dp_settle_tracker_start(&tracker, opts, &self->history, start);
	for (size_t i = 0; i < self->n_pending; i++)
		dp_settle_tracker_damage(&tracker, self->pending[i], start);
	self->n_pending = 0;

	for (;;) {
		xcb_generic_event_t *ev;
		int64_t now = dp_now_ns();

		/* Read everything the server has sent, then sleep on the
		 * socket until more comes or the tracker's next deadline. */
		while ((ev = xcb_poll_for_event(self->conn))) {
			handle_event(self, ev, &tracker, NULL, now);
			free(ev);
		}
		if (xcb_connection_has_error(self->conn))
			return lost(self, err);
		if (dp_settle_tracker_check(&tracker, dp_now_ns(), &deadline))
			break;
		xcb_flush(self->conn);
		ret = wait_readable(self, deadline, opts->interrupt_fd);
		if (ret == -ECANCELED)
			return dp_error_set(err, ret, "cancelled while waiting for the screen to settle");
		if (ret < 0)
			return dp_error_set(err, ret, "waiting for the X server on %s failed: %s",
					    display_name(self), strerror(-ret));
	}
	*result = tracker.result;
	return 0;
}

static int randr_monitors(struct x11_capture *self, struct dp_geometry *geometry)
{
	xcb_randr_get_monitors_reply_t *reply =
		xcb_randr_get_monitors_reply(self->conn, xcb_randr_get_monitors(self->conn, self->root, 1), NULL);
	xcb_randr_monitor_info_iterator_t it;

	if (!reply)
		return -EIO;
	for (it = xcb_randr_get_monitors_monitors_iterator(reply);
	     it.rem && geometry->n_monitors < DP_MONITORS_MAX; xcb_randr_monitor_info_next(&it)) {
		struct dp_monitor *m = &geometry->monitors[geometry->n_monitors++];
		xcb_get_atom_name_reply_t *name =
			xcb_get_atom_name_reply(self->conn, xcb_get_atom_name(self->conn, it.data->name), NULL);

		m->rect = (struct dp_rect){ it.data->x, it.data->y, it.data->width, it.data->height };
		m->primary = it.data->primary;
		if (name) {
			snprintf(m->name, sizeof(m->name), "%.*s", xcb_get_atom_name_name_length(name),
				 xcb_get_atom_name_name(name));
			free(name);
		}
	}
	free(reply);
	return 0;
}

static int x11_geometry(struct dp_capture *cap, struct dp_geometry *geometry, struct dp_error *err)
{
	struct x11_capture *self = x11_of(cap);
	int ret = ensure_connected(self, err);

	if (ret < 0)
		return ret;
	drain_queued(self, NULL);
	memset(geometry, 0, sizeof(*geometry));
	geometry->width = self->width;
	geometry->height = self->height;
	if (self->has_randr && randr_monitors(self, geometry) < 0 && xcb_connection_has_error(self->conn))
		return lost(self, err);
	if (geometry->n_monitors == 0) {
		geometry->n_monitors = 1;
		geometry->monitors[0] = (struct dp_monitor){
			.name = "screen", .rect = { 0, 0, self->width, self->height }, .primary = true,
		};
	}
	return 0;
}

static void x11_destroy(struct dp_capture *cap)
{
	struct x11_capture *self = x11_of(cap);

	if (self->conn && !xcb_connection_has_error(self->conn) && self->has_damage)
		xcb_damage_destroy(self->conn, self->damage);
	disconnect(self);
	free(self);
}

static int x11_create(struct dp_capture **out, const struct dp_capture_config *config, struct dp_error *err);

const struct dp_capture_impl dp_capture_x11 = {
	.name = "x11",
	.create = x11_create,
	.grab = x11_grab,
	.settle = x11_settle,
	.geometry = x11_geometry,
	.destroy = x11_destroy,
};

static int x11_create(struct dp_capture **out, const struct dp_capture_config *config, struct dp_error *err)
{
	const char *display = config->display ? config->display : getenv("DISPLAY");
	struct x11_capture *self;
	int r;

	if (!display || !*display)
		return dp_error_set(err, -EDESTADDRREQ,
				    "no X display given: DISPLAY is not set; pass --display :N or export "
				    "DISPLAY=:N (for a virtual display: Xvfb :99 -screen 0 1920x1080x24 &)");
	self = calloc(1, sizeof(*self));
	if (!self)
		return dp_error_set(err, -ENOMEM, "out of memory");
	self->base.impl = &dp_capture_x11;
	snprintf(self->display, sizeof(self->display), "%s", display);
	self->no_shm = config->no_shm;
	r = ensure_connected(self, err);
	if (r < 0) {
		x11_destroy(&self->base);
		return r;
	}
	*out = &self->base;
	return 0;
}
