/* report.html: one self-contained page a person can open to see what a
 * task did, built from the run folder (traj.jsonl, step_NNN.jpg,
 * result.json). */
#pragma once

#include "engine/error.h"

int dp_report_write(const char *run_dir, struct dp_error *err);
