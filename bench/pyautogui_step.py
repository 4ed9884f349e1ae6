#!/usr/bin/python3
"""One action and one screenshot, the way pyautogui-based harnesses do them.

bench-compare starts a new interpreter for every action (as OSWorld-style
harnesses run `python -c "import pyautogui; ..."` per action), so the cost
of starting Python and connecting to X is part of each step.  Input goes
through python-xlib's XTest fake_input, as pyautogui does on X11:

  - click X Y: a motion to the point before the press and again before
    the release of button 1, each followed by a sync (XSync);
  - type TEXT: for each character its keycode from the core keyboard map
    (keysym_to_keycode of the character's keysym); a character that has no
    keycode on the current map (anything outside the layout, such as most
    non-ASCII text) is skipped without a word, as pyautogui does; capitals
    and shifted symbols are sent with Shift held;
  - key CHORD: xdotool-style names ("ctrl+a", "Tab", "Return"): keys down
    in order, up in reverse (pyautogui.hotkey);
  - focus TITLE: SetInputFocus on the top-level window of that title
    (pyautogui has no window calls on Linux; this is the least a harness
    adds for it).
After the action it sleeps pyautogui's default PAUSE (0.1 s), then grabs
the screen with PIL's ImageGrab (over X11) and saves it as PNG, as those
harnesses send it.

Usage: pyautogui_step.py SHOT.png click X Y | type TEXT | key CHORD | focus TITLE
"""
import sys
import time

from PIL import ImageGrab
from Xlib import X, XK
from Xlib.display import Display
from Xlib.ext.xtest import fake_input

PAUSE = 0.1  # pyautogui.PAUSE, its default
SHIFTED = set('~!@#$%^&*()_+{}|:"<>?')
NAMES = {
    ' ': 'space', '!': 'exclam', '"': 'quotedbl', '#': 'numbersign', '$': 'dollar', '%': 'percent',
    '&': 'ampersand', "'": 'apostrophe', '(': 'parenleft', ')': 'parenright', '*': 'asterisk', '+': 'plus',
    ',': 'comma', '-': 'minus', '.': 'period', '/': 'slash', ':': 'colon', ';': 'semicolon', '<': 'less',
    '=': 'equal', '>': 'greater', '?': 'question', '@': 'at', '[': 'bracketleft', '\\': 'backslash',
    ']': 'bracketright', '^': 'asciicircum', '_': 'underscore', '`': 'grave', '{': 'braceleft', '|': 'bar',
    '}': 'braceright', '~': 'asciitilde', '\n': 'Return', '\t': 'Tab',
}
KEYS = {'ctrl': 'Control_L', 'control': 'Control_L', 'shift': 'Shift_L', 'alt': 'Alt_L', 'super': 'Super_L',
        'enter': 'Return', 'return': 'Return', 'tab': 'Tab', 'escape': 'Escape', 'esc': 'Escape',
        'backspace': 'BackSpace'}


def keycode(d, name):
    """The keycode of a keysym name on the current map, or 0."""
    sym = XK.string_to_keysym(name)
    return d.keysym_to_keycode(sym) if sym else 0


def char_keycode(d, c):
    if c in NAMES:
        return keycode(d, NAMES[c])
    if c.isascii() and c.isalnum():
        return keycode(d, c)
    return 0  # not in pyautogui's table: skipped


def tap(d, code, shift=False):
    shift_code = keycode(d, 'Shift_L')
    if shift:
        fake_input(d, X.KeyPress, shift_code)
    fake_input(d, X.KeyPress, code)
    if shift:
        fake_input(d, X.KeyRelease, shift_code)
    d.sync()
    fake_input(d, X.KeyRelease, code)
    d.sync()


def do_type(d, text):
    for c in text:
        code = char_keycode(d, c)
        if code:
            tap(d, code, c.isupper() or c in SHIFTED)


def do_key(d, chord):
    codes = [keycode(d, KEYS.get(k.lower(), k)) for k in chord.split('+')]
    for code in codes:
        if code:
            fake_input(d, X.KeyPress, code)
            d.sync()
    for code in reversed(codes):
        if code:
            fake_input(d, X.KeyRelease, code)
            d.sync()


def do_click(d, x, y):
    for kind in (X.ButtonPress, X.ButtonRelease):
        fake_input(d, X.MotionNotify, x=x, y=y)
        d.sync()
        fake_input(d, kind, 1)
        d.sync()


def do_focus(d, title):
    for w in d.screen().root.query_tree().children:
        if w.get_wm_name() == title:
            w.set_input_focus(X.RevertToParent, X.CurrentTime)
            d.sync()
            return
    sys.exit(f'pyautogui_step: no window titled {title!r}')


def main(argv):
    if len(argv) < 4:
        sys.exit(__doc__.strip().splitlines()[-1])
    shot, action, args = argv[1], argv[2], argv[3:]
    d = Display()
    if action == 'click' and len(args) == 2:
        do_click(d, int(args[0]), int(args[1]))
    elif action == 'type' and len(args) == 1:
        do_type(d, args[0])
    elif action == 'key' and len(args) == 1:
        do_key(d, args[0])
    elif action == 'focus' and len(args) == 1:
        do_focus(d, args[0])
    else:
        sys.exit(f'pyautogui_step: bad action {action!r} {args!r}')
    time.sleep(PAUSE)
    ImageGrab.grab().save(shot, 'PNG')


if __name__ == '__main__':
    main(sys.argv)
