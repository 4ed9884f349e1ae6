/* The sample ERP app (examples/erp) driven the way the demo drives it:
 * through the actuators on a private Xvfb, finding its fields from the
 * geometry it prints with --debug-layout, and checking what it stored
 * with --dump. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "actuators/actuator.h"
#include "engine/log.h"
#include "harness/xvfb.h"
#include "tst.h"

#define HEADER "number,date,customer,net,vat,total\n"
#define ROW_1001 "INV-1001,2026-03-15,\u5317\u4eac\u8d38\u6613\u6709\u9650\u516c\u53f8,1234.56,19,1469.13\n"

struct rect {
	int x, y, width, height;
};

/* What --debug-layout said about one window: names and their boxes. */
struct layout {
	char names[12][32];
	struct rect boxes[12];
	int n;
};

static struct dp_xvfb xvfb;
static struct dp_probe app;
static struct dp_actuator *act;
static char dir[256], db[300];

static int perform(const char *json)
{
	struct dp_error err = { 0 };
	struct dp_action a;
	struct dp_action_result res;
	int r = dp_action_parse(json, strlen(json), &a, &err);

	if (r == 0)
		r = dp_actuator_perform(act, &a, &res, &err);
	if (r < 0)
		fprintf(stderr, "  %s: %s\n", json, err.message);
	dp_action_clear(&a);
	return r;
}

static int click_at(struct rect r)
{
	char json[128];

	snprintf(json, sizeof(json), "{\"action\":\"click\",\"x\":%d,\"y\":%d}", r.x + r.width / 2,
		 r.y + r.height / 2);
	return perform(json);
}

static int type_text(const char *text)
{
	cJSON *a = cJSON_CreateObject();
	char *json;
	int r;

	cJSON_AddStringToObject(a, "action", "type");
	cJSON_AddStringToObject(a, "text", text);
	json = cJSON_PrintUnformatted(a);
	r = perform(json);
	free(json);
	cJSON_Delete(a);
	return r;
}

static int key(const char *keys)
{
	char json[128];

	snprintf(json, sizeof(json), "{\"action\":\"key\",\"keys\":\"%s\"}", keys);
	return perform(json);
}

/* Waits for event and returns its line (static storage). */
static const char *wait_event(const char *event)
{
	static char line[4096];

	if (dp_probe_wait(&app, event, 10000, line, sizeof(line)) < 0) {
		fprintf(stderr, "  no \"%s\" event from the app within 10 s\n", event);
		return NULL;
	}
	return line;
}

static bool parse_rect(const cJSON *obj, struct rect *r)
{
	const cJSON *x = cJSON_GetObjectItem(obj, "x"), *y = cJSON_GetObjectItem(obj, "y");
	const cJSON *w = cJSON_GetObjectItem(obj, "width"), *h = cJSON_GetObjectItem(obj, "height");

	if (!cJSON_IsNumber(x) || !cJSON_IsNumber(y) || !cJSON_IsNumber(w) || !cJSON_IsNumber(h))
		return false;
	*r = (struct rect){ x->valueint, y->valueint, w->valueint, h->valueint };
	return r->width > 0 && r->height > 0;
}

/* Reads the next n "layout" lines into l. */
static bool read_layout(struct layout *l, int n)
{
	l->n = 0;
	for (int i = 0; i < n && i < 12; i++) {
		const char *line = wait_event("layout");
		cJSON *obj = line ? cJSON_Parse(line) : NULL;
		const cJSON *name = cJSON_GetObjectItem(obj, "name");
		bool ok = cJSON_IsString(name) && parse_rect(cJSON_GetObjectItem(obj, "widget"), &l->boxes[l->n]);

		if (ok)
			snprintf(l->names[l->n++], sizeof(l->names[0]), "%s", name->valuestring);
		cJSON_Delete(obj);
		if (!ok)
			return false;
	}
	return true;
}

static struct rect box(const struct layout *l, const char *name)
{
	for (int i = 0; i < l->n; i++)
		if (strcmp(l->names[i], name) == 0)
			return l->boxes[i];
	fprintf(stderr, "  no layout for \"%s\"\n", name);
	return (struct rect){ -1000, -1000, 1, 1 };
}

/* Runs deskpilot-erp --db DB --dump [more]; its stdout into out.  Returns
 * the exit status, or -1. */
static int run_dump(const char *path, char *out, size_t size)
{
	int pipefd[2], status;
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	if (pipe(pipefd) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);

		dup2(pipefd[1], STDOUT_FILENO);
		if (devnull >= 0)
			dup2(devnull, STDERR_FILENO);
		close(pipefd[0]);
		unsetenv("DISPLAY"); /* --dump needs none */
		execl(getenv("DP_ERP"), "deskpilot-erp", "--db", path, "--dump", (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	while (len + 1 < size && (n = read(pipefd[0], out + len, size - len - 1)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(pipefd[0]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static const char *dump(void)
{
	static char out[8192];

	if (run_dump(db, out, sizeof(out)) != 0)
		return "(dump failed)";
	return out;
}

/* Clicks New invoice and reads the form's layout. */
static bool open_form(const struct layout *main_layout, struct layout *form)
{
	return click_at(box(main_layout, "New invoice")) == 0 && wait_event("form") && read_layout(form, 8);
}

static struct layout main_layout;

static void test_ready_and_main_layout(void)
{
	TST_CHECK(app.window > 0);
	TST_EQ_INT(app.x, 0);
	TST_EQ_INT(app.y, 0);
	TST_EQ_INT(app.width, 1024);
	TST_EQ_INT(app.height, 700);
	TST_REQUIRE(read_layout(&main_layout, 4));
	TST_EQ_STR(main_layout.names[0], "New invoice");
	TST_EQ_STR(dump(), HEADER);
}

static void test_enter_invoice_with_cjk_and_decimal_comma(void)
{
	struct layout form, menu;
	const char *line;

	TST_REQUIRE(open_form(&main_layout, &form));
	/* Every field sits right of its label, in the documented order. */
	TST_EQ_STR(form.names[0], "Invoice number");
	TST_EQ_STR(form.names[2], "Customer");
	TST_EQ_STR(form.names[4], "VAT rate");
	TST_CHECK(box(&form, "Date").y > box(&form, "Invoice number").y);

	TST_EQ_INT(click_at(box(&form, "Invoice number")), 0);
	TST_EQ_INT(type_text("INV-1001"), 0);
	TST_EQ_INT(click_at(box(&form, "Date")), 0);
	TST_EQ_INT(type_text("2026-03-15"), 0);
	TST_EQ_INT(click_at(box(&form, "Customer")), 0);
	TST_EQ_INT(type_text("\u5317\u4eac\u8d38\u6613\u6709\u9650\u516c\u53f8"), 0);
	TST_EQ_INT(click_at(box(&form, "Net amount")), 0);
	TST_EQ_INT(type_text("1.234,56"), 0);
	/* The VAT drop-down with the mouse: open it, pick 19 %. */
	TST_EQ_INT(click_at(box(&form, "VAT rate")), 0);
	TST_REQUIRE(wait_event("menu") && read_layout(&menu, 3));
	TST_EQ_STR(menu.names[2], "19 %");
	TST_EQ_INT(click_at(box(&menu, "19 %")), 0);

	TST_EQ_INT(click_at(box(&form, "Save")), 0);
	line = wait_event("confirm");
	TST_REQUIRE(line);
	TST_CHECK(strstr(line, "\"number\":\"INV-1001\"") != NULL);
	TST_EQ_INT(key("Return"), 0); /* Yes is the default */
	line = wait_event("saved");
	TST_REQUIRE(line);
	TST_CHECK(strstr(line, "\"number\":\"INV-1001\"") != NULL);
	TST_EQ_STR(dump(), HEADER ROW_1001);
}

static void test_bad_date_and_duplicate_number_save_nothing(void)
{
	struct layout form;
	const char *line;

	TST_REQUIRE(open_form(&main_layout, &form));
	TST_EQ_INT(click_at(box(&form, "Invoice number")), 0);
	TST_EQ_INT(type_text("INV-1002"), 0);
	TST_EQ_INT(click_at(box(&form, "Date")), 0);
	TST_EQ_INT(type_text("2026-02-30"), 0);
	TST_EQ_INT(click_at(box(&form, "Customer")), 0);
	TST_EQ_INT(type_text("Caf\u00e9 L\u00e9on, \"Paris\" SARL"), 0);
	TST_EQ_INT(click_at(box(&form, "Net amount")), 0);
	TST_EQ_INT(type_text("89,9"), 0);
	/* The VAT drop-down with the keyboard: Tab to it, End picks 19 %. */
	TST_EQ_INT(key("Tab"), 0);
	TST_EQ_INT(key("End"), 0);

	TST_EQ_INT(click_at(box(&form, "Save")), 0);
	line = wait_event("invalid");
	TST_REQUIRE(line);
	TST_CHECK(strstr(line, "\"field\":\"Date\"") != NULL);
	TST_CHECK(strstr(line, "\"window\":") != NULL);
	TST_EQ_STR(dump(), HEADER ROW_1001);
	TST_EQ_INT(key("Return"), 0); /* OK */
	TST_REQUIRE(wait_event("dialog_closed"));

	/* Back in the form, the date is selected: typing replaces it.  Then a
	 * number that is taken. */
	TST_EQ_INT(type_text("2026-02-27"), 0);
	TST_EQ_INT(click_at(box(&form, "Invoice number")), 0);
	TST_EQ_INT(key("ctrl+a"), 0);
	TST_EQ_INT(type_text("INV-1001"), 0);
	TST_EQ_INT(click_at(box(&form, "Save")), 0);
	line = wait_event("invalid");
	TST_REQUIRE(line);
	TST_CHECK(strstr(line, "\"field\":\"Invoice number\"") != NULL);
	TST_CHECK(strstr(line, "already exists") != NULL);
	TST_EQ_STR(dump(), HEADER ROW_1001);
	TST_EQ_INT(key("Return"), 0);
	TST_REQUIRE(wait_event("dialog_closed"));

	/* Fixed: it saves, and the CSV quotes the comma and the quotes. */
	TST_EQ_INT(type_text("INV-1002"), 0);
	TST_EQ_INT(click_at(box(&form, "Save")), 0);
	TST_REQUIRE(wait_event("confirm"));
	TST_EQ_INT(key("Return"), 0);
	TST_REQUIRE(wait_event("saved"));
	TST_EQ_STR(dump(), HEADER ROW_1001
		   "INV-1002,2026-02-27,\"Caf\u00e9 L\u00e9on, \"\"Paris\"\" SARL\",89.90,19,106.98\n");
}

static void test_cancel_saves_nothing(void)
{
	struct layout form;
	const char *line;
	char before[8192];

	snprintf(before, sizeof(before), "%s", dump());
	TST_REQUIRE(open_form(&main_layout, &form));
	TST_EQ_INT(type_text("INV-1003"), 0); /* the number field has the focus */
	TST_EQ_INT(key("Escape"), 0);
	line = wait_event("form_closed");
	TST_REQUIRE(line);
	TST_CHECK(strstr(line, "\"saved\":false") != NULL);
	TST_EQ_STR(dump(), before);
}

static void test_dump_of_a_missing_database_fails(void)
{
	char path[400], out[256];

	snprintf(path, sizeof(path), "%s/missing.db", dir);
	TST_EQ_INT(run_dump(path, out, sizeof(out)), 1);
	TST_EQ_STR(out, "");
	TST_CHECK(access(path, F_OK) != 0); /* --dump creates nothing */
}

int main(void)
{
	struct dp_actuator_config config = { 0 };
	struct dp_error err = { 0 };
	const char *tmp = getenv("TMPDIR");
	char dbarg[300];
	const char *argv[] = { getenv("DP_ERP"), "--db", dbarg, "--no-reminder", "--slow-ms", "0,0",
			       "--debug-layout", "--seed", "1", NULL };

	signal(SIGPIPE, SIG_IGN);
	dp_log_init_from_env();
	if (!argv[0]) {
		fprintf(stderr, "DP_ERP is not set: run through meson test\n");
		return EXIT_FAILURE;
	}
	snprintf(dir, sizeof(dir), "%s/dp-erp-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return EXIT_FAILURE;
	}
	snprintf(db, sizeof(db), "%s/invoices.db", dir);
	snprintf(dbarg, sizeof(dbarg), "%s", db);
	if (dp_xvfb_start(&xvfb, 1280, 800, NULL) < 0) {
		rmdir(dir);
		return TST_SKIP;
	}
	if (dp_app_start(&app, &xvfb, argv) < 0) {
		fprintf(stderr, "deskpilot-erp did not print its ready line\n");
		dp_xvfb_stop(&xvfb);
		return EXIT_FAILURE;
	}
	config.display = xvfb.display;
	if (dp_actuator_create(&act, &config, &err) < 0) {
		fprintf(stderr, "%s\n", err.message);
		return EXIT_FAILURE;
	}
	TST_RUN(test_ready_and_main_layout);
	TST_RUN(test_enter_invoice_with_cjk_and_decimal_comma);
	TST_RUN(test_bad_date_and_duplicate_number_save_nothing);
	TST_RUN(test_cancel_saves_nothing);
	TST_RUN(test_dump_of_a_missing_database_fails);
	dp_actuator_destroy(act);
	dp_probe_stop(&app);
	dp_xvfb_stop(&xvfb);
	unlink(db);
	rmdir(dir);
	TST_EXIT();
}
