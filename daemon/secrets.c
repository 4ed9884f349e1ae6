#include "daemon/secrets.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#define DP_LOG_SUBSYS "secrets"
#include "engine/log.h"

#define MAX_FILE (1 << 20)

void dp_secret_source_from_env(struct dp_secret_source *src, char *creds, size_t creds_size, char *file,
			       size_t file_size)
{
	const char *c = getenv("CREDENTIALS_DIRECTORY"), *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");

	memset(src, 0, sizeof(*src));
	if (c && *c) {
		snprintf(creds, creds_size, "%s", c);
		src->credentials_dir = creds;
	}
	if (xdg && *xdg)
		snprintf(file, file_size, "%s/deskpilot/secrets.json", xdg);
	else if (home && *home)
		snprintf(file, file_size, "%s/.config/deskpilot/secrets.json", home);
	else
		return;
	src->secrets_file = file;
}

/* Reads a whole small file into a buffer the caller wipes; *st is its stat. */
static int read_all(const char *path, char **out, size_t *len, struct stat *st)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	size_t cap, n = 0;
	char *buf;
	ssize_t got;

	if (fd < 0)
		return -errno;
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode) || st->st_size >= MAX_FILE) {
		close(fd);
		return -EINVAL;
	}
	cap = (size_t)st->st_size + 1;
	buf = malloc(cap);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (n + 1 < cap && (got = read(fd, buf + n, cap - 1 - n)) > 0)
		n += (size_t)got;
	close(fd);
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

static void wipe_free(char *buf, size_t len)
{
	if (!buf)
		return;
	explicit_bzero(buf, len);
	free(buf);
}

static void wipe_json(cJSON *item)
{
	for (; item; item = item->next) {
		if (item->valuestring)
			explicit_bzero(item->valuestring, strlen(item->valuestring));
		wipe_json(item->child);
	}
}

static int copy_value(const char *from, size_t len, char *value, size_t size, const char *name, struct dp_error *err)
{
	if (len >= size)
		return dp_error_set(err, -E2BIG, "the secret '%s' is over %zu bytes", name, size - 1);
	memcpy(value, from, len);
	value[len] = '\0';
	return 0;
}

static int from_credentials(const char *dir, const char *name, char *value, size_t size, struct dp_error *err)
{
	char path[4096];
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int r;

	/* Names are checked at Submit, but a path must never climb out. */
	if (strchr(name, '/') || name[0] == '.')
		return -ENOENT;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((r = read_all(path, &buf, &len, &st)) < 0)
		return r == -ENOENT ? -ENOENT : dp_error_set(err, r, "cannot read the credential %s: %s", path,
							     strerror(-r));
	/* A credential file written with echo ends with a newline that is not part of it. */
	r = copy_value(buf, len && buf[len - 1] == '\n' ? len - 1 : len, value, size, name, err);
	wipe_free(buf, len);
	return r;
}

static int from_file(const char *path, const char *name, char *value, size_t size, struct dp_error *err)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	cJSON *root;
	const cJSON *item;
	int r = read_all(path, &buf, &len, &st);

	if (r == -ENOENT)
		return -ENOENT;
	if (r < 0)
		return dp_error_set(err, r, "cannot read the secrets file %s: %s", path, strerror(-r));
	if (st.st_mode & 077) {
		wipe_free(buf, len);
		return dp_error_set(err, -EPERM,
				    "the secrets file %s may be read by others (mode %03o): run chmod 600 %s",
				    path, (unsigned)(st.st_mode & 0777), path);
	}
	if (st.st_uid != geteuid()) {
		wipe_free(buf, len);
		return dp_error_set(err, -EPERM,
				    "the secrets file %s belongs to another user: it must be yours, mode 600",
				    path);
	}
	root = cJSON_ParseWithLength(buf, len);
	wipe_free(buf, len);
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return dp_error_set(err, -EINVAL, "the secrets file %s is not a JSON object of name: \"value\"", path);
	}
	item = cJSON_GetObjectItemCaseSensitive(root, name);
	if (!item)
		r = -ENOENT;
	else if (!cJSON_IsString(item))
		r = dp_error_set(err, -EINVAL, "%s: the secret '%s' is not a string", path, name);
	else
		r = copy_value(item->valuestring, strlen(item->valuestring), value, size, name, err);
	wipe_json(root);
	cJSON_Delete(root);
	return r;
}

int dp_secret_lookup(const struct dp_secret_source *src, const char *name, char *value, size_t size,
		     struct dp_error *err)
{
	int r;

	for (size_t i = 0; i < src->n_inline; i++) {
		if (src->inline_names[i] && src->inline_values && src->inline_values[i] &&
		    strcmp(src->inline_names[i], name) == 0)
			return copy_value(src->inline_values[i], strlen(src->inline_values[i]), value, size, name, err);
	}
	if (src->credentials_dir && (r = from_credentials(src->credentials_dir, name, value, size, err)) != -ENOENT)
		return r;
	if (src->secrets_file && (r = from_file(src->secrets_file, name, value, size, err)) != -ENOENT)
		return r;
	return dp_error_set(err, -ENOENT,
			    "no secret called '%s': put it in %s (mode 600) or pass it as a systemd credential", name,
			    src->secrets_file ? src->secrets_file : "$XDG_CONFIG_HOME/deskpilot/secrets.json");
}

int dp_secret_lookup_for_loop(void *data, const char *name, char *value, size_t size)
{
	struct dp_error err = { 0 };
	int r = dp_secret_lookup(data, name, value, size, &err);

	if (r < 0 && r != -ENOENT)
		dp_log_warn("%s", err.message);
	return r;
}
