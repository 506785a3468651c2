"""The notebooks' data path: Postgres → Arrow → Polars, then DuckDB over the frames in-process.

Postgres SQL lives in sql/analytics/*.sql (psql-runnable, `:'name'` variables), read through ADBC (Postgres'
binary COPY straight into Arrow). The big outcomes table's wide windows are read by DuckDB's postgres_scanner
instead (sql/analytics/scanner/*.sql, parallel page ranges; services/read/outcome_loader.py; figures:
bench/load_outcomes.py). DuckDB SQL over the loaded frames is in sql/analytics/frames/*.sql. Every load is
for one account and one side of the real/simulated line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache

import duckdb
import polars as pl
import psycopg
from adbc_driver_postgresql import dbapi as adbc
from psycopg import sql as pgsql

from xbot_core.adapters.db.connection import redact
from xbot_core.adapters.db.queries import parse_queries
from xbot_core.domain.reward import RewardVersion
from xbot_core.errors import ConfigError, DatabaseError
from xbot_core.package_data import ANALYTICS_DIR

FRAMES_DIR = ANALYTICS_DIR / "frames"
# psql's quoted-variable syntax; `::type` casts never match (no quote after the colons)
_PSQL_VAR = re.compile(r"(?<![:\w]):'([A-Za-z_][A-Za-z0-9_]*)'")
ParamValue = str | int | float | bool | date | datetime


@dataclass(frozen=True)
class Source:
    """Where a report reads from: one account's real or simulated data in one database."""

    url: str
    account_id: int
    handle: str
    simulated: bool

    def __repr__(self) -> str:  # the URL may hold a password: never print it
        return f"Source(handle={self.handle!r}, account_id={self.account_id}, simulated={self.simulated})"

    @property
    def params(self) -> dict[str, ParamValue]:
        return {"account_id": self.account_id, "simulated": self.simulated}


def open_source(handle: str, *, simulated: bool, url: str) -> Source:
    """The account `handle` in the database at `url` (wiring.analytics_source builds both from settings)."""
    try:
        with psycopg.connect(url) as conn:
            row = conn.execute("SELECT account_id FROM accounts WHERE handle = %s", (handle,)).fetchone()
    except psycopg.OperationalError as exc:
        raise DatabaseError(f"cannot reach the database at {redact(url)}: {exc}") from exc
    if row is None:
        raise ConfigError(f"no account with handle {handle!r} in the database (XBOT_ACCOUNT_HANDLE)")
    return Source(url=url, account_id=int(row[0]), handle=handle, simulated=simulated)


def _literal(value: ParamValue) -> str:
    """The value as psql's `:'name'` would quote it: a string literal (the SQL casts it)."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, datetime | date):
        text = value.isoformat()
    else:
        text = str(value)
    return pgsql.Literal(text).as_string(None)


def render(sql_text: str, params: Mapping[str, ParamValue]) -> str:
    """Substitute psql variables with quoted literals; a variable without a value is a ConfigError."""
    missing = sorted({m for m in _PSQL_VAR.findall(sql_text) if m not in params})
    if missing:
        raise ConfigError(f"analytics query needs parameters {missing}; given {sorted(params)}")
    return _PSQL_VAR.sub(lambda m: _literal(params[m.group(1)]), sql_text)


@cache
def analytics_sql(name: str) -> str:
    """The text of sql/analytics/<name>.sql (without its trailing semicolon)."""
    path = ANALYTICS_DIR / f"{name}.sql"
    if not path.is_file():
        known = sorted(p.stem for p in ANALYTICS_DIR.glob("*.sql"))
        raise ConfigError(f"no analytics query {name!r} in {ANALYTICS_DIR} (known: {known})")
    return path.read_text(encoding="utf-8").strip().rstrip(";")


# analytic joins of millions of rows spill to disk at Postgres' default 4MB (measured: 16-batch hash join)
WORK_MEM = "256MB"


DEFAULT_SETTINGS = (f"SET work_mem = '{WORK_MEM}'",)


def read_arrow(url: str, sql_text: str, settings: Sequence[str] = DEFAULT_SETTINGS):  # type: ignore[no-untyped-def]
    """Run one query through ADBC (binary COPY) on a fresh connection after its `settings` (SET ...) and
    return the Arrow table (uuid columns arrive as binary)."""
    try:
        with adbc.connect(url) as conn, conn.cursor() as cur:
            for statement in settings:
                cur.execute(statement)
            cur.execute(sql_text)
            return cur.fetch_arrow_table()
    except adbc.OperationalError as exc:
        raise DatabaseError(f"analytics query failed on {redact(url)}: {exc}") from exc


def load_sql(
    url: str,
    sql_text: str,
    params: Mapping[str, ParamValue] | None = None,
    settings: Sequence[str] = DEFAULT_SETTINGS,
) -> pl.DataFrame:
    """Any psql-style query (with `:'name'` variables) into Polars over Arrow."""
    frame = pl.from_arrow(read_arrow(url, render(sql_text, params or {}), settings))
    assert isinstance(frame, pl.DataFrame)
    return frame


def load(source: Source, name: str, **params: ParamValue) -> pl.DataFrame:
    """Run sql/analytics/<name>.sql for the source's account and real/simulated side."""
    if name == "outcomes":
        return load_outcomes(source, **params)
    if name == "decisions":  # a narrow window looks its posts up by key (services/read/outcome_loader.py)
        from xbot_core.services.read import outcome_loader

        return outcome_loader.load_decisions(source.url, {**source.params, **params})
    return load_sql(source.url, analytics_sql(name), {**source.params, **params})


def load_outcomes(source: Source, **params: ParamValue) -> pl.DataFrame:
    """outcomes.sql's rows and columns, read by DuckDB's postgres_scanner or as key lookups,
    whichever the window makes faster (services/read/outcome_loader.py; bench/load_outcomes.py)."""
    from xbot_core.services.read import outcome_loader  # it builds on this module's queries

    return outcome_loader.load_outcomes(source.url, {**source.params, **params})


@dataclass(frozen=True)
class Window:
    """A half-open time range [since, until) in UTC."""

    since: datetime
    until: datetime

    @classmethod
    def days_ending(cls, day: date, days: int) -> Window:
        """The `days` calendar days (UTC) ending with `day` included."""
        if days < 1:
            raise ConfigError(f"a window needs at least one day, got {days}")
        until = datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC)
        return cls(since=until - timedelta(days=days), until=until)

    @property
    def params(self) -> dict[str, ParamValue]:
        return {"since": self.since, "until": self.until}


def parse_day(text: str | date | None) -> date:
    """A report date from a parameter: ISO `YYYY-MM-DD`, '' / None meaning today (UTC)."""
    if text is None or text == "":
        return datetime.now(UTC).date()
    if isinstance(text, date):
        return text
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"not a date (expected YYYY-MM-DD): {text!r}") from None


def report_day(source: Source, text: str | date | None) -> date:
    """A report date parameter when given; else the UTC day of the account's latest post (today when it has
    none), so a notebook opened with its defaults shows the data the account has (the demo's virtual days)."""
    if text:
        return parse_day(text)
    from xbot_core.services.read.experiment_power import latest_post_day  # it builds on this module

    return latest_post_day(source) or parse_day(None)


def empty_window_note(source: Source, window: Window, parameter: str = "report_date") -> str:
    """The sentence a report shows instead of empty charts: what is missing and the command that fills it."""
    kind = "simulated" if source.simulated else "real"
    fill = (
        "Run `xbot demo` to fill it" if source.simulated else "Let the flows post and collect (`xbot serve`)"
    )
    last = (window.until - timedelta(days=1)).date()
    return (
        f"**No {kind} posts of @{source.handle} from {window.since.date()} to {last}.** {fill}, "
        f"or set `{parameter}` to a day that has posts."
    )


# ---- DuckDB over the frames ----


@cache
def frame_queries() -> dict[str, str]:
    """Every named DuckDB query of sql/analytics/frames/*.sql."""
    out: dict[str, str] = {}
    for path in sorted(FRAMES_DIR.glob("*.sql")):
        for name, text in parse_queries(path.read_text(encoding="utf-8"), str(path)).items():
            if name in out:
                raise ValueError(f"frame query {name!r} defined twice (again in {path.name})")
            out[name] = text
    return out


def duck(name: str, /, **frames: pl.DataFrame) -> pl.DataFrame:
    """Run the named DuckDB query with each frame registered under its keyword name; result as Polars."""
    try:
        text = frame_queries()[name]
    except KeyError:
        raise ConfigError(f"no frame query {name!r} in {FRAMES_DIR}") from None
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")  # timestamptz comes back as 'UTC', like the Postgres frames
    try:
        for table, frame in frames.items():
            con.register(table, frame)
        out = pl.from_arrow(con.sql(text).to_arrow_table())
        assert isinstance(out, pl.DataFrame)
        return out
    finally:
        con.close()


# ---- reward versions and lineage ----


def reward_versions(source: Source) -> list[RewardVersion]:
    """Every stored reward version as a domain RewardVersion, oldest first."""
    rows = load(source, "reward_versions")
    keep = set(RewardVersion.__dataclass_fields__) - {"created_at"}
    return [RewardVersion(**{k: v for k, v in r.items() if k in keep}) for r in rows.to_dicts()]


def active_reward_version(source: Source) -> RewardVersion:
    """The version marked active (the one learning uses)."""
    rows = load(source, "reward_versions").filter(pl.col("is_active"))
    if rows.height != 1:
        raise DatabaseError(f"expected exactly one active reward version, found {rows.height}")
    version = int(rows["version"][0])
    return next(v for v in reward_versions(source) if v.version == version)


def data_snapshot(source: Source) -> pl.DataFrame:
    """Row counts and newest timestamps per table for the source (a report's lineage)."""
    return load(source, "data_snapshot")


# ---- scoring posts under a reward version ----

TERMS: tuple[str, ...] = ("fpki_n", "retweet_n", "reply_n", "novelty", "dup_penalty")


def score_posts(posts: pl.DataFrame, version: RewardVersion) -> pl.DataFrame:
    """Add `reward` and `exposure_weight` under `version` and the normalised reward terms (null when the
    reward is undefined), so that reward = Σ weight_k · term_k for every scored post."""
    from xbot_core.domain.metrics import fpki_expr, reply_rate_expr, retweet_rate_expr
    from xbot_core.domain.reward import with_rewards

    scored = with_rewards(posts, version)
    assert isinstance(scored, pl.DataFrame)
    defined = pl.col("reward").is_not_null()
    return scored.with_columns(
        pl.when(defined).then(fpki_expr() / version.scale_fpki).alias("fpki_n"),
        pl.when(defined).then(retweet_rate_expr() / version.scale_retweet).alias("retweet_n"),
        pl.when(defined).then(reply_rate_expr() / version.scale_reply).alias("reply_n"),
    )
