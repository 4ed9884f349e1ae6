/* Submit's checks (task_spec.c) on arbitrary entries: the input is split
 * into records "key\x1fsignature\x1fvalue...\x1e"; values are read as the
 * signature asks (numbers from text, arrays from \x1d-separated items). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/task_spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FIELDS 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *record, *save = NULL;
	struct dp_task_spec spec;
	struct dp_error err;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	dp_task_spec_init(&spec);
	for (record = strtok_r(text, "\x1e", &save); record; record = strtok_r(NULL, "\x1e", &save)) {
		char *fields[MAX_FIELDS] = { 0 }, *p = record;
		const char *items[MAX_FIELDS];
		struct dp_submit_value v = { 0 };
		size_t n = 0;

		while (n < MAX_FIELDS && p) {
			fields[n++] = p;
			p = strchr(p, '\x1f');
			if (p)
				*p++ = '\0';
		}
		v.key = fields[0];
		v.signature = n > 1 ? fields[1] : "";
		v.s = n > 2 ? fields[2] : "";
		v.u = (uint32_t)strtoul(v.s, NULL, 10);
		v.i = (int32_t)strtol(v.s, NULL, 10);
		v.b = v.s[0] == '1';
		for (size_t i = 2; i < n; i++)
			items[v.n++] = fields[i];
		if (strcmp(v.signature, "a{ss}") == 0)
			v.n /= 2;
		v.strv = items;
		if (dp_task_spec_set(&spec, &v, &err) < 0)
			break;
	}
	if (dp_task_spec_finish(&spec, 50, ":1", &err) == 0) {
		char *json = dp_task_spec_to_json(&spec);
		struct dp_task_spec back;

		if (json && dp_task_spec_from_json(&back, json, &err) == 0)
			dp_task_spec_release(&back);
		free(json);
	}
	dp_task_spec_release(&spec);
	free(text);
	return 0;
}
