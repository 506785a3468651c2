"""The dependency direction, read from the source (ast): flows → services → domain + adapters.

- domain/ imports no IO library and nothing of ours outside domain/ (errors.py, a leaf, excepted);
- services/ never imports the flows, the CLI commands, the demo driver or the running sandbox (its app, state
  or process wrapper);
- flows/ import, of ours, only services, settings and each other (flows.common, serve's flow modules).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
IO_LIBRARIES = (
    "psycopg",
    "psycopg_pool",
    "playwright",
    "openai",
    "prefect",
    "httpx",
    "requests",
    "fastapi",
    "uvicorn",
    "papermill",
    "nbformat",
    "nbconvert",
    "duckdb",
    "adbc_driver_postgresql",
    "connectorx",
    "socket",
    "subprocess",
    "urllib.request",
)
SERVICES_MUST_NOT = (
    "flows",
    "xbot_core.commands",
    "xbot_core.cli",
    "xbot_core.api",
    "xbot_core.demo",
    "xbot_core.sandbox.app",
    "xbot_core.sandbox.state",
    "xbot_core.sandbox.process",
)
OURS = ("xbot_core", "flows", "tests", "bench")


def imports(path: Path) -> list[str]:
    """Every module a file imports, at any depth (function-level imports included), absolute names."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    return imports_of(path.read_text(encoding="utf-8"), package)


def imports_of(source: str, package: str) -> list[str]:
    tree = ast.parse(source)
    out: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the file's package
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join([*base, node.module] if node.module else base)
            else:
                mod = node.module or ""
            out.append(mod)
            out += [f"{mod}.{a.name}" for a in node.names]  # `from pkg import module`
    return out


def within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def files(folder: str) -> list[Path]:
    found = sorted((ROOT / folder).rglob("*.py"))
    assert found, f"no Python files under {folder}"
    return found


def violations(folder: str, bad: object) -> list[str]:
    return [
        f"{p.relative_to(ROOT)} imports {name}"
        for p in files(folder)
        for name in imports(p)
        if bad(name)  # type: ignore[operator]
    ]


def test_domain_imports_no_io_and_nothing_of_ours_outside_domain() -> None:
    def bad(name: str) -> bool:
        if within(name, IO_LIBRARIES):
            return True
        return within(name, OURS) and not within(name, ("xbot_core.domain", "xbot_core.errors"))

    assert violations("xbot_core/domain", bad) == []


def test_services_never_import_flows_commands_or_the_running_sandbox() -> None:
    assert violations("xbot_core/services", lambda n: within(n, SERVICES_MUST_NOT)) == []


def test_flows_import_only_services_and_settings_of_ours() -> None:
    allowed = ("xbot_core.services", "xbot_core.settings", "flows")
    assert violations("flows", lambda n: within(n, OURS) and not within(n, allowed)) == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import httpx", ["httpx"]),
        ("from xbot_core.sandbox import process", ["xbot_core.sandbox", "xbot_core.sandbox.process"]),
        ("def f():\n    from flows.learn import learn", ["flows.learn", "flows.learn.learn"]),
        ("from . import steps", ["xbot_core.services", "xbot_core.services.steps"]),
        ("from ..sandbox.app import x", ["xbot_core.sandbox.app", "xbot_core.sandbox.app.x"]),
    ],
)
def test_the_reader_sees_every_form_of_import(source: str, expected: list[str]) -> None:
    assert imports_of(source, "xbot_core.services") == expected


def test_a_forbidden_import_is_caught() -> None:
    assert within("xbot_core.sandbox.process", SERVICES_MUST_NOT)
    assert not within("xbot_core.sandbox.config", SERVICES_MUST_NOT)
    assert not within("flowsy", ("flows",))


def test_services_never_look_settings_up() -> None:
    """Settings reach services as arguments (StepDeps, wiring.analytics_source), never by `get_settings()`."""
    found = violations("xbot_core/services", lambda n: n == "xbot_core.settings.get_settings")
    assert found == []
    assert "xbot_core.settings.get_settings" in imports_of(
        "def f():\n    from xbot_core.settings import get_settings", "xbot_core.services"
    )


def test_read_models_and_reports_never_import_the_use_cases() -> None:
    """services/read and services/reporting only read: never the loop, operations or simulation."""
    writers = ("xbot_core.services.loop", "xbot_core.services.operations", "xbot_core.services.simulation")
    for folder in ("xbot_core/services/read", "xbot_core/services/reporting"):
        assert violations(folder, lambda n: within(n, writers)) == []


def test_use_cases_reach_the_database_through_repositories() -> None:
    """Use cases (loop, operations, simulation) run no named query: adapters/db's repositories do."""
    for role in ("loop", "operations", "simulation"):
        folder = f"xbot_core/services/{role}"
        assert violations(folder, lambda n: within(n, ("xbot_core.adapters.db.queries",))) == []


def test_services_are_split_by_role() -> None:
    """services/ holds only the step entry points and their wiring at its top; the rest is in role folders."""
    top = sorted(p.name for p in (ROOT / "xbot_core" / "services").glob("*.py"))
    assert top == ["__init__.py", "steps.py", "wiring.py", "x_backend.py"]
    services = ROOT / "xbot_core" / "services"
    roles = sorted(p.name for p in services.iterdir() if (p / "__init__.py").is_file())
    assert roles == ["loop", "operations", "read", "reporting", "simulation"]


def test_a_report_kernel_imports_no_generation_library() -> None:
    """What every report notebook imports first loads neither scikit-learn, textstat (NLTK) nor openai: they
    cost a report kernel 5-6 CPU seconds of its ~8, and only generation and the history prior use them."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from xbot_core.services import wiring, steps\n"  # the notebooks' first import pulls in every step
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'sklearn', 'textstat', 'nltk', 'openai'}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "[]", out.stdout
