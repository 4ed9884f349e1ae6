/* deskpilot-erp: a sample "legacy ERP" invoice-entry client that the
 * deskpilot demo and tests drive.  Options, then the windows. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <glib-unix.h>
#include <gtk/gtk.h>

#include "app.h"
#include "db.h"

static const char summary[] =
	"A sample invoice-entry client with a legacy look, for deskpilot's demo and tests.\n"
	"\n"
	"stdout, one JSON object a line, flushed:\n"
	"  {\"event\":\"ready\",\"window\":XID,\"pid\":PID,...}  the main window is on screen\n"
	"  {\"event\":\"form\",\"window\":XID}               the New invoice form is on screen\n"
	"  {\"event\":\"confirm\",\"number\":N,\"window\":XID}  the Save confirmation is on screen\n"
	"  {\"event\":\"invalid\",\"field\":F,\"message\":M,\"window\":XID}  a validation error\n"
	"  {\"event\":\"saved\",\"number\":N}                 an invoice was written\n"
	"  {\"event\":\"form_closed\",\"saved\":BOOL}\n"
	"  {\"event\":\"dialog_closed\",\"name\":\"error\"|\"confirm\"|\"reminder\"}  (after No, OK, Dismiss)\n"
	"  {\"event\":\"reminder\",\"window\":XID}            the period reminder is on screen\n"
	"  with --debug-layout also \"layout\" lines (screen geometry of each field,\n"
	"  label and button), \"menu\" and \"status\" lines.\n"
	"\n"
	"Exit status: 0 ok, 1 failure (database, display), 2 usage.";

static int parse_int(const char *s, long min, long max, long *out)
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

static int parse_slow(const char *s, struct erp_options *opt)
{
	char *copy = g_strdup(s), *comma = strchr(copy, ',');
	long lo, hi;
	int r = -EINVAL;

	if (comma) {
		*comma = '\0';
		if (parse_int(copy, 0, 60000, &lo) == 0 && parse_int(comma + 1, 0, 60000, &hi) == 0 && lo <= hi) {
			opt->slow_min_ms = (int)lo;
			opt->slow_max_ms = (int)hi;
			r = 0;
		}
	}
	g_free(copy);
	return r;
}

static int parse_seed(const char *s, uint64_t *seed)
{
	guint64 v;

	if (!g_ascii_string_to_unsigned(s, 10, 0, G_MAXUINT64, &v, NULL))
		return -EINVAL;
	*seed = v;
	return 0;
}

/* Returns 0, or 2 after a message for a usage error. */
static int parse_options(int *argc, char ***argv, struct erp_options *opt)
{
	char *slow = NULL, *seed = NULL;
	int x = 0, y = 0;
	gboolean dump = FALSE, no_reminder = FALSE, debug_layout = FALSE;
	GOptionEntry entries[] = {
		{ "db", 0, 0, G_OPTION_ARG_FILENAME, &opt->db_path,
		  "the invoice database (default $XDG_DATA_HOME/deskpilot-erp/invoices.db)", "PATH" },
		{ "dump", 0, 0, G_OPTION_ARG_NONE, &dump,
		  "print the invoices as CSV and exit, without opening a window", NULL },
		{ "x", 0, 0, G_OPTION_ARG_INT, &x, "main window position (default 0)", "X" },
		{ "y", 0, 0, G_OPTION_ARG_INT, &y, "main window position (default 0)", "Y" },
		{ "seed", 0, 0, G_OPTION_ARG_STRING, &seed,
		  "seed for the form delay and the reminder (also $DESKPILOT_ERP_SEED)", "N" },
		{ "no-reminder", 0, 0, G_OPTION_ARG_NONE, &no_reminder,
		  "never show the period-closing reminder (otherwise after 1 in 6 saves)", NULL },
		{ "slow-ms", 0, 0, G_OPTION_ARG_STRING, &slow,
		  "the form opens after a random delay in MIN..MAX ms (default 300,1200)", "MIN,MAX" },
		{ "debug-layout", 0, 0, G_OPTION_ARG_NONE, &debug_layout,
		  "print the screen geometry of fields and buttons as JSON lines", NULL },
		{ NULL },
	};
	GOptionContext *ctx = g_option_context_new(NULL);
	GError *error = NULL;
	const char *env_seed = getenv("DESKPILOT_ERP_SEED");
	int r = 0;

	g_option_context_set_summary(ctx, summary);
	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, argc, argv, &error)) {
		fprintf(stderr, "deskpilot-erp: %s (try --help)\n", error->message);
		g_error_free(error);
		r = 2;
		goto out;
	}
	if (*argc > 1) {
		fprintf(stderr, "deskpilot-erp: unexpected argument '%s' (try --help)\n", (*argv)[1]);
		r = 2;
		goto out;
	}
	opt->x = x;
	opt->y = y;
	opt->dump = dump;
	opt->no_reminder = no_reminder;
	opt->debug_layout = debug_layout;
	opt->slow_min_ms = 300;
	opt->slow_max_ms = 1200;
	if (slow && parse_slow(slow, opt) < 0) {
		fprintf(stderr, "deskpilot-erp: --slow-ms wants MIN,MAX in milliseconds, 0 <= MIN <= MAX <= 60000, "
				"such as 300,1200; got '%s'\n", slow);
		r = 2;
		goto out;
	}
	if (seed) {
		if (parse_seed(seed, &opt->seed) < 0) {
			fprintf(stderr, "deskpilot-erp: --seed wants a non-negative integer, got '%s'\n", seed);
			r = 2;
			goto out;
		}
	} else if (env_seed && *env_seed) {
		if (parse_seed(env_seed, &opt->seed) < 0) {
			fprintf(stderr, "deskpilot-erp: DESKPILOT_ERP_SEED wants a non-negative integer, got '%s'\n",
				env_seed);
			r = 2;
			goto out;
		}
	} else {
		opt->seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	}
out:
	g_free(slow);
	g_free(seed);
	g_option_context_free(ctx);
	return r;
}

static int open_db(struct erp_app *app)
{
	struct erp_error err = { { 0 } };

	if (!app->opt.db_path) {
		char *dir = g_build_filename(g_get_user_data_dir(), "deskpilot-erp", NULL);

		if (!app->opt.dump && g_mkdir_with_parents(dir, 0700) < 0) {
			int e = errno;

			fprintf(stderr, "deskpilot-erp: cannot create %s: %s\n", dir, g_strerror(e));
			g_free(dir);
			return -e;
		}
		app->opt.db_path = g_build_filename(dir, "invoices.db", NULL);
		g_free(dir);
	}
	if (erp_db_open(app->opt.db_path, !app->opt.dump, &app->db, &err) < 0) {
		fprintf(stderr, "deskpilot-erp: %s\n", err.message);
		return -EIO;
	}
	return 0;
}

static gboolean on_signal(void *data)
{
	(void)data;
	gtk_main_quit();
	return G_SOURCE_CONTINUE;
}

int main(int argc, char **argv)
{
	struct erp_app app = { 0 };
	struct erp_error err = { { 0 } };
	int r;

	g_set_prgname("deskpilot-erp");
	r = parse_options(&argc, &argv, &app.opt);
	if (r)
		return r;
	signal(SIGPIPE, SIG_IGN); /* a gone reader is not a crash */
	if (app.opt.dump) {
		if (open_db(&app) < 0) {
			g_free(app.opt.db_path);
			return 1;
		}
		r = erp_db_dump_csv(app.db, stdout, &err);
		if (r < 0)
			fprintf(stderr, "deskpilot-erp: %s\n", err.message);
		erp_db_close(app.db);
		g_free(app.opt.db_path);
		return r < 0 ? 1 : 0;
	}

	/* deskpilot acts on X11 windows: an XID must exist even on a Wayland
	 * desktop (XWayland).  Without a session bus the accessibility bridge
	 * only complains; keys go through GTK's own input method unless the
	 * user chose another. */
	gdk_set_allowed_backends("x11");
	if (!getenv("DBUS_SESSION_BUS_ADDRESS"))
		setenv("NO_AT_BRIDGE", "1", 0);
	setenv("GTK_IM_MODULE", "gtk-im-context-simple", 0);
	if (!gtk_init_check(&argc, &argv)) {
		fprintf(stderr, "deskpilot-erp: cannot open the X display '%s': set DISPLAY, or use --dump\n",
			getenv("DISPLAY") ? getenv("DISPLAY") : "");
		g_free(app.opt.db_path);
		return 1;
	}
	if (open_db(&app) < 0) {
		g_free(app.opt.db_path);
		return 1;
	}
	app.delay_rng = app.opt.seed ^ UINT64_C(0x5eed0f0a11d0e1a7);
	app.reminder_rng = app.opt.seed;
	g_unix_signal_add(SIGTERM, on_signal, NULL);
	g_unix_signal_add(SIGINT, on_signal, NULL);
	erp_style_install();
	erp_mainwin_create(&app);
	gtk_main();

	if (app.form_timer)
		g_source_remove(app.form_timer);
	gtk_widget_destroy(app.window); /* and the form and dialogs with it */
	erp_db_close(app.db);
	g_free(app.opt.db_path);
	return 0;
}
