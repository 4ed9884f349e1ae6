/* The action set as OpenAI function tools: one tool per action type, whose
 * arguments are exactly that action's JSON (docs/actions.md) without
 * "action", with coordinates in the profile's space.  Tool calls become
 * struct dp_action through the engine's parser, so every range is checked;
 * a call that does not parse is never performed, its error goes back to
 * the model as the call's result. */
#pragma once

#include <cjson/cJSON.h>
#include <stdint.h>

#include "engine/action.h"
#include "engine/coords.h"
#include "engine/error.h"

/* The tools array for requests; descriptions state the image size and the
 * coordinate space.  NULL when out of memory. */
cJSON *dp_model_tools_build(enum dp_coord_space space, int32_t image_w, int32_t image_h);

/* The verifier's single tool: verdict {done: boolean, reason: string}. */
cJSON *dp_model_verdict_tool(void);

/* One tool call ({"id", "type": "function", "function": {"name",
 * "arguments"}}) to an action, its points checked against map (the image
 * the model was sent).  On error err->message says what is wrong, in
 * words for the model: "click.x: expected an integer". */
int dp_model_tool_call_parse(const cJSON *call, const struct dp_coord_map *map, struct dp_action *action,
			     struct dp_error *err);

/* The verdict tool's arguments: done and reason (malloc'ed, may be NULL). */
int dp_model_verdict_parse(const cJSON *call, bool *done, char **reason, struct dp_error *err);

/* Checks an action's points (point, drag path, zoom region) lie inside
 * the image map describes. */
int dp_model_check_points(const struct dp_action *a, const struct dp_coord_map *map, struct dp_error *err);
