/* Submit's a{sv} read into dp_submit_value's, one entry at a time; the
 * checks themselves are in task_spec.c (pure, fuzzed). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/daemon.h"

/* Reads an a{ss} into key, value, key, value, ... */
static int read_string_dict(sd_bus_message *m, char ***out, size_t *n_pairs)
{
	char **v = NULL;
	size_t n = 0, cap = 0;
	const char *k, *val;
	int r;

	if ((r = sd_bus_message_enter_container(m, 'a', "{ss}")) < 0)
		return r;
	while ((r = sd_bus_message_read(m, "{ss}", &k, &val)) > 0) {
		if (n + 3 > cap) {
			char **grown = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof(*v));

			if (!grown) {
				r = -ENOMEM;
				break;
			}
			v = grown;
		}
		v[n++] = (char *)k;
		v[n++] = (char *)val;
		v[n] = NULL;
	}
	if (r < 0) {
		free(v);
		return r;
	}
	*out = v;
	*n_pairs = n / 2;
	return sd_bus_message_exit_container(m);
}

static int read_entry(sd_bus_message *m, struct dp_task_spec *spec, struct dp_error *err)
{
	struct dp_submit_value v = { 0 };
	const char *contents = NULL;
	char sig[64], **strv = NULL;
	char type;
	int r;

	if ((r = sd_bus_message_read(m, "s", &v.key)) < 0)
		return dp_error_set(err, -EINVAL, "the task must be a{sv}: %s", strerror(-r));
	if ((r = sd_bus_message_peek_type(m, &type, &contents)) < 0 || type != 'v' || !contents)
		return dp_error_set(err, -EINVAL, "%s: the value must be a variant", v.key);
	snprintf(sig, sizeof(sig), "%s", contents);
	v.signature = sig;
	if ((r = sd_bus_message_enter_container(m, 'v', contents)) < 0)
		return dp_error_set(err, -EINVAL, "%s: unreadable value", v.key);
	if (strcmp(sig, "s") == 0)
		r = sd_bus_message_read_basic(m, 's', &v.s);
	else if (strcmp(sig, "u") == 0)
		r = sd_bus_message_read_basic(m, 'u', &v.u);
	else if (strcmp(sig, "i") == 0)
		r = sd_bus_message_read_basic(m, 'i', &v.i);
	else if (strcmp(sig, "b") == 0) {
		int b = 0;

		r = sd_bus_message_read_basic(m, 'b', &b);
		v.b = b;
	} else if (strcmp(sig, "as") == 0) {
		r = sd_bus_message_read_strv(m, &strv);
		v.strv = (const char *const *)strv;
		for (v.n = 0; strv && strv[v.n]; v.n++)
			;
	} else if (strcmp(sig, "a{ss}") == 0) {
		char **pairs = NULL;

		r = read_string_dict(m, &pairs, &v.n);
		v.strv = (const char *const *)pairs;
		/* Borrowed strings: only the array is ours. */
		if (r >= 0) {
			r = dp_task_spec_set(spec, &v, err);
			free(pairs);
			if (r < 0)
				return r;
			goto done;
		}
	} else {
		r = sd_bus_message_skip(m, sig);
	}
	if (r < 0) {
		if (strv)
			for (size_t i = 0; strv[i]; i++)
				free(strv[i]);
		free(strv);
		return dp_error_set(err, -EINVAL, "%s: unreadable value: %s", v.key, strerror(-r));
	}
	r = dp_task_spec_set(spec, &v, err);
	for (size_t i = 0; strv && strv[i]; i++)
		free(strv[i]);
	free(strv);
	if (r < 0)
		return r;
done:
	if ((r = sd_bus_message_exit_container(m)) < 0)
		return dp_error_set(err, -EINVAL, "%s: unreadable value", v.key);
	return 0;
}

int dp_bus_read_submit(sd_bus_message *m, struct dp_task_spec *spec, struct dp_error *err)
{
	int r;

	if ((r = sd_bus_message_enter_container(m, 'a', "{sv}")) < 0)
		return dp_error_set(err, -EINVAL, "Submit takes a{sv}: %s", strerror(-r));
	while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		if ((r = read_entry(m, spec, err)) < 0)
			return r;
		if ((r = sd_bus_message_exit_container(m)) < 0)
			return dp_error_set(err, -EINVAL, "Submit takes a{sv}: %s", strerror(-r));
	}
	if (r < 0)
		return dp_error_set(err, -EINVAL, "Submit takes a{sv}: %s", strerror(-r));
	return sd_bus_message_exit_container(m) < 0 ? dp_error_set(err, -EINVAL, "Submit takes a{sv}") : 0;
}
