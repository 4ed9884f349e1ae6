/* Values for {{secret:name}}: inline values a Submit gave (memory only),
 * then systemd credentials ($CREDENTIALS_DIRECTORY/<name>), then the
 * user's secrets file ($XDG_CONFIG_HOME/deskpilot/secrets.json, which must
 * be mode 0600).  Every copy made on the way is wiped. */
#pragma once

#include <stddef.h>

#include "engine/error.h"

struct dp_secret_source {
	const char *credentials_dir;  /* NULL: none */
	const char *secrets_file;     /* NULL: none */
	char *const *inline_names;    /* n_inline each */
	char *const *inline_values;
	size_t n_inline;
};

/* Fills the source's paths from the environment ($CREDENTIALS_DIRECTORY,
 * $XDG_CONFIG_HOME or ~/.config); buffers hold the strings. */
void dp_secret_source_from_env(struct dp_secret_source *src, char *creds, size_t creds_size, char *file,
			       size_t file_size);

/* Fills value (NUL-terminated).  -ENOENT when no source has it; -EPERM
 * when the secrets file is readable by others (the message says chmod);
 * -E2BIG when the value does not fit. */
int dp_secret_lookup(const struct dp_secret_source *src, const char *name, char *value, size_t size,
		     struct dp_error *err);

/* dp_secret_lookup_fn for the step loop; data is a dp_secret_source. */
int dp_secret_lookup_for_loop(void *data, const char *name, char *value, size_t size);
