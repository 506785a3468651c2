"""Text identity shared by the generator, the poster's reconciliation and the sandbox."""

from __future__ import annotations

import hashlib
import unicodedata


def normalize_text(text: str) -> str:
    """NFC, trimmed, inner whitespace collapsed: what X would show for the same post."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def content_hash(text: str) -> str:
    """Hex sha256 of the normalised text; equal for the same post however it was spaced."""
    return hashlib.sha256(normalize_text(text).encode("utf-8")).hexdigest()
