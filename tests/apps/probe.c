/* probe.c - XCB fixture window for deskpilot capture, settle and input tests.
 *
 * Paints a known pattern (probe_pattern.h), stamps every frame it draws
 * with a counter in an 8x8 square at (0,0), and reports each draw on
 * stdout as a JSON line once the X server has processed it. Commands on
 * stdin trigger draws, delayed redraw bursts, animations and a caret
 * blink that is deliberately not a draw. See usage() for the protocol.
 *
 * Input: every button, motion, key, focus and keyboard-mapping event the
 * window receives is printed as one JSON line, e.g.
 *   {"event":"button","press":true,"button":1,"x":10,"y":20,"root_x":10,
 *    "root_y":20,"state":0,"time":123456}
 *   {"event":"motion","x":10,"y":20,"root_x":10,"root_y":20,"state":0}
 *   {"event":"key","press":true,"keycode":38,"keysym":97,"name":"a",
 *    "state":0,"text":"a","map_fetches":1}
 *   {"event":"focus","in":true}
 *   {"event":"mapping","request":"keyboard","first_keycode":8,"count":248}
 * (one line each; state is the X modifier/button mask at the event, time
 * the server timestamp, x/y window-relative).
 *
 * Keysyms are looked up the way a classic (non-XKB) Xlib client does it,
 * so that injectors which rebind keycodes and restore them too early get
 * caught: the probe keeps a client-side copy of the core keyboard map,
 * a MappingNotify (Keyboard) only marks it stale, and the map is fetched
 * again (GetKeyboardMapping, counted in map_fetches) at the next key event
 * that needs it, i.e. possibly after the injector already restored it.
 * Column choice: group 1 only; Shift, or Lock on a letter, selects column
 * 1; a column 1 of NoSymbol means column 0 for both, except that a cased
 * letter in column 0 is treated as lower/upper case pair. No NumLock
 * keypad rule, no Mode_switch group 2. The key line's text is the keysym
 * as UTF-8 (xkb_keysym_to_utf8), whatever the modifiers.
 *
 * Committed text (as in a text field): each key press whose text is
 * non-empty and not a control character (< 0x20 or 0x7f) appends it,
 * except with Control held (Xlib would turn it into a control character);
 * BackSpace removes the last UTF-8 character; Return and KP_Enter append
 * "\n".
 *
 * focus, text, clear and sync first do an X round trip and print every
 * event the server delivered before it, so their answer comes after those
 * events' lines:
 *   focus -> SetInputFocus(window, revert to parent, CurrentTime), then
 *            {"event":"focused"} (or {"event":"focused","error":CODE})
 *   text  -> {"event":"text","text":"..."}  (JSON: \" \\ and control
 *            characters as \u00XX escaped; other UTF-8 as is)
 *   clear -> empties the committed text, {"event":"cleared"}
 *   sync  -> {"event":"synced"}
 *
 * Slow mode ("slow SEED PERCENT MIN_MS MAX_MS"): the probe reacts to input
 * the way an application does, with draws, and some reactions come late,
 * like a legacy app that opens a form:
 *   - a key press with text (no Control) echoes at once (a 400x20 strip);
 *   - a button press (a 48x32 mark at the point), a FocusIn from a focus
 *     change (the title strip) and any other key press that is not a
 *     modifier (Return, Tab, Escape, ctrl+a ...) react at once, or, with
 *     PERCENT % probability, after MIN_MS..MAX_MS (uniform) as a burst of
 *     1 to 3 draws of a 600x400 area 20 ms apart.  The choices come from a
 *     generator seeded with SEED (three numbers per such event, used or
 *     not), so the same events give the same slow reactions.  A late reaction that comes
 *     while another is due merges with it (the later time wins).
 * Every reaction, when drawn, is reported:
 *   {"event":"react","cause":"button","delay_ms":812,"received_ns":...,
 *    "drawn_ns":...,"counter":41}
 * (received_ns: when the probe read the event; drawn_ns: its last draw).
 * "slow off" stops reacting.  "quiet" catches up with the server like
 * sync, then answers {"event":"quiet","counter":N} once no late reaction
 * is due: N is the stamp of the app's final frame for what came before.
 * --stamp N paints an N x N stamp instead of 8 x 8, so that the stamp
 * survives a screenshot scaled down (its inner pixels stay exact).
 *
 * Focus: with no window manager the server's focus is PointerRoot, so keys
 * go to the window under the pointer; "focus" makes the probe the focus
 * window wherever the pointer is (override-redirect or not). Under openbox
 * a managed probe gets the focus when it maps, an override-redirect one
 * does not; "focus" works for both, and openbox leaves it there until
 * another window is activated.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <xcb/xcb.h>
#include <xkbcommon/xkbcommon.h>

#include "probe_pattern.h"

#define PROBE_MAX_DIM 16384     /* keeps one row far below any request limit */
#define PROBE_MAX_MS 86400000L  /* one day; bounds every timer argument */
#define PROBE_LINE_MAX 1024
#define PROBE_MAX_ARGS 8
#define PROBE_ANIM_PERIOD_MS 16
#define PROBE_PUT_IMAGE_HDR 24  /* bytes of a PutImage request before data */
#define PROBE_TEXT_MAX (16u << 20) /* committed text stops growing here */

/* Core protocol modifier bits (KeyButMask). */
#define PROBE_SHIFT_MASK 0x0001u
#define PROBE_LOCK_MASK 0x0002u
#define PROBE_CONTROL_MASK 0x0004u

struct rect {
	int x, y, w, h;
};

static const struct rect redraw_rect = { 40, 40, 320, 240 };
static const struct rect anim_rect = { 400, 40, 200, 200 };
static const struct rect caret_rect = { 40, 300, 2, 20 };
static const struct rect echo_rect = { 60, 300, 400, 20 };
static const struct rect late_rect = { 40, 340, 600, 400 };
#define PROBE_LATE_GAP_MS 20
#define PROBE_MAX_STAMP 256

struct probe {
	/* options */
	int x, y, w, h;
	const char *title;
	bool override_redirect;
	int stamp_size;

	/* X state */
	xcb_connection_t *conn;
	xcb_screen_t *screen;
	xcb_window_t win;
	xcb_gcontext_t gc;
	uint8_t scanline_pad;   /* bits, from the depth-24 pixmap format */
	bool swap_bytes;        /* server image byte order != host order */
	size_t max_data;        /* image bytes allowed in one PutImage */

	/* pixels: buf is the window content, scratch stages one strip */
	uint32_t *buf;
	uint8_t *scratch;

	/* draw bookkeeping */
	bool ready;
	uint32_t counter;
	int64_t last_draw_ns;

	/* timers */
	int redraw_fd, anim_fd, blink_fd;
	long redraw_left;       /* draws still due in the redraw burst */
	long redraw_gap_ms;
	bool anim_active;
	int64_t anim_end_ns;    /* 0: until stop */
	bool caret_on;

	/* slow mode: reactions to input, some of them late */
	bool react_on;
	uint32_t rng;
	long slow_percent, slow_min_ms, slow_max_ms;
	int react_fd;
	bool react_pending;     /* a late reaction is due */
	int64_t react_due_ns;
	long react_left;        /* draws left in its burst */
	long react_delay_ms;
	int64_t react_received_ns;
	const char *react_cause;
	bool quiet_wanted;      /* answer "quiet" once nothing is due */

	/* client-side core keyboard map, as Xlib keeps one */
	xcb_keysym_t *keymap;   /* (max - min + 1) * per keysyms */
	uint8_t min_keycode, max_keycode, keysyms_per_keycode;
	bool keymap_stale;      /* fetch again at the next key event */
	unsigned long map_fetches;

	/* committed text, UTF-8, not NUL-terminated */
	char *text;
	size_t text_len, text_cap;

	/* stdin line assembly */
	char line[PROBE_LINE_MAX];
	size_t line_len;
	bool line_overflow;
	bool stdin_eof;
	bool quit;
};

/* ---------- small helpers ---------- */

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int imin(int a, int b)
{
	return a < b ? a : b;
}

static int imax(int a, int b)
{
	return a > b ? a : b;
}

static struct rect rect_clip(const struct probe *p, struct rect r)
{
	struct rect c;

	c.x = imax(r.x, 0);
	c.y = imax(r.y, 0);
	c.w = imax(imin(r.x + r.w, p->w) - c.x, 0);
	c.h = imax(imin(r.y + r.h, p->h) - c.y, 0);
	return c;
}

static bool rect_empty(struct rect r)
{
	return r.w <= 0 || r.h <= 0;
}

/* Strict decimal parse; rejects trailing junk and out-of-range values. */
static int parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_color(const char *s, uint32_t *out)
{
	if (*s == '#')
		s++;
	if (strlen(s) != 6 || strspn(s, "0123456789abcdefABCDEF") != 6)
		return -EINVAL;
	*out = (uint32_t)strtoul(s, NULL, 16);
	return 0;
}

/* Integer hash so successive frames get visibly unrelated colors. */
static uint32_t mix32(uint32_t v)
{
	v ^= v >> 16;
	v *= 0x7feb352dU;
	v ^= v >> 15;
	v *= 0x846ca68bU;
	v ^= v >> 16;
	return v;
}

/* ---------- output ---------- */

static int emit_flush(void)
{
	return fflush(stdout) == 0 ? 0 : -EIO;
}

static int emit_draw(const struct probe *p)
{
	printf("{\"event\":\"draw\",\"counter\":%" PRIu32 ",\"t_ns\":%" PRId64 "}\n",
	       p->counter, p->last_draw_ns);
	return emit_flush();
}

static int emit_idle(const struct probe *p)
{
	printf("{\"event\":\"idle\",\"counter\":%" PRIu32 ",\"last_draw_ns\":%" PRId64 "}\n",
	       p->counter, p->last_draw_ns);
	return emit_flush();
}

static int emit_ready(const struct probe *p)
{
	xcb_translate_coordinates_cookie_t ck;
	xcb_translate_coordinates_reply_t *r;

	/* Ask the server: a WM may have moved or reparented us. */
	ck = xcb_translate_coordinates(p->conn, p->win, p->screen->root, 0, 0);
	r = xcb_translate_coordinates_reply(p->conn, ck, NULL);
	if (!r)
		return -EIO;
	printf("{\"event\":\"ready\",\"window\":%" PRIu32 ",\"x\":%d,\"y\":%d,"
	       "\"width\":%d,\"height\":%d,\"counter\":%" PRIu32 "}\n",
	       (uint32_t)p->win, r->dst_x, r->dst_y, p->w, p->h, p->counter);
	free(r);
	return emit_flush();
}

/* A JSON string: quote and backslash escaped, control characters as
 * \u00XX, everything else (UTF-8 included) as is. */
static void put_json_string(const char *s, size_t len)
{
	putchar('"');
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			putchar('\\');
			putchar(c);
		} else if (c < 0x20 || c == 0x7f) {
			printf("\\u%04x", c);
		} else {
			putchar(c);
		}
	}
	putchar('"');
}

static int emit_simple(const char *event)
{
	printf("{\"event\":\"%s\"}\n", event);
	return emit_flush();
}

/* ---------- client-side buffer ---------- */

static void buf_pattern(struct probe *p, struct rect r)
{
	for (int y = r.y; y < r.y + r.h; y++)
		for (int x = r.x; x < r.x + r.w; x++)
			p->buf[(size_t)y * (size_t)p->w + (size_t)x] = dp_probe_pattern(x, y);
}

static void buf_fill(struct probe *p, struct rect r, uint32_t color)
{
	for (int y = r.y; y < r.y + r.h; y++)
		for (int x = r.x; x < r.x + r.w; x++)
			p->buf[(size_t)y * (size_t)p->w + (size_t)x] = color & 0xffffffu;
}

/* A color for a uniform fill of r that is guaranteed to change it: if r is
 * already uniform its top-left pixel is that color, so avoid it. */
static uint32_t fresh_color(const struct probe *p, struct rect r, uint32_t salt)
{
	uint32_t c = mix32(p->counter * 2654435761U ^ salt) & 0xffffffu;

	if (!rect_empty(r) && p->buf[(size_t)r.y * (size_t)p->w + (size_t)r.x] == c)
		c ^= 0x808080u;
	return c;
}

/* ---------- upload ---------- */

static size_t row_stride(const struct probe *p, int w)
{
	size_t bits = (size_t)w * 32;
	size_t pad = p->scanline_pad ? p->scanline_pad : 32;

	return (bits + pad - 1) / pad * pad / 8;
}

/* Copy rows [y0, y0+rows) of r into scratch in the server's image layout. */
static void stage_strip(struct probe *p, struct rect r, int y0, int rows, size_t stride)
{
	for (int i = 0; i < rows; i++) {
		const uint32_t *src = p->buf + (size_t)(y0 + i) * (size_t)p->w + (size_t)r.x;
		uint8_t *dst = p->scratch + (size_t)i * stride;

		memcpy(dst, src, (size_t)r.w * 4);
		if (p->swap_bytes) {
			uint32_t *d = (uint32_t *)(void *)dst;
			for (int x = 0; x < r.w; x++)
				d[x] = __builtin_bswap32(d[x]);
		}
		memset(dst + (size_t)r.w * 4, 0, stride - (size_t)r.w * 4);
	}
}

/* Send r (clipped) from buf to the window in strips that each fit in one
 * request; xcb would otherwise shut the connection on an oversize one. */
static int upload_rect(struct probe *p, struct rect r)
{
	size_t stride;
	int rows;

	r = rect_clip(p, r);
	if (rect_empty(r))
		return 0;
	stride = row_stride(p, r.w);
	rows = (int)imin((int)(p->max_data / stride), r.h);
	if (rows < 1)
		return -E2BIG;
	for (int y0 = r.y; y0 < r.y + r.h; y0 += rows) {
		int n = imin(rows, r.y + r.h - y0);

		stage_strip(p, r, y0, n, stride);
		xcb_put_image(p->conn, XCB_IMAGE_FORMAT_Z_PIXMAP, p->win, p->gc,
			      (uint16_t)r.w, (uint16_t)n, (int16_t)r.x, (int16_t)y0,
			      0, 24, (uint32_t)(stride * (size_t)n), p->scratch);
	}
	return xcb_connection_has_error(p->conn) ? -EIO : 0;
}

/* Block until the server has processed everything sent so far. */
static int round_trip(struct probe *p)
{
	xcb_get_input_focus_reply_t *r;

	r = xcb_get_input_focus_reply(p->conn, xcb_get_input_focus(p->conn), NULL);
	if (!r)
		return -EIO;
	free(r);
	return 0;
}

/* ---------- draws ---------- */

/* One draw: the caller has already changed `damage` in buf. Bump the
 * counter, stamp it, upload both, and report only once the server has the
 * frame, so a capture taken after reading the line must see it. */
static int draw_commit(struct probe *p, struct rect damage)
{
	struct rect stamp = { 0, 0, p->stamp_size, p->stamp_size };
	int rc;

	p->counter++;
	stamp = rect_clip(p, stamp);
	buf_fill(p, stamp, dp_probe_stamp_color(p->counter));
	rc = upload_rect(p, damage);
	if (!rc)
		rc = upload_rect(p, stamp);
	if (rc)
		return rc;
	xcb_flush(p->conn);
	rc = round_trip(p);
	if (rc)
		return rc;
	p->last_draw_ns = now_ns();
	return emit_draw(p);
}

static int draw_pattern(struct probe *p)
{
	struct rect all = { 0, 0, p->w, p->h };

	buf_pattern(p, all);
	return draw_commit(p, all);
}

static int draw_fill(struct probe *p, struct rect r, uint32_t color)
{
	r = rect_clip(p, r);
	buf_fill(p, r, color);
	return draw_commit(p, r);
}

static int draw_fresh(struct probe *p, struct rect r, uint32_t salt)
{
	r = rect_clip(p, r);
	return draw_fill(p, r, fresh_color(p, r, salt));
}

/* ---------- caret (not a draw: no counter, no stamp, no event) ---------- */

static int caret_set(struct probe *p, bool on)
{
	struct rect r = rect_clip(p, caret_rect);

	p->caret_on = on;
	if (on)
		buf_fill(p, r, 0x000000);
	else
		buf_pattern(p, r);
	return upload_rect(p, r);
}

/* ---------- timers ---------- */

static int timer_arm_ns(int fd, int64_t first_ns, int64_t period_ns)
{
	struct itimerspec its;

	/* A zero it_value would disarm; "now" means the next nanosecond. */
	if (first_ns <= 0)
		first_ns = 1;
	its.it_value.tv_sec = first_ns / 1000000000LL;
	its.it_value.tv_nsec = first_ns % 1000000000LL;
	its.it_interval.tv_sec = period_ns / 1000000000LL;
	its.it_interval.tv_nsec = period_ns % 1000000000LL;
	return timerfd_settime(fd, 0, &its, NULL) ? -errno : 0;
}

static int timer_arm_ms(int fd, long first_ms, long period_ms)
{
	return timer_arm_ns(fd, (int64_t)first_ms * 1000000LL, (int64_t)period_ms * 1000000LL);
}

static int timer_disarm(int fd)
{
	struct itimerspec its;

	memset(&its, 0, sizeof(its));
	return timerfd_settime(fd, 0, &its, NULL) ? -errno : 0;
}

/* Expirations since last read; 0 if a command disarmed it meanwhile. */
static int timer_consume(int fd, uint64_t *n)
{
	ssize_t r = read(fd, n, sizeof(*n));

	if (r == (ssize_t)sizeof(*n))
		return 0;
	*n = 0;
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	return r < 0 ? -errno : -EIO;
}

static int on_redraw_timer(struct probe *p)
{
	uint64_t n;
	int rc = timer_consume(p->redraw_fd, &n);

	if (rc || !n || p->redraw_left <= 0)
		return rc;
	rc = draw_fresh(p, redraw_rect, 0x52454452u);
	if (rc)
		return rc;
	if (--p->redraw_left > 0)
		return timer_arm_ms(p->redraw_fd, p->redraw_gap_ms, 0);
	return emit_idle(p);
}

static int anim_stop(struct probe *p)
{
	int rc;

	if (!p->anim_active)
		return 0;
	p->anim_active = false;
	rc = timer_disarm(p->anim_fd);
	return rc ? rc : emit_idle(p);
}

static int on_anim_timer(struct probe *p)
{
	uint64_t n;
	int rc = timer_consume(p->anim_fd, &n);

	/* Overruns collapse into one frame: we only promise ~16 ms pacing. */
	if (rc || !n || !p->anim_active)
		return rc;
	rc = draw_fresh(p, anim_rect, 0x414e494du);
	if (rc)
		return rc;
	/* End right after the last frame that fits, not one period later. */
	if (p->anim_end_ns &&
	    p->last_draw_ns + PROBE_ANIM_PERIOD_MS * 1000000LL > p->anim_end_ns)
		return anim_stop(p);
	return 0;
}

static int on_blink_timer(struct probe *p)
{
	uint64_t n;
	int rc = timer_consume(p->blink_fd, &n);

	if (rc || !n)
		return rc;
	return caret_set(p, !p->caret_on);
}

/* ---------- slow mode: reactions to input ---------- */

static uint32_t rng_next(struct probe *p)
{
	p->rng ^= p->rng << 13;
	p->rng ^= p->rng >> 17;
	p->rng ^= p->rng << 5;
	return p->rng;
}

static int emit_react(const struct probe *p, const char *cause, long delay_ms, int64_t received_ns)
{
	printf("{\"event\":\"react\",\"cause\":\"%s\",\"delay_ms\":%ld,\"received_ns\":%" PRId64
	       ",\"drawn_ns\":%" PRId64 ",\"counter\":%" PRIu32 "}\n",
	       cause, delay_ms, received_ns, p->last_draw_ns, p->counter);
	return emit_flush();
}

static int emit_quiet(const struct probe *p)
{
	printf("{\"event\":\"quiet\",\"counter\":%" PRIu32 "}\n", p->counter);
	return emit_flush();
}

/* An immediate reaction: one draw of r, reported. */
static int react_now(struct probe *p, const char *cause, struct rect r)
{
	int64_t received = now_ns();
	int rc = draw_fresh(p, r, 0x52454143u);

	return rc ? rc : emit_react(p, cause, 0, received);
}

/* A reaction that may come late (see the header comment). */
static int react_maybe_late(struct probe *p, const char *cause, struct rect now_rect)
{
	int64_t received = now_ns(), due;
	bool late = (long)(rng_next(p) % 100) < p->slow_percent;
	long delay = p->slow_min_ms + (long)(rng_next(p) % (uint32_t)(p->slow_max_ms - p->slow_min_ms + 1));
	long burst = 1 + (long)(rng_next(p) % 3);

	if (!late)
		return react_now(p, cause, now_rect);
	due = received + (int64_t)delay * 1000000LL;
	if (p->react_pending && p->react_due_ns >= due)
		return 0; /* merged into the one already due */
	if (!p->react_pending)
		p->react_received_ns = received;
	p->react_pending = true;
	p->react_due_ns = due;
	p->react_left = burst;
	p->react_delay_ms = (long)((due - p->react_received_ns) / 1000000LL);
	p->react_cause = cause;
	return timer_arm_ns(p->react_fd, due - received, 0);
}

static int on_react_timer(struct probe *p)
{
	uint64_t n;
	int rc = timer_consume(p->react_fd, &n);

	if (rc || !n || !p->react_pending)
		return rc;
	rc = draw_fresh(p, late_rect, 0x4c415445u);
	if (rc)
		return rc;
	if (--p->react_left > 0)
		return timer_arm_ms(p->react_fd, PROBE_LATE_GAP_MS, 0);
	p->react_pending = false;
	rc = emit_react(p, p->react_cause, p->react_delay_ms, p->react_received_ns);
	if (!rc && p->quiet_wanted) {
		p->quiet_wanted = false;
		rc = emit_quiet(p);
	}
	return rc;
}

static bool is_modifier(xcb_keysym_t ks)
{
	return (ks >= XKB_KEY_Shift_L && ks <= XKB_KEY_Hyper_R) || ks == XKB_KEY_ISO_Level3_Shift ||
	       ks == XKB_KEY_Mode_switch || ks == XKB_KEY_Num_Lock || ks == XKB_KEY_NoSymbol;
}

/* ---------- commands ---------- */

static int cmd_pattern(struct probe *p, int argc, char **argv)
{
	(void)argv;
	if (argc != 1)
		return -EINVAL;
	return draw_pattern(p);
}

static int cmd_fill(struct probe *p, int argc, char **argv)
{
	long v[4];
	uint32_t color;
	struct rect r;

	if (argc != 6)
		return -EINVAL;
	for (int i = 0; i < 4; i++) {
		long lo = i < 2 ? -(1L << 20) : 0;

		if (parse_long(argv[1 + i], lo, 1L << 20, &v[i]))
			return -EINVAL;
	}
	if (parse_color(argv[5], &color))
		return -EINVAL;
	r = (struct rect){ (int)v[0], (int)v[1], (int)v[2], (int)v[3] };
	return draw_fill(p, r, color);
}

static int cmd_redraw(struct probe *p, int argc, char **argv)
{
	long delay, count = 1, gap = 30;

	if (argc < 2 || argc > 4)
		return -EINVAL;
	if (parse_long(argv[1], 0, PROBE_MAX_MS, &delay))
		return -EINVAL;
	if (argc > 2 && parse_long(argv[2], 1, 1000000, &count))
		return -EINVAL;
	if (argc > 3 && parse_long(argv[3], 0, PROBE_MAX_MS, &gap))
		return -EINVAL;
	/* Re-arming replaces any pending burst (and clears its expirations). */
	p->redraw_left = count;
	p->redraw_gap_ms = gap;
	return timer_arm_ms(p->redraw_fd, delay, 0);
}

static int cmd_animate(struct probe *p, int argc, char **argv)
{
	long ms;

	if (argc != 2 || parse_long(argv[1], 0, PROBE_MAX_MS, &ms))
		return -EINVAL;
	/* First frame at once, then every period; a new animate replaces. */
	p->anim_active = true;
	p->anim_end_ns = ms ? now_ns() + (int64_t)ms * 1000000LL : 0;
	return timer_arm_ms(p->anim_fd, 0, PROBE_ANIM_PERIOD_MS);
}

static int blink_stop(struct probe *p)
{
	int rc = timer_disarm(p->blink_fd);

	if (!rc && p->caret_on)
		rc = caret_set(p, false);
	return rc;
}

static int cmd_blink(struct probe *p, int argc, char **argv)
{
	long period;
	int rc;

	if (argc != 2 || parse_long(argv[1], 0, PROBE_MAX_MS, &period))
		return -EINVAL;
	if (!period)
		return blink_stop(p);
	/* Show the caret now so blinking is visible from the first period. */
	if (!p->caret_on) {
		rc = caret_set(p, true);
		if (rc)
			return rc;
	}
	return timer_arm_ms(p->blink_fd, period, period);
}

static int cmd_stop(struct probe *p, int argc, char **argv)
{
	int rc;

	(void)argv;
	if (argc != 1)
		return -EINVAL;
	rc = anim_stop(p);
	return rc ? rc : blink_stop(p);
}

static int cmd_quit(struct probe *p, int argc, char **argv)
{
	(void)argv;
	if (argc != 1)
		return -EINVAL;
	p->quit = true;
	return 0;
}

static int drain_x_events(struct probe *p, bool queued_only);

/* Round trip, then print every event that reached us before its reply:
 * whatever the server delivered before this command is reported first. */
static int catch_up(struct probe *p)
{
	int rc = round_trip(p);

	return rc ? rc : drain_x_events(p, true);
}

static int cmd_focus(struct probe *p, int argc, char **argv)
{
	xcb_void_cookie_t ck;
	xcb_generic_error_t *err;
	int rc;

	(void)argv;
	if (argc != 1)
		return -EINVAL;
	ck = xcb_set_input_focus_checked(p->conn, XCB_INPUT_FOCUS_PARENT, p->win,
					 XCB_CURRENT_TIME);
	err = xcb_request_check(p->conn, ck);
	rc = catch_up(p);
	if (rc) {
		free(err);
		return rc;
	}
	if (err) {
		fprintf(stderr, "probe: SetInputFocus failed: X error %u\n", err->error_code);
		printf("{\"event\":\"focused\",\"error\":%u}\n", err->error_code);
		free(err);
		return emit_flush();
	}
	return emit_simple("focused");
}

static int cmd_text(struct probe *p, int argc, char **argv)
{
	int rc;

	(void)argv;
	if (argc != 1)
		return -EINVAL;
	rc = catch_up(p);
	if (rc)
		return rc;
	printf("{\"event\":\"text\",\"text\":");
	put_json_string(p->text, p->text_len);
	printf("}\n");
	return emit_flush();
}

static int cmd_clear(struct probe *p, int argc, char **argv)
{
	int rc;

	(void)argv;
	if (argc != 1)
		return -EINVAL;
	rc = catch_up(p);
	if (rc)
		return rc;
	p->text_len = 0;
	return emit_simple("cleared");
}

static int cmd_sync(struct probe *p, int argc, char **argv)
{
	int rc;

	(void)argv;
	if (argc != 1)
		return -EINVAL;
	rc = catch_up(p);
	return rc ? rc : emit_simple("synced");
}

static int cmd_slow(struct probe *p, int argc, char **argv)
{
	long seed, percent, lo, hi;

	if (argc == 2 && !strcmp(argv[1], "off")) {
		p->react_on = false;
		return 0;
	}
	if (argc != 5 || parse_long(argv[1], 1, 0xffffffffL, &seed) || parse_long(argv[2], 0, 100, &percent) ||
	    parse_long(argv[3], 0, PROBE_MAX_MS, &lo) || parse_long(argv[4], lo, PROBE_MAX_MS, &hi))
		return -EINVAL;
	p->react_on = true;
	p->rng = mix32((uint32_t)seed) | 1; /* xorshift needs a state other than 0 */
	p->slow_percent = percent;
	p->slow_min_ms = lo;
	p->slow_max_ms = hi;
	return 0;
}

static int cmd_quiet(struct probe *p, int argc, char **argv)
{
	int rc;

	(void)argv;
	if (argc != 1)
		return -EINVAL;
	rc = catch_up(p);
	if (rc)
		return rc;
	if (p->react_pending) {
		p->quiet_wanted = true;
		return 0;
	}
	return emit_quiet(p);
}

struct command {
	const char *name;
	const char *usage;
	int (*fn)(struct probe *p, int argc, char **argv);
};

static const struct command commands[] = {
	{ "pattern", "pattern", cmd_pattern },
	{ "fill", "fill X Y W H RRGGBB", cmd_fill },
	{ "redraw", "redraw DELAY_MS [COUNT [GAP_MS]]", cmd_redraw },
	{ "animate", "animate MS", cmd_animate },
	{ "blink", "blink PERIOD_MS", cmd_blink },
	{ "stop", "stop", cmd_stop },
	{ "focus", "focus", cmd_focus },
	{ "text", "text", cmd_text },
	{ "clear", "clear", cmd_clear },
	{ "sync", "sync", cmd_sync },
	{ "slow", "slow SEED PERCENT MIN_MS MAX_MS | slow off", cmd_slow },
	{ "quiet", "quiet", cmd_quiet },
	{ "quit", "quit", cmd_quit },
};

/* Usage errors (-EINVAL) are reported and ignored; anything else is fatal. */
static int run_line(struct probe *p, char *line)
{
	char *argv[PROBE_MAX_ARGS + 1];
	char *save = NULL, *tok;
	int argc = 0, rc;

	for (tok = strtok_r(line, " \t\r", &save); tok; tok = strtok_r(NULL, " \t\r", &save)) {
		if (argc == PROBE_MAX_ARGS + 1) {
			fprintf(stderr, "probe: too many arguments\n");
			return 0;
		}
		argv[argc++] = tok;
	}
	if (!argc)
		return 0;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[0], commands[i].name))
			continue;
		rc = commands[i].fn(p, argc, argv);
		if (rc == -EINVAL) {
			fprintf(stderr, "probe: usage: %s\n", commands[i].usage);
			return 0;
		}
		return rc;
	}
	fprintf(stderr, "probe: unknown command '%s'\n", argv[0]);
	return 0;
}

/* Run every complete line in p->line, keeping a trailing partial one. */
static int run_lines(struct probe *p)
{
	size_t start = 0;
	char *nl;
	int rc = 0;

	while (!rc && !p->quit &&
	       (nl = memchr(p->line + start, '\n', p->line_len - start))) {
		*nl = '\0';
		if (p->line_overflow)
			p->line_overflow = false; /* tail of an over-long line */
		else
			rc = run_line(p, p->line + start);
		start = (size_t)(nl - p->line) + 1;
	}
	memmove(p->line, p->line + start, p->line_len - start);
	p->line_len -= start;
	return rc;
}

static int on_stdin(struct probe *p)
{
	ssize_t n = read(STDIN_FILENO, p->line + p->line_len,
			 sizeof(p->line) - 1 - p->line_len);
	int rc;

	if (n < 0)
		return (errno == EINTR || errno == EAGAIN) ? 0 : -errno;
	if (n == 0) {
		/* EOF: a last command without newline still runs, then exit. */
		p->stdin_eof = true;
		p->line[p->line_len++] = '\n';
	} else {
		p->line_len += (size_t)n;
	}
	rc = run_lines(p);
	if (!rc && p->line_len == sizeof(p->line) - 1) {
		/* Drop it up to the next newline; complain once per line. */
		if (!p->line_overflow)
			fprintf(stderr, "probe: command line too long, ignored\n");
		p->line_len = 0;
		p->line_overflow = true;
	}
	if (p->stdin_eof)
		p->quit = true;
	return rc;
}

/* ---------- X events ---------- */

static int on_expose(struct probe *p, const xcb_expose_event_t *e)
{
	struct rect r = { e->x, e->y, e->width, e->height };

	if (e->window != p->win)
		return 0;
	if (!p->ready) {
		/* Draw #1 waits for the first Expose: only now is it visible. */
		int rc = draw_pattern(p);

		if (rc)
			return rc;
		p->ready = true;
		return emit_ready(p);
	}
	return upload_rect(p, r); /* repair only: not a draw */
}

/* ---------- keyboard map (client side, Xlib style) ---------- */

static int keymap_fetch(struct probe *p)
{
	unsigned count = (unsigned)p->max_keycode - p->min_keycode + 1;
	xcb_get_keyboard_mapping_cookie_t ck;
	xcb_get_keyboard_mapping_reply_t *r;
	xcb_keysym_t *copy;
	size_t n, want;

	ck = xcb_get_keyboard_mapping(p->conn, p->min_keycode, (uint8_t)count);
	r = xcb_get_keyboard_mapping_reply(p->conn, ck, NULL);
	if (!r)
		return -EIO;
	n = (size_t)xcb_get_keyboard_mapping_keysyms_length(r);
	want = (size_t)count * r->keysyms_per_keycode;
	copy = calloc(want ? want : 1, sizeof(*copy));
	if (!copy) {
		free(r);
		return -ENOMEM;
	}
	memcpy(copy, xcb_get_keyboard_mapping_keysyms(r), (n < want ? n : want) * sizeof(*copy));
	free(p->keymap);
	p->keymap = copy;
	p->keysyms_per_keycode = r->keysyms_per_keycode;
	p->keymap_stale = false;
	p->map_fetches++;
	free(r);
	return 0;
}

static xcb_keysym_t keymap_at(const struct probe *p, uint8_t keycode, unsigned col)
{
	if (keycode < p->min_keycode || keycode > p->max_keycode || col >= p->keysyms_per_keycode)
		return XKB_KEY_NoSymbol;
	return p->keymap[(size_t)(keycode - p->min_keycode) * p->keysyms_per_keycode + col];
}

static bool keysym_has_case(xcb_keysym_t ks)
{
	return xkb_keysym_to_lower(ks) != xkb_keysym_to_upper(ks);
}

/* Group 1 of the core map, as XLookupString picks from it (no NumLock
 * keypad rule, no Mode_switch). */
static xcb_keysym_t lookup_keysym(const struct probe *p, uint8_t keycode, uint16_t state)
{
	xcb_keysym_t k0 = keymap_at(p, keycode, 0), k1 = keymap_at(p, keycode, 1);
	bool letter;

	if (k1 == XKB_KEY_NoSymbol) {
		if (keysym_has_case(k0)) {
			k1 = xkb_keysym_to_upper(k0);
			k0 = xkb_keysym_to_lower(k0);
		} else {
			k1 = k0;
		}
	}
	letter = keysym_has_case(k0);
	if ((state & PROBE_SHIFT_MASK) || ((state & PROBE_LOCK_MASK) && letter))
		return k1;
	return k0;
}

/* ---------- committed text ---------- */

static int text_append(struct probe *p, const char *s, size_t len)
{
	if (p->text_len + len > PROBE_TEXT_MAX)
		return 0; /* a runaway typist; the test will see the text stop */
	if (p->text_len + len > p->text_cap) {
		size_t cap = p->text_cap ? p->text_cap : 256;
		char *t;

		while (cap < p->text_len + len)
			cap *= 2;
		t = realloc(p->text, cap);
		if (!t)
			return -ENOMEM;
		p->text = t;
		p->text_cap = cap;
	}
	memcpy(p->text + p->text_len, s, len);
	p->text_len += len;
	return 0;
}

/* Drop the last UTF-8 character: its continuation bytes and its lead. */
static void text_backspace(struct probe *p)
{
	while (p->text_len > 0 && ((unsigned char)p->text[p->text_len - 1] & 0xc0) == 0x80)
		p->text_len--;
	if (p->text_len > 0)
		p->text_len--;
}

static int text_commit(struct probe *p, xcb_keysym_t ks, uint16_t state,
		       const char *utf8, size_t len)
{
	if (ks == XKB_KEY_BackSpace) {
		text_backspace(p);
		return 0;
	}
	if (ks == XKB_KEY_Return || ks == XKB_KEY_KP_Enter)
		return text_append(p, "\n", 1);
	if (!len || (state & PROBE_CONTROL_MASK))
		return 0;
	if (len == 1 && ((unsigned char)utf8[0] < 0x20 || utf8[0] == 0x7f))
		return 0;
	return text_append(p, utf8, len);
}

/* ---------- input events ---------- */

static int on_key(struct probe *p, const xcb_key_press_event_t *e, bool press)
{
	char name[64], utf8[16];
	xcb_keysym_t ks;
	size_t len = 0;
	int n, rc;

	if (p->keymap_stale || !p->keymap) {
		rc = keymap_fetch(p);
		if (rc)
			return rc;
	}
	ks = lookup_keysym(p, e->detail, e->state);
	if (xkb_keysym_get_name(ks, name, sizeof(name)) < 0)
		snprintf(name, sizeof(name), "0x%08" PRIx32, (uint32_t)ks);
	n = xkb_keysym_to_utf8(ks, utf8, sizeof(utf8));
	if (n > 1)
		len = (size_t)n - 1; /* n counts the terminating NUL */
	if (press) {
		rc = text_commit(p, ks, e->state, utf8, len);
		if (rc)
			return rc;
	}
	if (press && p->react_on && !is_modifier(ks)) {
		bool text = len && !(e->state & PROBE_CONTROL_MASK) && !(len == 1 && ((unsigned char)utf8[0] < 0x20 ||
											  utf8[0] == 0x7f));

		rc = text ? react_now(p, "text", echo_rect) : react_maybe_late(p, "key", echo_rect);
		if (rc)
			return rc;
	}
	printf("{\"event\":\"key\",\"press\":%s,\"keycode\":%u,\"keysym\":%" PRIu32 ",\"name\":",
	       press ? "true" : "false", e->detail, (uint32_t)ks);
	put_json_string(name, strlen(name));
	printf(",\"state\":%u,\"text\":", e->state);
	put_json_string(utf8, len);
	printf(",\"map_fetches\":%lu}\n", p->map_fetches);
	return emit_flush();
}

static int on_button(struct probe *p, const xcb_button_press_event_t *e, bool press)
{
	if (press && p->react_on) {
		int rc = react_maybe_late(p, "button", (struct rect){ e->event_x - 24, e->event_y - 16, 48, 32 });

		if (rc)
			return rc;
	}
	printf("{\"event\":\"button\",\"press\":%s,\"button\":%u,\"x\":%d,\"y\":%d,"
	       "\"root_x\":%d,\"root_y\":%d,\"state\":%u,\"time\":%" PRIu32 "}\n",
	       press ? "true" : "false", e->detail, e->event_x, e->event_y,
	       e->root_x, e->root_y, e->state, (uint32_t)e->time);
	return emit_flush();
}

static int on_motion(const xcb_motion_notify_event_t *e)
{
	printf("{\"event\":\"motion\",\"x\":%d,\"y\":%d,\"root_x\":%d,\"root_y\":%d,\"state\":%u}\n",
	       e->event_x, e->event_y, e->root_x, e->root_y, e->state);
	return emit_flush();
}

static int on_focus(struct probe *p, const xcb_focus_in_event_t *e, bool in)
{
	/* Only a real focus change: not the pointer crossing under PointerRoot
	 * focus, not the grabs of a key binding. */
	if (in && p->react_on && e->mode == XCB_NOTIFY_MODE_NORMAL && e->detail != XCB_NOTIFY_DETAIL_POINTER &&
	    e->detail != XCB_NOTIFY_DETAIL_POINTER_ROOT && e->detail != XCB_NOTIFY_DETAIL_NONE) {
		struct rect title = { p->stamp_size + 8, 0, p->w - p->stamp_size - 8, 24 };
		int rc = react_maybe_late(p, "focus", title);

		if (rc)
			return rc;
	}
	printf("{\"event\":\"focus\",\"in\":%s}\n", in ? "true" : "false");
	return emit_flush();
}

static int on_mapping(struct probe *p, const xcb_mapping_notify_event_t *e)
{
	static const char *const what[] = { "modifier", "keyboard", "pointer" };

	/* As XRefreshKeyboardMapping: forget the map, fetch it when needed. */
	if (e->request == XCB_MAPPING_KEYBOARD)
		p->keymap_stale = true;
	printf("{\"event\":\"mapping\",\"request\":\"%s\",\"first_keycode\":%u,\"count\":%u}\n",
	       e->request < 3 ? what[e->request] : "unknown", e->first_keycode, e->count);
	return emit_flush();
}

static int on_x_event(struct probe *p, xcb_generic_event_t *ev)
{
	uint8_t type = ev->response_type & 0x7f;
	const void *e = ev;

	switch (type) {
	case 0: {
		const xcb_generic_error_t *err = e;

		fprintf(stderr, "probe: X error %u (major %u, minor %u, resource 0x%" PRIx32 ")\n",
			err->error_code, err->major_code, err->minor_code, err->resource_id);
		return 0;
	}
	case XCB_EXPOSE:
		return on_expose(p, e);
	case XCB_KEY_PRESS:
	case XCB_KEY_RELEASE:
		return on_key(p, e, type == XCB_KEY_PRESS);
	case XCB_BUTTON_PRESS:
	case XCB_BUTTON_RELEASE:
		return on_button(p, e, type == XCB_BUTTON_PRESS);
	case XCB_MOTION_NOTIFY:
		return on_motion(e);
	case XCB_FOCUS_IN:
	case XCB_FOCUS_OUT:
		return on_focus(p, e, type == XCB_FOCUS_IN);
	case XCB_MAPPING_NOTIFY:
		return on_mapping(p, e);
	default:
		return 0;
	}
}

/* Empty xcb's queue: events read during round trips never wake poll().
 * queued_only: handle what xcb already read, without reading the socket. */
static int drain_x_events(struct probe *p, bool queued_only)
{
	xcb_generic_event_t *ev;
	int rc = 0;

	while (!rc && (ev = queued_only ? xcb_poll_for_queued_event(p->conn)
					: xcb_poll_for_event(p->conn))) {
		rc = on_x_event(p, ev);
		free(ev);
	}
	if (!rc && xcb_connection_has_error(p->conn))
		rc = -EPIPE;
	return rc;
}

/* ---------- setup ---------- */

static int pick_format(struct probe *p)
{
	const xcb_setup_t *setup = xcb_get_setup(p->conn);
	xcb_format_iterator_t it = xcb_setup_pixmap_formats_iterator(setup);
	const uint16_t probe_endian = 1;
	bool host_lsb = *(const uint8_t *)&probe_endian == 1;

	for (; it.rem; xcb_format_next(&it)) {
		if (it.data->depth != 24)
			continue;
		if (it.data->bits_per_pixel != 32)
			return -ENOTSUP;
		p->scanline_pad = it.data->scanline_pad;
		p->swap_bytes = host_lsb != (setup->image_byte_order == XCB_IMAGE_ORDER_LSB_FIRST);
		return 0;
	}
	return -ENOTSUP;
}

/* The pattern is written as raw 0x00RRGGBB, so the root visual must be
 * depth-24 TrueColor with exactly those masks. */
static int check_visual(const struct probe *p)
{
	xcb_depth_iterator_t d = xcb_screen_allowed_depths_iterator(p->screen);

	if (p->screen->root_depth != 24)
		return -ENOTSUP;
	for (; d.rem; xcb_depth_next(&d)) {
		xcb_visualtype_iterator_t v = xcb_depth_visuals_iterator(d.data);

		for (; v.rem; xcb_visualtype_next(&v)) {
			if (v.data->visual_id != p->screen->root_visual)
				continue;
			if (v.data->_class == XCB_VISUAL_CLASS_TRUE_COLOR &&
			    v.data->red_mask == 0xff0000 && v.data->green_mask == 0xff00 &&
			    v.data->blue_mask == 0xff)
				return 0;
			return -ENOTSUP;
		}
	}
	return -ENOTSUP;
}

static int connect_x(struct probe *p)
{
	int screen_no = 0, rc;
	xcb_screen_iterator_t it;
	uint32_t max_units;

	p->conn = xcb_connect(NULL, &screen_no);
	if (xcb_connection_has_error(p->conn)) {
		fprintf(stderr, "probe: cannot connect to X display\n");
		return -ECONNREFUSED;
	}
	it = xcb_setup_roots_iterator(xcb_get_setup(p->conn));
	for (; screen_no > 0 && it.rem; screen_no--)
		xcb_screen_next(&it);
	if (!it.rem)
		return -ENODEV;
	p->screen = it.data;
	p->min_keycode = xcb_get_setup(p->conn)->min_keycode;
	p->max_keycode = xcb_get_setup(p->conn)->max_keycode;
	p->keymap_stale = true; /* fetched at the first key event */
	rc = check_visual(p);
	if (!rc)
		rc = pick_format(p);
	if (rc) {
		fprintf(stderr, "probe: need a depth-24 TrueColor root visual with 32 bpp images\n");
		return rc;
	}
	/* In 4-byte units; with BIG-REQUESTS this may be far above 256 KiB. */
	max_units = xcb_get_maximum_request_length(p->conn);
	if ((size_t)max_units * 4 <= PROBE_PUT_IMAGE_HDR)
		return -EPROTO;
	p->max_data = (size_t)max_units * 4 - PROBE_PUT_IMAGE_HDR;
	return 0;
}

static xcb_atom_t intern(struct probe *p, const char *name)
{
	xcb_intern_atom_cookie_t ck;
	xcb_intern_atom_reply_t *r;
	xcb_atom_t a;

	ck = xcb_intern_atom(p->conn, 0, (uint16_t)strlen(name), name);
	r = xcb_intern_atom_reply(p->conn, ck, NULL);
	if (!r)
		return XCB_ATOM_NONE;
	a = r->atom;
	free(r);
	return a;
}

static void set_prop(struct probe *p, xcb_atom_t prop, xcb_atom_t type,
		     uint8_t format, size_t len, const void *data)
{
	if (prop == XCB_ATOM_NONE || type == XCB_ATOM_NONE)
		return;
	xcb_change_property(p->conn, XCB_PROP_MODE_REPLACE, p->win, prop, type,
			    format, (uint32_t)len, data);
}

/* STRING is Latin-1: a UTF-8 title in it would read back as mojibake. */
static bool is_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s > 0x7f)
			return false;
	return true;
}

/* Names, class, pid, and fixed position/size hints so a WM (if any)
 * leaves the pattern where the test expects it. */
static void set_wm_props(struct probe *p)
{
	static const char wm_class[] = "probe\0Probe";
	uint32_t pid = (uint32_t)getpid();
	xcb_atom_t utf8 = intern(p, "UTF8_STRING");
	uint32_t hints[18];

	memset(hints, 0, sizeof(hints));
	hints[0] = 1 | 2 | 4 | 8 | 16 | 32; /* US/P position, US/P size, min, max */
	hints[1] = (uint32_t)p->x;
	hints[2] = (uint32_t)p->y;
	hints[3] = hints[5] = hints[7] = (uint32_t)p->w;
	hints[4] = hints[6] = hints[8] = (uint32_t)p->h;

	set_prop(p, XCB_ATOM_WM_NAME, is_ascii(p->title) ? XCB_ATOM_STRING : utf8,
		 8, strlen(p->title), p->title);
	set_prop(p, intern(p, "_NET_WM_NAME"), utf8, 8, strlen(p->title), p->title);
	set_prop(p, XCB_ATOM_WM_CLASS, XCB_ATOM_STRING, 8, sizeof(wm_class), wm_class);
	set_prop(p, intern(p, "_NET_WM_PID"), XCB_ATOM_CARDINAL, 32, 1, &pid);
	set_prop(p, XCB_ATOM_WM_NORMAL_HINTS, XCB_ATOM_WM_SIZE_HINTS, 32, 18, hints);
}

static int create_window(struct probe *p)
{
	uint32_t mask = XCB_CW_BACK_PIXMAP | XCB_CW_OVERRIDE_REDIRECT | XCB_CW_EVENT_MASK;
	/* No background: the server must never paint over our frames. */
	uint32_t values[3] = {
		XCB_BACK_PIXMAP_NONE,
		p->override_redirect ? 1u : 0u,
		XCB_EVENT_MASK_EXPOSURE | XCB_EVENT_MASK_STRUCTURE_NOTIFY |
		XCB_EVENT_MASK_BUTTON_PRESS | XCB_EVENT_MASK_BUTTON_RELEASE |
		XCB_EVENT_MASK_POINTER_MOTION | XCB_EVENT_MASK_KEY_PRESS |
		XCB_EVENT_MASK_KEY_RELEASE | XCB_EVENT_MASK_FOCUS_CHANGE,
	};
	uint32_t gc_values[1] = { 0 }; /* no GraphicsExpose noise */

	p->win = xcb_generate_id(p->conn);
	xcb_create_window(p->conn, 24, p->win, p->screen->root,
			  (int16_t)p->x, (int16_t)p->y, (uint16_t)p->w, (uint16_t)p->h, 0,
			  XCB_WINDOW_CLASS_INPUT_OUTPUT, p->screen->root_visual, mask, values);
	p->gc = xcb_generate_id(p->conn);
	xcb_create_gc(p->conn, p->gc, p->win, XCB_GC_GRAPHICS_EXPOSURES, gc_values);
	set_wm_props(p);
	xcb_map_window(p->conn, p->win);
	xcb_flush(p->conn);
	return xcb_connection_has_error(p->conn) ? -EIO : 0;
}

static int alloc_buffers(struct probe *p)
{
	size_t px = (size_t)p->w * (size_t)p->h;

	p->buf = malloc(px * 4);
	/* One spare pixel per row covers any scanline padding above 32 bits. */
	p->scratch = malloc(((size_t)p->w + 2) * (size_t)p->h * 4);
	if (!p->buf || !p->scratch)
		return -ENOMEM;
	buf_pattern(p, (struct rect){ 0, 0, p->w, p->h });
	return 0;
}

static int create_timers(struct probe *p)
{
	int *fds[4] = { &p->redraw_fd, &p->anim_fd, &p->blink_fd, &p->react_fd };

	for (int i = 0; i < 4; i++) {
		*fds[i] = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
		if (*fds[i] < 0)
			return -errno;
	}
	return 0;
}

/* ---------- arguments ---------- */

static void usage(void)
{
	fprintf(stderr,
		"usage: probe [--x X] [--y Y] [--width W] [--height H] [--title T]\n"
		"             [--override-redirect] [--stamp N]\n"
		"stdin: pattern | fill X Y W H RRGGBB | redraw DELAY_MS [COUNT [GAP_MS]]\n"
		"       | animate MS | blink PERIOD_MS | stop | focus | text | clear\n"
		"       | sync | slow SEED PERCENT MIN_MS MAX_MS | slow off | quiet | quit\n"
		"stdout: JSON lines: ready, draw, idle, button, motion, key, focus,\n"
		"        mapping, focused, text, cleared, synced, react, quiet\n");
}

static int parse_int_opt(const char *name, const char *val, long min, long max, int *out)
{
	long v;

	if (!val || parse_long(val, min, max, &v)) {
		fprintf(stderr, "probe: bad value for %s\n", name);
		return -EINVAL;
	}
	*out = (int)v;
	return 0;
}

static int parse_args(struct probe *p, int argc, char **argv)
{
	int rc = 0;

	for (int i = 1; i < argc && !rc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--override-redirect")) {
			p->override_redirect = true;
			continue;
		}
		if (!strcmp(a, "--x"))
			rc = parse_int_opt(a, v, -32768, 32767, &p->x);
		else if (!strcmp(a, "--y"))
			rc = parse_int_opt(a, v, -32768, 32767, &p->y);
		else if (!strcmp(a, "--width"))
			rc = parse_int_opt(a, v, 1, PROBE_MAX_DIM, &p->w);
		else if (!strcmp(a, "--height"))
			rc = parse_int_opt(a, v, 1, PROBE_MAX_DIM, &p->h);
		else if (!strcmp(a, "--stamp"))
			rc = parse_int_opt(a, v, 1, PROBE_MAX_STAMP, &p->stamp_size);
		else if (!strcmp(a, "--title") && v)
			p->title = v;
		else
			rc = -EINVAL;
		i++; /* every remaining option takes a value */
	}
	if (rc)
		usage();
	return rc;
}

/* ---------- main loop ---------- */

enum { PFD_X, PFD_REDRAW, PFD_ANIM, PFD_BLINK, PFD_REACT, PFD_STDIN, PFD_COUNT };

static int dispatch(struct probe *p, const struct pollfd *pfd)
{
	int rc = 0;

	if (pfd[PFD_REDRAW].revents & POLLIN)
		rc = on_redraw_timer(p);
	if (!rc && (pfd[PFD_ANIM].revents & POLLIN))
		rc = on_anim_timer(p);
	if (!rc && (pfd[PFD_BLINK].revents & POLLIN))
		rc = on_blink_timer(p);
	if (!rc && (pfd[PFD_REACT].revents & POLLIN))
		rc = on_react_timer(p);
	if (!rc && (pfd[PFD_STDIN].revents & (POLLIN | POLLHUP | POLLERR)))
		rc = on_stdin(p);
	/* X readiness needs no action here: the next drain reads it. */
	return rc;
}

static int run(struct probe *p)
{
	struct pollfd pfd[PFD_COUNT];
	int rc;

	while (!p->quit) {
		rc = drain_x_events(p, false);
		if (rc)
			return rc;
		xcb_flush(p->conn);
		pfd[PFD_X] = (struct pollfd){ xcb_get_file_descriptor(p->conn), POLLIN, 0 };
		pfd[PFD_REDRAW] = (struct pollfd){ p->redraw_fd, POLLIN, 0 };
		pfd[PFD_ANIM] = (struct pollfd){ p->anim_fd, POLLIN, 0 };
		pfd[PFD_BLINK] = (struct pollfd){ p->blink_fd, POLLIN, 0 };
		pfd[PFD_REACT] = (struct pollfd){ p->react_fd, POLLIN, 0 };
		/* Commands wait until draw #1 and "ready" are out. */
		pfd[PFD_STDIN] = (struct pollfd){ p->ready ? STDIN_FILENO : -1, POLLIN, 0 };
		if (poll(pfd, PFD_COUNT, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		rc = dispatch(p, pfd);
		if (rc)
			return rc;
	}
	return 0;
}

static void cleanup(struct probe *p)
{
	int fds[4] = { p->redraw_fd, p->anim_fd, p->blink_fd, p->react_fd };

	for (int i = 0; i < 4; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (p->conn)
		xcb_disconnect(p->conn);
	free(p->buf);
	free(p->scratch);
	free(p->keymap);
	free(p->text);
}

int main(int argc, char **argv)
{
	struct probe p;
	int rc;

	memset(&p, 0, sizeof(p));
	p.w = 640;
	p.h = 480;
	p.title = "deskpilot probe";
	p.redraw_fd = p.anim_fd = p.blink_fd = p.react_fd = -1;
	p.stamp_size = DP_PROBE_STAMP_SIZE;

	if (parse_args(&p, argc, argv))
		return 2;
	rc = connect_x(&p);
	if (!rc)
		rc = alloc_buffers(&p);
	if (!rc)
		rc = create_timers(&p);
	if (!rc)
		rc = create_window(&p);
	if (!rc)
		rc = run(&p);
	if (rc)
		fprintf(stderr, "probe: fatal: %s%s\n", strerror(-rc),
			p.conn && xcb_connection_has_error(p.conn) ? " (X connection lost)" : "");
	cleanup(&p);
	return rc ? 1 : 0;
}
