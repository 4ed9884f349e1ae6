/* Submit's keys: each read, checked and named in its error; the policy
 * inferred; the stored JSON without secret values. */
#include <errno.h>
#include <stdbool.h>

#include "daemon/task_spec.h"
#include "tst.h"

static int set_s(struct dp_task_spec *spec, const char *key, const char *value, struct dp_error *err)
{
	struct dp_submit_value v = { .key = key, .signature = "s", .s = value };

	return dp_task_spec_set(spec, &v, err);
}

static void expect(int r, struct dp_error *err, const char *want)
{
	TST_EQ_INT(r, -EINVAL);
	if (!strstr(err->message, want)) {
		fprintf(stderr, "  message \"%s\" lacks \"%s\"\n", err->message, want);
		TST_CHECK(!"the message names the key");
	}
}

static void test_every_key(void)
{
	struct dp_task_spec spec;
	struct dp_error err = { 0 };
	const char *vars[] = { "customer", "Müller", "total", "12.50" };
	const char *names[] = { "erp_password" };
	const char *inl[] = { "pin", "1234" };
	struct dp_submit_value v;

	dp_task_spec_init(&spec);
	TST_EQ_INT(set_s(&spec, "instruction", "enter invoices", &err), 0);
	TST_EQ_INT(set_s(&spec, "flow", "/flows/invoice.json", &err), 0);
	TST_EQ_INT(set_s(&spec, "data", "/data/invoices.csv", &err), 0);
	TST_EQ_INT(set_s(&spec, "display", ":4", &err), 0);
	v = (struct dp_submit_value){ .key = "variables", .signature = "a{ss}", .strv = vars, .n = 2 };
	TST_EQ_INT(dp_task_spec_set(&spec, &v, &err), 0);
	v = (struct dp_submit_value){ .key = "secrets", .signature = "as", .strv = names, .n = 1 };
	TST_EQ_INT(dp_task_spec_set(&spec, &v, &err), 0);
	v = (struct dp_submit_value){ .key = "inline_secrets", .signature = "a{ss}", .strv = inl, .n = 1 };
	TST_EQ_INT(dp_task_spec_set(&spec, &v, &err), 0);
	v = (struct dp_submit_value){ .key = "max_steps", .signature = "u", .u = 40 };
	TST_EQ_INT(dp_task_spec_set(&spec, &v, &err), 0);
	v = (struct dp_submit_value){ .key = "timeout", .signature = "u", .u = 300 };
	TST_EQ_INT(dp_task_spec_set(&spec, &v, &err), 0);
	v = (struct dp_submit_value){ .key = "priority", .signature = "i", .i = -7 };
	TST_EQ_INT(dp_task_spec_set(&spec, &v, &err), 0);
	v = (struct dp_submit_value){ .key = "dry_run", .signature = "b", .b = true };
	TST_EQ_INT(dp_task_spec_set(&spec, &v, &err), 0);
	TST_EQ_INT(dp_task_spec_finish(&spec, 200, ":0", &err), 0);
	TST_EQ_STR(spec.policy, "flow");
	TST_EQ_STR(spec.display, ":4");
	TST_EQ_STR(spec.vars[0], "customer=Müller");
	TST_EQ_INT(spec.max_steps, 40);
	TST_EQ_INT(spec.priority, -7);
	TST_CHECK(spec.dry_run);
	{
		char *json = dp_task_spec_to_json(&spec);
		struct dp_task_spec back;

		TST_REQUIRE(json);
		/* The name of an inline secret is kept, never its value. */
		TST_CHECK(strstr(json, "\"pin\"") != NULL);
		TST_CHECK(strstr(json, "1234") == NULL);
		TST_EQ_INT(dp_task_spec_from_json(&back, json, &err), 0);
		TST_EQ_STR(back.flow, "/flows/invoice.json");
		TST_EQ_STR(back.vars[1], "total=12.50");
		TST_EQ_STR(back.secrets[0], "erp_password");
		TST_EQ_INT(back.n_inline, 1);
		TST_CHECK(back.inline_values == NULL);
		TST_EQ_INT(back.max_steps, 40);
		TST_EQ_INT(back.timeout_s, 300);
		TST_EQ_INT(back.priority, -7);
		TST_CHECK(back.dry_run);
		dp_task_spec_release(&back);
		free(json);
	}
	dp_task_spec_release(&spec);
}

static void test_bad_keys_named(void)
{
	struct dp_task_spec spec;
	struct dp_error err = { 0 };
	struct dp_submit_value v;
	const char *bad_name[] = { "../etc/passwd" };

	dp_task_spec_init(&spec);
	expect(set_s(&spec, "colour", "blue", &err), &err, "unknown key 'colour'");
	v = (struct dp_submit_value){ .key = "max_steps", .signature = "i", .i = 5 };
	expect(dp_task_spec_set(&spec, &v, &err), &err, "max_steps: expected an unsigned 32-bit integer (u)");
	v = (struct dp_submit_value){ .key = "max_steps", .signature = "u", .u = 201 };
	expect(dp_task_spec_set(&spec, &v, &err), &err, "max_steps: 201 is out of range");
	v = (struct dp_submit_value){ .key = "max_steps", .signature = "u", .u = 0 };
	expect(dp_task_spec_set(&spec, &v, &err), &err, "max_steps: 0 is out of range");
	v = (struct dp_submit_value){ .key = "priority", .signature = "i", .i = 101 };
	expect(dp_task_spec_set(&spec, &v, &err), &err, "priority: 101 is out of range: give -100 to 100");
	v = (struct dp_submit_value){ .key = "dry_run", .signature = "s", .s = "yes" };
	expect(dp_task_spec_set(&spec, &v, &err), &err, "dry_run: expected a boolean (b)");
	v = (struct dp_submit_value){ .key = "instruction", .signature = "as" };
	expect(dp_task_spec_set(&spec, &v, &err), &err, "instruction: expected a string (s)");
	v = (struct dp_submit_value){ .key = "variables", .signature = "as" };
	expect(dp_task_spec_set(&spec, &v, &err), &err, "variables: expected a dictionary of strings (a{ss})");
	v = (struct dp_submit_value){ .key = "secrets", .signature = "as", .strv = bad_name, .n = 1 };
	expect(dp_task_spec_set(&spec, &v, &err), &err, "secrets[0]: '../etc/passwd' is not a valid secret name");
	expect(set_s(&spec, "policy", "magic", &err), &err, "policy: 'magic' is not one of flow, script, model");
	TST_EQ_INT(set_s(&spec, "script", "/s.jsonl", &err), 0);
	expect(set_s(&spec, "script", "/t.jsonl", &err), &err, "script: given twice");
	dp_task_spec_release(&spec);
}

static void test_policy_inferred_and_checked(void)
{
	struct dp_task_spec spec;
	struct dp_error err = { 0 };

	dp_task_spec_init(&spec);
	set_s(&spec, "script", "/s.jsonl", &err);
	TST_EQ_INT(dp_task_spec_finish(&spec, 0, ":1", &err), 0);
	TST_EQ_STR(spec.policy, "script");
	TST_EQ_INT(spec.max_steps, 200);
	TST_EQ_STR(spec.instruction, "");
	dp_task_spec_release(&spec);

	dp_task_spec_init(&spec);
	expect(dp_task_spec_finish(&spec, 0, ":1", &err), &err, "instruction: the model policy needs an instruction");
	dp_task_spec_release(&spec);

	dp_task_spec_init(&spec);
	set_s(&spec, "script", "/s.jsonl", &err);
	set_s(&spec, "data", "/d.csv", &err);
	expect(dp_task_spec_finish(&spec, 0, ":1", &err), &err, "data: goes with a flow");
	dp_task_spec_release(&spec);

	dp_task_spec_init(&spec);
	set_s(&spec, "script", "/s.jsonl", &err);
	expect(dp_task_spec_finish(&spec, 0, NULL, &err), &err, "display: none given");
	dp_task_spec_release(&spec);

	dp_task_spec_init(&spec);
	set_s(&spec, "policy", "flow", &err);
	expect(dp_task_spec_finish(&spec, 0, ":1", &err), &err, "flow: the flow policy needs a flow");
	dp_task_spec_release(&spec);
}

int main(void)
{
	TST_RUN(test_every_key);
	TST_RUN(test_bad_keys_named);
	TST_RUN(test_policy_inferred_and_checked);
	TST_EXIT();
}
