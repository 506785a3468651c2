"""SQL, notebooks and the report index template are found through the package (tests/db/test_wheel.py
installs a built wheel and uses them from there)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from xbot_core import package_data as pd
from xbot_core.adapters.db import migrations, queries
from xbot_core.services.read import analytics
from xbot_core.services.reporting import reports

CHECKOUT = Path(__file__).resolve().parents[2]


def test_every_reader_uses_the_package_paths() -> None:
    assert migrations.MIGRATIONS_DIR == pd.MIGRATIONS_DIR
    assert queries.QUERIES_DIR == pd.QUERIES_DIR
    assert analytics.ANALYTICS_DIR == pd.ANALYTICS_DIR
    assert reports.NOTEBOOKS_DIR == pd.NOTEBOOKS_DIR
    assert pd.INDEX_TEMPLATE.is_file() and (pd.REPORT_TEMPLATES_DIR / "xbot" / "conf.json").is_file()
    assert sorted(p.name for p in pd.MIGRATIONS_DIR.glob("0001_*.sql")) == [
        "0001_core.down.sql",
        "0001_core.up.sql",
    ]


@pytest.mark.skipif(not (CHECKOUT / "sql").is_dir(), reason="not a source checkout")
def test_in_a_checkout_the_package_links_to_the_top_level_folders() -> None:
    """One copy of each file: xbot_core/_data/ holds relative links, never copies that could drift."""
    data = CHECKOUT / "xbot_core" / "_data"
    for name, target in (
        ("sql", "sql"),
        ("notebooks", "notebooks"),
        ("index.template.html", "reports/index.template.html"),
    ):
        link = data / name
        assert link.is_symlink() and not Path(link.readlink()).is_absolute(), name
        assert link.resolve() == (CHECKOUT / target).resolve()
    assert sorted(p.name for p in data.iterdir()) == ["index.template.html", "notebooks", "sql"]


def test_no_module_finds_package_data_through_the_project_folder() -> None:
    """(reports/ stays the default output folder in settings; it is not package data.)"""
    pattern = re.compile(r"PROJECT_DIR\s*/\s*[\"'](sql|notebooks)[\"']")
    root = Path(pd.ROOT)
    offenders = [
        str(p.relative_to(root))
        for p in root.rglob("*.py")
        if "_data" not in p.parts and pattern.search(p.read_text(encoding="utf-8"))
    ]
    assert offenders == []
