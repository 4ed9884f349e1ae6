/* deskpilot doctor: checks what deskpilot needs, one line each (ok, warn or
 * fail) with what was found and, when it is not ok, how to fix it. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <xcb/xcb.h>

#include <config.h> /* the build's: daemon/config.h is deskpilotd's settings */
#include "daemon/commands.h"
#include "daemon/config.h"
#include "daemon/exit_codes.h"
#include "actuators/desktop.h"
#include "engine/json.h"
#include "engine/ocr.h"
#if HAVE_WAYLAND
#include "capture/portal_session.h"
#endif
#if HAVE_SYSTEMD
#include "daemon/bus_client.h"
#endif

enum status { CHECK_OK, CHECK_WARN, CHECK_FAIL };

struct doctor {
	bool json;
	cJSON *checks;
	int failed, warned;
	const char *bus_address;
};

static void report(struct doctor *d, const char *name, enum status status, const char *fix, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void report(struct doctor *d, const char *name, enum status status, const char *fix, const char *fmt, ...)
{
	static const char *const words[] = { "ok", "warn", "fail" };
	char finding[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(finding, sizeof(finding), fmt, ap);
	va_end(ap);
	d->failed += status == CHECK_FAIL;
	d->warned += status == CHECK_WARN;
	if (d->json) {
		cJSON *c = cJSON_CreateObject();

		cJSON_AddStringToObject(c, "check", name);
		cJSON_AddStringToObject(c, "status", words[status]);
		cJSON_AddStringToObject(c, "finding", finding);
		cJSON_AddStringToObject(c, "fix", status == CHECK_OK || !fix ? "" : fix);
		cJSON_AddItemToArray(d->checks, c);
		return;
	}
	printf("%-4s %-10s %s\n", words[status], name, finding);
	if (status != CHECK_OK && fix)
		printf("     %-10s fix: %s\n", "", fix);
}

/* The X extensions capture and input use. */
static const char *const extensions[] = { "XTEST", "DAMAGE", "MIT-SHM", "XFIXES", "RANDR", "RECORD" };

static void check_display(struct doctor *d, const char *display)
{
	xcb_query_extension_cookie_t cookies[sizeof(extensions) / sizeof(extensions[0])];
	char missing[256] = "";
	xcb_connection_t *conn;

	if (!display)
		display = getenv("DISPLAY");
	if (!display || !*display) {
		report(d, "display", CHECK_FAIL, "export DISPLAY=:0 (the X display to automate), or pass --display :N",
		       "DISPLAY is not set");
		return;
	}
	conn = xcb_connect(display, NULL);
	if (xcb_connection_has_error(conn)) {
		xcb_disconnect(conn);
		report(d, "display", CHECK_FAIL,
		       "start the X server (or Xvfb) for it, or point DISPLAY at a running one",
		       "cannot connect to the X server at %s", display);
		return;
	}
	for (size_t i = 0; i < sizeof(extensions) / sizeof(extensions[0]); i++)
		cookies[i] = xcb_query_extension(conn, (uint16_t)strlen(extensions[i]), extensions[i]);
	for (size_t i = 0; i < sizeof(extensions) / sizeof(extensions[0]); i++) {
		xcb_query_extension_reply_t *reply = xcb_query_extension_reply(conn, cookies[i], NULL);

		if (!reply || !reply->present)
			snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing), "%s%s",
				 *missing ? ", " : "", extensions[i]);
		free(reply);
	}
	xcb_disconnect(conn);
	if (*missing)
		report(d, "display", CHECK_FAIL,
		       "enable them in the X server (Xvfb: +extension NAME for each; Xorg: Section \"Extensions\")",
		       "X server %s lacks %s", display, missing);
	else
		report(d, "display", CHECK_OK, NULL, "X server %s with XTEST, DAMAGE, MIT-SHM, XFIXES, RANDR, RECORD",
		       display);
}

/* Which desktop deskpilot would drive, and why; the X checks only matter
 * for X11. */
static bool check_desktop(struct doctor *d, const struct dp_cli *cli)
{
	struct dp_desktop_config config = { .backend = cli->backend, .display = cli->display };
	struct dp_error err = { 0 };
	char backend[16], why[256];

	if (dp_desktop_choose(&config, backend, sizeof(backend), why, sizeof(why), &err) < 0) {
		report(d, "desktop", CHECK_FAIL, "run deskpilot in an X11 or a GNOME Wayland session (docs/wayland.md)",
		       "%s", err.message);
		return false;
	}
	report(d, "desktop", CHECK_OK, NULL, "%s: %s", backend, why);
#if HAVE_WAYLAND
	if (strcmp(backend, "portal") == 0) {
		uint32_t screencast, remote_desktop;

		dp_portal_versions(&screencast, &remote_desktop);
		report(d, "portal", remote_desktop >= 2 ? CHECK_OK : CHECK_WARN,
		       "text outside the keyboard layout needs xdg-desktop-portal 1.18 or later (RemoteDesktop 2)",
		       "ScreenCast %u, RemoteDesktop %u: %s", screencast, remote_desktop,
		       remote_desktop >= 2 ? "consent can be kept, clipboard for any text"
					   : "the user consents to input every session; only text in the keyboard "
					     "layout can be typed");
	}
#endif
	return strcmp(backend, "x11") == 0;
}

#if HAVE_SYSTEMD
static bool bus_call_bool(sd_bus *bus, const char *method, const char *name)
{
	sd_bus_message *reply = NULL;
	int value = 0;

	if (sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", method,
			       NULL, &reply, "s", name) >= 0)
		sd_bus_message_read(reply, "b", &value);
	sd_bus_message_unref(reply);
	return value;
}

static bool activatable(sd_bus *bus)
{
	char **names = NULL;
	bool found = false;

	if (sd_bus_list_names(bus, NULL, &names) < 0)
		return false;
	for (char **n = names; n && *n; n++) {
		found = found || strcmp(*n, DP_BUS_NAME) == 0;
		free(*n);
	}
	free(names);
	return found;
}

static void check_bus(struct doctor *d)
{
	sd_bus_message *reply = NULL;
	const char *version = NULL, *address;
	sd_bus *bus = NULL;
	int r = dp_busc_open(d->bus_address, &bus, &address);

	if (r < 0) {
		report(d, "bus", CHECK_FAIL,
		       "log in to a desktop session (it starts the session bus), or run: dbus-run-session -- SHELL",
		       "cannot connect to the session bus at %s: %s", address, strerror(-r));
		report(d, "deskpilotd", CHECK_FAIL, "first make the session bus reachable", "not checked: no bus");
		sd_bus_unref(bus);
		return;
	}
	report(d, "bus", CHECK_OK, NULL, "session bus at %s", address);
	if (bus_call_bool(bus, "NameHasOwner", DP_BUS_NAME)) {
		r = sd_bus_call_method(bus, DP_BUS_NAME, DP_BUS_PATH, "org.freedesktop.DBus.Properties", "Get", NULL,
				       &reply, "ss", DP_BUS_MANAGER, "Version");
		if (r >= 0)
			r = sd_bus_message_read(reply, "v", "s", &version);
		if (r >= 0)
			report(d, "deskpilotd", CHECK_OK, NULL, "running, version %s", version);
		else
			report(d, "deskpilotd", CHECK_FAIL, "restart it: systemctl --user restart deskpilotd",
			       "owns %s but does not answer: %s", DP_BUS_NAME, strerror(-r));
	} else if (activatable(bus)) {
		report(d, "deskpilotd", CHECK_OK, NULL, "not running; D-Bus starts it on the first request");
	} else {
		report(d, "deskpilotd", CHECK_FAIL,
		       "systemctl --user enable --now deskpilotd (installed packages), or start deskpilotd yourself",
		       "not running, and the bus cannot start it (no activation file for %s)", DP_BUS_NAME);
	}
	sd_bus_message_unref(reply);
	sd_bus_flush_close_unref(bus);
}
#endif

static void check_ocr(struct doctor *d)
{
	struct dp_error err = { 0 };
	struct dp_ocr *ocr = NULL;
	int r = dp_ocr_create(&ocr, "eng", &err);

	if (r == 0)
		report(d, "ocr", CHECK_OK, NULL, "Tesseract with English language data");
	else if (r == -ENOTSUP)
		report(d, "ocr", CHECK_WARN, "install libtesseract-dev and build again (meson -Dtesseract=enabled)",
		       "this deskpilot was built without Tesseract: flows cannot find text on screen");
	else
		report(d, "ocr", CHECK_FAIL, "apt-get install tesseract-ocr-eng", "%s", err.message);
	dp_ocr_destroy(ocr);
}

/* The nearest folder on the way to path that exists. */
static void existing_parent(const char *path, char *buf, size_t size)
{
	char *slash;

	snprintf(buf, size, "%s", path);
	while (access(buf, F_OK) < 0 && (slash = strrchr(buf, '/')) && slash != buf)
		*slash = '\0';
	if (access(buf, F_OK) < 0)
		snprintf(buf, size, "/");
}

static void check_store(struct doctor *d)
{
	const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	char dir[PATH_MAX], parent[PATH_MAX];

	if (state && *state)
		snprintf(dir, sizeof(dir), "%s/deskpilot", state);
	else if (home && *home)
		snprintf(dir, sizeof(dir), "%s/.local/state/deskpilot", home);
	else {
		report(d, "store", CHECK_FAIL, "set HOME or XDG_STATE_HOME", "neither XDG_STATE_HOME nor HOME is set");
		return;
	}
	if (access(dir, F_OK) == 0) {
		if (access(dir, W_OK | X_OK) == 0)
			report(d, "store", CHECK_OK, NULL, "%s is writable", dir);
		else
			report(d, "store", CHECK_FAIL, "give it back to your user: chown -R $USER: on it",
			       "%s is not writable: %s", dir, strerror(errno));
		return;
	}
	existing_parent(dir, parent, sizeof(parent));
	if (access(parent, W_OK | X_OK) == 0)
		report(d, "store", CHECK_OK, NULL, "%s will be created (in %s, writable)", dir, parent);
	else
		report(d, "store", CHECK_FAIL,
		       "make it writable for your user, or set XDG_STATE_HOME to a folder that is",
		       "%s cannot be created: %s is not writable", dir, parent);
}

static void check_config(struct doctor *d, struct dp_daemon_config *config)
{
	struct dp_error err = { 0 };
	char path[PATH_MAX];

	if (dp_daemon_config_default_path(path, sizeof(path)) < 0) {
		report(d, "config", CHECK_WARN, "set HOME or XDG_CONFIG_HOME", "no place for a config file");
		return;
	}
	if (access(path, F_OK) < 0) {
		report(d, "config", CHECK_OK, NULL, "%s: none, the defaults apply", path);
		return;
	}
	if (dp_daemon_config_load(config, path, false, &err) < 0)
		report(d, "config", CHECK_FAIL, "correct the file (deskpilotd does not start with it as it is)", "%s",
		       err.message);
	else
		report(d, "config", CHECK_OK, NULL, "%s parses", path);
}

/* The secrets file must be the user's alone; its values are never printed. */
static void check_secrets(struct doctor *d)
{
	const char *config = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	char path[PATH_MAX], fix[PATH_MAX + 32];
	struct stat st;
	cJSON *json = NULL;
	char *text;
	struct dp_error err = { 0 };

	if (config && *config)
		snprintf(path, sizeof(path), "%s/deskpilot/secrets.json", config);
	else if (home && *home)
		snprintf(path, sizeof(path), "%s/.config/deskpilot/secrets.json", home);
	else
		return;
	if (stat(path, &st) < 0) {
		report(d, "secrets", CHECK_OK, NULL,
		       "%s: none (tasks that name secrets need it or systemd credentials)", path);
		return;
	}
	snprintf(fix, sizeof(fix), "chmod 600 %s", path);
	if (st.st_mode & 077) {
		report(d, "secrets", CHECK_FAIL, fix, "%s is readable by others (mode %03o): deskpilotd refuses it",
		       path, st.st_mode & 0777);
		return;
	}
	text = NULL;
	{
		FILE *f = fopen(path, "r");
		long size = -1;

		if (f && fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
		    (text = calloc(1, (size_t)size + 1)) && fread(text, 1, (size_t)size, f) != (size_t)size) {
			free(text);
			text = NULL;
		}
		if (f)
			fclose(f);
	}
	if (!text) {
		report(d, "secrets", CHECK_FAIL, "make it readable by your user", "%s cannot be read", path);
		return;
	}
	if (dp_json_parse(text, strlen(text), 1, &json, &err) < 0 || !cJSON_IsObject(json))
		report(d, "secrets", CHECK_FAIL, "it must be one JSON object of name: \"value\"", "%s: %s", path,
		       json ? "not an object" : err.message);
	else
		report(d, "secrets", CHECK_OK, NULL, "%s: %d secret%s, mode 600", path, cJSON_GetArraySize(json),
		       cJSON_GetArraySize(json) == 1 ? "" : "s");
	/* The values are wiped before the memory goes back. */
	memset(text, 0, strlen(text));
	free(text);
	cJSON_Delete(json);
}

/* The model policy's endpoint and key: only whether they are there. */
static void check_model(struct doctor *d, const struct dp_daemon_config *config)
{
	const char *fix = "set model.endpoint and model.api_key_file in config.json (flows and scripts need neither)";

	if (!config->model_endpoint || !*config->model_endpoint) {
		report(d, "model", CHECK_WARN, fix, "no model endpoint configured: only flow and script tasks can run");
		return;
	}
	if (!config->model_api_key_file || !*config->model_api_key_file)
		report(d, "model", CHECK_WARN, fix, "endpoint %s, no API key file (fine for a local server)",
		       config->model_endpoint);
	else if (access(config->model_api_key_file, R_OK) < 0)
		report(d, "model", CHECK_FAIL, "create the key file (mode 600) or correct model.api_key_file",
		       "endpoint %s, API key file %s: %s", config->model_endpoint, config->model_api_key_file,
		       strerror(errno));
	else
		report(d, "model", CHECK_OK, NULL, "endpoint %s, API key file %s is readable", config->model_endpoint,
		       config->model_api_key_file);
}

static void doctor_usage(FILE *out)
{
	fprintf(out,
		"Usage: deskpilot doctor [--json]\n"
		"Checks what deskpilot needs, one line each, ok, warn or fail, with how to fix it:\n"
		"the X display and its extensions (XTEST, DAMAGE, MIT-SHM, XFIXES, RANDR, RECORD),\n"
		"the session bus, deskpilotd (running or activatable), Tesseract and its English\n"
		"data, the task store's folder, the config file, the secrets file, the model.\n"
		"  --json   an object with the checks as an array\n"
		"Exit codes: 0 nothing failed (warnings allowed), 1 something failed.\n");
}

int dp_cmd_doctor(struct dp_cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "bus-address", required_argument, NULL, 'B' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct doctor d = { .bus_address = cli->bus_address };
	struct dp_daemon_config config;
	int c;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 'j': d.json = true; break;
		case 'B': d.bus_address = optarg; break;
		case 'h': doctor_usage(stdout); return DP_EXIT_OK;
		default: doctor_usage(stderr); return DP_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "deskpilot doctor: unexpected '%s'\n", argv[optind]);
		return DP_EXIT_USAGE;
	}
	d.checks = cJSON_CreateArray();
	if (dp_daemon_config_init(&config) < 0)
		return DP_EXIT_FAILURE;
	if (check_desktop(&d, cli))
		check_display(&d, cli->display);
#if HAVE_SYSTEMD
	check_bus(&d);
#else
	report(&d, "bus", CHECK_FAIL, "install libsystemd-dev and build again (meson -Dsystemd=enabled)",
	       "this deskpilot was built without D-Bus support: no deskpilotd and no submit");
#endif
	check_ocr(&d);
	check_store(&d);
	check_config(&d, &config);
	check_secrets(&d);
	check_model(&d, &config);
	dp_daemon_config_release(&config);
	if (d.json) {
		cJSON *root = cJSON_CreateObject();
		char *text;

		cJSON_AddItemToObject(root, "checks", d.checks);
		cJSON_AddNumberToObject(root, "failed", d.failed);
		cJSON_AddNumberToObject(root, "warnings", d.warned);
		text = cJSON_Print(root);
		if (text)
			printf("%s\n", text);
		free(text);
		cJSON_Delete(root);
	} else {
		cJSON_Delete(d.checks);
		printf("%d failed, %d warning%s\n", d.failed, d.warned, d.warned == 1 ? "" : "s");
	}
	return d.failed ? DP_EXIT_FAILURE : DP_EXIT_OK;
}
