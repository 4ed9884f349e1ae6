/* What the daemon's bus-level tests share: a display with the probe on
 * it, a private bus, deskpilotd, and the deskpilot CLI pointed at them. */
#pragma once

#include <stdbool.h>

#include "harness/bus.h"
#include "harness/xvfb.h"

struct dp_fixture {
	struct dp_xvfb xvfb;
	struct dp_probe probe;
	struct dp_test_bus bus;
	struct dp_test_daemon daemon;
	char dir[256];           /* scripts and files the test writes */
	char out[1 << 16], err[1 << 16];
};

/* Xvfb 1920x1080 with the focused probe full screen, a bus, and
 * deskpilotd (bus_config: NULL for the session configuration).  Returns 0
 * or -1 after saying why. */
int dp_fixture_start(struct dp_fixture *f, const char *bus_config);
void dp_fixture_stop(struct dp_fixture *f);

/* Runs the deskpilot CLI (as the given argv prefix, such as setpriv ...,
 * or none) with DESKPILOT_BUS_ADDRESS set to the fixture's bus; output in
 * f->out and f->err; returns its exit code. */
int dp_fixture_cli(struct dp_fixture *f, const char *const *prefix, const char *const *args);
#define DP_CLI(f, ...) dp_fixture_cli((f), NULL, (const char *const[]){ __VA_ARGS__, NULL })

/* Writes text to dir/name and returns the path (a static buffer per call
 * slot: copy it if needed past the next 8 calls). */
const char *dp_fixture_file(struct dp_fixture *f, const char *name, const char *text);

/* The task id from a "o /org/.../task/ID" busctl reply or a path. */
void dp_fixture_id_from(const char *text, char *id, size_t size);
