/* deskpilotd's config file: every key read, defaults kept, and an error
 * that names the file, the line and the key path. */
#include <errno.h>
#include <stdbool.h>

#include "daemon/config.h"
#include "tst.h"

static int parse(struct dp_daemon_config *c, const char *text, struct dp_error *err)
{
	dp_daemon_config_init(c);
	return dp_daemon_config_parse(c, text, strlen(text), "config.json", err);
}

static void test_defaults(void)
{
	struct dp_daemon_config c;
	struct dp_error err = { 0 };

	TST_EQ_INT(parse(&c, "{}", &err), 0);
	TST_EQ_INT(c.max_steps, 200);
	TST_EQ_INT(c.timeout_s, 0);
	TST_EQ_INT(c.retention_max_age_days, 30);
	TST_EQ_INT(c.retention_max_runs, 1000);
	TST_CHECK(c.display == NULL);
	TST_CHECK(c.allow_launch && c.allow_launch[0] == NULL);
	dp_daemon_config_release(&c);
}

static void test_every_key(void)
{
	static const char text[] =
		"{\n"
		"  \"display\": \":3\",\n"
		"  \"model\": {\"endpoint\": \"http://127.0.0.1:8000/v1\", \"api_key_file\": \"/k\",\n"
		"             \"profile\": \"minimax-m3\"},\n"
		"  \"max_steps\": 50,\n"
		"  \"timeout\": 600,\n"
		"  \"allow_launch\": [\"gnumeric\", \"xterm\"],\n"
		"  \"deny_window_classes\": [\"KeePassXC\"],\n"
		"  \"confirm\": [\"key:ctrl+s\", \"launch:*\"],\n"
		"  \"retention\": {\"max_age_days\": 7, \"max_runs\": 20}\n"
		"}\n";
	struct dp_daemon_config c;
	struct dp_error err = { 0 };

	TST_EQ_INT(parse(&c, text, &err), 0);
	TST_EQ_STR(c.display, ":3");
	TST_EQ_STR(c.model_endpoint, "http://127.0.0.1:8000/v1");
	TST_EQ_STR(c.model_api_key_file, "/k");
	TST_EQ_STR(c.model_profile, "minimax-m3");
	TST_EQ_INT(c.max_steps, 50);
	TST_EQ_INT(c.timeout_s, 600);
	TST_EQ_STR(c.allow_launch[1], "xterm");
	TST_CHECK(c.allow_launch[2] == NULL);
	TST_EQ_STR(c.deny_window_classes[0], "KeePassXC");
	TST_EQ_STR(c.confirm[1], "launch:*");
	TST_EQ_INT(c.retention_max_age_days, 7);
	TST_EQ_INT(c.retention_max_runs, 20);
	dp_daemon_config_release(&c);
}

static void check_error(const char *text, const char *want)
{
	struct dp_daemon_config c;
	struct dp_error err = { 0 };

	TST_EQ_INT(parse(&c, text, &err), -EINVAL);
	if (!strstr(err.message, want)) {
		fprintf(stderr, "  message \"%s\" lacks \"%s\"\n", err.message, want);
		TST_CHECK(!"the message names the line and key");
	}
	dp_daemon_config_release(&c);
}

static void test_errors_name_line_and_key(void)
{
	check_error("{\n  \"max_steps\": 50,\n  \"colour\": \"blue\"\n}", "config.json: line 3: colour: unknown key");
	check_error("{\n  \"max_steps\": 500\n}", "line 2: max_steps: expected a whole number from 1 to 200");
	check_error("{\n  \"max_steps\": 2.5\n}", "line 2: max_steps:");
	check_error("{\n \"retention\": {\n   \"max_age_days\": 3,\n   \"max_runs\": \"ten\"\n }\n}",
		    "line 4: retention.max_runs: expected a whole number");
	check_error("{\n \"model\": {\n  \"endpoint\": \"http://x\",\n  \"key\": \"abc\"\n }\n}",
		    "line 4: model.key: unknown key");
	check_error("{\"display\": \":1\",\n\"confirm\": [\"key:ctrl+s\",\n  7]}",
		    "line 3: confirm[1]: expected a non-empty string");
	check_error("{\n  \"model\": \"minimax\"\n}", "line 2: model: expected an object");
	check_error("{\n  \"display\": \":1\",\n  \"max_steps\": 5,,\n}", "config.json: line 3, column");
	check_error("[1, 2]", "expected a JSON object");
	/* A key inside a string value is not the key. */
	check_error("{\n \"display\": \"\\\"timeout\\\": x\",\n\n \"timeout\": -1\n}", "line 4: timeout:");
}

static void test_line_of(void)
{
	static const char text[] = "{\"a\": {\"b\": [1,\n 2, {\"c\": \n true}]},\n\"d\": null}";

	TST_EQ_INT(dp_json_line_of(text, strlen(text), "a.b[2].c"), 3);
	TST_EQ_INT(dp_json_line_of(text, strlen(text), "a.b[1]"), 2);
	TST_EQ_INT(dp_json_line_of(text, strlen(text), "d"), 4);
	TST_EQ_INT(dp_json_line_of(text, strlen(text), "e"), 0);
}

static void test_missing_file(void)
{
	struct dp_daemon_config c;
	struct dp_error err = { 0 };

	dp_daemon_config_init(&c);
	TST_EQ_INT(dp_daemon_config_load(&c, "/nonexistent/deskpilot/config.json", true, &err), 0);
	TST_EQ_INT(dp_daemon_config_load(&c, "/nonexistent/deskpilot/config.json", false, &err), -ENOENT);
	TST_CHECK(strstr(err.message, "/nonexistent/deskpilot/config.json") != NULL);
	dp_daemon_config_release(&c);
}

/* The example in the docs is a valid config. */
static void test_documented_example(void)
{
	struct dp_daemon_config c;
	struct dp_error err = { 0 };
	const char *path = getenv("DP_CONFIG_EXAMPLE");

	TST_REQUIRE(path);
	dp_daemon_config_init(&c);
	TST_EQ_INT(dp_daemon_config_load(&c, path, false, &err), 0);
	if (err.code)
		fprintf(stderr, "  %s\n", err.message);
	TST_EQ_STR(c.model_profile, "minimax-m3");
	TST_EQ_INT(c.retention_max_runs, 1000);
	TST_EQ_STR(c.confirm[0], "key:ctrl+s");
	dp_daemon_config_release(&c);
}

int main(void)
{
	TST_RUN(test_defaults);
	TST_RUN(test_every_key);
	TST_RUN(test_errors_name_line_and_key);
	TST_RUN(test_line_of);
	TST_RUN(test_missing_file);
	TST_RUN(test_documented_example);
	TST_EXIT();
}
