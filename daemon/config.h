/* deskpilotd's configuration: a JSON file ($XDG_CONFIG_HOME/deskpilot/
 * config.json or --config).  Every key is optional; unknown keys are
 * refused; an error names the line and the key path. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/error.h"

struct dp_daemon_config {
	char *display;              /* NULL: $DISPLAY */
	char *model_endpoint;
	char *model_api_key_file;
	char *model_profile;
	uint32_t max_steps;         /* default for tasks: 200 */
	uint32_t timeout_s;         /* default for tasks: 0, none */
	char **allow_launch;        /* programs tasks may launch; NULL-terminated, never NULL */
	char **deny_window_classes;
	char **confirm;             /* actions every task must have confirmed */
	uint32_t retention_max_age_days; /* 30 */
	uint32_t retention_max_runs;     /* 1000 */
};

/* The defaults, as if the file were {}. */
int dp_daemon_config_init(struct dp_daemon_config *config);
void dp_daemon_config_release(struct dp_daemon_config *config);

/* Parses text (from a file called name, for messages) over the defaults. */
int dp_daemon_config_parse(struct dp_daemon_config *config, const char *text, size_t len, const char *name,
			   struct dp_error *err);
/* Reads path; a missing file is fine when optional (the defaults stay). */
int dp_daemon_config_load(struct dp_daemon_config *config, const char *path, bool optional, struct dp_error *err);

/* The default path: $XDG_CONFIG_HOME/deskpilot/config.json or
 * ~/.config/deskpilot/config.json.  -ENOENT when neither is set. */
int dp_daemon_config_default_path(char *buf, size_t size);

/* The line (1-based) where the value at a dotted key path ("model.endpoint",
 * "confirm[2]") is, in valid JSON text; 0 when not found. */
int dp_json_line_of(const char *text, size_t len, const char *path);
