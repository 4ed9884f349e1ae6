/* A remote-desktop session on GNOME's compositor through its own D-Bus
 * APIs (org.gnome.Mutter.RemoteDesktop + org.gnome.Mutter.ScreenCast),
 * the way gnome-remote-desktop drives it: no consent dialog, for headless
 * and kiosk machines.  One session gives both halves of deskpilot on
 * Wayland: a PipeWire node of the monitor for the frame source, and input
 * injection (pointer, keysyms, clipboard) for the actuator. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "actuators/remote_input.h"
#include "engine/error.h"

struct dp_mutter_session;

/* Whether mutter's remote-desktop API is on the session bus. */
bool dp_mutter_available(void);

/* Creates the session on the session bus ($DBUS_SESSION_BUS_ADDRESS),
 * records the monitor named by connector (NULL or "": the primary one)
 * and starts it.  Returns 0, -ENOENT when mutter's remote-desktop API is
 * not on the bus, or another negative errno with err filled. */
int dp_mutter_session_create(struct dp_mutter_session **out, const char *connector, struct dp_error *err);
void dp_mutter_session_destroy(struct dp_mutter_session *s);

/* The PipeWire node id of the recorded monitor, and its size. */
uint32_t dp_mutter_session_node(const struct dp_mutter_session *s);
void dp_mutter_session_size(const struct dp_mutter_session *s, int32_t *width, int32_t *height);

/* Input, in the recorded monitor's pixels.  button: 1 left, 2 middle,
 * 3 right, 8 back, 9 forward. */
int dp_mutter_pointer_move(struct dp_mutter_session *s, double x, double y, struct dp_error *err);
int dp_mutter_pointer_button(struct dp_mutter_session *s, int button, bool pressed, struct dp_error *err);
/* Wheel clicks: +dy down, +dx right. */
int dp_mutter_pointer_scroll(struct dp_mutter_session *s, int dx, int dy, struct dp_error *err);
int dp_mutter_keysym(struct dp_mutter_session *s, uint32_t keysym, bool pressed, struct dp_error *err);

/* The input functions below as the actuator's remote-desktop interface. */
void dp_mutter_session_input(struct dp_mutter_session *s, struct dp_remote_input *out);

/* Offers text as the clipboard's content; an application's paste is served
 * while dp_mutter_session_serve() runs.  Returns 0 or a negative errno. */
int dp_mutter_clipboard_offer(struct dp_mutter_session *s, const char *text, struct dp_error *err);
/* Processes the session's bus traffic, serving clipboard reads, until
 * `reads` reads of the current offer were served or timeout_ms passed;
 * returns the number served so far, or a negative errno (the session
 * closed).  Mutter's own clipboard manager reads a new offer at once, so
 * an application's paste is the read after that. */
int dp_mutter_session_serve(struct dp_mutter_session *s, int timeout_ms, int reads, struct dp_error *err);
