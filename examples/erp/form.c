/* The New invoice form: a grid of "Label:" and field, a live total,
 * validation with a dialog that names the field, a Yes/No confirmation,
 * and the save. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "app.h"
#include "money.h"
#include "out.h"

#define NUMBER_MAX_CHARS 32
#define CUSTOMER_MAX_CHARS 120

enum field {
	F_NUMBER,
	F_DATE,
	F_CUSTOMER,
	F_NET,
	F_VAT,
	F_TOTAL,
	N_FIELDS,
};

/* The label texts, without their colon: also the names in events. */
static const char *const field_names[N_FIELDS] = {
	"Invoice number", "Date", "Customer", "Net amount", "VAT rate", "Total",
};

static const int vat_rates[] = { 0, 7, 19 };

struct erp_form {
	struct erp_app *app;
	GtkWidget *window, *save, *cancel, *dialog;
	GtkWidget *label[N_FIELDS], *field[N_FIELDS];
	/* What the confirmation is about. */
	char *number, *date, *customer;
	int64_t net_cents, total_cents;
	int vat_percent;
};

static void form_close(struct erp_form *f, bool saved)
{
	struct erp_app *app = f->app;

	gtk_widget_destroy(f->window); /* frees f, see on_destroy */
	gtk_window_present(GTK_WINDOW(app->window));
	gdk_display_sync(gtk_widget_get_display(app->window));
	erp_emit("{\"event\":\"form_closed\",\"saved\":%s}", saved ? "true" : "false");
}

static void on_destroy(GtkWidget *w, void *data)
{
	struct erp_form *f = data;

	(void)w;
	if (f->app->form == f)
		f->app->form = NULL;
	g_free(f->number);
	g_free(f->date);
	g_free(f->customer);
	g_free(f);
}

static const char *entry_text(struct erp_form *f, enum field which)
{
	return gtk_entry_get_text(GTK_ENTRY(f->field[which]));
}

/* The VAT percentage chosen, or -1. */
static int vat_chosen(struct erp_form *f)
{
	int i = gtk_combo_box_get_active(GTK_COMBO_BOX(f->field[F_VAT]));

	return i >= 0 && i < (int)G_N_ELEMENTS(vat_rates) ? vat_rates[i] : -1;
}

static void update_total(GtkWidget *w, void *data)
{
	struct erp_form *f = data;
	int vat = vat_chosen(f);
	const char *why;
	int64_t net;
	char total[32] = "";

	(void)w;
	if (vat >= 0 && erp_amount_parse(entry_text(f, F_NET), &net, &why) == 0)
		erp_amount_format(erp_total_cents(net, vat), total, sizeof(total));
	gtk_entry_set_text(GTK_ENTRY(f->field[F_TOTAL]), total);
}

static bool has_control_chars(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* ---------- dialogs ---------- */

/* After a dialog: the form has the keyboard again (the X server knows it
 * before the driver is told), with the field to fix selected. */
static void back_to_form(struct erp_form *f, const char *dialog, enum field focus)
{
	char *q = erp_json_quote(dialog);

	gtk_window_present(GTK_WINDOW(f->window));
	if (focus < N_FIELDS) {
		gtk_widget_grab_focus(f->field[focus]);
		if (GTK_IS_ENTRY(f->field[focus]))
			gtk_editable_select_region(GTK_EDITABLE(f->field[focus]), 0, -1);
	}
	gdk_display_sync(gtk_widget_get_display(f->window));
	erp_emit("{\"event\":\"dialog_closed\",\"name\":%s}", q);
	g_free(q);
}

static void on_error_response(GtkDialog *dialog, int response, void *data)
{
	struct erp_form *f = data;
	enum field focus = (enum field)GPOINTER_TO_INT(g_object_get_data(G_OBJECT(dialog), "erp-field"));

	(void)response;
	gtk_widget_destroy(GTK_WIDGET(dialog));
	f->dialog = NULL;
	back_to_form(f, "error", focus);
}

/* The modal "OK" dialog for a field's error: text starts with the field's
 * label.  focus: the field to go back to (N_FIELDS: none). */
static void show_error(struct erp_form *f, enum field focus, const char *field, const char *text,
		       const char *hint)
{
	char *qf = erp_json_quote(field), *qt = erp_json_quote(text);
	char *event = g_strdup_printf("{\"event\":\"invalid\",\"field\":%s,\"message\":%s}", qf, qt);

	f->dialog = erp_dialog(f->app, GTK_WINDOW(f->window), GTK_MESSAGE_ERROR, text, hint, event, "error", "_OK",
			       GTK_RESPONSE_OK, NULL);
	g_object_set_data(G_OBJECT(f->dialog), "erp-field", GINT_TO_POINTER(focus));
	g_signal_connect(f->dialog, "response", G_CALLBACK(on_error_response), f);
	g_free(qf);
	g_free(qt);
}

static void field_error(struct erp_form *f, enum field which, const char *hint, const char *fmt, ...)
	G_GNUC_PRINTF(4, 5);

static void field_error(struct erp_form *f, enum field which, const char *hint, const char *fmt, ...)
{
	va_list ap;
	char *what, *text;

	va_start(ap, fmt);
	what = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	text = g_strdup_printf("%s: %s", field_names[which], what);
	show_error(f, which, field_names[which], text, hint);
	g_free(text);
	g_free(what);
}

static void save_confirmed(struct erp_form *f)
{
	struct erp_invoice inv = {
		.number = f->number,
		.date = f->date,
		.customer = f->customer,
		.net_cents = f->net_cents,
		.vat_percent = f->vat_percent,
		.total_cents = f->total_cents,
	};
	struct erp_error err = { { 0 } };
	struct erp_app *app = f->app;
	char *number;
	int r = erp_db_insert(app->db, &inv, &err);

	if (r == -EEXIST) {
		field_error(f, F_NUMBER, "Each invoice needs a number of its own.", "%s already exists.", f->number);
		return;
	}
	if (r < 0) {
		show_error(f, N_FIELDS, "database", "The invoice could not be saved.", err.message);
		return;
	}
	number = g_strdup(f->number);
	form_close(f, true);
	erp_mainwin_saved(app, number);
	g_free(number);
}

static void on_confirm_response(GtkDialog *dialog, int response, void *data)
{
	struct erp_form *f = data;

	gtk_widget_destroy(GTK_WIDGET(dialog));
	f->dialog = NULL;
	if (response == GTK_RESPONSE_YES)
		save_confirmed(f);
	else
		back_to_form(f, "confirm", N_FIELDS);
}

/* ---------- Save: validate, then confirm ---------- */

static char *trimmed(struct erp_form *f, enum field which)
{
	return g_strstrip(g_strdup(entry_text(f, which)));
}

static bool validate(struct erp_form *f)
{
	struct erp_error err = { { 0 } };
	char *number = trimmed(f, F_NUMBER), *date = trimmed(f, F_DATE), *customer = trimmed(f, F_CUSTOMER);
	const char *net_text = entry_text(f, F_NET), *why = NULL;
	bool exists = false, ok = false;
	int64_t net = 0;
	int vat = vat_chosen(f);

	if (!*number) {
		field_error(f, F_NUMBER, "For example INV-1001.", "enter the invoice number.");
	} else if (has_control_chars(number) || g_utf8_strlen(number, -1) > NUMBER_MAX_CHARS) {
		field_error(f, F_NUMBER, "Use at most 32 characters, no tabs or line breaks.",
			    "\u201c%s\u201d is not a valid invoice number.", number);
	} else if (erp_db_exists(f->app->db, number, &exists, &err) < 0) {
		show_error(f, N_FIELDS, "database", "The invoice could not be checked.", err.message);
	} else if (exists) {
		field_error(f, F_NUMBER, "Each invoice needs a number of its own.", "%s already exists.", number);
	} else if (!*date) {
		field_error(f, F_DATE, "Enter the date as YYYY-MM-DD, for example 2026-03-15.",
			    "enter the invoice date.");
	} else if (!erp_date_valid(date)) {
		field_error(f, F_DATE, "Enter the date as YYYY-MM-DD, for example 2026-03-15.",
			    "\u201c%s\u201d is not a valid date.", date);
	} else if (!*customer) {
		field_error(f, F_CUSTOMER, NULL, "enter the customer's name.");
	} else if (has_control_chars(customer) || g_utf8_strlen(customer, -1) > CUSTOMER_MAX_CHARS) {
		field_error(f, F_CUSTOMER, NULL, "use at most 120 characters, no tabs or line breaks.");
	} else if (erp_amount_parse(net_text, &net, &why) < 0) {
		char *shown = g_strstrip(g_strdup(net_text));

		if (*shown)
			field_error(f, F_NET, "For example 1234.56 or 1.234,56.", "\u201c%s\u201d %s.", shown, why);
		else
			field_error(f, F_NET, "For example 1234.56 or 1.234,56.", "enter the net amount.");
		g_free(shown);
	} else if (vat < 0) {
		field_error(f, F_VAT, NULL, "choose 0 %%, 7 %% or 19 %%.");
	} else {
		ok = true;
		g_free(f->number);
		g_free(f->date);
		g_free(f->customer);
		f->number = g_steal_pointer(&number);
		f->date = g_steal_pointer(&date);
		f->customer = g_steal_pointer(&customer);
		f->net_cents = net;
		f->vat_percent = vat;
		f->total_cents = erp_total_cents(net, vat);
	}
	g_free(number);
	g_free(date);
	g_free(customer);
	return ok;
}

static void on_save(GtkWidget *w, void *data)
{
	struct erp_form *f = data;
	char *text, *q, *event;

	(void)w;
	if (f->dialog || !validate(f))
		return;
	text = g_strdup_printf("Save invoice %s?", f->number);
	q = erp_json_quote(f->number);
	event = g_strdup_printf("{\"event\":\"confirm\",\"number\":%s}", q);
	f->dialog = erp_dialog(f->app, GTK_WINDOW(f->window), GTK_MESSAGE_QUESTION, text, NULL, event, "confirm",
			       "_Yes", GTK_RESPONSE_YES, "_No", GTK_RESPONSE_NO, NULL);
	g_signal_connect(f->dialog, "response", G_CALLBACK(on_confirm_response), f);
	g_free(q);
	g_free(text);
}

static void on_cancel(GtkWidget *w, void *data)
{
	struct erp_form *f = data;

	(void)w;
	if (!f->dialog)
		form_close(f, false);
}

static gboolean on_delete(GtkWidget *w, GdkEvent *event, void *data)
{
	(void)w;
	(void)event;
	on_cancel(NULL, data);
	return TRUE;
}

static gboolean on_key(GtkWidget *w, GdkEventKey *event, void *data)
{
	(void)w;
	if (event->keyval != GDK_KEY_Escape)
		return FALSE;
	on_cancel(NULL, data);
	return TRUE;
}

/* ---------- --debug-layout ---------- */

static void form_shown(GtkWidget *window, void *data)
{
	struct erp_form *f = data;

	erp_emit("{\"event\":\"form\",\"window\":%lu}", erp_xid(window));
	if (!f->app->opt.debug_layout)
		return;
	for (int i = 0; i < N_FIELDS; i++)
		erp_emit_layout("form", field_names[i], f->label[i], f->field[i]);
	erp_emit_layout("form", "Save", NULL, f->save);
	erp_emit_layout("form", "Cancel", NULL, f->cancel);
}

static void vat_menu_shown(GtkWidget *toplevel, void *data)
{
	GtkWidget *menu = gtk_bin_get_child(GTK_BIN(toplevel));
	GList *items = menu ? gtk_container_get_children(GTK_CONTAINER(menu)) : NULL;
	int i = 0;

	(void)data;
	erp_emit("{\"event\":\"menu\",\"name\":\"VAT rate\",\"window\":%lu}", erp_xid(toplevel));
	for (GList *l = items; l && i < (int)G_N_ELEMENTS(vat_rates); l = l->next, i++) {
		char name[16];

		snprintf(name, sizeof(name), "%d %%", vat_rates[i]);
		erp_emit_layout("vat-menu", name, NULL, l->data);
	}
	g_list_free(items);
}

/* The combo's drop-down menu lives in a popup window of its own: find it
 * and announce its items once it is on screen. */
static void on_vat_popup(GObject *combo, GParamSpec *pspec, void *data)
{
	struct erp_form *f = data;
	gboolean shown = FALSE;
	GList *tops;

	(void)pspec;
	g_object_get(combo, "popup-shown", &shown, NULL);
	if (!shown || !f->app->opt.debug_layout)
		return;
	tops = gtk_window_list_toplevels();
	for (GList *l = tops; l; l = l->next) {
		GtkWidget *child = GTK_IS_BIN(l->data) ? gtk_bin_get_child(l->data) : NULL;

		if (child && GTK_IS_MENU(child) && gtk_menu_get_attach_widget(GTK_MENU(child)) == GTK_WIDGET(combo))
			erp_when_shown(l->data, vat_menu_shown, f);
	}
	g_list_free(tops);
}

/* ---------- building it ---------- */

static GtkWidget *add_entry(struct erp_form *f, enum field which, int width_chars, int max_chars, float xalign)
{
	GtkWidget *e = gtk_entry_new();

	gtk_entry_set_width_chars(GTK_ENTRY(e), width_chars);
	gtk_entry_set_max_length(GTK_ENTRY(e), max_chars);
	gtk_entry_set_alignment(GTK_ENTRY(e), xalign);
	gtk_entry_set_activates_default(GTK_ENTRY(e), TRUE);
	f->field[which] = e;
	return e;
}

void erp_form_present(struct erp_app *app)
{
	struct erp_form *f = app->form;

	if (!f)
		return;
	gtk_window_present(GTK_WINDOW(f->dialog ? f->dialog : f->window));
}

void erp_form_show(struct erp_app *app)
{
	struct erp_form *f = g_new0(struct erp_form, 1);
	GtkWidget *vbox = gtk_box_new(GTK_ORIENTATION_VERTICAL, 10);
	GtkWidget *frame = gtk_frame_new(NULL), *grid = gtk_grid_new();
	GtkWidget *heading = gtk_label_new("Invoice entry");
	GtkWidget *buttons = gtk_button_box_new(GTK_ORIENTATION_HORIZONTAL);
	GtkWidget *vat = gtk_combo_box_text_new();

	f->app = app;
	app->form = f;
	f->window = gtk_window_new(GTK_WINDOW_TOPLEVEL);
	gtk_window_set_title(GTK_WINDOW(f->window), "New invoice \u2014 Acme ERP 4.2");
	gtk_window_set_transient_for(GTK_WINDOW(f->window), GTK_WINDOW(app->window));
	gtk_window_set_destroy_with_parent(GTK_WINDOW(f->window), TRUE);
	gtk_window_set_resizable(GTK_WINDOW(f->window), FALSE);
	gtk_style_context_add_class(gtk_widget_get_style_context(f->window), "erp-window");
	gtk_window_set_type_hint(GTK_WINDOW(f->window), GDK_WINDOW_TYPE_HINT_DIALOG);
	gtk_window_move(GTK_WINDOW(f->window), app->opt.x + 200, app->opt.y + 140);
	g_signal_connect(f->window, "destroy", G_CALLBACK(on_destroy), f);
	g_signal_connect(f->window, "delete-event", G_CALLBACK(on_delete), f);
	g_signal_connect(f->window, "key-press-event", G_CALLBACK(on_key), f);

	add_entry(f, F_NUMBER, 16, NUMBER_MAX_CHARS, 0.0f);
	add_entry(f, F_DATE, 12, 10, 0.0f);
	add_entry(f, F_CUSTOMER, 36, CUSTOMER_MAX_CHARS, 0.0f);
	add_entry(f, F_NET, 14, 24, 1.0f);
	add_entry(f, F_TOTAL, 14, 24, 1.0f);
	gtk_editable_set_editable(GTK_EDITABLE(f->field[F_TOTAL]), FALSE);
	gtk_widget_set_can_focus(f->field[F_TOTAL], FALSE);
	gtk_style_context_add_class(gtk_widget_get_style_context(f->field[F_TOTAL]), "erp-readonly");
	for (size_t i = 0; i < G_N_ELEMENTS(vat_rates); i++) {
		char text[16], id[8];

		snprintf(text, sizeof(text), "%d %%", vat_rates[i]);
		snprintf(id, sizeof(id), "%d", vat_rates[i]);
		gtk_combo_box_text_append(GTK_COMBO_BOX_TEXT(vat), id, text);
	}
	f->field[F_VAT] = vat;
	gtk_widget_set_size_request(vat, 96, -1);
	g_signal_connect(f->field[F_NET], "changed", G_CALLBACK(update_total), f);
	g_signal_connect(vat, "changed", G_CALLBACK(update_total), f);
	g_signal_connect(vat, "notify::popup-shown", G_CALLBACK(on_vat_popup), f);

	gtk_grid_set_row_spacing(GTK_GRID(grid), 8);
	gtk_grid_set_column_spacing(GTK_GRID(grid), 10);
	gtk_container_set_border_width(GTK_CONTAINER(grid), 12);
	for (int i = 0; i < N_FIELDS; i++) {
		char *text = g_strdup_printf("%s:", field_names[i]);

		f->label[i] = gtk_label_new(text);
		g_free(text);
		gtk_label_set_xalign(GTK_LABEL(f->label[i]), 1.0f);
		gtk_widget_set_halign(f->field[i], GTK_ALIGN_START);
		gtk_grid_attach(GTK_GRID(grid), f->label[i], 0, i, 1, 1);
		gtk_grid_attach(GTK_GRID(grid), f->field[i], 1, i, 1, 1);
	}
	gtk_container_add(GTK_CONTAINER(frame), grid);

	f->save = gtk_button_new_with_mnemonic("_Save");
	f->cancel = gtk_button_new_with_mnemonic("_Cancel");
	gtk_widget_set_can_default(f->save, TRUE);
	g_signal_connect(f->save, "clicked", G_CALLBACK(on_save), f);
	g_signal_connect(f->cancel, "clicked", G_CALLBACK(on_cancel), f);
	gtk_button_box_set_layout(GTK_BUTTON_BOX(buttons), GTK_BUTTONBOX_END);
	gtk_box_set_spacing(GTK_BOX(buttons), 8);
	gtk_container_add(GTK_CONTAINER(buttons), f->save);
	gtk_container_add(GTK_CONTAINER(buttons), f->cancel);

	gtk_label_set_xalign(GTK_LABEL(heading), 0.0f);
	gtk_style_context_add_class(gtk_widget_get_style_context(heading), "heading");
	gtk_container_set_border_width(GTK_CONTAINER(vbox), 12);
	gtk_box_pack_start(GTK_BOX(vbox), heading, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(vbox), frame, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(vbox), buttons, FALSE, FALSE, 0);
	gtk_container_add(GTK_CONTAINER(f->window), vbox);

	gtk_window_set_default(GTK_WINDOW(f->window), f->save);
	gtk_widget_grab_focus(f->field[F_NUMBER]);
	erp_when_shown(f->window, form_shown, f);
	gtk_widget_show_all(f->window);
	gtk_window_present(GTK_WINDOW(f->window));
}
