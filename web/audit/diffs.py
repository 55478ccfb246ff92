"""Word-level diffs of two texts, for timelines and narratives compared period on period."""

from __future__ import annotations

import difflib
import re
from functools import lru_cache

from markupsafe import Markup, escape

# Words, each with the whitespace after it (and any whitespace the text starts with).
# Matching on words alone keeps SequenceMatcher linear-ish on prose: with spaces as
# tokens of their own, the space between every pair of words is a candidate match
# everywhere, and (autojunk off) the matching goes quadratic.
_WORDS = re.compile(r"^\s+|\S+\s*")


# Pure, and a timeline page diffs the same neighbouring texts on every view: kept.
@lru_cache(maxsize=1024)
def diff_html(before: str, after: str) -> Markup:
    """A word-level diff of two texts, escaped: deletions in <del>, insertions in <ins>,
    each also announced in words (visually hidden), so colour is never the only signal.

    Words are compared without the whitespace after them, so a change of spacing alone
    is not marked; kept text is shown as the new text has it, so the kept and inserted
    parts rebuild the new text exactly (and the kept and deleted parts the old words)."""
    a, b = _WORDS.findall(before or ""), _WORDS.findall(after or "")
    # Segments: (kept text, None) or (deleted text, inserted text).
    segments: list[tuple[str, str | None]] = []
    matcher = difflib.SequenceMatcher(None, [t.rstrip() for t in a], [t.rstrip() for t in b], autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        old, new = "".join(a[i1:i2]), "".join(b[j1:j2])
        if op == "equal" or not (old.strip() or new.strip()):
            segments.append((new, None))
            continue
        # The space after a change is kept, not changed: it stands for the old text's too.
        inserted = new.rstrip()
        space = new[len(inserted) :]
        if space:
            old = old.rstrip()
        elif j1 == len(b) and i1 and not b[-1][-1:].isspace():
            # Words deleted from the end of a text that now ends without a space: the
            # old text's space before them goes with them, so they don't run on.
            old = a[i1 - 1][len(a[i1 - 1].rstrip()) :] + old
        if (
            len(segments) >= 2
            and segments[-1][1] is None
            and not segments[-1][0].strip()
            and segments[-2][1] is not None
        ):
            # Only a space kept between two changes: one change reads better than
            # alternating single words.
            between = segments.pop()[0]
            deleted, earlier = segments.pop()
            segments.append((deleted + between + old, (earlier or "") + between + inserted))
        else:
            segments.append((old, inserted))
        if space:
            segments.append((space, None))
    out: list[Markup] = []
    for old, new in segments:
        if new is None:
            out.append(escape(old))
            continue
        if old:
            out.append(
                Markup(
                    '<del><span class="govuk-visually-hidden">[deleted: </span>{}'
                    '<span class="govuk-visually-hidden">]</span></del>'
                ).format(old)
            )
        if new:
            out.append(
                Markup(
                    '<ins><span class="govuk-visually-hidden">[inserted: </span>{}'
                    '<span class="govuk-visually-hidden">]</span></ins>'
                ).format(new)
            )
    return Markup("").join(out)
