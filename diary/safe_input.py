"""User text typed into the menu's fields shown without acting on the terminal.

prompt_toolkit shows C0 and C1 controls in a buffer as ``^[`` and ``<85>``
itself, but writes bidi controls (which reorder what a terminal shows) and
line separators as they are. ``ShowUnsafe`` is a Processor for a buffer's
control (``TextArea(input_processors=[ShowUnsafe()])``): every character
``safe_text.clean`` escapes is shown as that escape (``\\u202e``), styled
``class:escape``, while the buffer keeps the text as typed and the cursor
moves over each escape as over one character.
"""

import bisect

from prompt_toolkit.formatted_text.utils import fragment_list_to_text
from prompt_toolkit.layout.processors import Processor, Transformation

from .safe_text import clean, safe_fragments, unsafe


class ShowUnsafe(Processor):
    def apply_transformation(self, ti):
        fragments = ti.fragments
        text = fragment_list_to_text(fragments)
        if not unsafe(text):
            return Transformation(fragments)
        starts, at = [], 0  # starts[i]: where character i of the line shows
        for ch in text:
            starts.append(at)
            at += len(clean(ch))
        starts.append(at)
        last = len(text)

        def source_to_display(i):
            return starts[i] if i <= last else starts[last] + i - last

        def display_to_source(j):
            if j >= starts[last]:
                return last + j - starts[last]
            return bisect.bisect_right(starts, j) - 1

        return Transformation(safe_fragments(fragments), source_to_display=source_to_display,
                              display_to_source=display_to_source)

