"""The reader's screen: a scrollable page of rich output (an entry, the
calendar) in the session's one application (tui.Terminal).

Usage::

    action = await Pager(term, header="Entry", render=lambda width: ansi_text,
                         keys={"e": "edit"}, footer="...").run()

The page is rendered once per width and parsed only as far as it is drawn,
so a key answers at once even in a 10 MB entry (bench/bench_reader.py).
"""

import bisect

from prompt_toolkit.application.current import get_app
from prompt_toolkit.filters import Condition
from prompt_toolkit.formatted_text import ANSI, to_formatted_text
from prompt_toolkit.key_binding import KeyBindings
from prompt_toolkit.keys import Keys
from prompt_toolkit.layout import FormattedTextControl, Window

from .tui import BACK, Screen, columns, frame, key_names


class Pager:
    """A scrollable page of rich output (``render(width) -> ANSI text``).
    ``await run()`` returns the action of a key of ``keys``, or BACK.

    With ``jumps``, the text rendered is a render.Page whose ``matches`` are
    the lines holding a searched word: ``]`` and ``[`` scroll to the next and
    previous of them (shown near the top), saying so when there is none."""

    CONTEXT = 2  # lines shown above a match jumped to

    def __init__(self, term, *, header, render, keys=None, footer="", status=None,
                 jumps=False):
        self.term = term
        self.render = render
        self.top = 0
        self._rows = None  # the terminal's rows when the page was last drawn
        self.note = None  # said on the message line until the next key
        self._match = None  # the index in matches of the match jumped to
        self._cache = (None, [], [])
        self._parsed = {}  # line number -> its fragments, at the width of _cache
        taken = {name for key in (keys or ()) for name in key_names(key)}
        kb = KeyBindings()

        def scroll(amount):
            def handler(event):
                height = self._height()
                step = {"page": height - 1, "-page": -(height - 1)}.get(amount, amount)
                self.top = max(0, min(self.top + step, len(self._lines()) - height))
                self._match = None
            return handler

        for key, amount in (("up", -1), ("k", -1), ("down", 1), ("j", 1), ("pageup", "-page"),
                            ("b", "-page"), ("pagedown", "page"), ("space", "page"),
                            ("home", -10 ** 9), ("g", -10 ** 9), ("end", 10 ** 9),
                            ("G", 10 ** 9)):
            if key not in taken:
                kb.add(key)(scroll(amount))
        if jumps:
            kb.add("]")(lambda event: self.jump(+1))
            kb.add("[")(lambda event: self.jump(-1))
        for key in ("escape", "q"):
            kb.add(key)(lambda event: term.finish(BACK))
        for key, action in (keys or {}).items():
            for name in key_names(key):
                kb.add(name)(lambda event, action=action: term.finish(action))
        kb.add(Keys.Any, eager=True, filter=Condition(lambda: bool(self.note)))(self._unsay)
        self.window = Window(FormattedTextControl(self._fragments, focusable=True,
                                                  show_cursor=False),
                             wrap_lines=False)
        self.screen = Screen(frame(term, header, self.window, footer, status,
                                   note=lambda: self.note),
                             title=header, focus=self.window, keys=kb)

    def _unsay(self, event):
        """The first key after a note clears it, then does what it does."""
        self.note = None
        event.app.key_processor.feed(event.key_sequence[0], first=True)

    def jump(self, step):
        """Scroll to the next (``step`` 1) or previous (-1) match."""
        matches = self._matches()
        if self._match is not None and 0 <= self._match < len(matches):
            at = self._match + step
        elif step > 0:  # from the view: the first match a jump would scroll down to
            at = bisect.bisect_right(matches, self.top + self.CONTEXT)
        else:  # the last match above the view
            at = bisect.bisect_left(matches, self.top) - 1
        if not 0 <= at < len(matches):
            self.note = "no more matches" if matches else "no match shown here"
            return
        self._match = at
        height = self._height()
        self.top = max(0, min(matches[at] - self.CONTEXT, len(self._lines()) - height))

    def _height(self):
        """The window's height: as last drawn, grown or shrunk with the terminal
        since (a resize is drawn before the window learns its new height)."""
        info = self.window.render_info
        rows = get_app().output.get_size().rows
        if info is None:
            return max(1, rows)
        return max(1, info.window_height + rows - (self._rows or rows))

    def _rendered(self):
        """(lines, match lines) at the terminal's width, rendered once per width.
        The lines are ANSI text, parsed only when drawn (``_line``):
        prompt_toolkit's parser costs ~165 ms a megabyte, and a 10 MB entry
        must answer a key at once."""
        width = max(1, columns() - 1)
        if self._cache[0] != width:
            text = self.render(width)
            before = len(self._cache[1])
            self._cache = (width, text.split("\n"), list(getattr(text, "matches", ())))
            self._parsed = {}
            if before:  # resized: keep the place in the text, not the line number
                self.top = round(self.top * len(self._cache[1]) / before)
        return self._cache

    def _lines(self):
        return self._rendered()[1]

    def _matches(self):
        return self._rendered()[2]

    def _line(self, lines, n):
        """Line ``n`` of ``lines`` (the page as this frame took it) as fragments
        (rich closes its styles at each line's end)."""
        line = self._parsed.get(n)
        if line is None:
            if len(self._parsed) > 4096:  # a long read: forget the lines read earlier
                self._parsed.clear()
            line = self._parsed[n] = to_formatted_text(ANSI(lines[n]))
        return line

    def _fragments(self):
        # Only the lines on screen: a key answers as fast in a long entry as in a short one.
        # The page is taken once per frame: the terminal may be resized while the
        # frame is drawn, and every line must come from the same rendering.
        lines = self._lines()
        height = self._height()
        self.top = max(0, min(self.top, len(lines) - height))
        # The window's height is known only from the last render: after a resize
        # this render may be taller, so draw as many lines as the terminal has
        # rows (the window clips what it cannot show).
        self._rows = get_app().output.get_size().rows
        rows = max(height, self._rows)
        out = []
        for n in range(self.top, min(len(lines), self.top + rows)):
            if n > self.top:
                out.append(("", "\n"))
            out.extend(self._line(lines, n))
        return out

    async def run(self):
        return await self.term.run(self.screen)
