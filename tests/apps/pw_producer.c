/* pw_producer - a PipeWire video source for deskpilot's PipeWire capture
 * tests: publishes frames whose every pixel is known (pw_pattern.h).
 *
 * Usage: pw-producer [--size WxH] [--format BGRx|RGBx|xRGB|xBGR]
 *                    [--stride-zero] [--stride-pad BYTES] [--damage-meta]
 * Commands on stdin, one per line:
 *   frame N            publish frame N (the whole picture)
 *   frame N X Y W H    frame N inside the rectangle, frame N-1's picture
 *                      outside it (with --damage-meta: and the rectangle
 *                      as the buffer's SPA_META_VideoDamage)
 *   quit
 * Output, JSON lines: {"event":"ready","node":ID} once the stream is
 * streaming, {"event":"frame","n":N} when a frame was queued, and
 * {"event":"error","message":"..."}.
 * --stride-zero leaves the chunk's stride at 0 (packed rows), as some
 * producers do; --stride-pad adds bytes at the end of every row. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pipewire/pipewire.h>
#include <spa/buffer/meta.h>
#include <spa/param/video/format-utils.h>
#include <spa/pod/builder.h>

#include "pw_pattern.h"

struct producer {
	struct pw_main_loop *loop;
	struct pw_stream *stream;
	struct spa_hook listener;
	int32_t width, height, stride;
	uint32_t spa_format;
	int byte_order[3]; /* where B, G, R go in a pixel */
	bool stride_zero, damage_meta, announced;
	/* The picture so far (0x00RRGGBB), and the frame asked for. */
	uint32_t *picture;
	bool pending;
	uint32_t pending_n;
	int32_t rx, ry, rw, rh;
	char line[256];
	size_t line_len;
};

static void paint(struct producer *p)
{
	for (int32_t y = p->ry; y < p->ry + p->rh; y++)
		for (int32_t x = p->rx; x < p->rx + p->rw; x++)
			p->picture[(size_t)y * p->width + x] = pw_pattern_rgb(x, y, p->pending_n);
}

static void on_process(void *data)
{
	struct producer *p = data;
	struct pw_buffer *b;
	struct spa_data *d;
	uint8_t *dst;

	if (!p->pending || !(b = pw_stream_dequeue_buffer(p->stream)))
		return;
	d = &b->buffer->datas[0];
	dst = d->data;
	if (!dst) {
		printf("{\"event\":\"error\",\"message\":\"buffer not mapped\"}\n");
		pw_stream_queue_buffer(p->stream, b);
		return;
	}
	paint(p);
	for (int32_t y = 0; y < p->height; y++) {
		uint8_t *row = dst + (size_t)y * p->stride;

		memset(row, 0xff, (size_t)p->stride);
		for (int32_t x = 0; x < p->width; x++) {
			uint32_t rgb = p->picture[(size_t)y * p->width + x];

			row[x * 4 + p->byte_order[0]] = rgb & 0xff;
			row[x * 4 + p->byte_order[1]] = (rgb >> 8) & 0xff;
			row[x * 4 + p->byte_order[2]] = (rgb >> 16) & 0xff;
		}
	}
	d->chunk->offset = 0;
	d->chunk->size = (uint32_t)p->stride * (uint32_t)p->height;
	d->chunk->stride = p->stride_zero ? 0 : p->stride;
	if (p->damage_meta) {
		struct spa_meta *m = spa_buffer_find_meta(b->buffer, SPA_META_VideoDamage);

		if (m && m->size >= 2 * sizeof(struct spa_meta_region)) {
			struct spa_meta_region *r = m->data;

			r[0].region = SPA_REGION(p->rx, p->ry, (uint32_t)p->rw, (uint32_t)p->rh);
			r[1].region = SPA_REGION(0, 0, 0, 0);
		}
	}
	pw_stream_queue_buffer(p->stream, b);
	p->pending = false;
	printf("{\"event\":\"frame\",\"n\":%u}\n", p->pending_n);
	fflush(stdout);
}

static void on_param_changed(void *data, uint32_t id, const struct spa_pod *param)
{
	struct producer *p = data;
	uint8_t storage[1024];
	struct spa_pod_builder b = SPA_POD_BUILDER_INIT(storage, sizeof(storage));
	const struct spa_pod *params[3];
	uint32_t n = 0;

	if (id != SPA_PARAM_Format || !param)
		return;
	params[n++] = spa_pod_builder_add_object(&b, SPA_TYPE_OBJECT_ParamBuffers, SPA_PARAM_Buffers,
		SPA_PARAM_BUFFERS_buffers, SPA_POD_CHOICE_RANGE_Int(4, 2, 8),
		SPA_PARAM_BUFFERS_blocks, SPA_POD_Int(1),
		SPA_PARAM_BUFFERS_size, SPA_POD_Int(p->stride * p->height),
		SPA_PARAM_BUFFERS_stride, SPA_POD_Int(p->stride),
		SPA_PARAM_BUFFERS_dataType, SPA_POD_CHOICE_FLAGS_Int(1 << SPA_DATA_MemFd));
	params[n++] = spa_pod_builder_add_object(&b, SPA_TYPE_OBJECT_ParamMeta, SPA_PARAM_Meta,
		SPA_PARAM_META_type, SPA_POD_Id(SPA_META_Header),
		SPA_PARAM_META_size, SPA_POD_Int(sizeof(struct spa_meta_header)));
	if (p->damage_meta)
		params[n++] = spa_pod_builder_add_object(&b, SPA_TYPE_OBJECT_ParamMeta, SPA_PARAM_Meta,
			SPA_PARAM_META_type, SPA_POD_Id(SPA_META_VideoDamage),
			SPA_PARAM_META_size, SPA_POD_Int(4 * sizeof(struct spa_meta_region)));
	pw_stream_update_params(p->stream, params, n);
}

static void on_state_changed(void *data, enum pw_stream_state old, enum pw_stream_state state, const char *error)
{
	struct producer *p = data;

	(void)old;
	if (state == PW_STREAM_STATE_ERROR) {
		printf("{\"event\":\"error\",\"message\":\"stream: %s\"}\n", error ? error : "?");
		pw_main_loop_quit(p->loop);
	} else if (state == PW_STREAM_STATE_PAUSED && !p->announced) {
		/* Paused means connected and waiting for a consumer: the
		 * node id is final, which is what consumers need. */
		p->announced = true;
		printf("{\"event\":\"ready\",\"node\":%u}\n", pw_stream_get_node_id(p->stream));
	} else if (state == PW_STREAM_STATE_STREAMING && p->pending) {
		/* A frame asked for before a consumer was linked. */
		pw_stream_trigger_process(p->stream);
	}
	fflush(stdout);
}

static const struct pw_stream_events stream_events = {
	PW_VERSION_STREAM_EVENTS,
	.state_changed = on_state_changed,
	.param_changed = on_param_changed,
	.process = on_process,
};

static void command(struct producer *p, const char *line)
{
	unsigned n;
	int x, y, w, h, k;

	if (strcmp(line, "quit") == 0) {
		pw_main_loop_quit(p->loop);
		return;
	}
	k = sscanf(line, "frame %u %d %d %d %d", &n, &x, &y, &w, &h);
	if (k != 1 && k != 5) {
		printf("{\"event\":\"error\",\"message\":\"unknown command\"}\n");
		fflush(stdout);
		return;
	}
	if (k == 1) {
		x = y = 0;
		w = p->width;
		h = p->height;
	}
	if (x < 0 || y < 0 || w <= 0 || h <= 0 || x + w > p->width || y + h > p->height) {
		printf("{\"event\":\"error\",\"message\":\"rectangle outside the frame\"}\n");
		fflush(stdout);
		return;
	}
	p->pending = true;
	p->pending_n = n;
	p->rx = x, p->ry = y, p->rw = w, p->rh = h;
	pw_stream_trigger_process(p->stream);
}

static void on_stdin(void *data, int fd, uint32_t mask)
{
	struct producer *p = data;
	ssize_t r;
	char c;

	(void)mask;
	while ((r = read(fd, &c, 1)) == 1) {
		if (c != '\n') {
			if (p->line_len < sizeof(p->line) - 1)
				p->line[p->line_len++] = c;
			continue;
		}
		p->line[p->line_len] = '\0';
		p->line_len = 0;
		command(p, p->line);
		return; /* one command per wakeup: the next waits for its process */
	}
	if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
		pw_main_loop_quit(p->loop);
}

static int parse_args(struct producer *p, int argc, char **argv)
{
	static const struct { const char *name; uint32_t spa; int order[3]; } formats[] = {
		{ "BGRx", SPA_VIDEO_FORMAT_BGRx, { 0, 1, 2 } },
		{ "RGBx", SPA_VIDEO_FORMAT_RGBx, { 2, 1, 0 } },
		{ "xRGB", SPA_VIDEO_FORMAT_xRGB, { 3, 2, 1 } },
		{ "xBGR", SPA_VIDEO_FORMAT_xBGR, { 1, 2, 3 } },
	};
	int pad = 0;

	p->width = 320;
	p->height = 240;
	p->spa_format = SPA_VIDEO_FORMAT_BGRx;
	memcpy(p->byte_order, formats[0].order, sizeof(p->byte_order));
	for (int i = 1; i < argc; i++) {
		const char *next = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(argv[i], "--size") == 0 && next && sscanf(next, "%dx%d", &p->width, &p->height) == 2) {
			i++;
		} else if (strcmp(argv[i], "--format") == 0 && next) {
			size_t k;

			for (k = 0; k < 4 && strcmp(formats[k].name, next) != 0; k++)
				;
			if (k == 4)
				return -EINVAL;
			p->spa_format = formats[k].spa;
			memcpy(p->byte_order, formats[k].order, sizeof(p->byte_order));
			i++;
		} else if (strcmp(argv[i], "--stride-pad") == 0 && next) {
			pad = atoi(next);
			i++;
		} else if (strcmp(argv[i], "--stride-zero") == 0) {
			p->stride_zero = true;
		} else if (strcmp(argv[i], "--damage-meta") == 0) {
			p->damage_meta = true;
		} else {
			return -EINVAL;
		}
	}
	if (p->width <= 0 || p->height <= 0 || pad < 0 || (p->stride_zero && pad))
		return -EINVAL;
	p->stride = p->width * 4 + pad;
	return 0;
}

int main(int argc, char **argv)
{
	struct producer p = { 0 };
	uint8_t storage[1024];
	struct spa_pod_builder b = SPA_POD_BUILDER_INIT(storage, sizeof(storage));
	const struct spa_pod *params[1];

	if (parse_args(&p, argc, argv) < 0) {
		fprintf(stderr, "usage: pw-producer [--size WxH] [--format BGRx|RGBx|xRGB|xBGR] [--stride-zero] "
				"[--stride-pad BYTES] [--damage-meta]\n");
		return 2;
	}
	p.picture = calloc((size_t)p.width * p.height, sizeof(*p.picture));
	pw_init(&argc, &argv);
	p.loop = pw_main_loop_new(NULL);
	p.stream = pw_stream_new_simple(pw_main_loop_get_loop(p.loop), "deskpilot-test-producer",
					pw_properties_new(PW_KEY_MEDIA_CLASS, "Video/Source", PW_KEY_MEDIA_TYPE,
							  "Video", PW_KEY_MEDIA_CATEGORY, "Source", NULL),
					&stream_events, &p);
	params[0] = spa_pod_builder_add_object(&b, SPA_TYPE_OBJECT_Format, SPA_PARAM_EnumFormat,
		SPA_FORMAT_mediaType, SPA_POD_Id(SPA_MEDIA_TYPE_video),
		SPA_FORMAT_mediaSubtype, SPA_POD_Id(SPA_MEDIA_SUBTYPE_raw),
		SPA_FORMAT_VIDEO_format, SPA_POD_Id(p.spa_format),
		SPA_FORMAT_VIDEO_size, SPA_POD_Rectangle(&SPA_RECTANGLE((uint32_t)p.width, (uint32_t)p.height)),
		SPA_FORMAT_VIDEO_framerate, SPA_POD_Fraction(&SPA_FRACTION(0, 1)));
	if (pw_stream_connect(p.stream, PW_DIRECTION_OUTPUT, PW_ID_ANY,
			      PW_STREAM_FLAG_DRIVER | PW_STREAM_FLAG_MAP_BUFFERS, params, 1) < 0) {
		printf("{\"event\":\"error\",\"message\":\"cannot connect the stream\"}\n");
		return 1;
	}
	fcntl(STDIN_FILENO, F_SETFL, fcntl(STDIN_FILENO, F_GETFL) | O_NONBLOCK);
	pw_loop_add_io(pw_main_loop_get_loop(p.loop), STDIN_FILENO, SPA_IO_IN, false, on_stdin, &p);
	pw_main_loop_run(p.loop);
	pw_stream_destroy(p.stream);
	pw_main_loop_destroy(p.loop);
	pw_deinit();
	free(p.picture);
	return 0;
}
