"""A post's text rendered as x.com renders it: emoji as `<img alt="😀">`, links as t.co anchors with the
expanded URL split into hidden spans and an ellipsis. The adapter must restore both to match a timeline post
against what it published (reconciliation), as it must on x.com.
"""

from __future__ import annotations

import hashlib
import re

from markupsafe import Markup, escape

URL = re.compile(r"https?://\S+")
SHOWN_URL_CHARS = 15  # X shows the start of the expanded URL (without the scheme) and hides the rest
_JOINERS = {0x200D, 0xFE0F} | set(range(0x1F3FB, 0x1F400))  # ZWJ, variation selector, skin tones


def _is_emoji(cp: int) -> bool:
    return cp >= 0x1F000 or 0x2600 <= cp <= 0x27BF or cp in _JOINERS


def _emoji_and_text(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        if _is_emoji(ord(text[i])) and ord(text[i]) not in _JOINERS:
            j = i + 1
            while j < len(text) and (ord(text[j]) in _JOINERS or (ord(text[j - 1]) == 0x200D)):
                j += 1
            seq = text[i:j]
            code = "-".join(f"{ord(c):x}" for c in seq)
            out.append(f'<img alt="{escape(seq)}" draggable="false" src="/emoji/v2/svg/{code}.svg">')
            i = j
        else:
            out.append(str(escape(text[i])))
            i += 1
    return "".join(out)


def _link(url: str) -> str:
    scheme, _, rest = url.partition("://")
    short = "https://t.co/" + hashlib.sha256(url.encode("utf-8")).hexdigest()[:10]
    hidden = '<span aria-hidden="true" style="display:none">{}</span>'
    shown, tail = rest[:SHOWN_URL_CHARS], rest[SHOWN_URL_CHARS:]
    inner = hidden.format(escape(scheme + "://")) + str(escape(shown))
    if tail:
        inner += hidden.format(escape(tail)) + '<span aria-hidden="true">…</span>'
    attrs = f'dir="ltr" href="{short}" rel="noopener noreferrer nofollow" target="_blank" role="link"'
    return f"<a {attrs}>{inner}</a>"


def x_text(text: str) -> Markup:
    """The markup of a post's text (escaped), for `[data-testid="tweetText"]`."""
    parts: list[str] = []
    last = 0
    for m in URL.finditer(text):
        parts.append(_emoji_and_text(text[last : m.start()]))
        parts.append(_link(m.group(0)))
        last = m.end()
    parts.append(_emoji_and_text(text[last:]))
    return Markup("".join(parts))  # every piece above is escaped
