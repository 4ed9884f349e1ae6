#!/usr/bin/python3
"""gtk_entry.py - GTK 3 fixture for deskpilot input tests: one real Gtk.Entry.

Tests use it to check that typed text arrives exactly in a real toolkit
client (XInput2 key events, XKB keymap, GTK's input method), not only in
the XCB probe.

Run it with the system Python (/usr/bin/python3, the interpreter Debian's
python3-gi and gir1.2-gtk-3.0 are installed for; a pyenv or venv python3
usually cannot import gi):

    gtk_entry.py [--title T] [--x X] [--y Y] [--width W] [--height H]

Defaults: title "deskpilot gtk entry", at 0,0, 800x200. The window holds
one Gtk.Entry filling it, monospace, no length limit (set_max_length(0)).

Environment, set here before GTK loads:
  GDK_BACKEND=x11   always: the window id printed is an X window.
  NO_AT_BRIDGE=1    unless already set: keeps GTK's accessibility bridge
                    (libatk-bridge) off. Without it and with no session
                    D-Bus (a bare Xvfb test) nothing was printed here; with
                    a session bus (dbus-run-session) GTK activated
                    org.a11y.Bus and the at-spi registry daemon (extra
                    processes, dbus-daemon chatter on stderr); with a dead
                    bus address GTK is known to warn "Couldn't connect to
                    accessibility bus". With NO_AT_BRIDGE=1: none of that.
  GTK_IM_MODULE     unless already set: gtk-im-context-simple, GTK's
                    built-in input method, so that no ibus/XIM server can
                    swallow or delay keys.

stdout, one JSON line per event, pure ASCII (non-ASCII as \\uXXXX),
flushed:
  {"event":"ready","pid":PID,"window":XID}
      once the window is mapped, is the active (focused) toplevel and the
      entry has the keyboard focus. XID: the toplevel's X window, decimal.
      If that does not happen within 5 s (a window manager refusing
      focus, say), the line comes anyway with ,"focused":false added and
      a warning on stderr, so a test fails with a reason, not a hang.
  {"event":"text","text":"..."}      answer to "text"
  {"event":"cleared"}                answer to "clear"
  {"event":"focused"}                answer to "focus"; if the window did
      not become active within 2 s: {"event":"focused","error":"timeout"}

stdin, one command a line:
  text    X round trip (XSync), handle every event already received, then
          print the entry's text; so keys an injector sent and synced
          before the command are in the answer.
  clear   the same catch-up, then empty the entry.
  focus   present the window (with the X server time, so a window manager
          honours it), give the entry focus, wait until active.
  quit    exit. EOF on stdin exits as well; so do SIGINT and SIGTERM.

Focus, as found under Xvfb (GTK 3.24, Debian 12):
  * Bare Xvfb, no window manager: the server's focus starts as
    PointerRoot, so keys would go to the window under the pointer. But
    present() (gdk_window_focus), finding no EWMH window manager to send
    _NET_ACTIVE_WINDOW to, calls XSetInputFocus on the toplevel itself:
    the app takes the X focus on its own at start and on "focus", wherever
    the pointer is, so no xdotool mousemove is needed. Another client's
    SetInputFocus (e.g. the probe's "focus" command) takes it away again
    and "focus" here takes it back.
  * Openbox (default config): the window is managed and framed; the frame
    goes to --x/--y and the client window (the XID printed, which is also
    the one that gets the X focus) sits inside it, about 1 px right and
    20 px down with the default theme. Openbox focuses the new window when
    it maps, and present_with_time() sends _NET_ACTIVE_WINDOW with a real
    server timestamp, which openbox honours; so "focus" also works after
    another window took the focus. Openbox does not take the focus back
    when an override-redirect window (the probe) sets it.

Seen while testing: xdotool type --delay 0 loses characters that are not
in the keymap (xdotool binds them to a spare keycode and restores it
before GTK has read the new keymap); with xdotool's default 12 ms delay
they arrive.
"""

import argparse
import json
import os
import signal
import sys

os.environ["GDK_BACKEND"] = "x11"
os.environ.setdefault("NO_AT_BRIDGE", "1")
os.environ.setdefault("GTK_IM_MODULE", "gtk-im-context-simple")

import gi  # noqa: E402

gi.require_version("Gtk", "3.0")
gi.require_version("Gdk", "3.0")
gi.require_version("GdkX11", "3.0")
from gi.repository import Gdk, GdkX11, GLib, Gtk  # noqa: E402

READY_TIMEOUT_MS = 5000
FOCUS_TIMEOUT_MS = 2000
CATCH_UP_MAX_ITERATIONS = 10000

CSS = b"""
entry {
    font-family: monospace;
    font-size: 16px;
}
"""


def emit(obj):
    """One compact, pure-ASCII JSON line, flushed. False if stdout is gone."""
    try:
        sys.stdout.write(json.dumps(obj, ensure_ascii=True, separators=(",", ":")) + "\n")
        sys.stdout.flush()
        return True
    except (BrokenPipeError, OSError):
        return False


class App:
    def __init__(self, args):
        self.args = args
        self.ready_sent = False
        self.stdin_buf = b""
        self.focus_waiters = []   # [callback, timeout source id]
        self.quitting = False

        provider = Gtk.CssProvider()
        provider.load_from_data(CSS)
        Gtk.StyleContext.add_provider_for_screen(
            Gdk.Screen.get_default(), provider,
            Gtk.STYLE_PROVIDER_PRIORITY_APPLICATION)

        self.window = Gtk.Window(title=args.title)
        self.window.set_default_size(args.width, args.height)
        self.window.move(args.x, args.y)
        self.window.connect("delete-event", self.on_delete)
        self.window.connect("map-event", self.on_state_change)
        self.window.connect("notify::is-active", self.on_state_change)

        if args.multiline:
            # A text view lays out each line apart: long texts typed with
            # line breaks stay fast, where one Entry line grows quadratically.
            self.entry = Gtk.TextView()
            scrolled = Gtk.ScrolledWindow()
            scrolled.add(self.entry)
            container = scrolled
        else:
            self.entry = Gtk.Entry()
            self.entry.set_max_length(0)
            container = self.entry
        self.entry.set_hexpand(True)
        self.entry.set_vexpand(True)
        self.entry.connect("notify::has-focus", self.on_state_change)
        self.window.add(container)

    def get_text(self):
        if isinstance(self.entry, Gtk.TextView):
            buf = self.entry.get_buffer()
            return buf.get_text(buf.get_start_iter(), buf.get_end_iter(), True)
        return self.entry.get_text()

    def set_text(self, text):
        if isinstance(self.entry, Gtk.TextView):
            self.entry.get_buffer().set_text(text)
        else:
            self.entry.set_text(text)

    # ---------- state ----------

    def focused(self):
        return (self.window.get_mapped() and self.window.is_active()
                and self.entry.has_focus())

    def xid(self):
        return self.window.get_window().get_xid()

    def on_state_change(self, *unused):
        if self.focused():
            self.send_ready(True)
            waiters, self.focus_waiters = self.focus_waiters, []
            for callback, source in waiters:
                GLib.source_remove(source)
                callback(True)
        return False

    def send_ready(self, focused):
        if self.ready_sent:
            return
        self.ready_sent = True
        line = {"event": "ready", "pid": os.getpid(), "window": self.xid()}
        if not focused:
            print("gtk_entry: window not focused after %d ms; ready anyway"
                  % READY_TIMEOUT_MS, file=sys.stderr)
            line["focused"] = False
        self.out(line)

    def out(self, obj):
        if not emit(obj):
            self.quit()

    # ---------- focus ----------

    def take_focus(self):
        gdk_window = self.window.get_window()
        # A real timestamp, not CurrentTime: a WM's focus-stealing
        # prevention honours it.
        stamp = GdkX11.x11_get_server_time(gdk_window) if gdk_window else 0
        self.window.present_with_time(stamp)
        self.entry.grab_focus()

    def when_focused(self, timeout_ms, callback):
        """callback(True) once focused, callback(False) after timeout_ms."""
        if self.focused():
            callback(True)
            return

        def expired():
            self.focus_waiters = [w for w in self.focus_waiters if w[1] != source]
            callback(self.focused())
            return False

        source = GLib.timeout_add(timeout_ms, expired)
        self.focus_waiters.append([callback, source])

    # ---------- stdin ----------

    def catch_up(self):
        """Make every event the server sent before now handled: XSync puts
        them into our queue, then dispatch what is pending (bounded, in
        case something keeps the loop busy)."""
        Gdk.Display.get_default().sync()
        for _ in range(CATCH_UP_MAX_ITERATIONS):
            if not Gtk.events_pending():
                break
            Gtk.main_iteration_do(False)

    def run_command(self, line):
        words = line.split()
        if not words:
            return
        cmd = words[0]
        if len(words) != 1:
            print("gtk_entry: usage: %s (no arguments)" % cmd, file=sys.stderr)
            return
        if cmd == "text":
            self.catch_up()
            self.out({"event": "text", "text": self.get_text()})
        elif cmd == "clear":
            self.catch_up()
            self.set_text("")
            self.out({"event": "cleared"})
        elif cmd == "focus":
            self.take_focus()

            def answer(ok):
                if ok:
                    self.out({"event": "focused"})
                else:
                    print("gtk_entry: window not active after focus", file=sys.stderr)
                    self.out({"event": "focused", "error": "timeout"})

            self.when_focused(FOCUS_TIMEOUT_MS, answer)
        elif cmd == "quit":
            self.quit()
        else:
            print("gtk_entry: unknown command '%s'" % cmd, file=sys.stderr)

    def on_stdin(self, fd, condition):
        try:
            data = os.read(fd, 65536)
        except InterruptedError:
            return True
        except OSError:
            data = b""
        if data:
            self.stdin_buf += data
        else:
            self.stdin_buf += b"\n"   # a last line without newline still runs
        while b"\n" in self.stdin_buf and not self.quitting:
            line, self.stdin_buf = self.stdin_buf.split(b"\n", 1)
            self.run_command(line.decode("utf-8", "replace"))
        if not data:
            self.quit()
            return False
        return not self.quitting

    # ---------- lifetime ----------

    def on_delete(self, *unused):
        self.quit()
        return True

    def quit(self):
        if not self.quitting:
            self.quitting = True
            Gtk.main_quit()
        return False

    def start(self):
        self.window.show_all()
        self.take_focus()
        GLib.timeout_add(READY_TIMEOUT_MS, self.ready_timeout)
        GLib.io_add_watch(sys.stdin.fileno(), GLib.PRIORITY_DEFAULT,
                          GLib.IO_IN | GLib.IO_HUP | GLib.IO_ERR, self.on_stdin)
        for sig in (signal.SIGINT, signal.SIGTERM):
            GLib.unix_signal_add(GLib.PRIORITY_HIGH, sig, self.quit)
        self.on_state_change()

    def ready_timeout(self):
        self.send_ready(self.focused())
        return False


def main():
    parser = argparse.ArgumentParser(description="GTK 3 entry fixture for deskpilot tests")
    parser.add_argument("--title", default="deskpilot gtk entry")
    parser.add_argument("--x", type=int, default=0)
    parser.add_argument("--y", type=int, default=0)
    parser.add_argument("--width", type=int, default=800)
    parser.add_argument("--height", type=int, default=200)
    parser.add_argument("--multiline", action="store_true",
                        help="a multi-line Gtk.TextView instead of the one-line Gtk.Entry")
    args = parser.parse_args()
    if args.width < 1 or args.height < 1:
        parser.error("--width and --height must be positive")
    ok, _ = Gtk.init_check(sys.argv[:1])
    if not ok:
        print("gtk_entry: cannot open the X display", file=sys.stderr)
        return 1
    app = App(args)
    app.start()
    Gtk.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
