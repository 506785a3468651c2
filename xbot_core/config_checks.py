"""Checks of single configuration values, shared by settings.py, the CLI and the adapters.

Each check raises ValueError with a message that never repeats a secret (settings.py turns it into one
ConfigError line naming the setting).
"""

from __future__ import annotations

import ipaddress
import math
import os
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

MIN_TOKEN_CHARS = 32
_DB_SCHEMES = ("postgresql://", "postgres://")


def http_url(value: str) -> str:
    """An http(s) URL with a host and, if given, a port in 1..65535; returned without a trailing slash."""
    if not value.startswith(("http://", "https://")):
        raise ValueError("must start with http:// or https://")
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"is not a valid URL ({exc})") from None
    if not parts.hostname:
        raise ValueError("has no host")
    if port is not None and not 1 <= port <= 65535:
        raise ValueError(f"port {port} is outside 1..65535")
    return value.rstrip("/")


def database_url(value: str) -> None:
    """A libpq URL or key=value string that parses, with a port in 1..65535; the message never shows it."""
    if not value.strip():
        raise ValueError("is empty")
    try:
        info = psycopg.conninfo.conninfo_to_dict(value)
    except psycopg.Error:
        # psycopg's message quotes the offending token, which may be the password
        raise ValueError("is not a valid Postgres URL or conninfo string (value hidden)") from None
    for port in str(info.get("port") or "").split(","):
        if port and (not port.isdigit() or not 1 <= int(port) <= 65535):
            raise ValueError("has a port outside 1..65535")
    if "://" in value and not value.startswith(_DB_SCHEMES):
        raise ValueError("must start with postgresql:// or postgres://")


def finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


def pricing(table: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
    """Per-model (input, output) USD per 1M tokens: finite and >= 0."""
    if not table:
        raise ValueError("needs at least one model")
    for model, prices in table.items():
        if not model.strip():
            raise ValueError("has an empty model name")
        for price in prices:
            if not math.isfinite(price) or price < 0:
                raise ValueError(f"price of {model!r} must be finite and >= 0, got {price!r}")
    return table


def token(value: str) -> None:
    """A bearer token long enough to resist guessing."""
    if len(value.strip()) < MIN_TOKEN_CHARS:
        raise ValueError(f"must be at least {MIN_TOKEN_CHARS} characters (e.g. `openssl rand -hex 32`)")


def writable_dir(path: Path) -> Path:
    """A directory that exists and is writable, or that can be created (nearest existing parent writable)."""
    probe = path.expanduser()
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        raise ValueError(f"cannot be created: {probe} is not a directory")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise ValueError(f"is not writable ({probe})")
    return path


def existing_file(path: Path) -> Path:
    if not path.is_file():
        raise ValueError(f"file not found: {path}")
    return path


def loopback_url(value: str) -> bool:
    """Whether an http(s) URL points at this machine (localhost or a loopback address)."""
    host = (urlsplit(value).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
