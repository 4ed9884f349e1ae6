/* A plain grey look, like the business clients of the late nineties:
 * square bevelled buttons, sunken white fields, a navy selection.  It
 * overrides the theme at application priority, so it looks the same on
 * any desktop, and it keeps text black on light grey for OCR. */
#include "app.h"

static const char css[] =
	"* { transition: none; border-radius: 0; box-shadow: none; text-shadow: none;"
	"    -gtk-icon-shadow: none; outline-color: #000000; }\n"
	"window, dialog, .background, messagedialog { background-color: #d4d0c8; background-image: none;"
	"    color: #000000; }\n"
	"label { color: #000000; }\n"
	"label:disabled { color: #808080; }\n"
	"button { background-color: #d4d0c8; background-image: none; color: #000000;"
	"    border-style: solid; border-width: 1px;"
	"    border-color: #ffffff #404040 #404040 #ffffff; padding: 2px 12px; min-height: 20px; }\n"
	"button:hover { background-color: #e0ddd6; }\n"
	"button:active, button:checked { background-color: #c4c0b8;"
	"    border-color: #404040 #ffffff #ffffff #404040; }\n"
	"button:disabled { color: #808080; }\n"
	"button:focus { outline-style: dotted; outline-width: 1px; outline-offset: -4px; }\n"
	"button.default { border-width: 2px; border-color: #000000 #000000 #000000 #000000; }\n"
	"button label { color: inherit; }\n"
	"entry { background-color: #ffffff; background-image: none; color: #000000;"
	"    border-style: solid; border-width: 1px;"
	"    border-color: #808080 #ffffff #ffffff #808080; padding: 2px 4px; min-height: 20px; }\n"
	"entry:focus { border-color: #000000 #808080 #808080 #000000; }\n"
	"entry.read-only, entry.erp-readonly { background-color: #d4d0c8; }\n"
	"entry selection, treeview.view:selected, label selection { background-color: #0a246a;"
	"    color: #ffffff; }\n"
	"combobox button { padding: 1px 4px 1px 6px; background-color: #ffffff;"
	"    border-color: #808080 #ffffff #ffffff #808080; }\n"
	"combobox arrow { min-width: 12px; min-height: 12px; }\n"
	"menubar { background-color: #d4d0c8; background-image: none; padding: 0;"
	"    border-bottom: 1px solid #808080; box-shadow: none; }\n"
	"menubar > menuitem { padding: 3px 8px; min-height: 16px; }\n"
	"menubar > menuitem:hover, menu menuitem:hover { background-color: #0a246a; color: #ffffff; }\n"
	"menubar > menuitem:hover label, menu menuitem:hover label { color: #ffffff; }\n"
	"menu, .menu, .context-menu { background-color: #ffffff; background-image: none;"
	"    border: 1px solid #404040; padding: 2px; }\n"
	"menu menuitem { padding: 3px 18px; min-height: 16px; color: #000000; }\n"
	"toolbar, .toolbar { background-color: #d4d0c8; background-image: none; padding: 4px;"
	"    border-bottom: 1px solid #808080; }\n"
	"scrolledwindow { border-style: solid; border-width: 1px;"
	"    border-color: #808080 #ffffff #ffffff #808080; background-color: #ffffff; }\n"
	"treeview.view { background-color: #ffffff; color: #000000; border-color: #c0c0c0; }\n"
	"treeview.view header button { background-color: #d4d0c8; background-image: none;"
	"    color: #000000; padding: 2px 6px; min-height: 16px; border-width: 1px;"
	"    border-color: #ffffff #808080 #808080 #ffffff; }\n"
	"frame > border { border-style: solid; border-width: 1px;"
	"    border-color: #808080 #ffffff #ffffff #808080; }\n"
	".statuspanel { border-style: solid; border-width: 1px;"
	"    border-color: #808080 #ffffff #ffffff #808080; padding: 2px 6px; }\n"
	"dialog .dialog-action-area { padding: 0 12px 12px 12px; }\n"
	/* Without a window manager a window has no frame: give the form and
	 * the dialogs an edge of their own so they stand out. */
	".erp-window { border-style: solid; border-width: 2px;"
	"    border-color: #ffffff #404040 #404040 #ffffff; }\n"
	".heading { font-weight: bold; }\n";

void erp_style_install(void)
{
	GtkCssProvider *provider = gtk_css_provider_new();
	GtkSettings *settings = gtk_settings_get_default();

	gtk_css_provider_load_from_data(provider, css, -1, NULL);
	gtk_style_context_add_provider_for_screen(gdk_screen_get_default(), GTK_STYLE_PROVIDER(provider),
						  GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
	g_object_unref(provider);
	if (settings)
		g_object_set(settings, "gtk-enable-animations", FALSE, NULL);
}
