#!/usr/bin/python3
"""gtk_wayland.py - GTK 3 fixture for deskpilot's Wayland input tests.

A fullscreen Wayland window (GDK_BACKEND=wayland): the top 300 px are a
pure red area that reports every button press, below it one Gtk.Entry.
Fullscreen puts the window's origin at the monitor's, so the coordinates
it reports are monitor pixels.

stdout, one JSON line per event, pure ASCII:
  {"event":"ready","pid":PID}            the window is mapped and drawn
  {"event":"button","button":N,"x":X,"y":Y}
  {"event":"focus","widget":"entry"|"area"}  keyboard focus moved there
  {"event":"text","text":"..."}          answer to "text"
stdin: "text", "quit" (EOF and SIGTERM quit too).
Run with the system python3 (Debian's python3-gi, gir1.2-gtk-3.0).
"""

import json
import os
import signal
import sys

os.environ["GDK_BACKEND"] = "wayland"
os.environ.setdefault("NO_AT_BRIDGE", "1")
os.environ.setdefault("GTK_IM_MODULE", "gtk-im-context-simple")

import gi  # noqa: E402

gi.require_version("Gtk", "3.0")
gi.require_version("Gdk", "3.0")
from gi.repository import Gdk, GLib, Gtk  # noqa: E402

AREA_HEIGHT = 300
# Painted by CSS: no cairo bindings needed.
CSS = b"#area { background-color: #ff0000; }"


def emit(obj):
    sys.stdout.write(json.dumps(obj, ensure_ascii=True, separators=(",", ":")) + "\n")
    sys.stdout.flush()


class App:
    def __init__(self):
        provider = Gtk.CssProvider()
        provider.load_from_data(CSS)
        Gtk.StyleContext.add_provider_for_screen(
            Gdk.Screen.get_default(), provider, Gtk.STYLE_PROVIDER_PRIORITY_APPLICATION)
        self.window = Gtk.Window(title="deskpilot wayland fixture")
        box = Gtk.Box(orientation=Gtk.Orientation.VERTICAL)
        self.area = Gtk.EventBox()
        self.area.set_name("area")
        self.area.set_size_request(-1, AREA_HEIGHT)
        self.area.set_can_focus(True)
        self.area.connect("button-press-event", self.on_button)
        self.area.connect("focus-in-event", lambda *a: emit({"event": "focus", "widget": "area"}))
        self.entry = Gtk.Entry()
        self.entry.set_max_length(0)
        self.entry.connect("focus-in-event", lambda *a: emit({"event": "focus", "widget": "entry"}))
        box.pack_start(self.area, False, False, 0)
        box.pack_start(self.entry, False, False, 0)
        self.window.add(box)
        self.window.connect("destroy", lambda *a: Gtk.main_quit())
        # Ready once mapped and a frame has had time to reach the compositor.
        self.window.connect("map-event", lambda *a: GLib.timeout_add(500, self.on_ready))
        self.window.fullscreen()
        self.window.show_all()
        GLib.io_add_watch(sys.stdin.fileno(), GLib.IO_IN | GLib.IO_HUP, self.on_stdin)

    def on_ready(self):
        emit({"event": "ready", "pid": os.getpid()})
        return False

    def on_button(self, widget, event):
        # The area starts at the window's (and the monitor's) origin.
        emit({"event": "button", "button": event.button, "x": round(event.x), "y": round(event.y)})
        widget.grab_focus()
        return True

    def on_stdin(self, fd, condition):
        line = sys.stdin.readline()
        if not line or line.strip() == "quit":
            Gtk.main_quit()
            return False
        if line.strip() == "text":
            # Let pending input events be handled first.
            while Gtk.events_pending():
                Gtk.main_iteration_do(False)
            emit({"event": "text", "text": self.entry.get_text()})
        return True


def main():
    signal.signal(signal.SIGTERM, lambda *a: GLib.idle_add(Gtk.main_quit))
    App()
    Gtk.main()


if __name__ == "__main__":
    main()
