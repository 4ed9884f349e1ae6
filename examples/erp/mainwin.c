/* The main window: menu, button row, the invoice list, the status line;
 * the delayed opening of the form; the reminder. */
#include <unistd.h>

#include "app.h"
#include "money.h"
#include "out.h"

enum {
	COL_NUMBER,
	COL_DATE,
	COL_CUSTOMER,
	COL_NET,
	COL_VAT,
	COL_TOTAL,
	N_COLS,
};

void erp_mainwin_set_status(struct erp_app *app, const char *text)
{
	gtk_statusbar_remove_all(GTK_STATUSBAR(app->status), app->status_context);
	gtk_statusbar_push(GTK_STATUSBAR(app->status), app->status_context, text);
	if (app->opt.debug_layout) {
		char *q = erp_json_quote(text);

		erp_emit("{\"event\":\"status\",\"text\":%s}", q);
		g_free(q);
	}
}

static int add_row(void *data, const struct erp_invoice *inv)
{
	struct erp_app *app = data;
	char net[32], total[32], vat[16];
	/* The database may have been written by something else: show what
	 * is there, never hand GTK invalid UTF-8. */
	char *number = g_utf8_make_valid(inv->number, -1);
	char *date = g_utf8_make_valid(inv->date, -1);
	char *customer = g_utf8_make_valid(inv->customer, -1);
	GtkTreeIter it;

	erp_amount_format(inv->net_cents, net, sizeof(net));
	erp_amount_format(inv->total_cents, total, sizeof(total));
	snprintf(vat, sizeof(vat), "%d", inv->vat_percent);
	gtk_list_store_insert_with_values(app->store, &it, -1, COL_NUMBER, number, COL_DATE, date, COL_CUSTOMER,
					  customer, COL_NET, net, COL_VAT, vat, COL_TOTAL, total, -1);
	g_free(number);
	g_free(date);
	g_free(customer);
	return 0;
}

void erp_mainwin_reload(struct erp_app *app, const char *select)
{
	struct erp_error err = { { 0 } };
	GtkTreeModel *model = GTK_TREE_MODEL(app->store);
	GtkTreeIter it;
	char count[64];
	int n;

	gtk_list_store_clear(app->store);
	if (erp_db_each(app->db, add_row, app, &err) < 0)
		erp_mainwin_set_status(app, err.message);
	n = gtk_tree_model_iter_n_children(model, NULL);
	snprintf(count, sizeof(count), n == 1 ? "%d invoice" : "%d invoices", n);
	gtk_label_set_text(GTK_LABEL(app->count), count);
	if (!select || !gtk_tree_model_get_iter_first(model, &it))
		return;
	do {
		char *number = NULL;
		bool match;

		gtk_tree_model_get(model, &it, COL_NUMBER, &number, -1);
		match = number && strcmp(number, select) == 0;
		g_free(number);
		if (match) {
			GtkTreePath *path = gtk_tree_model_get_path(model, &it);

			gtk_tree_selection_select_iter(gtk_tree_view_get_selection(GTK_TREE_VIEW(app->list)), &it);
			gtk_tree_view_scroll_to_cell(GTK_TREE_VIEW(app->list), path, NULL, FALSE, 0, 0);
			gtk_tree_path_free(path);
			return;
		}
	} while (gtk_tree_model_iter_next(model, &it));
}

/* ---------- the reminder ---------- */

static void on_reminder_response(GtkDialog *dialog, int response, void *data)
{
	struct erp_app *app = data;

	(void)response;
	gtk_widget_destroy(GTK_WIDGET(dialog));
	app->reminder = NULL;
	gtk_window_present(GTK_WINDOW(app->window));
	gdk_display_sync(gtk_widget_get_display(app->window));
	erp_emit("{\"event\":\"dialog_closed\",\"name\":\"reminder\"}");
}

static void show_reminder(struct erp_app *app)
{
	if (app->reminder)
		return;
	app->reminder = erp_dialog(app, GTK_WINDOW(app->window), GTK_MESSAGE_WARNING,
				   "Reminder: the period closes on Friday. Please post all invoices.", NULL,
				   g_strdup("{\"event\":\"reminder\"}"), "reminder", "_Dismiss", GTK_RESPONSE_CLOSE,
				   NULL);
	g_signal_connect(app->reminder, "response", G_CALLBACK(on_reminder_response), app);
}

void erp_mainwin_saved(struct erp_app *app, const char *number)
{
	char *status = g_strdup_printf("Invoice %s saved", number);
	char *q = erp_json_quote(number);
	/* One roll per save, shown or not, so --no-reminder does not shift
	 * what a seed does to anything else. */
	bool remind = erp_rng_next(&app->reminder_rng) % 6 == 0;

	erp_mainwin_reload(app, number);
	erp_mainwin_set_status(app, status);
	gtk_window_present(GTK_WINDOW(app->window));
	erp_emit("{\"event\":\"saved\",\"number\":%s}", q);
	if (remind && !app->opt.no_reminder)
		show_reminder(app);
	g_free(q);
	g_free(status);
}

/* ---------- New invoice, slowly ---------- */

static void set_busy(struct erp_app *app, bool busy)
{
	GdkWindow *win = gtk_widget_get_window(app->window);
	GdkCursor *cursor = NULL;

	if (!win)
		return;
	if (busy)
		cursor = gdk_cursor_new_from_name(gdk_window_get_display(win), "wait");
	gdk_window_set_cursor(win, cursor);
	if (cursor)
		g_object_unref(cursor);
}

static gboolean form_loaded(void *data)
{
	struct erp_app *app = data;

	app->form_timer = 0;
	set_busy(app, false);
	erp_mainwin_set_status(app, "Ready");
	erp_form_show(app);
	return G_SOURCE_REMOVE;
}

static void on_new_invoice(GtkWidget *w, void *data)
{
	struct erp_app *app = data;
	uint64_t span = (uint64_t)(app->opt.slow_max_ms - app->opt.slow_min_ms) + 1;
	unsigned delay = (unsigned)app->opt.slow_min_ms + (unsigned)(erp_rng_next(&app->delay_rng) % span);

	(void)w;
	if (app->form) {
		erp_form_present(app);
		return;
	}
	if (app->form_timer)
		return;
	erp_mainwin_set_status(app, "Loading form\u2026");
	set_busy(app, true);
	app->form_timer = g_timeout_add(delay, form_loaded, app);
}

static void on_refresh(GtkWidget *w, void *data)
{
	struct erp_app *app = data;

	(void)w;
	erp_mainwin_reload(app, NULL);
	erp_mainwin_set_status(app, "Ready");
}

static void on_about_response(GtkDialog *dialog, int response, void *data)
{
	(void)response;
	(void)data;
	gtk_widget_destroy(GTK_WIDGET(dialog));
}

static void on_about(GtkWidget *w, void *data)
{
	struct erp_app *app = data;
	GtkWidget *d;

	(void)w;
	d = erp_dialog(app, GTK_WINDOW(app->window), GTK_MESSAGE_INFO, "Acme ERP 4.2",
		       "Invoice entry client. Sample application for the deskpilot demo.",
		       g_strdup("{\"event\":\"about\"}"), "about", "_OK", GTK_RESPONSE_OK, NULL);
	g_signal_connect(d, "response", G_CALLBACK(on_about_response), app);
}

static void on_quit(GtkWidget *w, void *data)
{
	(void)w;
	(void)data;
	gtk_main_quit();
}

static gboolean on_delete(GtkWidget *w, GdkEvent *event, void *data)
{
	(void)w;
	(void)event;
	(void)data;
	gtk_main_quit();
	return TRUE;
}

/* ---------- building it ---------- */

static GtkWidget *menu_item(GtkWidget *menu, const char *label, GtkAccelGroup *accel, guint key,
			    GdkModifierType mods, GCallback cb, struct erp_app *app)
{
	GtkWidget *item = gtk_menu_item_new_with_mnemonic(label);

	if (key)
		gtk_widget_add_accelerator(item, "activate", accel, key, mods, GTK_ACCEL_VISIBLE);
	if (cb)
		g_signal_connect(item, "activate", cb, app);
	else
		gtk_widget_set_sensitive(item, FALSE);
	gtk_menu_shell_append(GTK_MENU_SHELL(menu), item);
	return item;
}

static GtkWidget *submenu(GtkWidget *bar, const char *label)
{
	GtkWidget *top = gtk_menu_item_new_with_mnemonic(label), *menu = gtk_menu_new();

	gtk_menu_item_set_submenu(GTK_MENU_ITEM(top), menu);
	gtk_menu_shell_append(GTK_MENU_SHELL(bar), top);
	return menu;
}

static GtkWidget *build_menu(struct erp_app *app, GtkAccelGroup *accel)
{
	GtkWidget *bar = gtk_menu_bar_new(), *m;

	m = submenu(bar, "_File");
	menu_item(m, "_Refresh", accel, GDK_KEY_F5, 0, G_CALLBACK(on_refresh), app);
	menu_item(m, "_Print list\u2026", accel, 0, 0, NULL, app);
	gtk_menu_shell_append(GTK_MENU_SHELL(m), gtk_separator_menu_item_new());
	menu_item(m, "E_xit", accel, GDK_KEY_q, GDK_CONTROL_MASK, G_CALLBACK(on_quit), app);
	m = submenu(bar, "_Invoices");
	menu_item(m, "_New invoice\u2026", accel, GDK_KEY_n, GDK_CONTROL_MASK, G_CALLBACK(on_new_invoice), app);
	menu_item(m, "_Post period\u2026", accel, 0, 0, NULL, app);
	m = submenu(bar, "_Reports");
	menu_item(m, "_Open items", accel, 0, 0, NULL, app);
	menu_item(m, "_VAT summary", accel, 0, 0, NULL, app);
	m = submenu(bar, "_Help");
	menu_item(m, "_About Acme ERP", accel, 0, 0, G_CALLBACK(on_about), app);
	return bar;
}

static void add_column(GtkWidget *view, const char *title, int col, int width, float xalign, bool expand)
{
	GtkCellRenderer *r = gtk_cell_renderer_text_new();
	GtkTreeViewColumn *c = gtk_tree_view_column_new_with_attributes(title, r, "text", col, NULL);

	g_object_set(r, "xalign", xalign, "xpad", 6, "ypad", 1, NULL);
	gtk_tree_view_column_set_alignment(c, xalign);
	gtk_tree_view_column_set_sizing(c, GTK_TREE_VIEW_COLUMN_FIXED);
	gtk_tree_view_column_set_fixed_width(c, width);
	gtk_tree_view_column_set_resizable(c, TRUE);
	gtk_tree_view_column_set_expand(c, expand);
	gtk_tree_view_append_column(GTK_TREE_VIEW(view), c);
}

static GtkWidget *build_list(struct erp_app *app)
{
	GtkWidget *scrolled = gtk_scrolled_window_new(NULL, NULL);

	app->store = gtk_list_store_new(N_COLS, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING,
					G_TYPE_STRING, G_TYPE_STRING);
	app->list = gtk_tree_view_new_with_model(GTK_TREE_MODEL(app->store));
	g_object_unref(app->store); /* the view holds it */
	gtk_tree_view_set_grid_lines(GTK_TREE_VIEW(app->list), GTK_TREE_VIEW_GRID_LINES_BOTH);
	gtk_tree_view_set_enable_search(GTK_TREE_VIEW(app->list), FALSE);
	add_column(app->list, "Number", COL_NUMBER, 110, 0.0f, false);
	add_column(app->list, "Date", COL_DATE, 100, 0.0f, false);
	add_column(app->list, "Customer", COL_CUSTOMER, 380, 0.0f, true);
	add_column(app->list, "Net", COL_NET, 120, 1.0f, false);
	add_column(app->list, "VAT %", COL_VAT, 70, 1.0f, false);
	add_column(app->list, "Total", COL_TOTAL, 120, 1.0f, false);
	gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(scrolled), GTK_POLICY_AUTOMATIC, GTK_POLICY_ALWAYS);
	gtk_scrolled_window_set_overlay_scrolling(GTK_SCROLLED_WINDOW(scrolled), FALSE);
	gtk_container_add(GTK_CONTAINER(scrolled), app->list);
	return scrolled;
}

static void on_ready(GtkWidget *window, void *data)
{
	struct erp_app *app = data;
	int x, y, w, h;

	erp_screen_rect(window, &x, &y, &w, &h);
	erp_emit("{\"event\":\"ready\",\"window\":%lu,\"pid\":%ld,\"x\":%d,\"y\":%d,\"width\":%d,\"height\":%d,"
		 "\"seed\":%" G_GUINT64_FORMAT "}",
		 erp_xid(window), (long)getpid(), x, y, w, h, app->opt.seed);
	if (app->opt.debug_layout) {
		erp_emit_layout("main", "New invoice", NULL, app->new_button);
		erp_emit_layout("main", "Refresh", NULL, app->refresh_button);
		erp_emit_layout("main", "list", NULL, app->list);
		erp_emit_layout("main", "status", NULL, app->status);
	}
}

void erp_mainwin_create(struct erp_app *app)
{
	GtkAccelGroup *accel = gtk_accel_group_new();
	GtkWidget *vbox = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
	GtkWidget *buttons = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
	GtkWidget *body = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
	GtkWidget *heading = gtk_label_new("Invoices \u2014 Company 01 Acme Trading, fiscal year 2026");
	GtkWidget *statusrow = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 2);
	GtkWidget *user = gtk_label_new("User: CLERK01");

	app->window = gtk_window_new(GTK_WINDOW_TOPLEVEL);
	gtk_window_set_title(GTK_WINDOW(app->window), ERP_TITLE);
	gtk_window_set_default_size(GTK_WINDOW(app->window), 1024, 700);
	gtk_window_move(GTK_WINDOW(app->window), app->opt.x, app->opt.y);
	gtk_window_add_accel_group(GTK_WINDOW(app->window), accel);
	g_signal_connect(app->window, "delete-event", G_CALLBACK(on_delete), app);

	gtk_box_pack_start(GTK_BOX(vbox), build_menu(app, accel), FALSE, FALSE, 0);

	gtk_style_context_add_class(gtk_widget_get_style_context(buttons), "toolbar");
	app->new_button = gtk_button_new_with_mnemonic("_New invoice");
	app->refresh_button = gtk_button_new_with_mnemonic("_Refresh");
	g_signal_connect(app->new_button, "clicked", G_CALLBACK(on_new_invoice), app);
	g_signal_connect(app->refresh_button, "clicked", G_CALLBACK(on_refresh), app);
	gtk_box_pack_start(GTK_BOX(buttons), app->new_button, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(buttons), app->refresh_button, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(vbox), buttons, FALSE, FALSE, 0);

	gtk_label_set_xalign(GTK_LABEL(heading), 0.0f);
	gtk_style_context_add_class(gtk_widget_get_style_context(heading), "heading");
	gtk_container_set_border_width(GTK_CONTAINER(body), 8);
	gtk_box_pack_start(GTK_BOX(body), heading, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(body), build_list(app), TRUE, TRUE, 0);
	gtk_box_pack_start(GTK_BOX(vbox), body, TRUE, TRUE, 0);

	app->status = gtk_statusbar_new();
	app->status_context = gtk_statusbar_get_context_id(GTK_STATUSBAR(app->status), "main");
	app->count = gtk_label_new("");
	gtk_style_context_add_class(gtk_widget_get_style_context(app->count), "statuspanel");
	gtk_style_context_add_class(gtk_widget_get_style_context(user), "statuspanel");
	gtk_widget_set_size_request(app->count, 120, -1);
	gtk_widget_set_size_request(user, 140, -1);
	gtk_box_pack_start(GTK_BOX(statusrow), app->status, TRUE, TRUE, 0);
	gtk_box_pack_start(GTK_BOX(statusrow), app->count, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(statusrow), user, FALSE, FALSE, 0);
	gtk_container_set_border_width(GTK_CONTAINER(statusrow), 2);
	gtk_box_pack_end(GTK_BOX(vbox), statusrow, FALSE, FALSE, 0);

	gtk_container_add(GTK_CONTAINER(app->window), vbox);
	erp_mainwin_reload(app, NULL);
	erp_mainwin_set_status(app, "Ready");
	erp_when_shown(app->window, on_ready, app);
	gtk_widget_show_all(app->window);
}
