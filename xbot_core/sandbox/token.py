"""The sandbox's per-process admin token: where `xbot sandbox` writes it (mode 0600), how clients read it.

Kept apart from the admin routes so the clock adapter and the demo read it without importing the web app.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

TOKEN_HEADER = "Authorization"


def new_admin_token() -> str:
    return secrets.token_urlsafe(32)


def admin_token_file(data_dir: Path, port: int) -> Path:
    """Where `xbot sandbox` on `port` writes its per-process admin token (mode 0600)."""
    return data_dir / "sandbox" / f"admin-token-{port}"


def write_admin_token(path: Path, token: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(token)
    os.chmod(path, 0o600)  # an existing file keeps its old mode through O_CREAT


def remove_admin_token(path: Path, token: str) -> None:
    """Delete the token file at a clean exit, unless another sandbox process has written its own there."""
    if read_admin_token(path) == token:
        path.unlink(missing_ok=True)


def read_admin_token(path: Path) -> str | None:
    """The token in a token file, or None when it is missing, unreadable or empty."""
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def bearer(token: str | None) -> dict[str, str]:
    """The Authorization header carrying `token` ({} without one)."""
    return {TOKEN_HEADER: f"Bearer {token}"} if token else {}


def token_file_for(url: str, data_dir: Path) -> Path:
    """The token file of the sandbox at `url` (by its port) in `data_dir`."""
    return admin_token_file(data_dir, urlsplit(url).port or 80)


def admin_headers(url: str, data_dir: Path) -> dict[str, str]:
    """The Authorization header for the sandbox at `url`, from its token file in `data_dir` ({} if none)."""
    return bearer(read_admin_token(token_file_for(url, data_dir)))
