/* libFuzzer target: any bytes through the flow parser. */
#include <stdint.h>

#include "policies/flow/flow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct flow flow;
	struct dp_error err = { 0 };

	if (flow_parse((const char *)data, size, ".", &flow, &err) == 0)
		flow_free(&flow);
	return 0;
}
