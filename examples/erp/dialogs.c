#include <stdarg.h>
#include <stdio.h>

#include "app.h"
#include "out.h"

struct dialog_info {
	struct erp_app *app;
	char *event, *name;
	int responses[4];
	char *labels[4];
	int n;
};

static void info_free(void *p)
{
	struct dialog_info *info = p;

	g_free(info->event);
	g_free(info->name);
	for (int i = 0; i < info->n; i++)
		g_free(info->labels[i]);
	g_free(info);
}

static void dialog_shown(GtkWidget *dialog, void *p)
{
	struct dialog_info *info = p;
	size_t len = strlen(info->event);

	/* The event's object, with the dialog's window id added. */
	if (len > 0 && info->event[len - 1] == '}')
		erp_emit("%.*s%s\"window\":%lu}", (int)(len - 1), info->event, len > 2 ? "," : "",
			 erp_xid(dialog));
	else
		erp_emit("%s", info->event);
	if (!info->app->opt.debug_layout)
		return;
	for (int i = 0; i < info->n; i++) {
		GtkWidget *b = gtk_dialog_get_widget_for_response(GTK_DIALOG(dialog), info->responses[i]);

		if (b)
			erp_emit_layout(info->name, info->labels[i], NULL, b);
	}
}

/* "_Yes" as "Yes". */
static char *strip_mnemonic(const char *label)
{
	GString *s = g_string_new(NULL);

	for (; *label; label++)
		if (*label != '_')
			g_string_append_c(s, *label);
	return g_string_free(s, FALSE);
}

static const char *icon_name(GtkMessageType type)
{
	switch (type) {
	case GTK_MESSAGE_WARNING:
		return "dialog-warning";
	case GTK_MESSAGE_QUESTION:
		return "dialog-question";
	case GTK_MESSAGE_ERROR:
		return "dialog-error";
	default:
		return "dialog-information";
	}
}

/* A plain GtkDialog rather than a GtkMessageDialog: an icon left of the
 * text and normal-sized buttons on the right, as old clients had them. */
GtkWidget *erp_dialog(struct erp_app *app, GtkWindow *parent, GtkMessageType type, const char *text,
		      const char *secondary, char *event, const char *name, ...)
{
	struct dialog_info *info = g_new0(struct dialog_info, 1);
	GtkWidget *dialog = g_object_new(GTK_TYPE_DIALOG, "use-header-bar", FALSE, NULL);
	GtkWidget *row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 16);
	GtkWidget *texts = gtk_box_new(GTK_ORIENTATION_VERTICAL, 8);
	GtkWidget *primary = gtk_label_new(text);
	GtkIconTheme *icons = gtk_icon_theme_get_default();
	const char *label;
	va_list ap;

	info->app = app;
	info->event = event;
	info->name = g_strdup(name);
	gtk_window_set_title(GTK_WINDOW(dialog), "Acme ERP");
	gtk_window_set_transient_for(GTK_WINDOW(dialog), parent);
	gtk_window_set_modal(GTK_WINDOW(dialog), TRUE);
	gtk_window_set_destroy_with_parent(GTK_WINDOW(dialog), TRUE);
	gtk_window_set_resizable(GTK_WINDOW(dialog), FALSE);
	gtk_window_set_position(GTK_WINDOW(dialog), GTK_WIN_POS_CENTER_ON_PARENT);
	gtk_style_context_add_class(gtk_widget_get_style_context(dialog), "erp-window");

	if (icons && gtk_icon_theme_has_icon(icons, icon_name(type))) {
		GtkWidget *icon = gtk_image_new_from_icon_name(icon_name(type), GTK_ICON_SIZE_DIALOG);

		gtk_widget_set_valign(icon, GTK_ALIGN_START);
		gtk_box_pack_start(GTK_BOX(row), icon, FALSE, FALSE, 0);
	}
	gtk_label_set_line_wrap(GTK_LABEL(primary), TRUE);
	gtk_label_set_max_width_chars(GTK_LABEL(primary), 56);
	gtk_label_set_xalign(GTK_LABEL(primary), 0.0f);
	gtk_box_pack_start(GTK_BOX(texts), primary, FALSE, FALSE, 0);
	if (secondary) {
		GtkWidget *more = gtk_label_new(secondary);

		gtk_label_set_line_wrap(GTK_LABEL(more), TRUE);
		gtk_label_set_max_width_chars(GTK_LABEL(more), 56);
		gtk_label_set_xalign(GTK_LABEL(more), 0.0f);
		gtk_box_pack_start(GTK_BOX(texts), more, FALSE, FALSE, 0);
	}
	gtk_widget_set_valign(texts, GTK_ALIGN_CENTER);
	gtk_box_pack_start(GTK_BOX(row), texts, TRUE, TRUE, 0);
	gtk_container_set_border_width(GTK_CONTAINER(row), 14);
	gtk_widget_set_size_request(row, 320, -1);
	gtk_box_pack_start(GTK_BOX(gtk_dialog_get_content_area(GTK_DIALOG(dialog))), row, TRUE, TRUE, 0);
	gtk_widget_show_all(row);

	va_start(ap, name);
	while ((label = va_arg(ap, const char *)) != NULL) {
		int response = va_arg(ap, int);
		GtkWidget *button = gtk_dialog_add_button(GTK_DIALOG(dialog), label, response);

		gtk_widget_set_size_request(button, 88, -1);
		if (info->n == 0) {
			gtk_widget_set_can_default(button, TRUE);
			gtk_dialog_set_default_response(GTK_DIALOG(dialog), response);
			gtk_widget_grab_focus(button);
		}
		if (info->n < 4) {
			info->responses[info->n] = response;
			info->labels[info->n++] = strip_mnemonic(label);
		}
	}
	va_end(ap);
	g_object_set_data_full(G_OBJECT(dialog), "erp-dialog", info, info_free);
	erp_when_shown(dialog, dialog_shown, info);
	gtk_window_present(GTK_WINDOW(dialog));
	return dialog;
}
