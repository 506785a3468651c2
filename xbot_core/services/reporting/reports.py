"""Render report notebooks: papermill with parameters, then self-contained HTML with its lineage.

The HTML has no input cells, no CDN script (template `report_templates/xbot`, extending lab), the Vega bundle
once per page and every chart embedded in its own scope (charts.py). Outputs only meant for a live
JupyterLab (the bundle loader, ipywidgets, cells tagged `lab_only`) are dropped. Reports are per account:
the file is `<stem>_<handle>.html` (e.g. `daily_report_2026-01-07_xbot_demo.html`), its lineage names the
account, and reports/index.html lists every rendered report, grouped by account and kind, from the lineage
JSON written next to it.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import nbformat
import polars as pl

from xbot_core.adapters.db.connection import database_url
from xbot_core.errors import ConfigError, ReportError
from xbot_core.package_data import INDEX_TEMPLATE as INDEX_TEMPLATE_PATH
from xbot_core.package_data import NOTEBOOKS_DIR
from xbot_core.package_data import REPORT_TEMPLATES_DIR as TEMPLATES_DIR
from xbot_core.services.read import analytics
from xbot_core.services.reporting.charts import BUNDLE_MARK, vega_bundle
from xbot_core.settings import PROJECT_DIR, Settings

INDEX_TEMPLATE = INDEX_TEMPLATE_PATH.name
LAB_ONLY_TAG = "lab_only"
LIBRARIES = (
    "xbot-workspace",
    "polars",
    "duckdb",
    "pyarrow",
    "adbc-driver-postgresql",
    "duckdb-extension-postgres-scanner",
    "altair",
    "vl-convert-python",
    "great-tables",
    "papermill",
    "nbconvert",
    "numpy",
    "scipy",
)
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


@dataclass(frozen=True)
class ReportSpec:
    """One report to render: a notebook, its parameters and the dated output name (the account's handle is
    appended when it is rendered)."""

    notebook: str
    kind: str
    stem: str
    parameters: Mapping[str, Any] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return NOTEBOOKS_DIR / f"{self.notebook}.ipynb"


@dataclass(frozen=True)
class Rendered:
    """A rendered report: where it is, its lineage and how long each phase took (seconds)."""

    html: Path
    lineage: dict[str, Any]
    execute_s: float
    cells_s: float
    convert_s: float


def git_commit(cwd: Path = PROJECT_DIR) -> tuple[str, bool]:
    """(HEAD commit, whether the working tree has changes); ('unknown', False) outside a git checkout."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, check=True
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown", False
    return head.stdout.strip(), bool(dirty.stdout.strip())


def library_versions() -> dict[str, str]:
    out = {}
    for name in LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def file_stem(spec: ReportSpec, handle: str) -> str:
    """The rendered file's name without suffix: the report's stem, then the account's handle."""
    return f"{spec.stem}_{handle}"


def snapshot_rows(snapshot: pl.DataFrame) -> pl.DataFrame:
    """The data snapshot as people read it: newest timestamps to the second in UTC, an em dash for a table
    with no rows (never the text 'None' or a raw timestamp repr)."""
    newest, dtype = pl.col("max_timestamp"), snapshot.schema["max_timestamp"]
    if not isinstance(dtype, pl.Datetime):  # every table empty (a Null column): nothing to format
        text = pl.lit(None, dtype=pl.String)
    else:
        utc = (
            newest.dt.replace_time_zone("UTC")
            if dtype.time_zone is None
            else newest.dt.convert_time_zone("UTC")
        )
        text = utc.dt.strftime("%Y-%m-%d %H:%M:%S UTC")
    return snapshot.with_columns(text.fill_null("—").alias("max_timestamp"))


def lineage(spec: ReportSpec, source: analytics.Source) -> dict[str, Any]:
    """Parameters, commit, data snapshot, library versions and seed of one rendering (no secrets)."""
    commit, dirty = git_commit()
    snapshot = snapshot_rows(analytics.data_snapshot(source))
    return {
        "report": file_stem(spec, source.handle),
        "account": source.handle,
        "kind": spec.kind,
        "notebook": f"notebooks/{spec.notebook}.ipynb",
        "rendered_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": commit,
        "git_dirty": dirty,
        "seed": spec.parameters.get("seed"),
        "source": f"account {source.handle} ({'simulated' if source.simulated else 'real'} data)",
        "parameters": dict(spec.parameters),
        "data_snapshot": snapshot.to_dicts(),
        "library_versions": library_versions(),
    }


def execute(spec: ReportSpec, *, timeout_s: int = 600) -> nbformat.NotebookNode:
    """Run the notebook top to bottom with papermill in a kernel of its own; a failing cell becomes a
    ReportError naming it."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    if not spec.path.is_file():
        raise ConfigError(f"no notebook {spec.path}")
    with tempfile.TemporaryDirectory(prefix="xbot-report-") as tmp:
        out = Path(tmp) / spec.path.name
        try:
            return papermill.execute_notebook(
                str(spec.path),
                str(out),
                parameters=dict(spec.parameters),
                kernel_name="python3",
                progress_bar=False,
                cwd=str(PROJECT_DIR),
                execution_timeout=timeout_s,
            )
        except PapermillExecutionError as exc:
            raise ReportError(
                f"{spec.notebook}: cell {exc.exec_count} failed: {exc.ename}: {exc.evalue}"
            ) from None


def strip_lab_only(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop what only works in a live JupyterLab: tagged cells, widget views, the bundle loader."""
    nb.cells = [c for c in nb.cells if LAB_ONLY_TAG not in c.get("metadata", {}).get("tags", [])]
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        cell.outputs = [
            o
            for o in cell.get("outputs", [])
            if not o.get("metadata", {}).get(BUNDLE_MARK) and WIDGET_MIME not in o.get("data", {})
        ]
    nb.metadata.pop("widgets", None)
    return nb


def to_html(nb: nbformat.NotebookNode, lineage_: Mapping[str, Any]) -> str:
    """Self-contained HTML, inputs hidden, through the `xbot` template."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name="xbot",
        extra_template_basedirs=[str(TEMPLATES_DIR)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    resources = {
        "xbot": {"vega_bundle": vega_bundle(), "lineage": lineage_},
        "metadata": {"name": lineage_["report"]},
    }
    body, _ = exporter.from_notebook_node(strip_lab_only(nb), resources=resources)
    return body


_LINEAGE_FOOTER = re.compile(r'<section class="xbot-lineage" id="lineage">.*?</section>', re.S)
# random per render: chart element ids, papermill's injected cell id, great_tables' table ids, Altair's
# dataset names (a hash of the data and of its in-memory form)
_RANDOM_IDS = re.compile(
    r"xbot-chart-[0-9a-f]{32}|cell-id=[0-9a-f]{8}|(?<=id=\")[a-z]{10}(?=\")|(?<=#)[a-z]{10}(?= )"
    r"|data-[0-9a-f]{32}"
)


def report_content(html: str) -> str:
    """A rendered report without what differs by construction between two renders of the same data: the
    lineage footer (render time, commit, data snapshot at render time) and random ids (numbered in page
    order instead)."""
    ids: dict[str, str] = {}
    return _RANDOM_IDS.sub(
        lambda m: ids.setdefault(m.group(0), f"id-{len(ids)}"), _LINEAGE_FOOTER.sub("", html)
    )


def render(spec: ReportSpec, *, settings: Settings, out_dir: Path | None = None) -> Rendered:
    """Execute and convert one report into the reports dir; writes <stem>.html and <stem>.json."""
    out_dir = out_dir or settings.reports_dir
    handle = spec.parameters.get("account_handle") or settings.account_handle
    source = analytics.open_source(
        handle, simulated=bool(spec.parameters.get("simulated", True)), url=database_url(settings)
    )
    if not spec.parameters.get("account_handle"):  # the notebook reports on the account the file is named for
        spec = replace(spec, parameters={**spec.parameters, "account_handle": source.handle})
    lin = lineage(spec, source)
    t0 = time.perf_counter()
    nb = execute(spec)
    t1 = time.perf_counter()
    html = to_html(nb, lin)
    t2 = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = file_stem(spec, source.handle)
    target = out_dir / f"{stem}.html"
    target.write_text(html, encoding="utf-8")
    (out_dir / f"{stem}.json").write_text(json.dumps(lin, indent=2, default=str), encoding="utf-8")
    write_index(out_dir)
    cells = sum(float(c.get("metadata", {}).get("papermill", {}).get("duration") or 0.0) for c in nb.cells)
    return Rendered(html=target, lineage=lin, execute_s=t1 - t0, cells_s=cells, convert_s=t2 - t1)


_INDEX_LOCK = threading.Lock()  # renders may run in threads (the demo): one index writer at a time


def write_index(out_dir: Path) -> Path:
    """reports/index.html: every rendered report grouped by account, then kind, newest first."""
    with _INDEX_LOCK:
        return _write_index(out_dir)


def _write_index(out_dir: Path) -> Path:
    import jinja2

    items = []
    for sidecar in sorted(out_dir.glob("*.json")):
        try:
            lin = json.loads(sidecar.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if (out_dir / f"{sidecar.stem}.html").is_file():
            items.append({**lin, "file": f"{sidecar.stem}.html"})
    accounts: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for item in sorted(items, key=lambda i: i["report"], reverse=True):
        # lineage written before reports were per account has no "account": grouped under "-"
        kinds = accounts.setdefault(str(item.get("account") or "-"), {})
        kinds.setdefault(item.get("kind", "other"), []).append(item)
    env = jinja2.Environment(autoescape=True, loader=jinja2.FileSystemLoader(str(INDEX_TEMPLATE_PATH.parent)))
    html = env.get_template(INDEX_TEMPLATE).render(
        accounts=[(handle, sorted(kinds.items())) for handle, kinds in sorted(accounts.items())],
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    index = out_dir / "index.html"
    index.write_text(html, encoding="utf-8")
    return index


def as_dict(r: Rendered) -> dict[str, Any]:
    return {**asdict(r), "html": str(r.html)}


def daily_spec(day: date, **common: Any) -> ReportSpec:
    """The daily report for a UTC date."""
    return ReportSpec(
        "daily_report", "daily", f"daily_report_{day.isoformat()}", {"report_date": day.isoformat(), **common}
    )


def experiment_spec(start: date, **common: Any) -> ReportSpec:
    """The 7-day experiment report for the plan starting on `start`."""
    return ReportSpec(
        "experiment_report_7d",
        "experiment",
        f"experiment_report_7d_{start.isoformat()}",
        {"start_date": start.isoformat(), **common},
    )


def analysis_specs(day: date, **common: Any) -> list[ReportSpec]:
    """Reward analysis and bandit diagnostics as of a UTC date."""
    return [
        ReportSpec(name, kind, f"{name}_{day.isoformat()}", {"report_date": day.isoformat(), **common})
        for name, kind in (("reward_analysis", "reward"), ("bandit_diagnostics", "bandit"))
    ]


def history_spec(handle: str, since: date | None = None, until: date | None = None) -> ReportSpec:
    """The history report of an account's imported posts (real data by construction)."""
    params = {
        "account_handle": handle,
        "since": since.isoformat() if since else "",
        "until": until.isoformat() if until else "",
        "simulated": False,
    }
    return ReportSpec("history_report", "history", "history_report", params)


def render_kind(
    kind: str,
    *,
    day: date,
    start: date,
    simulated: bool,
    seed: int = 7,
    settings: Settings,
) -> list[Rendered]:
    """The report step's work (`xbot report`, the render flow, the demo): render the reports of one kind."""
    common: dict[str, Any] = {
        "simulated": simulated,
        "seed": seed,
    }
    if settings.account_handle:
        common["account_handle"] = settings.account_handle
    specs = {
        "daily": [daily_spec(day, **common)],
        "experiment": [experiment_spec(start, **common)],
        "reward": analysis_specs(day, **common)[:1],
        "bandit": analysis_specs(day, **common)[1:],
        "all": [daily_spec(day, **common), experiment_spec(start, **common), *analysis_specs(day, **common)],
    }
    if kind not in specs:
        raise ConfigError(f"unknown report kind {kind!r}; expected one of {sorted(specs)}")
    return [render(s, settings=settings) for s in specs[kind]]
