/* The PipeWire frame source: a video stream from a screen-cast node (a
 * portal's or mutter's, on the remote they opened, or any node on the local
 * daemon), behind the same table as the X11 source.
 *
 * The stream runs on its own pw_thread_loop.  Its process callback copies
 * each new buffer into `latest` (converted to BGRX) and queues the damaged
 * rectangles, from SPA_META_VideoDamage where the producer sends it, else
 * from a block diff against the previous buffer, because some producers
 * send every frame at a fixed cadence and others only on change.  An
 * eventfd wakes a settle wait; the settle rules are the shared tracker's. */
#define DP_LOG_SUBSYS "pipewire"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <pipewire/pipewire.h>
#include <spa/buffer/meta.h>
#include <spa/param/video/format-utils.h>
#include <spa/pod/builder.h>

#include "capture/capture.h"
#include "capture/changemap.h"
#include "capture/pixfmt.h"
#include "engine/clock.h"
#include "engine/log.h"

#define FIRST_FRAME_TIMEOUT_MS 5000
#define DAMAGE_QUEUE_SIZE 64
#define MAX_DAMAGE_RECTS 16

struct damage_event {
	struct dp_rect rect;
	int64_t time_ns;
};

struct pw_capture {
	struct dp_capture base;
	struct pw_thread_loop *loop;
	struct pw_context *context;
	struct pw_core *core;
	struct pw_stream *stream;
	struct spa_hook stream_listener;
	struct spa_hook core_listener;
	uint32_t node;
	int wake_fd; /* eventfd: a frame or an error arrived */

	/* Written by the stream thread, read under the thread-loop lock. */
	int32_t width, height;
	enum dp_pixfmt format;
	bool format_known;
	uint8_t *latest, *previous; /* BGRX, stride width*4 */
	uint64_t frames;            /* buffers received */
	bool has_damage_meta;
	struct dp_changemap changemap;
	struct damage_event queue[DAMAGE_QUEUE_SIZE];
	size_t queued;
	struct dp_rect since_grab; /* damage since the last grab */
	int32_t cursor_x, cursor_y;
	bool cursor_known;
	char error[256]; /* a stream or core error; empty while healthy */

	/* The caller's side. */
	uint8_t *grabbed; /* the last grab's pixels, valid until the next grab */
	size_t grabbed_size;
	uint64_t sequence;
	struct dp_damage_history history;
};

static struct pw_capture *pw_of(struct dp_capture *cap)
{
	return (struct pw_capture *)cap;
}

static void wake(struct pw_capture *self)
{
	uint64_t one = 1;

	if (write(self->wake_fd, &one, sizeof(one)) < 0)
		dp_log_debug("wake: %s", strerror(errno));
}

static void push_damage(struct pw_capture *self, struct dp_rect rect, int64_t now)
{
	if (dp_rect_empty(rect))
		return;
	self->since_grab = dp_rect_union(self->since_grab, rect);
	if (self->queued == DAMAGE_QUEUE_SIZE) {
		/* The waiter is behind: fold into the newest entry; the
		 * bounding box is all the settle rules need. */
		struct damage_event *last = &self->queue[DAMAGE_QUEUE_SIZE - 1];

		last->rect = dp_rect_union(last->rect, rect);
		last->time_ns = now;
		return;
	}
	self->queue[self->queued++] = (struct damage_event){ .rect = rect, .time_ns = now };
}

static enum dp_pixfmt pixfmt_of(uint32_t spa_format, bool *ok)
{
	*ok = true;
	switch (spa_format) {
	case SPA_VIDEO_FORMAT_BGRx:
	case SPA_VIDEO_FORMAT_BGRA: return DP_PIXFMT_BGRX;
	case SPA_VIDEO_FORMAT_RGBx:
	case SPA_VIDEO_FORMAT_RGBA: return DP_PIXFMT_RGBX;
	case SPA_VIDEO_FORMAT_xRGB:
	case SPA_VIDEO_FORMAT_ARGB: return DP_PIXFMT_XRGB;
	case SPA_VIDEO_FORMAT_xBGR:
	case SPA_VIDEO_FORMAT_ABGR: return DP_PIXFMT_XBGR;
	default: *ok = false; return DP_PIXFMT_BGRX;
	}
}

/* Buffers and metadata we can use, once the format is fixed. */
static void announce_buffers(struct pw_capture *self)
{
	uint8_t storage[1024];
	struct spa_pod_builder b = SPA_POD_BUILDER_INIT(storage, sizeof(storage));
	const struct spa_pod *params[4];
	uint32_t n = 0;
	int32_t stride = self->width * 4;

	params[n++] = spa_pod_builder_add_object(&b, SPA_TYPE_OBJECT_ParamBuffers, SPA_PARAM_Buffers,
		SPA_PARAM_BUFFERS_buffers, SPA_POD_CHOICE_RANGE_Int(4, 2, 16),
		SPA_PARAM_BUFFERS_blocks, SPA_POD_Int(1),
		/* Producers may pad rows: any size and stride from the packed ones up. */
		SPA_PARAM_BUFFERS_size, SPA_POD_CHOICE_RANGE_Int(stride * self->height, stride * self->height, INT32_MAX),
		SPA_PARAM_BUFFERS_stride, SPA_POD_CHOICE_RANGE_Int(stride, stride, INT32_MAX),
		SPA_PARAM_BUFFERS_dataType,
		SPA_POD_CHOICE_FLAGS_Int((1 << SPA_DATA_MemPtr) | (1 << SPA_DATA_MemFd) | (1 << SPA_DATA_DmaBuf)));
	params[n++] = spa_pod_builder_add_object(&b, SPA_TYPE_OBJECT_ParamMeta, SPA_PARAM_Meta,
		SPA_PARAM_META_type, SPA_POD_Id(SPA_META_Header),
		SPA_PARAM_META_size, SPA_POD_Int(sizeof(struct spa_meta_header)));
	params[n++] = spa_pod_builder_add_object(&b, SPA_TYPE_OBJECT_ParamMeta, SPA_PARAM_Meta,
		SPA_PARAM_META_type, SPA_POD_Id(SPA_META_VideoDamage),
		SPA_PARAM_META_size, SPA_POD_CHOICE_RANGE_Int(sizeof(struct spa_meta_region) * MAX_DAMAGE_RECTS,
			sizeof(struct spa_meta_region) * 1, sizeof(struct spa_meta_region) * MAX_DAMAGE_RECTS));
	params[n++] = spa_pod_builder_add_object(&b, SPA_TYPE_OBJECT_ParamMeta, SPA_PARAM_Meta,
		SPA_PARAM_META_type, SPA_POD_Id(SPA_META_Cursor),
		SPA_PARAM_META_size, SPA_POD_CHOICE_RANGE_Int(sizeof(struct spa_meta_cursor),
			sizeof(struct spa_meta_cursor), sizeof(struct spa_meta_cursor) + 4096));
	pw_stream_update_params(self->stream, params, n);
}

static void on_param_changed(void *data, uint32_t id, const struct spa_pod *param)
{
	struct pw_capture *self = data;
	struct spa_video_info_raw info;
	size_t size;
	bool ok;

	if (id != SPA_PARAM_Format || !param)
		return;
	if (spa_format_video_raw_parse(param, &info) < 0 || info.size.width == 0 || info.size.height == 0) {
		snprintf(self->error, sizeof(self->error), "the producer offered a video format deskpilot cannot read");
		wake(self);
		return;
	}
	self->format = pixfmt_of(info.format, &ok);
	if (!ok) {
		snprintf(self->error, sizeof(self->error), "the producer's pixel format %u is not a 32-bit RGB one",
			 info.format);
		wake(self);
		return;
	}
	size = (size_t)info.size.width * info.size.height * 4;
	free(self->latest);
	free(self->previous);
	self->latest = calloc(1, size);
	self->previous = calloc(1, size);
	if (!self->latest || !self->previous) {
		snprintf(self->error, sizeof(self->error), "out of memory for %ux%u frames", info.size.width,
			 info.size.height);
		wake(self);
		return;
	}
	self->width = (int32_t)info.size.width;
	self->height = (int32_t)info.size.height;
	self->format_known = true;
	self->frames = 0;
	dp_log_info("node %u: %dx%d %s", self->node, self->width, self->height, dp_pixfmt_name(self->format));
	announce_buffers(self);
}

/* The damage this buffer carries: its VideoDamage regions, or the blocks
 * that differ from the previous buffer when it carries none. */
static void record_damage(struct pw_capture *self, struct spa_buffer *buf, int64_t now)
{
	struct spa_meta *meta = spa_buffer_find_meta(buf, SPA_META_VideoDamage);
	struct dp_rect frame = { 0, 0, self->width, self->height };

	if (self->frames == 1) {
		push_damage(self, frame, now);
		return;
	}
	if (meta && meta->size >= sizeof(struct spa_meta_region)) {
		struct spa_meta_region *r;
		bool any = false;

		self->has_damage_meta = true;
		spa_meta_for_each(r, meta) {
			struct dp_rect rect = { r->region.position.x, r->region.position.y,
						(int32_t)r->region.size.width, (int32_t)r->region.size.height };

			if (!spa_meta_region_is_valid(r))
				break;
			push_damage(self, dp_rect_intersect(rect, frame), now);
			any = true;
		}
		if (any)
			return;
	}
	struct dp_frame a = { .width = self->width, .height = self->height, .stride = self->width * 4,
			      .pixels = self->previous };
	struct dp_frame b = a;

	b.pixels = self->latest;
	if (dp_changemap_compute(&self->changemap, &a, &b) == 0)
		push_damage(self, self->changemap.bbox, now);
	else
		push_damage(self, frame, now);
}

static void read_cursor(struct pw_capture *self, struct spa_buffer *buf)
{
	struct spa_meta_cursor *c = spa_buffer_find_meta_data(buf, SPA_META_Cursor, sizeof(*c));

	if (c && spa_meta_cursor_is_valid(c)) {
		self->cursor_x = c->position.x;
		self->cursor_y = c->position.y;
		self->cursor_known = true;
	}
}

static void on_process(void *data)
{
	struct pw_capture *self = data;
	struct pw_buffer *pwb = NULL, *next;
	struct spa_buffer *buf;
	struct spa_data *d;
	const uint8_t *src;
	void *mapped = NULL;
	size_t map_size = 0;
	int32_t stride;
	uint8_t *swap;

	/* Only the newest buffer matters; give older ones straight back. */
	while ((next = pw_stream_dequeue_buffer(self->stream))) {
		if (pwb)
			pw_stream_queue_buffer(self->stream, pwb);
		pwb = next;
	}
	if (!pwb)
		return;
	buf = pwb->buffer;
	d = &buf->datas[0];
	if (!self->format_known || (d->chunk->flags & SPA_CHUNK_FLAG_CORRUPTED) || d->chunk->size == 0)
		goto done;
	src = d->data;
	if (!src && d->type == SPA_DATA_DmaBuf && d->fd >= 0) {
		/* A linear DMA-BUF the stream did not map: map it ourselves. */
		map_size = d->maxsize + d->mapoffset;
		mapped = mmap(NULL, map_size, PROT_READ, MAP_SHARED, (int)d->fd, 0);
		if (mapped == MAP_FAILED) {
			dp_log_warn("cannot map a DMA-BUF frame: %s", strerror(errno));
			mapped = NULL;
			goto done;
		}
		src = (const uint8_t *)mapped + d->mapoffset;
	}
	if (!src)
		goto done;
	src += d->chunk->offset % (d->maxsize ? d->maxsize : 1);
	/* Some producers leave the stride at 0: rows are then packed. */
	stride = d->chunk->stride > 0 ? d->chunk->stride : self->width * 4;
	if ((size_t)stride * (size_t)(self->height - 1) + (size_t)self->width * 4 > d->maxsize) {
		dp_log_warn("a frame of %u bytes is too small for %dx%d at stride %d; skipped", d->maxsize,
			    self->width, self->height, stride);
		goto done;
	}
	swap = self->previous;
	self->previous = self->latest;
	self->latest = swap;
	for (int32_t y = 0; y < self->height; y++)
		dp_pixfmt_row_to_bgrx(self->format, self->latest + (size_t)y * self->width * 4,
				      src + (size_t)y * stride, (size_t)self->width);
	self->frames++;
	record_damage(self, buf, dp_now_ns());
	read_cursor(self, buf);
	wake(self);
done:
	if (mapped)
		munmap(mapped, map_size);
	pw_stream_queue_buffer(self->stream, pwb);
}

static void on_state_changed(void *data, enum pw_stream_state old, enum pw_stream_state state, const char *error)
{
	struct pw_capture *self = data;

	(void)old;
	dp_log_debug("node %u: stream %s", self->node, pw_stream_state_as_string(state));
	if (state == PW_STREAM_STATE_ERROR || (state == PW_STREAM_STATE_UNCONNECTED && self->format_known)) {
		snprintf(self->error, sizeof(self->error), "the PipeWire stream of node %u %s%s%s", self->node,
			 state == PW_STREAM_STATE_ERROR ? "failed" : "was disconnected (the producer went away)",
			 error ? ": " : "", error ? error : "");
		wake(self);
	}
}

static const struct pw_stream_events stream_events = {
	PW_VERSION_STREAM_EVENTS,
	.state_changed = on_state_changed,
	.param_changed = on_param_changed,
	.process = on_process,
};

static void on_core_error(void *data, uint32_t id, int seq, int res, const char *message)
{
	struct pw_capture *self = data;

	(void)seq;
	if (id != PW_ID_CORE)
		return;
	snprintf(self->error, sizeof(self->error), "PipeWire: %s (%s)", message ? message : "error",
		 strerror(-res));
	wake(self);
	pw_thread_loop_signal(self->loop, false);
}

static const struct pw_core_events core_events = {
	PW_VERSION_CORE_EVENTS,
	.error = on_core_error,
};

/* Drains the eventfd, waiting up to deadline_ns for it to become
 * readable, or for interrupt_fd.  Called without the lock held. */
static int wait_wake(struct pw_capture *self, int64_t deadline_ns, int interrupt_fd)
{
	struct pollfd pfd[2] = {
		{ .fd = self->wake_fd, .events = POLLIN },
		{ .fd = interrupt_fd, .events = POLLIN },
	};
	int64_t left = deadline_ns - dp_now_ns();
	struct timespec ts;
	uint64_t count;

	if (left < 0)
		left = 0;
	ts.tv_sec = left / DP_NSEC_PER_SEC;
	ts.tv_nsec = left % DP_NSEC_PER_SEC;
	if (ppoll(pfd, interrupt_fd >= 0 ? 2 : 1, &ts, NULL) < 0 && errno != EINTR)
		return -errno;
	if (interrupt_fd >= 0 && (pfd[1].revents & POLLIN))
		return -ECANCELED;
	if (pfd[0].revents & POLLIN)
		(void)!read(self->wake_fd, &count, sizeof(count));
	return 0;
}

/* Waits for the first frame, so grab and geometry have something to say. */
static int wait_first_frame(struct pw_capture *self, struct dp_error *err)
{
	int64_t deadline = dp_now_ns() + (int64_t)FIRST_FRAME_TIMEOUT_MS * 1000000;

	for (;;) {
		bool ready;
		char error[sizeof(self->error)];

		pw_thread_loop_lock(self->loop);
		ready = self->frames > 0;
		snprintf(error, sizeof(error), "%s", self->error);
		pw_thread_loop_unlock(self->loop);
		if (error[0])
			return dp_error_set(err, -EPIPE, "%s", error);
		if (ready)
			return 0;
		if (dp_now_ns() >= deadline)
			return dp_error_set(err, -ETIMEDOUT,
					    "no frame from PipeWire node %u within %d ms: is the screen cast "
					    "started, and is the node a video source?",
					    self->node, FIRST_FRAME_TIMEOUT_MS);
		wait_wake(self, deadline, -1);
	}
}

static int pw_grab(struct dp_capture *cap, const struct dp_rect *region, unsigned flags, struct dp_frame *frame,
		   struct dp_error *err)
{
	struct pw_capture *self = pw_of(cap);
	struct dp_rect r;
	size_t size;
	int ret = wait_first_frame(self, err);

	if (ret < 0)
		return ret;
	pw_thread_loop_lock(self->loop);
	r = (struct dp_rect){ 0, 0, self->width, self->height };
	if (region) {
		if (dp_rect_empty(*region) || region->x < 0 || region->y < 0 || region->x + region->width > r.width ||
		    region->y + region->height > r.height) {
			pw_thread_loop_unlock(self->loop);
			return dp_error_set(err, -EINVAL, "region %dx%d+%d+%d is not inside the %dx%d stream",
					    region->width, region->height, region->x, region->y, r.width, r.height);
		}
		r = *region;
	}
	size = (size_t)r.width * r.height * 4;
	if (size > self->grabbed_size) {
		uint8_t *p = realloc(self->grabbed, size);

		if (!p) {
			pw_thread_loop_unlock(self->loop);
			return dp_error_set(err, -ENOMEM, "out of memory for a %dx%d frame", r.width, r.height);
		}
		self->grabbed = p;
		self->grabbed_size = size;
	}
	for (int32_t y = 0; y < r.height; y++)
		memcpy(self->grabbed + (size_t)y * r.width * 4,
		       self->latest + ((size_t)(r.y + y) * self->width + r.x) * 4, (size_t)r.width * 4);
	*frame = (struct dp_frame){
		.width = r.width,
		.height = r.height,
		.stride = r.width * 4,
		.pixels = self->grabbed,
		.x = r.x,
		.y = r.y,
		.timestamp_ns = dp_now_ns(),
		.sequence = ++self->sequence,
		.damage = self->since_grab,
		/* The cursor is metadata on a stream, not part of the picture. */
		.cursor_drawn = false,
	};
	(void)flags;
	self->since_grab = (struct dp_rect){ 0 };
	self->queued = 0;
	pw_thread_loop_unlock(self->loop);
	return 0;
}

static int pw_settle(struct dp_capture *cap, const struct dp_settle_options *opts, struct dp_settle_result *result,
		     struct dp_error *err)
{
	struct pw_capture *self = pw_of(cap);
	struct dp_settle_tracker tracker;
	int64_t deadline = 0;
	int ret;

	dp_settle_tracker_start(&tracker, opts, &self->history, dp_now_ns());
	for (;;) {
		struct damage_event events[DAMAGE_QUEUE_SIZE];
		size_t n;
		char error[sizeof(self->error)];

		pw_thread_loop_lock(self->loop);
		n = self->queued;
		memcpy(events, self->queue, n * sizeof(events[0]));
		self->queued = 0;
		snprintf(error, sizeof(error), "%s", self->error);
		pw_thread_loop_unlock(self->loop);
		if (error[0])
			return dp_error_set(err, -EPIPE, "%s", error);
		for (size_t i = 0; i < n; i++)
			dp_settle_tracker_damage(&tracker, events[i].rect, events[i].time_ns);
		if (dp_settle_tracker_check(&tracker, dp_now_ns(), &deadline))
			break;
		ret = wait_wake(self, deadline, opts->interrupt_fd);
		if (ret == -ECANCELED)
			return dp_error_set(err, ret, "cancelled while waiting for the screen to settle");
		if (ret < 0)
			return dp_error_set(err, ret, "waiting for PipeWire frames failed: %s", strerror(-ret));
	}
	*result = tracker.result;
	return 0;
}

static int pw_geometry(struct dp_capture *cap, struct dp_geometry *geometry, struct dp_error *err)
{
	struct pw_capture *self = pw_of(cap);
	int ret = wait_first_frame(self, err);

	if (ret < 0)
		return ret;
	pw_thread_loop_lock(self->loop);
	*geometry = (struct dp_geometry){ .width = self->width, .height = self->height, .n_monitors = 1 };
	geometry->monitors[0].rect = (struct dp_rect){ 0, 0, self->width, self->height };
	geometry->monitors[0].primary = true;
	snprintf(geometry->monitors[0].name, sizeof(geometry->monitors[0].name), "pipewire-%u", self->node);
	pw_thread_loop_unlock(self->loop);
	return 0;
}

static void pw_destroy(struct dp_capture *cap)
{
	struct pw_capture *self = pw_of(cap);

	if (self->loop) {
		pw_thread_loop_stop(self->loop);
		if (self->stream)
			pw_stream_destroy(self->stream);
		if (self->core)
			pw_core_disconnect(self->core);
		if (self->context)
			pw_context_destroy(self->context);
		pw_thread_loop_destroy(self->loop);
	}
	if (self->wake_fd >= 0)
		close(self->wake_fd);
	dp_changemap_release(&self->changemap);
	free(self->latest);
	free(self->previous);
	free(self->grabbed);
	free(self);
}

/* The formats we accept, best first: BGRx needs no conversion. */
static const struct spa_pod *format_param(struct spa_pod_builder *b)
{
	return spa_pod_builder_add_object(b, SPA_TYPE_OBJECT_Format, SPA_PARAM_EnumFormat,
		SPA_FORMAT_mediaType, SPA_POD_Id(SPA_MEDIA_TYPE_video),
		SPA_FORMAT_mediaSubtype, SPA_POD_Id(SPA_MEDIA_SUBTYPE_raw),
		SPA_FORMAT_VIDEO_format, SPA_POD_CHOICE_ENUM_Id(9, SPA_VIDEO_FORMAT_BGRx, SPA_VIDEO_FORMAT_BGRx,
			SPA_VIDEO_FORMAT_BGRA, SPA_VIDEO_FORMAT_RGBx, SPA_VIDEO_FORMAT_RGBA, SPA_VIDEO_FORMAT_xRGB,
			SPA_VIDEO_FORMAT_ARGB, SPA_VIDEO_FORMAT_xBGR, SPA_VIDEO_FORMAT_ABGR),
		SPA_FORMAT_VIDEO_size, SPA_POD_CHOICE_RANGE_Rectangle(&SPA_RECTANGLE(1920, 1080),
			&SPA_RECTANGLE(1, 1), &SPA_RECTANGLE(16384, 16384)),
		SPA_FORMAT_VIDEO_framerate, SPA_POD_CHOICE_RANGE_Fraction(&SPA_FRACTION(30, 1),
			&SPA_FRACTION(0, 1), &SPA_FRACTION(1000, 1)));
}

static int connect_stream(struct pw_capture *self, const struct dp_capture_config *config, struct dp_error *err)
{
	uint8_t storage[1024];
	struct spa_pod_builder b = SPA_POD_BUILDER_INIT(storage, sizeof(storage));
	const struct spa_pod *params[1];
	int ret;

	self->context = pw_context_new(pw_thread_loop_get_loop(self->loop), NULL, 0);
	if (!self->context)
		return dp_error_set(err, -errno ? -errno : -ENOMEM, "cannot create a PipeWire context");
	if (config->pipewire.use_fd)
		/* The remote a portal opened; PipeWire owns the fd from here. */
		self->core = pw_context_connect_fd(self->context, config->pipewire.fd, NULL, 0);
	else
		self->core = pw_context_connect(self->context, NULL, 0);
	if (!self->core)
		return dp_error_set(err, errno ? -errno : -ECONNREFUSED,
				    "cannot connect to PipeWire%s: %s; is pipewire running for this user "
				    "(XDG_RUNTIME_DIR=%s)?",
				    config->pipewire.use_fd ? " through the portal's remote" : "", strerror(errno),
				    getenv("XDG_RUNTIME_DIR") ? getenv("XDG_RUNTIME_DIR") : "unset");
	pw_core_add_listener(self->core, &self->core_listener, &core_events, self);
	self->stream = pw_stream_new(self->core, "deskpilot",
				     pw_properties_new(PW_KEY_MEDIA_TYPE, "Video", PW_KEY_MEDIA_CATEGORY, "Capture",
						       PW_KEY_MEDIA_ROLE, "Screen", NULL));
	if (!self->stream)
		return dp_error_set(err, -ENOMEM, "cannot create a PipeWire stream");
	pw_stream_add_listener(self->stream, &self->stream_listener, &stream_events, self);
	params[0] = format_param(&b);
	ret = pw_stream_connect(self->stream, PW_DIRECTION_INPUT, self->node ? self->node : PW_ID_ANY,
				PW_STREAM_FLAG_AUTOCONNECT | PW_STREAM_FLAG_MAP_BUFFERS, params, 1);
	if (ret < 0)
		return dp_error_set(err, ret, "cannot connect a stream to PipeWire node %u: %s", self->node,
				    strerror(-ret));
	return 0;
}

static int pw_create(struct dp_capture **out, const struct dp_capture_config *config, struct dp_error *err);

const struct dp_capture_impl dp_capture_pipewire = {
	.name = "pipewire",
	.create = pw_create,
	.grab = pw_grab,
	.settle = pw_settle,
	.geometry = pw_geometry,
	.destroy = pw_destroy,
};

static int pw_create(struct dp_capture **out, const struct dp_capture_config *config, struct dp_error *err)
{
	struct pw_capture *self = calloc(1, sizeof(*self));
	int ret;

	if (!self)
		return dp_error_set(err, -ENOMEM, "out of memory");
	self->base.impl = &dp_capture_pipewire;
	self->node = config->pipewire.node;
	self->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (self->wake_fd < 0) {
		ret = dp_error_set(err, -errno, "eventfd: %s", strerror(errno));
		free(self);
		return ret;
	}
	pw_init(NULL, NULL);
	self->loop = pw_thread_loop_new("dp-pipewire", NULL);
	if (!self->loop || pw_thread_loop_start(self->loop) < 0) {
		ret = dp_error_set(err, -ENOMEM, "cannot start the PipeWire thread");
		pw_destroy(&self->base);
		return ret;
	}
	pw_thread_loop_lock(self->loop);
	ret = connect_stream(self, config, err);
	pw_thread_loop_unlock(self->loop);
	if (ret < 0) {
		pw_destroy(&self->base);
		return ret;
	}
	*out = &self->base;
	return 0;
}
