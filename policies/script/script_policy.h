/* The script policy: a fixed sequence of steps read from a JSON-lines file,
 * one step per line (an action object, or an array of them).  No model, no
 * locators: for scripted runs, benchmarks and replaying a trajectory's
 * actions.  When the script runs out it says done. */
#pragma once

#include "engine/error.h"
#include "engine/policy.h"

/* Reads and checks the whole file first: an error names the line. */
int dp_script_policy_create(struct dp_policy **out, const char *path, struct dp_error *err);
