"""X through a real browser: page objects, the XClient Protocol and its Playwright implementation."""

from xbot_core.adapters.x_browser.client import PlaywrightXClient
from xbot_core.adapters.x_browser.models import Metrics, PostRef, TimelinePost, Unavailable, XClient
from xbot_core.adapters.x_browser.numbers import parse_labelled_count, parse_x_count

__all__ = [
    "Metrics",
    "PlaywrightXClient",
    "PostRef",
    "TimelinePost",
    "Unavailable",
    "XClient",
    "parse_labelled_count",
    "parse_x_count",
]
