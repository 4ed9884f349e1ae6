/* Which desktop backend a session leads to, and the reason given. */
#include <errno.h>
#include <stdlib.h>

#include "actuators/desktop.h"
#include "tst.h"

static int choose(const char *backend, const char *display, char *name, char *why, struct dp_error *err)
{
	struct dp_desktop_config c = { .backend = backend, .display = display };

	return dp_desktop_choose(&c, name, 16, why, 256, err);
}

static void test_x11_without_wayland(void)
{
	struct dp_error err = { 0 };
	char name[16], why[256];

	unsetenv("WAYLAND_DISPLAY");
	unsetenv("XDG_SESSION_TYPE");
	setenv("DISPLAY", ":7", 1);
	TST_EQ_INT(choose(NULL, NULL, name, why, &err), 0);
	TST_EQ_STR(name, "x11");
	TST_CHECK(strstr(why, ":7") != NULL);
}

/* A Wayland session without GNOME's API (sway, or no bus): an error that
 * says what works, not a silent fall back to XWayland's X clients. */
static void test_wayland_without_mutter(void)
{
	struct dp_error err = { 0 };
	char name[16], why[256];

	setenv("WAYLAND_DISPLAY", "wayland-1", 1);
	setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus", 1);
	TST_EQ_INT(choose(NULL, NULL, name, why, &err), -ENOTSUP);
	TST_CHECK(strstr(err.message, "sway") != NULL);
	TST_CHECK(strstr(err.message, "--backend x11") != NULL);
	/* Asked for by name, or an X display given: that wins. */
	TST_EQ_INT(choose("x11", NULL, name, why, &err), 0);
	TST_EQ_STR(name, "x11");
	TST_EQ_INT(choose(NULL, ":3", name, why, &err), 0);
	TST_EQ_STR(name, "x11");
	TST_EQ_INT(choose("wayfire", NULL, name, why, &err), -EINVAL);
	TST_CHECK(strstr(err.message, "x11, mutter or portal") != NULL);
}

int main(void)
{
	TST_RUN(test_x11_without_wayland);
	TST_RUN(test_wayland_without_mutter);
	TST_EXIT();
}
