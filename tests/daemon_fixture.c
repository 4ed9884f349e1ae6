#include "daemon_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int dp_fixture_start(struct dp_fixture *f, const char *bus_config)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";

	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "%s/dp-fixture-XXXXXX", tmp);
	if (!mkdtemp(f->dir)) {
		perror("mkdtemp");
		return -1;
	}
	if (dp_probe_start_focused(&f->probe, &f->xvfb, 1920, 1080) < 0)
		return -1;
	if (dp_test_bus_start(&f->bus, bus_config) < 0) {
		fprintf(stderr, "cannot start dbus-daemon (apt-get install dbus)\n");
		return -1;
	}
	if (dp_test_daemon_start(&f->daemon, &f->bus, f->xvfb.display, NULL) < 0)
		return -1;
	setenv("DESKPILOT_BUS_ADDRESS", f->bus.address, 1);
	setenv("DISPLAY", f->xvfb.display, 1);
	return 0;
}

void dp_fixture_stop(struct dp_fixture *f)
{
	dp_test_daemon_stop(&f->daemon, false);
	dp_test_bus_stop(&f->bus);
	dp_probe_stop(&f->probe);
	dp_xvfb_stop(&f->xvfb);
	if (getenv("DP_TEST_KEEP"))
		fprintf(stderr, "kept %s and %s\n", f->dir, f->daemon.home);
	else
		dp_test_daemon_remove_home(&f->daemon);
}

int dp_fixture_cli(struct dp_fixture *f, const char *const *prefix, const char *const *args)
{
	const char *argv[64];
	int n = 0;

	for (int i = 0; prefix && prefix[i] && n < 32; i++)
		argv[n++] = prefix[i];
	argv[n++] = getenv("DP_DESKPILOT");
	for (int i = 0; args[i] && n < 63; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	return dp_run(argv, NULL, f->out, sizeof(f->out), f->err, sizeof(f->err));
}

const char *dp_fixture_file(struct dp_fixture *f, const char *name, const char *text)
{
	static char paths[8][512];
	static int next;
	char *path = paths[next++ % 8];
	FILE *file;

	snprintf(path, 512, "%s/%s", f->dir, name);
	file = fopen(path, "w");
	if (file) {
		fputs(text, file);
		fclose(file);
	}
	return path;
}

void dp_fixture_id_from(const char *text, char *id, size_t size)
{
	const char *at = strstr(text, "/task/");
	size_t n = 0;

	if (at)
		at += strlen("/task/");
	else
		at = text;
	while (at[n] && ((at[n] >= '0' && at[n] <= '9') || (at[n] >= 'a' && at[n] <= 'z') || at[n] == '_'))
		n++;
	snprintf(id, size, "%.*s", (int)n, at);
}
