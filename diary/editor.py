"""The entry editor: title, date, tags and text in one full-screen form.

Nothing is written to a temporary file: the text lives in prompt_toolkit
buffers until it is saved into the diary, and a draft of it is kept inside the
encrypted diary meanwhile (drafts.py, driven by ``on_change``). Keys (also in the footer and the
README): Ctrl-S saves, Tab / Shift-Tab move between fields (in Tags, Tab first
completes a tag path), Enter in a one-line field jumps to the text, Esc or
Ctrl-C cancels (the menu asks before discarding text).
"""

import dataclasses

from prompt_toolkit.application.current import get_app
from prompt_toolkit.filters import Condition
from prompt_toolkit.key_binding import KeyBindings
from prompt_toolkit.layout import (ConditionalContainer, Float, FloatContainer, HSplit, VSplit,
                                   Window)
from prompt_toolkit.layout.dimension import D
from prompt_toolkit.layout.menus import CompletionsMenu
from prompt_toolkit.widgets import TextArea

from . import tui
from .safe_input import ShowUnsafe
from .safe_text import safe_fragments

MIN_FIELD = 24  # columns a one-line field keeps before its hint is dropped
FOOTER = "Ctrl-S save · Tab next field (completes tags) · Shift-Tab back · Esc/Ctrl-C cancel"


@dataclasses.dataclass
class Draft:
    """What the editor holds: everything as typed."""

    title: str = ""
    body: str = ""
    tags: str = ""  # comma-separated tag paths
    date: str = ""  # empty: now

    def has_text(self):
        return bool(self.title.strip() or self.body.strip())

    def tag_paths(self):
        return [t.strip() for t in self.tags.split(",") if t.strip()]


class Editor:
    """``await run()`` returns the Draft when Ctrl-S passed ``check`` (a function
    Draft -> error message or None), or BACK; Ctrl-D raises tui.Quit. The
    buffers keep their text between runs, so a cancelled cancel, a failed save
    or a lock in between never loses a word."""

    def __init__(self, term, *, heading, draft, tag_words=lambda: [], check=None,
                 status=None, original=None, on_change=None):
        self.term = term
        self.check = check or (lambda draft: None)
        self.message = None
        self.original = draft if original is None else original  # what "changed" compares to

        def to_body(buffer):
            get_app().layout.focus(self.body)
            return True  # keep the text

        shown = [ShowUnsafe()]  # bidi controls, line separators: as escapes
        self.title = TextArea(text=draft.title, multiline=False, accept_handler=to_body,
                              input_processors=shown)
        self.date = TextArea(text=draft.date, multiline=False, accept_handler=to_body,
                             input_processors=shown)
        self.tags = TextArea(text=draft.tags, multiline=False, accept_handler=to_body,
                             completer=tui.WordCompleter(tag_words),
                             complete_while_typing=False, input_processors=shown)
        self.body = TextArea(text=draft.body, multiline=True, wrap_lines=True, scrollbar=True,
                             input_processors=shown)
        self.fields = [self.title, self.date, self.tags, self.body]
        for area in self.fields:
            area.buffer.cursor_position = len(area.text)
            if on_change is not None:  # drafts.Keeper.changed: moves a timer, nothing more
                area.buffer.on_text_changed += on_change

        def label(text):
            return tui.text_window(lambda: [("class:label", " %-6s" % text)], width=8)

        def hint(text):
            # Shown only while the field beside it keeps room for a date or a few tags.
            roomy = Condition(lambda: tui.columns() - 8 - len(text) - 1 >= MIN_FIELD)
            return ConditionalContainer(tui.text_window(lambda: [("class:dim", " " + text)],
                                                        dont_extend_width=True), filter=roomy)

        form = HSplit([
            VSplit([label("Title"), self.title], height=1),
            VSplit([label("Date"), self.date, hint("empty = now · 2024-03-02 21:30 · "
                                                   "yesterday 9pm")], height=1),
            VSplit([label("Tags"), self.tags, hint("comma-separated · work/acme")], height=1),
            Window(height=1, char="─", style="class:rule"),
            self.body,
            tui.text_window(self._message, height=D(min=0, max=1)),
        ])
        body = FloatContainer(form, floats=[
            Float(xcursor=True, ycursor=True, content=CompletionsMenu(max_height=8))])

        kb = KeyBindings()

        @kb.add("c-s")
        def _(event):
            draft = self.draft()
            error = self.check(draft)
            if error:
                self.message = error
            else:
                term.finish(draft)

        in_tags = Condition(lambda: get_app().layout.has_focus(self.tags))

        @kb.add("tab", filter=in_tags)
        def _(event):
            if not tui.complete(self.tags.buffer, self.tags.completer):
                self._focus(+1)

        @kb.add("tab", filter=~in_tags)
        def _(event):
            self._focus(+1)

        @kb.add("s-tab")
        def _(event):
            self._focus(-1)

        @kb.add("escape")
        def _(event):  # closes a completion menu, else does what Ctrl-C does
            buffer = event.app.current_buffer
            if buffer is not None and buffer.complete_state:
                buffer.cancel_completion()
            else:
                term.finish(tui.BACK)

        self.screen = tui.Screen(tui.frame(term, heading, body, FOOTER, status), title=heading,
                                 focus=self.title if not draft.has_text() else self.body,
                                 keys=kb)

    def _message(self):
        return safe_fragments([("class:error", " " + self.message)]) if self.message else []

    def _focus(self, step):
        layout = get_app().layout
        now = next((i for i, f in enumerate(self.fields) if layout.has_focus(f)), 0)
        layout.focus(self.fields[(now + step) % len(self.fields)])

    def draft(self):
        return Draft(title=self.title.text, body=self.body.text, tags=self.tags.text,
                     date=self.date.text)

    def changed(self):
        """Whether the text differs from what the editor was opened with."""
        return self.draft() != self.original

    async def run(self):
        return await self.term.run(self.screen)
