#include "actuators/actuator.h"

#include <errno.h>
#include <string.h>

#include "config.h"

#if HAVE_X11
extern const struct dp_actuator_impl dp_actuator_x11;
#endif
#if HAVE_WAYLAND
extern const struct dp_actuator_impl dp_actuator_remote;
#endif

static const struct dp_actuator_impl *const backends[] = {
#if HAVE_X11
	&dp_actuator_x11,
#endif
#if HAVE_WAYLAND
	&dp_actuator_remote,
#endif
	NULL,
};

int dp_actuator_create(struct dp_actuator **out, const struct dp_actuator_config *config, struct dp_error *err)
{
	static const struct dp_actuator_config defaults;
	const char *want = config ? config->backend : NULL;

	if (!config)
		config = &defaults;
	for (size_t i = 0; backends[i]; i++)
		if (!want || strcmp(want, backends[i]->name) == 0)
			return backends[i]->create(out, config, err);
	if (!backends[0])
		return dp_error_set(err, -ENOTSUP, "this deskpilot was built without any input backend; "
						   "rebuild with -Dx11=enabled");
	return dp_error_set(err, -ENOENT, "no input backend called '%s'", want);
}

void dp_actuator_destroy(struct dp_actuator *act)
{
	if (act)
		act->impl->destroy(act);
}

void dp_actuator_release_all(struct dp_actuator *act)
{
	act->impl->release_all(act);
}

int dp_actuator_perform(struct dp_actuator *act, const struct dp_action *action, struct dp_action_result *result,
			struct dp_error *err)
{
	memset(result, 0, sizeof(*result));
	return act->impl->perform(act, action, result, err);
}

int dp_actuator_windows(struct dp_actuator *act, const struct dp_window_match *match, struct dp_window_info *out,
			size_t max, size_t *count, struct dp_error *err)
{
	return act->impl->windows(act, match, out, max, count, err);
}
