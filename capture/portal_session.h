/* A screen cast through xdg-desktop-portal (org.freedesktop.portal.ScreenCast,
 * optionally with RemoteDesktop for input): the sanctioned way on any
 * desktop that ships a portal backend.  The user consents in a dialog the
 * first time; where the portal supports it (ScreenCast version 4 and
 * later), the restore token it returns lets later sessions start without
 * asking.  The frames come from the PipeWire remote the portal opens. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "actuators/remote_input.h"
#include "engine/error.h"

struct dp_portal_session;

struct dp_portal_options {
	bool input;                /* also a RemoteDesktop session (pointer and keyboard) */
	const char *restore_token; /* from an earlier session; NULL: ask the user */
	int timeout_ms;            /* for the user's answer; 0: 120 s */
	/* Called once while the consent dialog may be up (after Start was
	 * sent); tests answer the dialog from here.  May be NULL. */
	void (*waiting_for_consent)(void *data);
	void *data;
};

/* Returns 0; -ENOENT when no portal is on the session bus; -EACCES when
 * the user (or policy) refused; -ESTALE when a restore token was given
 * and the portal asked the user again anyway (the token was revoked or
 * expired: no silent re-prompt loop in an unattended run); or another
 * negative errno, with err filled. */
int dp_portal_session_create(struct dp_portal_session **out, const struct dp_portal_options *options,
			     struct dp_error *err);
void dp_portal_session_destroy(struct dp_portal_session *s);

uint32_t dp_portal_session_node(const struct dp_portal_session *s);
/* The PipeWire remote to read the node from; the caller owns the fd. */
int dp_portal_session_take_fd(struct dp_portal_session *s);
/* The token for the next session (empty when the portal gave none). */
const char *dp_portal_session_restore_token(const struct dp_portal_session *s);
/* Input through the portal's RemoteDesktop session (options.input), as
 * the actuator's remote-desktop interface.  This portal generation has no
 * clipboard: text outside the keyboard layout cannot be typed. */
void dp_portal_session_input(struct dp_portal_session *s, struct dp_remote_input *out);

/* The portal interfaces' versions, for `deskpilot doctor`. */
void dp_portal_versions(uint32_t *screencast, uint32_t *remote_desktop);
