"""prompt_toolkit building blocks of the interactive diary: one full-screen
application per screen, run one after another by ``Terminal.run``.

Each screen is a small synchronous call (``Picker(...).run()`` returns what was
chosen), so the menu reads as a plain loop and typed-ahead keys go to the
right screen in order. What every screen shares lives in ``Terminal``:

- Ctrl-C returns ``BACK`` (one level up), Ctrl-D raises ``Quit``;
- an idle timer: after ``lock_after`` seconds without a key (measured with an
  injectable clock), the screen returns ``LOCK``; ``Terminal.run`` then calls
  ``on_lock`` (which clears the screen, drops the key and asks the passphrase)
  and runs the *same* application again, so a half-written entry survives;
- one alternate screen for the whole session (no flicker between screens),
  always left again, whatever happens;
- text inputs share one in-memory history. No passphrase is ever typed into a
  prompt_toolkit buffer: it is read by a getpass-like function (menu.py).
"""

import asyncio
import contextlib
import signal
import threading
import time

from prompt_toolkit.application import Application
from prompt_toolkit.application.current import get_app
from prompt_toolkit.completion import Completer, Completion
from prompt_toolkit.filters import Condition
from prompt_toolkit.formatted_text import ANSI, to_formatted_text
from prompt_toolkit.formatted_text.utils import split_lines
from prompt_toolkit.history import InMemoryHistory
from prompt_toolkit.key_binding import KeyBindings, merge_key_bindings
from prompt_toolkit.keys import Keys
from prompt_toolkit.layout import (ConditionalContainer, Float, FloatContainer,
                                   FormattedTextControl, HSplit, Layout, ScrollOffsets,
                                   VSplit, Window)
from prompt_toolkit.layout.dimension import D
from prompt_toolkit.layout.menus import CompletionsMenu
from prompt_toolkit.output import ColorDepth
from prompt_toolkit.styles import Style
from prompt_toolkit.widgets import TextArea


class _Result:
    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return self.name


BACK = _Result("BACK")  # Ctrl-C, Esc, q: one level up
LOCK = _Result("LOCK")  # idle too long
QUIT = _Result("QUIT")  # Ctrl-D


class Quit(Exception):
    """The person asked to leave (Ctrl-D, or the terminal went away)."""


STYLE = Style.from_dict({
    "header": "bold",
    "status": "#8a8a8a",
    "badge": "bold #ffaf00",
    "rule": "#585858",
    "selected": "reverse",
    "key": "bold #5fafff",
    "dim": "#8a8a8a",
    "date": "#5fafaf",
    "star": "#ffd700",
    "title": "bold",
    "tags": "#af87ff",
    "match": "bold underline #ffaf00",
    "message": "bold #87d787",
    "error": "bold #ff5f5f",
    "footer": "#8a8a8a",
    "label": "bold #5fafff",
    "field": "",
    "placeholder": "#6c6c6c italic",
})


class Terminal:
    """The input, output, clock and idle lock shared by every screen."""

    def __init__(self, *, input=None, output=None, clock=time.monotonic, lock_after=600.0,
                 tick=1.0, color=True):
        if output is None:
            from prompt_toolkit.output.defaults import create_output

            output = create_output()
        if input is None:
            from prompt_toolkit.input.defaults import create_input

            input = create_input()
        self.input = input
        self.output = output
        self.clock = clock
        self.lock_after = lock_after  # seconds; 0 or None: never
        self.tick = tick
        self.color = color
        self.on_lock = None   # called when a screen locked itself; may raise
        self.watch = None     # tests: called with each application after it renders
        self.history = InMemoryHistory()  # for text inputs; never holds a passphrase
        self.message = None   # (style, text) shown once by the next screen
        self._last_key = clock()

    # --- the session ---------------------------------------------------------------

    @contextlib.contextmanager
    def session(self):
        """One alternate screen for the whole menu; the terminal is restored on exit."""
        out = self.output
        out.enter_alternate_screen()
        # Screens share that alternate screen: entering it again only homes the
        # cursor, leaving it is for us alone.
        out.enter_alternate_screen = lambda: out.cursor_goto(0, 0)
        out.quit_alternate_screen = lambda: None
        out.flush()
        try:
            yield self
        finally:
            del out.enter_alternate_screen, out.quit_alternate_screen
            out.reset_attributes()
            out.erase_screen()
            out.show_cursor()
            out.quit_alternate_screen()
            out.flush()

    def clear(self, *lines):
        """A blank screen with a few lines of program text (before a passphrase prompt)."""
        out = self.output
        out.reset_attributes()
        out.erase_screen()
        out.cursor_goto(0, 0)
        for line in lines:
            out.write(line + "\r\n")
        out.show_cursor()
        out.flush()

    def say(self, text, style="class:message"):
        """A message for the next screen (one line)."""
        self.message = (style, text)

    def error(self, text):
        self.say(text, "class:error")

    def take_message(self):
        message, self.message = self.message, None
        return message

    # --- idle lock -------------------------------------------------------------------

    def touch(self, *_):
        self._last_key = self.clock()

    def idle(self):
        return bool(self.lock_after) and self.clock() - self._last_key >= self.lock_after

    async def _watch_idle(self, app):
        while not app.is_done:
            await asyncio.sleep(self.tick)
            if self.idle() and not app.is_done:
                app.exit(result=LOCK)

    # --- running screens -------------------------------------------------------------

    def application(self, container, *, focus=None, keys=None):
        """A full-screen application over ``container`` with the shared keys."""
        shared = KeyBindings()

        # An idle session locks on the first key, and that key is swallowed:
        # whoever wakes the screen must not type into the hidden entry.
        @shared.add(Keys.Any, filter=Condition(self.idle), eager=True)
        def _(event):
            event.app.exit(result=LOCK)

        @shared.add("c-c")
        @shared.add(Keys.SIGINT)
        def _(event):
            event.app.exit(result=BACK)

        @shared.add("c-d")
        def _(event):
            event.app.exit(result=QUIT)

        bindings = merge_key_bindings([shared, keys]) if keys else shared
        app = Application(layout=Layout(container, focused_element=focus),
                          key_bindings=bindings, style=STYLE, full_screen=True,
                          input=self.input, output=self.output, mouse_support=False,
                          color_depth=None if self.color else ColorDepth.MONOCHROME)
        app.ttimeoutlen = 0.05  # a lone Esc acts at once
        # Leave the last frame standing when a screen ends: the next screen
        # paints over it in one write, so nothing flickers in between.
        app.erase_when_done = True
        app.renderer.erase = lambda leave_alternate_screen=True: app.renderer.reset(
            leave_alternate_screen=leave_alternate_screen)
        app.key_processor.after_key_press += self.touch
        if self.watch:
            app.after_render += self.watch
        return app

    def run(self, app):
        """Run ``app`` until it returns something other than LOCK; Ctrl-D raises Quit."""
        while True:
            self.touch()
            try:
                result = app.run(pre_run=lambda: self._started(app),
                                 set_exception_handler=False)
            except EOFError:  # the input is gone (terminal closed, pipe ended)
                raise Quit() from None
            if result is LOCK:
                self.on_lock()
                continue
            if result is QUIT:
                raise Quit()
            return result

    def _started(self, app):
        def crashed(loop, context):
            # A bug in a key handler ends the screen with that exception, to
            # be reported by cli.main in one line; prompt_toolkit's own handler
            # would print a traceback and wait for Enter.
            exc = context.get("exception") or RuntimeError(context.get("message"))
            if not app.is_done:
                app.exit(exception=exc)

        asyncio.get_running_loop().set_exception_handler(crashed)
        if self.lock_after:
            app.create_background_task(self._watch_idle(app))
        if threading.current_thread() is threading.main_thread():
            # A polite kill still restores the terminal (via app.run's cleanup).
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGHUP):
                with contextlib.suppress(NotImplementedError, AttributeError, ValueError):
                    loop.add_signal_handler(
                        sig, lambda: app.is_done or app.exit(exception=KeyboardInterrupt()))


# --- layout helpers ----------------------------------------------------------------------

def text_window(get_fragments, height=1, **kw):
    return Window(FormattedTextControl(get_fragments), height=height, **kw)


def frame(term, header, body, footer, status=None):
    """Header, status, a rule, the body, the message line and the key hints."""
    message = term.take_message()
    rows = [text_window(lambda: [("class:header", " " + header)])]
    if status:
        rows.append(text_window(lambda: status))
    rows.append(Window(height=1, char="─", style="class:rule"))
    rows.append(body)
    rows.append(ConditionalContainer(
        Window(FormattedTextControl(lambda: [(message[0], " " + message[1])] if message else []),
               wrap_lines=True, dont_extend_height=True),
        filter=Condition(lambda: bool(message))))
    rows.append(Window(FormattedTextControl(lambda: [("class:footer", " " + footer)]),
                       wrap_lines=True, dont_extend_height=True))
    return HSplit(rows)


def key_names(key):
    """'left' -> ('left',), 'n|right' -> ('n', 'right')."""
    return tuple(key.split("|"))


class Picker:
    """A list with one selected item. ``run()`` returns ``(action, index)``:
    ``("open", i)`` for Enter, ``(keys[k], i)`` for a key of ``keys``, or
    ``(BACK, i)`` for Esc, q, Left or Ctrl-C."""

    def __init__(self, term, *, header, items, keys=None, footer="", status=None,
                 selected=0, empty="Nothing here yet.", back_keys=("escape", "q")):
        self.term = term
        self.items = items
        self.selected = max(0, min(selected, len(items) - 1))
        self.empty = empty
        taken = {name for key in (keys or ()) for name in key_names(key)}
        kb = KeyBindings()

        def move(delta):
            def handler(event):
                if self.items:
                    self.selected = max(0, min(len(self.items) - 1, self.selected + delta))
            return handler

        for key, delta in (("up", -1), ("k", -1), ("down", 1), ("j", 1), ("pageup", -10),
                           ("pagedown", 10), ("home", -10 ** 9), ("end", 10 ** 9)):
            if key not in taken:
                kb.add(key)(move(delta))

        @kb.add("enter")
        def _(event):
            if self.items:
                event.app.exit(result=("open", self.selected))

        for key in set(back_keys) - taken:
            kb.add(key)(lambda event: event.app.exit(result=(BACK, self.selected)))
        for key, action in (keys or {}).items():
            for name in key_names(key):
                kb.add(name)(lambda event, action=action:
                             event.app.exit(result=(action, self.selected)))
        self.control = FormattedTextControl(self._fragments, focusable=True, show_cursor=False)
        self.window = Window(self.control, scroll_offsets=ScrollOffsets(top=1, bottom=2),
                             wrap_lines=False)
        self.app = term.application(frame(term, header, self.window, footer, status),
                                    focus=self.window, keys=kb)

    def _fragments(self):
        if not self.items:
            return [("class:dim", "  " + self.empty)]
        out = []
        for i, item in enumerate(self.items):
            if i:
                out.append(("", "\n"))
            if i == self.selected:
                out.append(("[SetCursorPosition]", ""))
                out.append(("class:selected", "›"))
                lines = split_lines(to_formatted_text(item))
                for n, line in enumerate(lines):
                    if n:
                        out.append(("", "\n "))
                    out.extend((style + " class:selected", text) for style, text, *_ in line)
            else:
                out.append(("", " "))
                for style, text, *_ in to_formatted_text(item):
                    out.append((style, text.replace("\n", "\n ")))
        return out

    def run(self):
        result = self.term.run(self.app)
        return result if isinstance(result, tuple) else (result, self.selected)


class Pager:
    """A scrollable page of rich output (``render(width) -> ANSI text``).
    ``run()`` returns the action of a key of ``keys``, or BACK."""

    def __init__(self, term, *, header, render, keys=None, footer="", status=None):
        self.term = term
        self.render = render
        self.top = 0
        self._cache = (None, [])
        taken = {name for key in (keys or ()) for name in key_names(key)}
        kb = KeyBindings()

        def scroll(amount):
            def handler(event):
                height = self._height()
                step = {"page": height - 1, "-page": -(height - 1)}.get(amount, amount)
                self.top = max(0, min(self.top + step, len(self._lines()) - height))
            return handler

        for key, amount in (("up", -1), ("k", -1), ("down", 1), ("j", 1), ("pageup", "-page"),
                            ("b", "-page"), ("pagedown", "page"), ("space", "page"),
                            ("home", -10 ** 9), ("g", -10 ** 9), ("end", 10 ** 9),
                            ("G", 10 ** 9)):
            if key not in taken:
                kb.add(key)(scroll(amount))
        for key in ("escape", "q"):
            kb.add(key)(lambda event: event.app.exit(result=BACK))
        for key, action in (keys or {}).items():
            for name in key_names(key):
                kb.add(name)(lambda event, action=action: event.app.exit(result=action))
        self.window = Window(FormattedTextControl(self._fragments, focusable=True,
                                                  show_cursor=False),
                             wrap_lines=False)
        self.app = term.application(frame(term, header, self.window, footer, status),
                                    focus=self.window, keys=kb)

    def _height(self):
        info = self.window.render_info
        return max(1, info.window_height if info else get_app().output.get_size().rows)

    def _lines(self):
        """The page as a list of lines at the terminal's width, rendered once per width
        (a list: prompt_toolkit's ``split_lines`` is a generator, read only once)."""
        width = max(1, get_app().output.get_size().columns - 1)
        if self._cache[0] != width:
            text = self.render(width)
            self._cache = (width, list(split_lines(to_formatted_text(ANSI(text)))))
        return self._cache[1]

    def _fragments(self):
        # Only the lines on screen: a key answers as fast in a long entry as in a short one.
        lines = self._lines()
        height = self._height()
        self.top = max(0, min(self.top, len(lines) - height))
        out = []
        for n, line in enumerate(lines[self.top:self.top + height]):
            if n:
                out.append(("", "\n"))
            out.extend(line)
        return out

    def run(self):
        return self.term.run(self.app)

    def text(self):
        """The page as plain text (for tests and the screen reader in us all)."""
        return "\n".join("".join(t for _, t, *_ in line) for line in self._lines())


class LineInput:
    """One line of text with the shared in-memory history (Up/Down) and an
    optional completer. ``run()`` returns the text, or BACK."""

    def __init__(self, term, *, header, prompt, default="", completer=None, footer="",
                 status=None, help=None, history=None):
        self.term = term

        def accept(buffer):
            get_app().exit(result=buffer.text)
            return True  # keep the text: the app is done anyway

        self.area = TextArea(text=default, multiline=False, history=history or term.history,
                             completer=completer, complete_while_typing=completer is not None,
                             accept_handler=accept, style="class:field")
        self.area.buffer.cursor_position = len(default)
        row = VSplit([text_window(lambda: [("class:label", " " + prompt + " ")],
                                  dont_extend_width=True), self.area], height=1)
        rows = [row]
        if help:
            rows.append(Window(height=1))
            rows.append(text_window(lambda: [("class:dim", help)], height=D(min=1),
                                    wrap_lines=True))
        body = FloatContainer(HSplit(rows + [Window()]), floats=[
            Float(xcursor=True, ycursor=True, content=CompletionsMenu(max_height=8))])
        kb = KeyBindings()
        kb.add("escape")(lambda event: event.app.exit(result=BACK))
        self.app = term.application(frame(term, header, body, footer or
                                          "Enter accept · ↑↓ history · Esc/Ctrl-C back",
                                          status),
                                    focus=self.area, keys=kb)

    def run(self):
        return self.term.run(self.app)


def confirm(term, question, *, header="diary", status=None):
    """y: True; n, Enter, Esc or Ctrl-C: False."""
    kb = KeyBindings()
    kb.add("y")(lambda event: event.app.exit(result=True))
    kb.add("Y")(lambda event: event.app.exit(result=True))
    for key in ("n", "N", "enter", "escape", "q"):
        kb.add(key)(lambda event: event.app.exit(result=False))
    question_window = Window(FormattedTextControl(
        [("class:title", " " + question + " "), ("class:key", "[y/N]")], focusable=True,
        show_cursor=False), wrap_lines=True, height=D(min=1))
    body = HSplit([Window(height=1), question_window, Window()])
    app = term.application(frame(term, header, body, "y yes · n no", status),
                           focus=question_window, keys=kb)
    return term.run(app) is True


class WordCompleter(Completer):
    """Completes the item being typed in a comma-separated list from ``words()``."""

    def __init__(self, words):
        self.words = words

    def get_completions(self, document, complete_event):
        before = document.text_before_cursor
        current = before.rsplit(",", 1)[-1].lstrip()
        if not current and not complete_event.completion_requested:
            return
        key = current.casefold().lstrip("#")
        for word in self.words():
            if word.casefold().startswith(key) and word.casefold() != key:
                yield Completion(word, start_position=-len(current))
