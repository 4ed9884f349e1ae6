/* libFuzzer target: any bytes as a model server's reply: the reply
 * parser, each tool call to an action (and the verifier's verdict), and
 * the content as UI-TARS text actions and a YES/NO verdict. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policies/model/reply.h"
#include "policies/model/tools.h"
#include "policies/model/uitars.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void text_actions(const char *text, const struct dp_coord_map *map)
{
	struct dp_action actions[16];
	struct dp_error err = { 0 };
	bool done;
	char *reason = NULL;
	size_t n = 0;

	if (dp_uitars_parse(text, map, actions, 16, &n, &err) == 0)
		for (size_t i = 0; i < n; i++)
			dp_action_clear(&actions[i]);
	if (dp_uitars_verdict(text, &done, &reason, &err) == 0)
		free(reason);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dp_model_reply reply;
	struct dp_coord_map map;
	struct dp_error err = { 0 };
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	dp_coords_map_init(&map, (struct dp_rect){ 0, 0, 1920, 1080 }, 896, 504, DP_COORDS_PIXELS, NULL);
	if (dp_model_reply_parse(text, size, &reply, &err) == 0) {
		const cJSON *call, *content = cJSON_GetObjectItemCaseSensitive(reply.message, "content");
		char *reasoning = dp_model_reply_reasoning(reply.message);

		free(reasoning);
		cJSON_ArrayForEach(call, cJSON_GetObjectItemCaseSensitive(reply.message, "tool_calls")) {
			struct dp_action a;
			bool done;
			char *why = NULL;

			if (dp_model_tool_call_parse(call, &map, &a, &err) == 0)
				dp_action_clear(&a);
			if (dp_model_verdict_parse(call, &done, &why, &err) == 0)
				free(why);
		}
		if (cJSON_IsString(content))
			text_actions(content->valuestring, &map);
		dp_model_reply_clear(&reply);
	} else {
		text_actions(text, &map);
	}
	free(text);
	return 0;
}
