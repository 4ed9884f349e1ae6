/* The D-Bus API deskpilotd serves is the one documented in
 * docs/org.deskpilot.Agent1.xml: busctl introspect of the manager and of a
 * task object, compared member by member for the org.deskpilot.*
 * interfaces (whitespace, comments, member order and sd-bus's own
 * annotations aside). */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon_fixture.h"
#include "tst.h"

static struct dp_fixture fx;

/* Collapses whitespace, drops it between tags, and drops comments. */
static char *normalise(const char *xml)
{
	char *out = malloc(strlen(xml) + 1), *o = out;
	bool space = false;

	for (const char *p = xml; *p;) {
		if (strncmp(p, "<!--", 4) == 0) {
			const char *end = strstr(p, "-->");

			p = end ? end + 3 : p + strlen(p);
			continue;
		}
		if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
			space = true;
			p++;
			continue;
		}
		if (space && o > out && o[-1] != '>' && *p != '<' && *p != '/' && *p != '>')
			*o++ = ' ';
		space = false;
		*o++ = *p++;
	}
	*o = '\0';
	return out;
}

/* Empty elements written either way (<method name="X"/> and
 * <method name="X"></method>) read the same. */
static void expand_empty(char *member)
{
	size_t len = strlen(member);
	char tag[16], *end;

	if (len < 3 || strcmp(member + len - 2, "/>") != 0)
		return;
	snprintf(tag, sizeof(tag), "%.*s", (int)strcspn(member + 1, " >"), member + 1);
	end = member + len - 2;
	snprintf(end, 64, "></%s>", tag);
}

static int by_text(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

#define MAX_MEMBERS 64

/* The members of interface name in normalised XML, each one string,
 * sd-bus's own annotations left out, sorted.  Returns how many, or -1. */
static int members(const char *xml, const char *name, char **out)
{
	char open[160], *block, *p;
	const char *start, *end;
	int n = 0;

	snprintf(open, sizeof(open), "<interface name=\"%s\">", name);
	start = strstr(xml, open);
	if (!start)
		return -1;
	start += strlen(open);
	end = strstr(start, "</interface>");
	if (!end)
		return -1;
	block = strndup(start, (size_t)(end - start));
	p = block;
	while (*p == '<' && n < MAX_MEMBERS) {
		char tag[16], close[32], *stop, *a;
		size_t len;

		snprintf(tag, sizeof(tag), "%.*s", (int)strcspn(p + 1, " >/"), p + 1);
		snprintf(close, sizeof(close), "</%s>", tag);
		stop = strchr(p, '>');
		if (stop && stop[-1] == '/') {
			len = (size_t)(stop + 1 - p);
		} else {
			stop = strstr(p, close);
			if (!stop)
				break;
			len = (size_t)(stop + strlen(close) - p);
		}
		out[n] = malloc(len + 64);
		snprintf(out[n], len + 1, "%s", p);
		/* Whether sd-bus marks methods privileged depends on the bus connection, not the API. */
		while ((a = strstr(out[n], "<annotation name=\"org.freedesktop.systemd1."))) {
			char *e = strstr(a, "/>");

			if (!e)
				break;
			memmove(a, e + 2, strlen(e + 2) + 1);
		}
		expand_empty(out[n]);
		n++;
		p += len;
	}
	free(block);
	qsort(out, (size_t)n, sizeof(*out), by_text);
	return n;
}

static char *introspect(const char *path)
{
	char address[600];
	const char *argv[] = { "/usr/bin/busctl", address, "introspect", "--xml-interface", "org.deskpilot.Agent1", path,
			       NULL };

	snprintf(address, sizeof(address), "--address=%s", fx.bus.address);
	if (access(argv[0], X_OK) != 0)
		argv[0] = "/bin/busctl";
	if (dp_run(argv, NULL, fx.out, sizeof(fx.out), fx.err, sizeof(fx.err)) != 0) {
		fprintf(stderr, "busctl introspect %s: %s\n", path, fx.err);
		return NULL;
	}
	return normalise(fx.out);
}

static void compare(const char *served_xml, const char *documented_xml, const char *iface)
{
	char *served[MAX_MEMBERS], *documented[MAX_MEMBERS];
	int ns = members(served_xml, iface, served), nd = members(documented_xml, iface, documented);

	TST_CHECK(ns > 0);
	TST_CHECK(nd > 0);
	for (int i = 0, j = 0; i < ns || j < nd;) {
		int c = i == ns ? 1 : j == nd ? -1 : strcmp(served[i], documented[j]);

		if (c == 0) {
			i++;
			j++;
			continue;
		}
		if (c < 0)
			fprintf(stderr, "%s: served but not documented: %s\n", iface, served[i++]);
		else
			fprintf(stderr, "%s: documented but not served: %s\n", iface, documented[j++]);
		TST_CHECK(!"the served interface differs from docs/org.deskpilot.Agent1.xml");
	}
	for (int i = 0; i < ns; i++)
		free(served[i]);
	for (int i = 0; i < nd; i++)
		free(documented[i]);
}

static void test_the_served_api_is_the_documented_one(void)
{
	char *doc_text = dp_read_file(getenv("DP_INTERFACE_XML")), *doc, *manager, *task;
	char id[64], path[160];

	TST_REQUIRE(doc_text != NULL);
	doc = normalise(doc_text);
	free(doc_text);
	/* A task object to look at. */
	TST_REQUIRE(DP_CLI(&fx, "submit", "--script", dp_fixture_file(&fx, "one.jsonl", "{\"action\":\"wait\",\"ms\":1}\n"),
			   "--dry-run") == 0);
	dp_fixture_id_from(fx.out, id, sizeof(id));
	snprintf(path, sizeof(path), "/org/deskpilot/Agent1/task/%s", id);
	manager = introspect("/org/deskpilot/Agent1");
	task = introspect(path);
	TST_REQUIRE(manager && task);
	compare(manager, doc, "org.deskpilot.Agent1.Manager");
	compare(task, doc, "org.deskpilot.Agent1.Task");
	free(manager);
	free(task);
	free(doc);
}

/* The comparison itself catches a difference. */
static void test_a_changed_member_is_caught(void)
{
	const char *a = "<node><interface name=\"x.Y\"><method name=\"A\"><arg type=\"s\" name=\"t\" direction=\"in\"/>"
			"</method><signal name=\"S\"/></interface></node>";
	const char *b = "<node><interface name=\"x.Y\"><signal name=\"S\"></signal>"
			"<method name=\"A\"><arg type=\"u\" name=\"t\" direction=\"in\"/></method></interface></node>";
	char *ma[MAX_MEMBERS], *mb[MAX_MEMBERS];
	int na = members(a, "x.Y", ma), nb = members(b, "x.Y", mb);

	TST_EQ_INT(na, 2);
	TST_EQ_INT(nb, 2);
	TST_EQ_STR(ma[1], mb[1]); /* the signal, however it is written */
	TST_CHECK(strcmp(ma[0], mb[0]) != 0); /* the argument's type differs */
	for (int i = 0; i < na; i++)
		free(ma[i]);
	for (int i = 0; i < nb; i++)
		free(mb[i]);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	if (!getenv("DP_DESKPILOTD") || !getenv("DP_INTERFACE_XML")) {
		fprintf(stderr, "DP_DESKPILOTD or DP_INTERFACE_XML is not set: run through meson test\n");
		return TST_SKIP;
	}
	TST_RUN(test_a_changed_member_is_caught);
	if (dp_fixture_start(&fx, NULL) < 0) {
		dp_fixture_stop(&fx);
		return EXIT_FAILURE;
	}
	TST_RUN(test_the_served_api_is_the_documented_one);
	if (tst_failures)
		dp_test_daemon_print_log(&fx.daemon);
	dp_fixture_stop(&fx);
	TST_EXIT();
}
