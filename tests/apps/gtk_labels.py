#!/usr/bin/python3
"""gtk_labels.py - GTK 3 fixture for deskpilot OCR tests: known words at
known places.

    gtk_labels.py [--x X] [--y Y] [--font-size PX] [--columns N] [--dark]
                  [--boxed] [--title T] TEXT...

Each TEXT becomes one Gtk.Label, laid out in a grid of N columns (default
3) with wide gaps between columns (so that labels in one row are not read
as one line).  --font-size sets the labels' font size in pixels (default
13; the font is GTK's default, DejaVu Sans on a bare Debian); --dark draws
light text on a dark window; --boxed draws a 1-pixel frame 3 pixels around
each label's text (like an entry's frame or a focus ring).  Run it with the system Python (see
gtk_entry.py for why, and for the environment set before GTK loads).

stdout, one JSON line per event, pure ASCII, flushed:
  {"event":"ready","pid":PID,"window":XID}
      once the window is mapped and its labels drawn.
  {"event":"label","index":I,"text":"...","x":X,"y":Y,"width":W,"height":H,
   "words":[{"text":"...","x":X,"width":W}, ...]}
      one per label, in answer to "sync" (then {"event":"synced"}): the
      label's ink rectangle in root-window pixels, as Pango lays it out;
      for each word of it, its horizontal extent (logical, from the first
      character's left edge to the last one's right edge).
  {"event":"drawn","index":I}
      after "set": the label has been redrawn with its new text.

stdin, one command a line:
  sync           the label lines, then {"event":"synced"}
  set I TEXT     change label I's text (TEXT: the rest of the line)
  quit           exit (EOF, SIGINT and SIGTERM as well)
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
from gi.repository import Gdk, GLib, Gtk  # noqa: E402


def emit(obj):
    try:
        sys.stdout.write(json.dumps(obj, ensure_ascii=True, separators=(",", ":")) + "\n")
        sys.stdout.flush()
        return True
    except (BrokenPipeError, OSError):
        return False


class App:
    def __init__(self, args):
        css = "label { font-size: %dpx; }" % args.font_size
        if args.dark:
            css += " window { background-color: #1e1e1e; } label { color: #e8e8e8; }"
        if args.boxed:
            css += " label { border: 1px solid #404040; padding: 2px 3px; }"
        provider = Gtk.CssProvider()
        provider.load_from_data(css.encode())
        Gtk.StyleContext.add_provider_for_screen(
            Gdk.Screen.get_default(), provider, Gtk.STYLE_PROVIDER_PRIORITY_APPLICATION)

        self.window = Gtk.Window(title=args.title)
        self.window.move(args.x, args.y)
        self.window.connect("delete-event", lambda *a: self.quit())
        grid = Gtk.Grid(column_spacing=6 * args.font_size, row_spacing=args.font_size,
                        margin=2 * args.font_size)
        self.labels = []
        self.pending = set()
        for i, text in enumerate(args.texts):
            label = Gtk.Label(label=text, xalign=0)
            grid.attach(label, i % args.columns, i // args.columns, 1, 1)
            self.labels.append(label)
        self.window.add(grid)
        self.ready_sent = False
        self.quitting = False
        self.stdin_buf = b""

    def on_after_paint(self, clock):
        # The frame clock paints the whole window: every label is drawn.
        if not self.ready_sent:
            GLib.idle_add(self.send_ready)
        for index in sorted(self.pending):
            GLib.idle_add(self.send_drawn, index)
        self.pending.clear()

    def flushed(self):
        Gdk.Display.get_default().sync()

    def send_ready(self):
        if not self.ready_sent:
            self.ready_sent = True
            self.flushed()
            self.out({"event": "ready", "pid": os.getpid(),
                      "window": self.window.get_window().get_xid()})
        return False

    def send_drawn(self, index):
        self.flushed()
        self.out({"event": "drawn", "index": index})
        return False

    def label_line(self, index):
        label = self.labels[index]
        layout = label.get_layout()
        lx, ly = label.get_layout_offsets()
        _, ox, oy = label.get_window().get_origin()
        ink, _logical = layout.get_pixel_extents()
        text = label.get_text()
        words = []
        start = 0
        for word in text.split(" "):
            if word:
                b0 = len(text[:start].encode("utf-8"))
                b1 = len(text[:start + len(word) - 1].encode("utf-8"))
                first = layout.index_to_pos(b0)
                last = layout.index_to_pos(b1)
                x0 = first.x // 1024
                x1 = (last.x + last.width) // 1024
                words.append({"text": word, "x": ox + lx + x0, "width": x1 - x0})
            start += len(word) + 1
        return {"event": "label", "index": index, "text": text,
                "x": ox + lx + ink.x, "y": oy + ly + ink.y,
                "width": ink.width, "height": ink.height, "words": words}

    def out(self, obj):
        if not emit(obj):
            self.quit()

    def run_command(self, line):
        cmd, _, rest = line.partition(" ")
        if cmd == "sync":
            for i in range(len(self.labels)):
                self.out(self.label_line(i))
            self.out({"event": "synced"})
        elif cmd == "set":
            index, _, text = rest.partition(" ")
            try:
                i = int(index)
                label = self.labels[i]
            except (ValueError, IndexError):
                print("gtk_labels: no label '%s'" % index, file=sys.stderr)
                return
            self.pending.add(i)
            label.set_text(text)
            label.queue_draw()
        elif cmd == "quit":
            self.quit()
        elif cmd:
            print("gtk_labels: unknown command '%s'" % cmd, file=sys.stderr)

    def on_stdin(self, fd, condition):
        try:
            data = os.read(fd, 65536)
        except InterruptedError:
            return True
        except OSError:
            data = b""
        self.stdin_buf += data if data else b"\n"
        while b"\n" in self.stdin_buf and not self.quitting:
            line, self.stdin_buf = self.stdin_buf.split(b"\n", 1)
            self.run_command(line.decode("utf-8", "replace").strip())
        if not data:
            self.quit()
            return False
        return not self.quitting

    def quit(self):
        if not self.quitting:
            self.quitting = True
            Gtk.main_quit()
        return False

    def start(self):
        self.window.show_all()
        self.window.get_window().get_frame_clock().connect("after-paint", self.on_after_paint)
        GLib.io_add_watch(sys.stdin.fileno(), GLib.PRIORITY_DEFAULT,
                          GLib.IO_IN | GLib.IO_HUP | GLib.IO_ERR, self.on_stdin)
        for sig in (signal.SIGINT, signal.SIGTERM):
            GLib.unix_signal_add(GLib.PRIORITY_HIGH, sig, self.quit)


def main():
    parser = argparse.ArgumentParser(description="GTK 3 labels fixture for deskpilot OCR tests")
    parser.add_argument("--title", default="deskpilot gtk labels")
    parser.add_argument("--x", type=int, default=0)
    parser.add_argument("--y", type=int, default=0)
    parser.add_argument("--font-size", type=int, default=13)
    parser.add_argument("--columns", type=int, default=3)
    parser.add_argument("--dark", action="store_true")
    parser.add_argument("--boxed", action="store_true")
    parser.add_argument("texts", nargs="+")
    args = parser.parse_args()
    if args.columns < 1 or args.font_size < 4:
        parser.error("--columns must be positive and --font-size at least 4")
    ok, _ = Gtk.init_check(sys.argv[:1])
    if not ok:
        print("gtk_labels: cannot open the X display", file=sys.stderr)
        return 1
    app = App(args)
    app.start()
    Gtk.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
