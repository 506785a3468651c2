"""Shared pytest configuration: fixtures come from the plugins below, one module per area."""

import os

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

pytest_plugins = [
    "tests.plugins.db",
    "tests.plugins.notebooks",
    "tests.plugins.llm",
    "tests.plugins.sandbox",
    "tests.plugins.api",
    "tests.plugins.posting",
    "tests.plugins.prefect",
    "tests.plugins.x_api",
]
