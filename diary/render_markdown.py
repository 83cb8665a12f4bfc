"""An entry's text as rich Markdown for the reader, made safe after parsing.

Usage (render.entry_ansi does this)::

    render.ansi([render_markdown.markdown(entry.body)], width)

User text is cleaned before parsing and every token rich reads is cleaned
again after: markdown-it turns character references (``&#x202e;``) back
into the characters.
"""

from .safe_text import clean

# How deep markdown-it nests blocks (quotes, lists) before it stops reading
# (rich's parser: 20, and the text deeper down vanished). Text that reaches
# this depth is shown plain, as written: nothing a person wrote is dropped.
MAX_NESTING = 100


def markdown(text):
    """The cleaned ``text`` as rich Markdown, without hyperlinks and without
    dropping anything written: raw HTML (which rich would silently omit) is
    shown as text. What the parser makes of the text is cleaned again: it
    turns character references (``&#x202e;``) back into characters.

    In a diary the line breaks a person typed are meant: each is kept (a
    hard break), as ``diary show`` keeps them. Block quotes nest only as deep
    as leaves 20 columns of text at the width rendered to (deeper levels are
    flattened into the deepest shown): rich takes 4 columns a level, and
    text 20 levels deep would vanish at 80 columns. Text nested MAX_NESTING
    blocks deep is shown plain."""
    from markdown_it import MarkdownIt
    from rich.markdown import Markdown
    from rich.text import Text

    text = clean(text)
    # rich's own parser, but nesting deeper before it stops reading
    parser = MarkdownIt("commonmark", {"maxNesting": MAX_NESTING})
    tokens = parser.enable("strikethrough").enable("table").parse(text)
    if any(token.level >= MAX_NESTING - 1 for token in tokens):
        return Text(text)
    md = Markdown("", hyperlinks=False)
    md.markup, md.parsed = text, tokens
    _made_safe(md.parsed)
    return _NestingCapped(md)


class _NestingCapped:
    """A rich Markdown rendered with its quotes and list items nested at most
    as deep as leaves about TEXT_ROOM columns for the text at the width
    rendered to (rich takes 3 or 4 columns a level)."""

    TEXT_ROOM = 20
    DEEPEST = 30  # however wide: rich renders each level in a few nested calls

    def __init__(self, md):
        self.md, self.tokens = md, md.parsed

    def __rich_console__(self, console, options):
        cap = min(self.DEEPEST, (options.max_width - self.TEXT_ROOM) // 4)
        self.md.parsed = _flattened(self.tokens, max(1, cap))
        yield self.md


_LISTS = ("bullet_list", "ordered_list")


def _flattened(tokens, cap):
    """``tokens`` with quotes and list items nested at most ``cap`` deep: a
    deeper quote, or a deeper list with its items, is left out, and what it
    held goes on inside the deepest one kept."""
    out, kept, depth = [], [], 0
    for token in tokens:
        kind = token.type.rsplit("_", 1)[0]
        if kind not in ("blockquote", "list_item") + _LISTS:
            out.append(token)
        elif token.nesting == 1:
            # an item goes as its list goes; a quote or an item is a level
            keep = kept[-1] if kind == "list_item" else depth < cap
            kept.append(keep)
            if keep:
                depth += kind not in _LISTS
                out.append(token)
        elif kept.pop():
            depth -= kind not in _LISTS
            out.append(token)
    return out


def _made_safe(tokens):
    """markdown-it ``tokens`` as rich reads them, with every text rich shows
    (content, a fence's info, link and image attributes) cleaned; raw HTML
    turned into text."""
    for token in tokens:
        if token.type == "softbreak":
            token.type = "hardbreak"
        elif token.type == "html_inline":
            token.type = "text"
        elif token.type == "html_block":
            token.type = "code_block"
        token.content = clean(token.content)
        token.info = clean(token.info)
        if token.attrs:
            token.attrs = {k: clean(v) if isinstance(v, str) else v
                           for k, v in token.attrs.items()}
        if token.children:
            _made_safe(token.children)
