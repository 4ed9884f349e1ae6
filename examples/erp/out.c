#include "out.h"

#include <stdarg.h>
#include <stdio.h>

#include <gdk/gdkx.h>

void erp_emit(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

char *erp_json_quote(const char *s)
{
	GString *q = g_string_new("\"");
	const char *end = s + strlen(s);

	while (s < end) {
		gunichar c = g_utf8_get_char_validated(s, end - s);

		if (c == (gunichar)-1 || c == (gunichar)-2) {
			c = 0xfffd; /* not UTF-8: one replacement per byte */
			s++;
		} else {
			s = g_utf8_next_char(s);
		}
		if (c == '"' || c == '\\') {
			g_string_append_c(q, '\\');
			g_string_append_c(q, (char)c);
		} else if (c >= 0x20 && c < 0x7f) {
			g_string_append_c(q, (char)c);
		} else if (c < 0x10000) {
			g_string_append_printf(q, "\\u%04x", c);
		} else {
			c -= 0x10000;
			g_string_append_printf(q, "\\u%04x\\u%04x", 0xd800 + (c >> 10), 0xdc00 + (c & 0x3ff));
		}
	}
	g_string_append_c(q, '"');
	return g_string_free(q, FALSE);
}

unsigned long erp_xid(GtkWidget *toplevel)
{
	GdkWindow *w = gtk_widget_get_window(toplevel);

	return w && GDK_IS_X11_WINDOW(w) ? (unsigned long)gdk_x11_window_get_xid(w) : 0;
}

void erp_screen_rect(GtkWidget *widget, int *x, int *y, int *width, int *height)
{
	GtkWidget *top = gtk_widget_get_toplevel(widget);
	GdkWindow *win = gtk_widget_get_window(top);
	int ox = 0, oy = 0, wx = 0, wy = 0;

	if (win)
		gdk_window_get_origin(win, &ox, &oy);
	gtk_widget_translate_coordinates(widget, top, 0, 0, &wx, &wy);
	*x = ox + wx;
	*y = oy + wy;
	*width = gtk_widget_get_allocated_width(widget);
	*height = gtk_widget_get_allocated_height(widget);
}

/* Where a label's text is drawn: what OCR finds, not the (wider) cell. */
static void label_text_rect(GtkWidget *label, int *x, int *y, int *width, int *height)
{
	GdkWindow *win = gtk_widget_get_window(label);
	PangoLayout *layout = gtk_label_get_layout(GTK_LABEL(label));
	PangoRectangle logical;
	int ox = 0, oy = 0, lx = 0, ly = 0;

	if (win)
		gdk_window_get_origin(win, &ox, &oy);
	gtk_label_get_layout_offsets(GTK_LABEL(label), &lx, &ly);
	pango_layout_get_pixel_extents(layout, NULL, &logical);
	*x = ox + lx + logical.x;
	*y = oy + ly + logical.y;
	*width = logical.width;
	*height = logical.height;
}

static void append_rect(GString *s, const char *key, GtkWidget *w)
{
	int x, y, width, height;

	if (GTK_IS_LABEL(w))
		label_text_rect(w, &x, &y, &width, &height);
	else
		erp_screen_rect(w, &x, &y, &width, &height);
	g_string_append_printf(s, ",\"%s\":{\"x\":%d,\"y\":%d,\"width\":%d,\"height\":%d}", key, x, y, width,
			       height);
}

void erp_emit_layout(const char *window, const char *name, GtkWidget *label, GtkWidget *widget)
{
	char *qw = erp_json_quote(window), *qn = erp_json_quote(name);
	GString *s = g_string_new(NULL);

	g_string_append_printf(s, "{\"event\":\"layout\",\"window\":%s,\"name\":%s", qw, qn);
	if (label)
		append_rect(s, "label", label);
	append_rect(s, "widget", widget);
	g_string_append_c(s, '}');
	erp_emit("%s", s->str);
	g_string_free(s, TRUE);
	g_free(qw);
	g_free(qn);
}

struct shown {
	GtkWidget *toplevel;
	erp_shown_fn fn;
	void *data;
	gulong map_handler, draw_handler;
	guint idle;
	bool mapped;
};

static const char shown_key[] = "erp-shown";

static void shown_free(void *p)
{
	struct shown *s = p;

	if (s->idle)
		g_source_remove(s->idle);
	g_free(s);
}

static gboolean shown_idle(void *p)
{
	struct shown *s = p;
	GtkWidget *top = s->toplevel;

	s->idle = 0;
	g_signal_handler_disconnect(top, s->map_handler);
	g_signal_handler_disconnect(top, s->draw_handler);
	/* The paint is in the server before anyone is told to look at it. */
	gdk_display_sync(gtk_widget_get_display(top));
	s->fn(top, s->data);
	g_object_set_data(G_OBJECT(top), shown_key, NULL); /* frees s */
	return G_SOURCE_REMOVE;
}

static gboolean on_drawn(GtkWidget *w, cairo_t *cr, void *p)
{
	struct shown *s = p;

	(void)w;
	(void)cr;
	if (s->mapped && !s->idle)
		s->idle = g_idle_add_full(G_PRIORITY_LOW, shown_idle, s, NULL);
	return FALSE;
}

static gboolean on_mapped(GtkWidget *w, GdkEvent *event, void *p)
{
	struct shown *s = p;

	(void)event;
	s->mapped = true;
	gtk_widget_queue_draw(w);
	return FALSE;
}

static void on_destroyed(GtkWidget *w, void *unused)
{
	(void)unused;
	g_object_set_data(G_OBJECT(w), shown_key, NULL);
}

void erp_when_shown(GtkWidget *toplevel, erp_shown_fn fn, void *data)
{
	struct shown *s = g_new0(struct shown, 1);

	s->toplevel = toplevel;
	s->fn = fn;
	s->data = data;
	s->map_handler = g_signal_connect(toplevel, "map-event", G_CALLBACK(on_mapped), s);
	s->draw_handler = g_signal_connect_after(toplevel, "draw", G_CALLBACK(on_drawn), s);
	g_object_set_data_full(G_OBJECT(toplevel), shown_key, s, shown_free);
	g_signal_connect(toplevel, "destroy", G_CALLBACK(on_destroyed), NULL);
}
