"""`xbot report daily|experiment|all|simulate`: render the notebooks to self-contained HTML in reports/.

`--account HANDLE` renders another account's reports (files `<report>_<handle>.html`); default the configured
one."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from xbot_core.commands.account import AccountOption
from xbot_core.errors import ConfigError
from xbot_core.settings import get_settings

app = typer.Typer(
    help="Render report notebooks to offline HTML (reports/index.html lists them).", no_args_is_help=True
)

DataOpt = Annotated[
    str | None,
    typer.Option("--data", help="simulated or real; default from XBOT_X_BASE_URL (the sandbox: simulated)."),
]
SeedOpt = Annotated[
    int, typer.Option(help="Seed of every random draw in the reports (bootstrap, Monte Carlo).")
]


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{option} must be a date YYYY-MM-DD, got {value!r}") from None


def _simulated(data: str | None) -> bool | None:
    if data is None:
        return None
    if data not in ("simulated", "real"):
        raise ConfigError(f"--data must be 'simulated' or 'real', got {data!r}")
    return data == "simulated"


def _run(
    kind: str, day: date | None, start: date | None, data: str | None, seed: int, account: str | None
) -> None:
    from xbot_core.services import steps, wiring

    settings = get_settings()
    simulated = _simulated(data)
    with wiring.open_deps(settings, account) as deps:
        # the CLI's default date is today by the configured clock (the scheduled flow renders yesterday)
        run = steps.report_step(
            deps, kind=kind, day=day or deps.now().date(), start=start, seed=seed, simulated=simulated
        )
    for r in run.rendered:
        typer.echo(f"{r.html}  (notebook {r.cells_s:.1f} s, HTML {r.convert_s:.1f} s)")
    typer.echo(f"index: {settings.reports_dir / 'index.html'}")


@app.command()
def daily(
    date_: Annotated[
        str | None, typer.Option("--date", help="Report date YYYY-MM-DD (UTC); default today.")
    ] = None,
    data: DataOpt = None,
    seed: SeedOpt = 7,
    account: AccountOption = None,
) -> None:
    """The daily report."""
    _run("daily", _day(date_, "--date"), None, data, seed, account)


@app.command()
def experiment(
    start: Annotated[
        str | None, typer.Option(help="First day of the 7-day plan; default 6 days ago.")
    ] = None,
    data: DataOpt = None,
    seed: SeedOpt = 7,
    account: AccountOption = None,
) -> None:
    """The 7-day experiment report."""
    _run("experiment", None, _day(start, "--start"), data, seed, account)


@app.command("all")
def all_(
    date_: Annotated[
        str | None, typer.Option("--date", help="Report date YYYY-MM-DD (UTC); default today.")
    ] = None,
    start: Annotated[
        str | None, typer.Option(help="First day of the 7-day plan; default date − 6 days.")
    ] = None,
    data: DataOpt = None,
    seed: SeedOpt = 7,
    account: AccountOption = None,
) -> None:
    """Daily, experiment, reward analysis and bandit diagnostics."""
    _run("all", _day(date_, "--date"), _day(start, "--start"), data, seed, account)


@app.command()
def history(
    account: Annotated[str, typer.Option("--account", help="The imported handle (xbot import x-analytics).")],
    since: Annotated[str | None, typer.Option(help="First day YYYY-MM-DD (UTC); default all.")] = None,
    until: Annotated[
        str | None, typer.Option(help="Day after the last, YYYY-MM-DD (UTC); default all.")
    ] = None,
) -> None:
    """What drove follows, profile visits and engagement in the account's own imported posts."""
    from xbot_core.services.reporting import reports

    settings = get_settings()
    spec = reports.history_spec(account.removeprefix("@"), _day(since, "--since"), _day(until, "--until"))
    r = reports.render(spec, settings=settings)
    typer.echo(f"{r.html}  (notebook {r.cells_s:.1f} s, HTML {r.convert_s:.1f} s)")
    typer.echo(f"index: {settings.reports_dir / 'index.html'}")


@app.command()
def simulate(
    handle: Annotated[str, typer.Option(help="Account to write the simulated history into.")] = "xbot_sim",
    end: Annotated[str | None, typer.Option(help="Last simulated day YYYY-MM-DD; default today.")] = None,
    days: Annotated[int, typer.Option(min=1)] = 14,
    posts_per_day: Annotated[int, typer.Option(min=1)] = 24,
    seed: Annotated[int, typer.Option(min=0)] = 7,
    replace: Annotated[bool, typer.Option(help="Replace this account's earlier simulated history.")] = False,
) -> None:
    """Write a seeded simulated history (marked simulated) and its ground truth JSON for the notebooks."""
    import psycopg

    from xbot_core.adapters.db.connection import database_url
    from xbot_core.services.simulation import history

    settings = get_settings()
    end_day = _day(end, "--end") or date.today()
    cfg = history.HistoryConfig(
        seed=seed, handle=handle, end_day=end_day, days=days, posts_per_day=posts_per_day
    )
    with psycopg.connect(database_url(settings)) as conn:
        result = history.generate(conn, cfg, replace=replace)
    truth = result.write_ground_truth(settings.data_dir / "simulated" / f"{handle}_ground_truth.json")
    typer.echo(
        f"@{handle}: {result.posts} posts, {result.outcomes} outcomes, {result.snapshots} snapshots; "
        f"ground truth {truth}"
    )
