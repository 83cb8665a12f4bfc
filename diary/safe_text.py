"""User text made safe to show on a terminal: the characters that would act
on it (escape sequences, controls, bidi overrides, line separators) shown as
visible escapes instead (``\\x1b``, ``\\u202e``).

render.py is the one place user text meets a terminal, and every way it goes
there passes ``clean`` first; what a renderer makes of cleaned text passes
``sgr_only`` last. (render.py re-exports these names.)
"""

import re

# C0 controls except tab and newline, DEL, C1 controls, and the Unicode
# format characters that reorder or hide text (bidi embeddings, overrides and
# isolates, marks, line and paragraph separators; zero-width joiners are left
# alone: they are harmless). tags.py refuses these (and tab and newline) in
# tag names, so it builds its pattern from this one.
UNSAFE_CHARS = ("\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e"
                "\u2066-\u2069\u2028\u2029")
_UNSAFE = re.compile("[%s]" % UNSAFE_CHARS)


def _escape(match):
    ch = match.group()
    code = ord(ch)
    return "\\x%02x" % code if code < 0x100 else "\\u%04x" % code


def unsafe(text):
    """Whether ``text`` holds a character ``clean`` would escape."""
    return _UNSAFE.search(text) is not None


def clean(text):
    """``text`` with every unsafe character shown as an escape; newlines and tabs kept."""
    return _UNSAFE.sub(_escape, text)


# What a rendering may send to a terminal: rich's SGR (colour and style)
# escapes, and text with every unsafe character shown as an escape. The last
# line of defence behind ``clean``: user text is cleaned before rich sees it,
# and what rich produces from it (Markdown turns ``&#x202e;`` back into the
# character) is cleaned again here.
_SGR_OR_UNSAFE = re.compile(r"(\x1b\[[0-9;]*m)|[%s]" % UNSAFE_CHARS)


def _sgr_or_escape(match):
    return match.group(1) or _escape(match)


def sgr_only(text):
    """``text`` rendered by rich, with nothing but SGR escapes left to act on a
    terminal: any other escape or unsafe character is shown as ``clean`` does."""
    return _SGR_OR_UNSAFE.sub(_sgr_or_escape, text)


class SgrOnlyStream:
    """A terminal stream that lets only SGR escapes through (``sgr_only``);
    everything else is the wrapped stream's (rich asks it for isatty, fileno)."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text):
        return self._stream.write(sgr_only(text))

    def __getattr__(self, name):
        return getattr(self._stream, name)


def safe_fragments(fragments, escape_style="class:escape"):
    """prompt_toolkit ``(style, text)`` fragments with every unsafe character
    (``clean``'s set: controls, bidi controls, line separators) cut out into
    its own fragment showing its escape, styled ``escape_style`` on top of
    the fragment's: for screens that show user text as it is typed."""
    out = []
    for style, text, *rest in fragments:
        at = 0
        for match in _UNSAFE.finditer(text):
            if match.start() > at:
                out.append((style, text[at:match.start()], *rest))
            out.append(((style + " " + escape_style).strip(), _escape(match), *rest))
            at = match.end()
        if at < len(text) or not text:
            out.append((style, text[at:], *rest))
    return out
