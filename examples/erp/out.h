/* What the app tells its driver on stdout: one JSON object a line, pure
 * ASCII (anything else as \uXXXX), flushed at once.  Events are printed
 * when what they announce is on the screen (mapped and drawn). */
#pragma once

#include <stdbool.h>

#include <gtk/gtk.h>

/* Prints one line (fmt must produce a JSON object) and flushes. */
void erp_emit(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* s as a quoted JSON string, ASCII only; g_free it. */
char *erp_json_quote(const char *s);

/* The X window id of a realized toplevel. */
unsigned long erp_xid(GtkWidget *toplevel);

/* Screen geometry of a widget: root coordinates of its top-left corner. */
void erp_screen_rect(GtkWidget *widget, int *x, int *y, int *width, int *height);

/* {"event":"layout","window":W,"name":N,"label":{...},"widget":{...}}:
 * each {"x","y","width","height"} in root (screen) pixels; for a label,
 * the box of its text; label may be NULL. */
void erp_emit_layout(const char *window, const char *name, GtkWidget *label, GtkWidget *widget);

/* Calls fn once, after toplevel has been mapped and painted (and the X
 * server has the paint).  Nothing is called if it is destroyed first. */
typedef void (*erp_shown_fn)(GtkWidget *toplevel, void *data);
void erp_when_shown(GtkWidget *toplevel, erp_shown_fn fn, void *data);
