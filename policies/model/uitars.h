/* UI-TARS-1.5's text actions: a reply such as
 *   Thought: The Save button is at the top.
 *   Action: click(start_box='<|box_start|>(412,88)<|box_end|>')
 * becomes struct dp_action through the engine's parser.  Points are in
 * the pixels of the image the model was sent; a box of four numbers means
 * its centre.  Anything else is a clear error for the model. */
#pragma once

#include <stddef.h>

#include "engine/action.h"
#include "engine/coords.h"
#include "engine/error.h"

/* Parses every action of reply (one per "Action:" line or call, in order)
 * into actions (at most max); map checks the points (may be NULL). */
int dp_uitars_parse(const char *reply, const struct dp_coord_map *map, struct dp_action *actions, size_t max,
		    size_t *n, struct dp_error *err);

/* The verifier's text answer: "YES ..." or "NO: reason". */
int dp_uitars_verdict(const char *reply, bool *done, char **reason, struct dp_error *err);
