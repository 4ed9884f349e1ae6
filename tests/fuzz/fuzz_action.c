/* libFuzzer target: any bytes through the action parser and back out. */
#include <stdint.h>
#include <stdlib.h>

#include "engine/action.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dp_action action;
	struct dp_error err = { 0 };

	if (dp_action_parse((const char *)data, size, &action, &err) == 0) {
		char *json = dp_action_to_json(&action);

		free(json);
		dp_action_clear(&action);
	}
	return 0;
}
