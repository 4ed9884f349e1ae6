/* deskpilot-erp: a sample "legacy ERP" invoice client for the deskpilot
 * demo and tests.  The state shared by its windows. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <gtk/gtk.h>

#include "db.h"

#define ERP_TITLE "Acme ERP 4.2 \u2014 Invoices"

struct erp_options {
	char *db_path;
	bool dump, no_reminder, debug_layout;
	int x, y;
	int slow_min_ms, slow_max_ms; /* delay before the form shows */
	uint64_t seed;
};

struct erp_form;

struct erp_app {
	struct erp_options opt;
	struct erp_db *db;
	GtkWidget *window, *list, *status, *count, *new_button, *refresh_button;
	GtkListStore *store;
	guint status_context;
	struct erp_form *form; /* the open form, or NULL */
	guint form_timer;      /* the form is loading */
	GtkWidget *reminder;   /* the reminder on screen, or NULL */
	uint64_t delay_rng, reminder_rng;
};

/* splitmix64: the same numbers for the same seed everywhere. */
static inline uint64_t erp_rng_next(uint64_t *state)
{
	uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* mainwin.c */
void erp_mainwin_create(struct erp_app *app);
void erp_mainwin_set_status(struct erp_app *app, const char *text);
/* Reloads the list; selects and shows the invoice named select, if any. */
void erp_mainwin_reload(struct erp_app *app, const char *select);
/* After a save: list, status line, and now and then the reminder. */
void erp_mainwin_saved(struct erp_app *app, const char *number);

/* form.c: shows the New invoice form (after the caller's delay). */
void erp_form_show(struct erp_app *app);
void erp_form_present(struct erp_app *app);

/* dialogs.c: a modal message dialog on parent, shown at once.  buttons:
 * label, response id pairs ending with NULL; the first is the default.
 * event: the JSON line printed once it is on screen (taken, g_free'd);
 * name: its window name in --debug-layout lines.  The caller connects
 * "response" and destroys it there. */
GtkWidget *erp_dialog(struct erp_app *app, GtkWindow *parent, GtkMessageType type, const char *text,
		      const char *secondary, char *event, const char *name, ...) G_GNUC_NULL_TERMINATED;

/* style.c: the grey, square, classic look, and no animations. */
void erp_style_install(void);
