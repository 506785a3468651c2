"""Shared pytest configuration: fixtures come from the plugins below, one module per area."""

import os

from hypothesis import settings

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

# Property tests draw the same examples on every run (CI must not turn red on a draw no change touched);
# `HYPOTHESIS_PROFILE=explore pytest …` draws new ones when hunting for bugs.
settings.register_profile("ci", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

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
