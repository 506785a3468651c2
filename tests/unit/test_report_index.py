"""reports/index.html groups the rendered reports by account, then kind, newest first; file names carry the
account. The sidecars are what `reports.render` writes next to each page (lineage JSON)."""

from __future__ import annotations

import json
from pathlib import Path

from xbot_core.services.reporting import reports


def _rendered(out: Path, spec: reports.ReportSpec, handle: str | None) -> str:
    stem = reports.file_stem(spec, handle or "old")
    lineage = {"report": stem, "kind": spec.kind, "source": "x", "rendered_at": "t", "git_commit": "c" * 40}
    if handle is not None:  # lineage written before reports were per account has no account
        lineage["account"] = handle
    (out / f"{stem}.json").write_text(json.dumps(lineage))
    (out / f"{stem}.html").write_text("<html></html>")
    return f"{stem}.html"


def _section(index: str, anchor: str) -> str:
    return index.split(f'id="{anchor}"', 1)[1].split("</section>", 1)[0]


def test_index_groups_two_accounts_reports_by_account_then_kind(tmp_path: Path) -> None:
    from datetime import date

    d6, d7 = date(2026, 1, 6), date(2026, 1, 7)
    a6 = _rendered(tmp_path, reports.daily_spec(d6), "acct_a")
    a7 = _rendered(tmp_path, reports.daily_spec(d7), "acct_a")
    a_exp = _rendered(tmp_path, reports.experiment_spec(d6), "acct_a")
    b7 = _rendered(tmp_path, reports.daily_spec(d7), "acct_b")
    legacy = _rendered(tmp_path, reports.daily_spec(d6), None)
    (tmp_path / "orphan.json").write_text("{}")  # a sidecar without its page is not listed

    assert (a7, b7) == ("daily_report_2026-01-07_acct_a.html", "daily_report_2026-01-07_acct_b.html")
    index = reports.write_index(tmp_path).read_text()
    a, b = _section(index, "account-acct_a"), _section(index, "account-acct_b")
    assert a.index(a7) < a.index(a6)  # newest first within a kind
    assert a.index("<h3>daily</h3>") < a.index(a7) < a.index("<h3>experiment</h3>") < a.index(a_exp)
    assert b7 in b and a7 not in b and b7 not in a
    assert index.index("account-acct_a") < index.index("account-acct_b")
    assert legacy in _section(index, "account--") and "reports without an account" in index
    assert "orphan" not in index
