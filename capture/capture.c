#include "capture/capture.h"

#include <errno.h>
#include <string.h>

#include "config.h"

#if HAVE_X11
extern const struct dp_capture_impl dp_capture_x11;
#endif
#if HAVE_PIPEWIRE
extern const struct dp_capture_impl dp_capture_pipewire;
#endif

static const struct dp_capture_impl *const backends[] = {
#if HAVE_X11
	&dp_capture_x11,
#endif
#if HAVE_PIPEWIRE
	&dp_capture_pipewire,
#endif
	NULL,
};

static const char *const backend_names[] = {
#if HAVE_X11
	"x11",
#endif
#if HAVE_PIPEWIRE
	"pipewire",
#endif
	NULL,
};

const char *const *dp_capture_backends(void)
{
	return backend_names;
}

int dp_capture_create(struct dp_capture **out, const struct dp_capture_config *config,
		      struct dp_error *err)
{
	const char *want = config ? config->backend : NULL;
	static const struct dp_capture_config defaults;

	if (!config)
		config = &defaults;
	for (size_t i = 0; backends[i]; i++) {
		if (want && strcmp(want, backends[i]->name) != 0)
			continue;
		return backends[i]->create(out, config, err);
	}
	if (!backends[0])
		return dp_error_set(err, -ENOTSUP,
				    "this deskpilot was built without any capture backend; "
				    "rebuild with -Dx11=enabled");
	return dp_error_set(err, -ENOENT, "no capture backend called '%s'", want);
}

void dp_capture_destroy(struct dp_capture *cap)
{
	if (cap)
		cap->impl->destroy(cap);
}

int dp_capture_grab(struct dp_capture *cap, const struct dp_rect *region, unsigned flags,
		    struct dp_frame *frame, struct dp_error *err)
{
	return cap->impl->grab(cap, region, flags, frame, err);
}

int dp_capture_settle(struct dp_capture *cap, const struct dp_settle_options *opts,
		      struct dp_settle_result *result, struct dp_error *err)
{
	struct dp_settle_options defaults;

	if (!opts) {
		dp_settle_options_default(&defaults);
		opts = &defaults;
	}
	return cap->impl->settle(cap, opts, result, err);
}

int dp_capture_geometry(struct dp_capture *cap, struct dp_geometry *geometry, struct dp_error *err)
{
	return cap->impl->geometry(cap, geometry, err);
}
