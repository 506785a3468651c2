"""Files the package ships and finds through itself (importlib.resources), so an installed wheel works.

The repository keeps sql/, notebooks/ and reports/index.template.html at the top level (the layout the
product brief fixes); xbot_core/_data/ holds relative symlinks to them. A source checkout, an editable install
or PYTHONPATH reads the top-level files through the links; building the sdist or wheel copies their contents
into xbot_core/_data/, so the installed package carries them with no link and no project folder.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from xbot_core.errors import ConfigError


def package_root() -> Path:
    """The installed xbot_core folder (a zipped install has none and is refused)."""
    root = files("xbot_core")
    if not isinstance(root, Path):
        raise ConfigError(f"xbot_core must be installed as files on disk, not from {root!r}")
    return root


ROOT = package_root()
DATA_DIR = ROOT / "_data"
SQL_DIR = DATA_DIR / "sql"
MIGRATIONS_DIR = SQL_DIR / "migrations"
QUERIES_DIR = SQL_DIR / "queries"
ANALYTICS_DIR = SQL_DIR / "analytics"
NOTEBOOKS_DIR = DATA_DIR / "notebooks"
INDEX_TEMPLATE = DATA_DIR / "index.template.html"
REPORT_TEMPLATES_DIR = ROOT / "report_templates"
EXPERIMENT_PLAN = ROOT / "experiments" / "plan_7d.toml"
