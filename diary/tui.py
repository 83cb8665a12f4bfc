"""prompt_toolkit building blocks of the interactive diary: ONE full-screen
application for the whole session, whose layout changes with each screen.

The menu is a coroutine that awaits each screen in turn (``await
Picker(...).run()`` returns what was chosen), so it reads as a plain loop.
``Terminal.start(main)`` runs the application with ``main`` as a background
task; a screen's key handlers resolve the future that ``Terminal.run`` awaits.
What every screen shares lives in ``Terminal``:

- Ctrl-C returns ``BACK`` (one level up), Ctrl-D raises ``Quit``;
- one idle timer for every wait: after ``lock_after`` seconds without a key
  (measured with an injectable clock) the screen returns ``LOCK``;
  ``Terminal.run`` then awaits ``on_lock(screen)`` (the unlock prompt, itself a
  screen) and shows the *same* screen again, so a half-written entry survives;
- keys typed ahead go to the screen that comes next, in order;
- below MIN_COLUMNS x MIN_ROWS a screen says it needs a bigger window;
- text inputs share one in-memory history; a passphrase is typed into a
  ``Secret`` screen, which has no history and clears its text once read.
"""

import asyncio
import contextlib
import signal
import threading

from prompt_toolkit.application import Application
from prompt_toolkit.application.current import get_app
from prompt_toolkit.buffer import CompletionState
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.filters import Condition
from prompt_toolkit.formatted_text import to_formatted_text
from prompt_toolkit.formatted_text.utils import split_lines
from prompt_toolkit.history import DummyHistory, InMemoryHistory
from prompt_toolkit.key_binding import (DynamicKeyBindings, KeyBindings,
                                        merge_key_bindings)
from prompt_toolkit.keys import Keys
from prompt_toolkit.layout import (ConditionalContainer, Float, FloatContainer,
                                   FormattedTextControl, HSplit, Layout, ScrollOffsets,
                                   VSplit, Window)
from prompt_toolkit.layout.dimension import D
from prompt_toolkit.layout.menus import CompletionsMenu
from prompt_toolkit.layout.processors import Processor, Transformation
from prompt_toolkit.output import ColorDepth
from prompt_toolkit.styles import Style
from prompt_toolkit.widgets import TextArea

from .process import idle_clock
from .safe_input import ShowUnsafe
from .safe_text import safe_fragments

MIN_COLUMNS, MIN_ROWS = 40, 12


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
    "small": "bold",
    "escape": "reverse",  # a character of user text shown as its escape (\u202e)
})


def columns():
    return get_app().output.get_size().columns


def too_small():
    size = get_app().output.get_size()
    return size.columns < MIN_COLUMNS or size.rows < MIN_ROWS


class Screen:
    """A screen's layout and keys. ``lockable`` False: the idle lock leaves it
    alone (the unlock prompt)."""

    def __init__(self, container, *, title="", focus=None, keys=None, lockable=True):
        self.title = title  # its header
        small = Condition(too_small)
        self.layout = Layout(HSplit([
            ConditionalContainer(container, filter=~small),
            ConditionalContainer(Window(FormattedTextControl(lambda: [(
                "class:small", "diary needs at least %dx%d" % (MIN_COLUMNS, MIN_ROWS))]),
                wrap_lines=True), filter=small),
        ]), focused_element=focus)
        self.keys = keys or KeyBindings()
        self.secret = None  # a passphrase prompt: its prompt text
        self.lockable = lockable


class Terminal:
    """The input, output, clock, idle lock and the one application of a session."""

    def __init__(self, *, input=None, output=None, clock=None, lock_after=600.0,
                 tick=1.0, color=True):
        self.input = input
        self.output = output
        self.clock = clock = clock or idle_clock  # time asleep counts
        self.lock_after = lock_after  # seconds; 0 or None: never
        self.tick = tick
        self.color = color
        self.on_lock = None   # awaited with the screen that locked; may raise
        self.watch = None     # tests: called with the application after each render
        self.history = InMemoryHistory()  # for text inputs; never holds a passphrase
        self.message = None   # (style, text) shown once by the next screen
        self.app = None
        self.screen = None
        self._future = None
        self._typed_ahead = []
        self.shows = 0  # screens shown so far
        self._last_key = clock()

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

    def _between_screens(self):
        return self._future is not None and self._future.done()

    def _lockable_and_idle(self):
        return bool(self.screen and self.screen.lockable) and self.idle()

    async def _watch_idle(self):
        while True:
            await asyncio.sleep(self.tick)
            if self._lockable_and_idle():
                self.finish(LOCK)

    # --- the session -----------------------------------------------------------------

    def start(self, main):
        """Run the coroutine function ``main`` in the session's application; returns
        what it returns, or None when the person left (Ctrl-D, terminal gone)."""
        shared = KeyBindings()

        # An idle session locks on the first key, and that key is swallowed:
        # whoever wakes the screen must not type into the hidden entry.
        @shared.add(Keys.Any, filter=Condition(self._lockable_and_idle), eager=True)
        def _(event):
            self.finish(LOCK)

        # Keys that reach a screen after it answered (typed ahead, or the rest of a
        # sequence being matched when it did) are the next screen's; after a lock,
        # nobody's.
        @shared.add(Keys.Any, filter=Condition(self._between_screens), eager=True)
        def _(event):
            if self._future.result() is not LOCK:
                self._typed_ahead.extend(event.key_sequence)

        @shared.add("c-c")
        @shared.add(Keys.SIGINT)
        def _(event):
            self.finish(BACK)

        @shared.add("c-d")
        def _(event):
            self.finish(QUIT)

        # A screen too small to be drawn takes no keys but Ctrl-C and Ctrl-D: not
        # its own, and not the focused field's either (typing into a field that
        # cannot be seen). Eager, so they win over the field's; the two that
        # act are eager too (the more specific binding wins among eager ones).
        small = Condition(too_small) & ~Condition(self._between_screens)

        @shared.add(Keys.Any, filter=small, eager=True)
        def _(event):
            pass

        @shared.add("c-c", filter=small, eager=True)
        @shared.add(Keys.SIGINT, filter=small, eager=True)
        def _(event):
            self.finish(BACK)

        @shared.add("c-d", filter=small, eager=True)
        def _(event):
            self.finish(QUIT)

        screen_keys = DynamicKeyBindings(
            lambda: self.screen.keys if self.screen and not too_small() else None)
        kw = {} if self.input is None else {"input": self.input}
        if self.output is not None:
            kw["output"] = self.output
        app = self.app = Application(
            layout=Layout(Window()), key_bindings=merge_key_bindings([shared, screen_keys]),
            style=STYLE, full_screen=True, mouse_support=False,
            color_depth=None if self.color else ColorDepth.MONOCHROME, **kw)
        # A lone Esc acts at once: no waiting for an escape sequence (ttimeoutlen)
        # or for a key binding that starts with Esc (timeoutlen; Alt-keys arrive whole).
        app.ttimeoutlen = 0.05
        app.timeoutlen = 0.05
        app.key_processor.after_key_press += self.touch
        if self.watch:
            app.after_render += self.watch
        self.touch()
        try:
            return app.run(pre_run=lambda: self._started(main), set_exception_handler=False)
        except EOFError:  # the input is gone (terminal closed, pipe ended)
            return None

    def _started(self, main):
        app = self.app

        def crashed(loop, context):
            # A bug in a key handler ends the session with that exception, to be
            # reported by cli.main in one line; prompt_toolkit's own handler
            # would print a traceback and wait for Enter.
            exc = context.get("exception") or RuntimeError(context.get("message"))
            if not app.is_done:
                app.exit(exception=exc)

        loop = asyncio.get_running_loop()
        loop.set_exception_handler(crashed)
        if self.lock_after:
            app.create_background_task(self._watch_idle())
        app.create_background_task(self._main(main))
        if threading.current_thread() is threading.main_thread():
            # A polite kill still restores the terminal (via app.run's cleanup).
            for sig in (signal.SIGTERM, signal.SIGHUP):
                with contextlib.suppress(NotImplementedError, AttributeError, ValueError):
                    loop.add_signal_handler(
                        sig, lambda: app.is_done or app.exit(exception=KeyboardInterrupt()))

    async def _main(self, main):
        try:
            result = await main()
        except Quit:
            result = None
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            if not self.app.is_done:
                self.app.exit(exception=exc)
            return
        if not self.app.is_done:
            self.app.exit(result=result)

    # --- screens ---------------------------------------------------------------------

    def finish(self, result):
        """The current screen's answer (from its key handlers or the idle lock)."""
        if self._future is None or self._future.done():
            return
        self._future.set_result(result)

    async def show(self, screen):
        """Show ``screen`` until one of its keys (or the idle lock) answers."""
        self.screen = screen
        self.shows += 1
        self.app.layout = screen.layout
        self._future = future = asyncio.get_running_loop().create_future()
        self.app.invalidate()
        if self._typed_ahead:
            keys, self._typed_ahead = self._typed_ahead, []
            self.app.key_processor.feed_multiple(keys)
            asyncio.get_running_loop().call_soon(self.app.key_processor.process_keys)
        return await future

    async def run(self, screen):
        """Show ``screen`` until it answers something other than LOCK; QUIT raises Quit."""
        while True:
            result = await self.show(screen)
            if result is LOCK:
                await self.on_lock(screen)
                self.touch()
                continue
            if result is QUIT:
                raise Quit()
            return result


# --- layout helpers ----------------------------------------------------------------------

def text_window(get_fragments, height=1, **kw):
    return Window(FormattedTextControl(get_fragments), height=height, **kw)


def wrap_hints(text, width):
    """Key hints ("a · b · c") in lines of at most ``width``, broken only between hints."""
    lines = []
    for hint in text.split(" · "):
        if lines and len(lines[-1]) + 3 + len(hint) <= width:
            lines[-1] += " · " + hint
        else:
            lines.append(hint)
    return "\n".join(lines)


def frame(term, header, body, footer, status=None, note=None, standing=None):
    """Header, status, a rule, the body, the message line and the key hints.
    The message is the terminal's (Terminal.say) when the screen is built,
    then whatever ``note()`` says while it shows (a screen's own news);
    ``standing``, a line about what the screen shows (a search's coverage),
    fills the message line when there is no news, which it never hides."""
    first = term.take_message() or (("class:dim", standing) if standing else None)

    def message():
        said = note() if note else None
        return ("class:message", said) if said else first
    rows = [text_window(lambda: safe_fragments([("class:header", " " + header)]))]
    if status:
        rows.append(text_window(lambda: safe_fragments(status)))
    rows.append(Window(height=1, char="─", style="class:rule"))
    rows.append(body)
    rows.append(ConditionalContainer(
        Window(FormattedTextControl(lambda: safe_fragments([(message()[0],
                                                             " " + message()[1])])),
               wrap_lines=True, dont_extend_height=True),
        filter=Condition(lambda: bool(message()))))
    rows.append(Window(FormattedTextControl(lambda: [(
        "class:footer", " " + wrap_hints(footer, columns() - 2).replace("\n", "\n "))]),
        wrap_lines=True, dont_extend_height=True))
    return HSplit(rows)


def key_names(key):
    """'left' -> ('left',), 'n|right' -> ('n', 'right')."""
    return tuple(key.split("|"))


class Picker:
    """A list with one selected item. ``await run()`` returns ``(action, index)``:
    ``("open", i)`` for Enter, ``(keys[k], i)`` for a key of ``keys``, or
    ``(BACK, i)`` for Esc, q or Ctrl-C. With ``past_end``/``past_start``, a move
    down from the last item (or up from the first) returns that action instead.
    ``standing``: a line about the list (frame), shown when there is no message."""

    def __init__(self, term, *, header, items, keys=None, footer="", status=None,
                 selected=0, empty="Nothing here yet.", back_keys=("escape", "q"),
                 past_end=None, past_start=None, standing=None):
        self.term = term
        self.items = items
        self.selected = max(0, min(selected, len(items) - 1))
        self.empty = empty
        taken = {name for key in (keys or ()) for name in key_names(key)}
        kb = KeyBindings()

        def move(delta):
            def handler(event):
                if not self.items:
                    return
                last = len(self.items) - 1
                if delta > 0 and self.selected == last and past_end:
                    term.finish((past_end, self.selected))
                elif delta < 0 and self.selected == 0 and past_start:
                    term.finish((past_start, self.selected))
                else:
                    self.selected = max(0, min(last, self.selected + delta))
            return handler

        for key, delta in (("up", -1), ("k", -1), ("down", 1), ("j", 1), ("pageup", -10),
                           ("pagedown", 10)):
            if key not in taken:
                kb.add(key)(move(delta))
        for key, where in (("home", 0), ("end", 10 ** 9)):
            if key not in taken:
                kb.add(key)(lambda event, where=where: setattr(
                    self, "selected", max(0, min(len(self.items) - 1, where))))

        @kb.add("enter")
        def _(event):
            if self.items:
                term.finish(("open", self.selected))

        for key in set(back_keys) - taken:
            kb.add(key)(lambda event: term.finish((BACK, self.selected)))
        for key, action in (keys or {}).items():
            for name in key_names(key):
                kb.add(name)(lambda event, action=action: term.finish((action, self.selected)))
        self.control = FormattedTextControl(self._fragments, focusable=True, show_cursor=False)
        self.window = Window(self.control, scroll_offsets=ScrollOffsets(top=1, bottom=2),
                             wrap_lines=False)
        self.screen = Screen(frame(term, header, self.window, footer, status,
                                   standing=standing), title=header,
                             focus=self.window, keys=kb)

    def _fragments(self):
        # Rows are made of cleaned text (render.py); this is the last line of defence.
        return safe_fragments(self._rows())

    def _rows(self):
        if not self.items:
            return [("class:dim", "  " + self.empty)]
        out = []
        for i, item in enumerate(self.items):
            if i:
                out.append(("", "\n"))
            if i == self.selected:
                out.append(("[SetCursorPosition]", ""))
                out.append(("class:selected", "›"))
                for n, line in enumerate(split_lines(to_formatted_text(item))):
                    if n:
                        out.append(("", "\n "))
                    out.extend((style + " class:selected", text) for style, text, *_ in line)
            else:
                out.append(("", " "))
                for style, text, *_ in to_formatted_text(item):
                    out.append((style, text.replace("\n", "\n ")))
        return out

    async def run(self):
        result = await self.term.run(self.screen)
        return result if isinstance(result, tuple) else (result, self.selected)


class LineInput:
    """One line of text with the shared in-memory history (Up/Down) and an
    optional completer. ``await run()`` returns the text, or BACK."""

    def __init__(self, term, *, header, prompt, default="", completer=None, footer="",
                 status=None, help=None, history=None):
        self.term = term

        def accept(buffer):
            term.finish(buffer.text)
            return True  # keep the text: shown again if this screen comes back

        self.area = TextArea(text=default, multiline=False, history=history or term.history,
                             completer=completer, complete_while_typing=completer is not None,
                             accept_handler=accept, style="class:field",
                             input_processors=[ShowUnsafe()])
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
        kb.add("escape")(lambda event: term.finish(BACK))
        if completer is not None:
            kb.add("tab")(lambda event: complete(self.area.buffer, completer))
        self.screen = Screen(frame(term, header, body, footer or
                                   "Enter accept · ↑↓ history · Esc/Ctrl-C back", status),
                             title=header, focus=self.area, keys=kb)

    async def run(self):
        return await self.term.run(self.screen)


class Secret:
    """A passphrase: typed without echo into a buffer with no history, and cleared
    as soon as it is read. ``await run()`` returns it, or BACK (Esc, Ctrl-C).
    ``lockable`` False for the unlock prompt itself, where Esc only clears."""

    def __init__(self, term, *, header, prompt, lines=(), status=None, lockable=True):
        self.term = term

        def accept(buffer):
            text = buffer.text
            buffer.reset()
            term.finish(text)
            return True  # nothing left to keep

        # Nothing of the passphrase is drawn, not even its length (as getpass).
        self.area = TextArea(multiline=False, history=DummyHistory(), accept_handler=accept,
                             style="class:field", input_processors=[Hidden()])
        rows = [text_window(lambda: [("", " " + line)], wrap_lines=True, height=None,
                            dont_extend_height=True) for line in lines]
        rows.append(VSplit([text_window(lambda: [("class:label", " " + prompt + " ")],
                                        dont_extend_width=True), self.area], height=1))
        kb = KeyBindings()
        if lockable:
            kb.add("escape")(lambda event: term.finish(BACK))
            footer = "Enter accept · Esc/Ctrl-C cancel"
        else:
            # The unlock prompt has nothing to go back to: Esc only clears what
            # was typed (a stray Esc never ends the session); Ctrl-C and Ctrl-D
            # leave, asking first when a draft is open.
            kb.add("escape")(lambda event: self._clear())
            footer = "Enter unlock · Esc clear · Ctrl-C/Ctrl-D quit"
        self.cleared = False  # said until the next key: nothing typed is drawn
        self.area.buffer.on_text_changed += lambda _: setattr(self, "cleared", False)
        self.screen = Screen(frame(term, header, HSplit(rows + [Window()]), footer, status,
                                   note=lambda: "Cleared." if self.cleared else None),
                             title=header, focus=self.area, keys=kb, lockable=lockable)
        self.screen.secret = prompt

    def _clear(self):
        self.area.buffer.reset()
        self.cleared = True

    async def run(self):
        return await self.term.run(self.screen)

    async def run_raw(self):
        """The answer, BACK or QUIT, as typed: for the unlock prompt, which decides."""
        return await self.term.show(self.screen)


async def confirm(term, question, *, header="diary", status=None, lockable=True):
    """y: True; n, Enter, Esc or Ctrl-C: False."""
    kb = KeyBindings()
    kb.add("y")(lambda event: term.finish(True))
    kb.add("Y")(lambda event: term.finish(True))
    for key in ("n", "N", "enter", "escape", "q"):
        kb.add(key)(lambda event: term.finish(False))
    question_window = Window(FormattedTextControl(
        safe_fragments([("class:title", " " + question + " "), ("class:key", "[y/N]")]),
        focusable=True,
        show_cursor=False), wrap_lines=True, height=D(min=1))
    body = HSplit([Window(height=1), question_window, Window()])
    screen = Screen(frame(term, header, body, "y yes · n no", status), title=question,
                    focus=question_window, keys=kb, lockable=lockable)
    return await term.run(screen) is True


def complete(buffer, completer):
    """Tab in a field with tag completion: the one completion, or a menu that Tab
    goes through; False when there is nothing to complete."""
    if buffer.complete_state:
        buffer.complete_next()
        return True
    current = buffer.document.text_before_cursor.rsplit(",", 1)[-1].strip()
    found = list(completer.get_completions(
        buffer.document, CompleteEvent(completion_requested=True))) if current else []
    if len(found) == 1:
        buffer.apply_completion(found[0])
    elif found:
        buffer.complete_state = CompletionState(buffer.document, found)
    return bool(found)


class Hidden(Processor):
    """Draws none of a buffer's text, the cursor staying at its start."""

    def apply_transformation(self, transformation_input):
        return Transformation([], source_to_display=lambda i: 0,
                              display_to_source=lambda i: 0)


class WordCompleter(Completer):
    """Completes the item being typed in a comma-separated list from ``words()``:
    a tag path matches at the start of any of its segments (``run`` offers
    ``health/running``)."""

    def __init__(self, words):
        self.words = words

    def get_completions(self, document, complete_event):
        before = document.text_before_cursor
        current = before.rsplit(",", 1)[-1].lstrip()
        if not current and not complete_event.completion_requested:
            return
        key = current.casefold().lstrip("#")
        for word in self.words():
            folded = word.casefold()
            if folded != key and ("/" + folded).find("/" + key) >= 0:
                yield Completion(word, start_position=-len(current))
