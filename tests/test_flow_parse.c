/* Flows and their CSV data: what parses, and errors that point at the
 * input (line and column, or the JSON path) with the reason. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "policies/flow/csv.h"
#include "policies/flow/flow.h"
#include "tst.h"

static int parse(const char *text, struct flow *f, struct dp_error *err)
{
	return flow_parse(text, strlen(text), ".", f, err);
}

static void test_a_flow_with_every_kind_of_step(void)
{
	static const char text[] =
		"{\"name\": \"invoices\", \"data\": \"invoices.csv\", \"variables\": {\"db\": \"/tmp/x.db\"},\n"
		" \"steps\": [\n"
		"  {\"launch\": [\"deskpilot-erp\", \"--db\", \"${db}\"]},\n"
		"  {\"wait_for\": {\"text\": \"New invoice\"}, \"timeout_ms\": 5000},\n"
		"  {\"for_each\": \"rows\", \"on_error\": \"skip\", \"do\": [\n"
		"     {\"click\": \"New invoice\"},\n"
		"     {\"type\": \"${row.number}\", \"into\": {\"text\": \"Invoice number:\", \"offset\": [150, 0]}},\n"
		"     {\"key\": \"Tab\"},\n"
		"     {\"if_present\": {\"text\": \"Reminder\", \"match\": \"icase\"}, \"then\": [{\"click\": \"Dismiss\"}]},\n"
		"     {\"retry\": {\"times\": 2, \"backoff_ms\": 100}, \"do\": [{\"expect\": {\"text\": \"saved\"}}]}\n"
		"  ], \"recover\": [{\"key\": \"Escape\"}]},\n"
		"  {\"set\": \"total\", \"from_text\": {\"region\": [0, 0, 100, 20]}},\n"
		"  {\"click\": {\"image\": \"save.png\", \"threshold\": 0.95}},\n"
		"  {\"double_click\": {\"x\": 10, \"y\": 20, \"window\": \"Acme\"}},\n"
		"  {\"window\": {\"op\": \"activate\", \"title\": \"Acme\"}},\n"
		"  {\"expect\": {\"window_title\": \"Acme ERP\"}},\n"
		"  {\"note\": \"done with ${total}\"},\n"
		"  {\"fail\": \"stop here\"}\n"
		" ]}\n";
	struct dp_error err = { 0 };
	struct flow f;

	TST_EQ_INT(parse(text, &f, &err), 0);
	if (err.message[0])
		fprintf(stderr, "  %s\n", err.message);
	TST_EQ_STR(f.name, "invoices");
	TST_EQ_STR(f.data, "invoices.csv");
	TST_EQ_INT(f.steps.n, 10);
	TST_CHECK(f.uses_text);
	TST_EQ_INT(f.steps.steps[2].kind, FLOW_FOR_EACH);
	TST_CHECK(f.steps.steps[2].skip_errors);
	TST_EQ_INT(f.steps.steps[2].body.n, 5);
	TST_EQ_STR(f.steps.steps[2].body.steps[1].path, "steps[2].do[1]");
	TST_EQ_INT(f.steps.steps[2].body.steps[1].loc.dx, 150);
	TST_EQ_INT(f.steps.steps[2].body.steps[3].loc.match, FLOW_MATCH_ICASE);
	TST_EQ_INT(f.steps.steps[2].body.steps[4].times, 2);
	TST_EQ_INT(f.steps.steps[2].other.n, 1);
	TST_EQ_INT(f.steps.steps[3].loc.region.width, 100);
	TST_EQ_INT(f.steps.steps[5].loc.y, 20);
	flow_free(&f);
}

static void expect_error(const char *text, const char *message)
{
	struct dp_error err = { 0 };
	struct flow f;

	TST_EQ_INT(parse(text, &f, &err), -EINVAL);
	if (!strstr(err.message, message))
		fprintf(stderr, "  gave: %s\n  want: %s\n", err.message, message);
	TST_CHECK(strstr(err.message, message) != NULL);
}

static void test_errors_point_at_the_input(void)
{
	expect_error("{\"steps\": [\n  {\"click\": }\n]}", "line 2, column 13: JSON syntax error");
	expect_error("{\"steps\": [{\"click\": 5}]}", "steps[0].click: expected a locator");
	expect_error("{\"steps\": [{\"for_each\": \"rows\", \"do\": [{\"key\": \"a\"}, {\"click\": {\"txt\": \"A\"}}]}]}",
		     "steps[0].do[1].click.txt: unknown locator field");
	expect_error("{\"steps\": [{\"click\": \"A\", \"key\": \"b\"}]}", "steps[0]: a step does one thing");
	expect_error("{\"steps\": [{\"jump\": 1}]}", "steps[0]: no step kind");
	expect_error("{\"steps\": [{\"click\": \"A\", \"colour\": 1}]}", "steps[0].colour: unknown field");
	expect_error("{\"steps\": [{\"wait_for\": \"A\", \"timeout_ms\": -5}]}", "steps[0].timeout_ms: expected a whole number");
	expect_error("{\"steps\": [{\"wait_for\": \"A\", \"until\": \"later\"}]}", "steps[0].until: expected appears or vanishes");
	expect_error("{\"steps\": [{\"for_each\": \"rows\"}]}", "steps[0].do: missing");
	expect_error("{\"steps\": [{\"click\": {\"text\": \"A\", \"x\": 1, \"y\": 2}}]}", "a locator is one of text, image or x/y");
	expect_error("{\"steps\": [{\"click\": {\"image\": \"a.png\", \"threshold\": 2}}]}", "threshold: expected a similarity");
	expect_error("{\"steps\": []}", "steps: expected a non-empty list");
	expect_error("{\"name\": \"x\"}", "steps: missing");
	expect_error("{\"stepz\": []}", "stepz: unknown field");
	expect_error("[1]", "a flow is an object");
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
}

static void test_csv(void)
{
	char path[] = "/tmp/dp-csv-XXXXXX";
	int fd = mkstemp(path);
	struct dp_error err = { 0 };
	struct dp_csv csv;

	TST_REQUIRE(fd >= 0);
	close(fd);
	write_file(path, "\xef\xbb\xbfnumber,customer,net\r\nINV-1,\"Müller, Söhne\",1.5\r\n\r\n"
			 "INV-2,\"say \"\"hi\"\"\nsecond line\",2\nINV-3,北京,3");
	TST_EQ_INT(dp_csv_read(path, &csv, &err), 0);
	TST_EQ_INT(csv.n_columns, 3);
	TST_EQ_STR(csv.columns[0], "number");
	TST_EQ_INT(csv.n_rows, 3);
	TST_EQ_STR(csv.rows[0][1], "Müller, Söhne");
	TST_EQ_STR(csv.rows[1][1], "say \"hi\"\nsecond line");
	TST_EQ_STR(csv.rows[2][1], "北京");
	TST_EQ_INT(csv.row_lines[2], 6);
	TST_EQ_INT(dp_csv_column(&csv, "net"), 2);
	TST_EQ_INT(dp_csv_column(&csv, "vat"), -1);
	dp_csv_clear(&csv);

	write_file(path, "a,b\n1,2\n3\n");
	TST_EQ_INT(dp_csv_read(path, &csv, &err), -EINVAL);
	TST_CHECK(strstr(err.message, "line 3: 1 fields where the header has 2") != NULL);
	write_file(path, "a,b\n\"open,2\n");
	TST_EQ_INT(dp_csv_read(path, &csv, &err), -EINVAL);
	TST_CHECK(strstr(err.message, "not closed") != NULL);
	write_file(path, "");
	TST_EQ_INT(dp_csv_read(path, &csv, &err), -EINVAL);
	unlink(path);
	TST_EQ_INT(dp_csv_read(path, &csv, &err), -ENOENT);
	TST_CHECK(strstr(err.message, "cannot read the CSV file") != NULL);
}

int main(void)
{
	TST_RUN(test_a_flow_with_every_kind_of_step);
	TST_RUN(test_errors_point_at_the_input);
	TST_RUN(test_csv);
	TST_EXIT();
}
