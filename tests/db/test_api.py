"""The observability API over real uvicorn + httpx: every field against values computed here from the seed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from statistics import mean
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from scipy.stats import beta as beta_dist

from tests.plugins.api import ACCOUNT_TZ, AS_OF, ApiDataset

pytestmark = pytest.mark.db


# ---- expectations in plain Python over the seeded rows ----


def _latest_ok(ds: ApiDataset, decision_id: Any, as_of: datetime, simulated: bool) -> dict[str, Any] | None:
    rows = [
        o
        for o in ds.outcomes
        if o["decision_id"] == decision_id
        and o["status"] == "ok"
        and o["collected_at"] <= as_of
        and o["simulated"] == simulated
    ]
    return max(rows, key=lambda o: o["collected_pass"]) if rows else None


def _mature_ok(ds: ApiDataset, decision_id: Any, as_of: datetime, simulated: bool) -> dict[str, Any] | None:
    """The post's ok T+24h pass collected by as_of (the only outcome the growth figures use)."""
    o = _latest_ok(ds, decision_id, as_of, simulated)
    return o if o is not None and o["collected_pass"] == 2 else None


def _pass2(ds: ApiDataset, post: dict[str, Any], as_of: datetime) -> bool:
    """Whether any T+24h pass of the post (ok or unavailable) was stored by as_of."""
    return any(
        o["decision_id"] == post["decision_id"]
        and o["collected_pass"] == 2
        and o["collected_at"] <= as_of
        and o["simulated"] == post["simulated"]
        for o in ds.outcomes
    )


def _rates(o: dict[str, Any] | None) -> dict[str, float | None]:
    if o is None or not o["impressions"]:
        return {"er": None, "fpki": None, "reply_rate": None}
    imp = o["impressions"]
    return {
        "er": (o["likes"] + o["retweets"] + o["replies"]) / imp,
        "fpki": None if o["follows"] is None else 1000 * o["follows"] / imp,
        "reply_rate": o["replies"] / imp,
    }


def _followers_at(ds: ApiDataset, t: datetime, simulated: bool) -> int | None:
    rows = [s for s in ds.snapshots if s["simulated"] == simulated and s["taken_at"] <= t]
    return max(rows, key=lambda s: s["taken_at"])["followers"] if rows else None


def _avg(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return mean(known) if known else None


def _pooled(records: list[dict[str, Any]], counts: tuple[str, ...], per: float = 1.0) -> float | None:
    """per · Σcounts / Σimpressions over the records with every count known and impressions > 0."""
    used = [r for r in records if r.get("impressions") and all(r.get(c) is not None for c in counts)]
    den = sum(r["impressions"] for r in used)
    return per * sum(r[c] for r in used for c in counts) / den if den else None


def expected_growth(ds: ApiDataset, as_of: datetime, simulated: bool, limit: int) -> dict[str, Any]:
    tz = ZoneInfo(ACCOUNT_TZ)
    local = as_of.astimezone(tz)
    day_start = datetime(local.year, local.month, local.day, tzinfo=tz)
    week, prev = [], []
    for p in ds.posts:
        if p["simulated"] != simulated:
            continue
        o = _mature_ok(ds, p["decision_id"], as_of, simulated)
        rec = p | (o or {}) | _rates(o) | {"has_outcome": o is not None, "pass2": _pass2(ds, p, as_of)}
        if as_of - timedelta(days=7) < p["posted_at"] <= as_of:
            week.append(rec)
        elif as_of - timedelta(days=14) < p["posted_at"] <= as_of - timedelta(days=7):
            prev.append(rec)
    latest = _followers_at(ds, as_of, simulated)
    base_day = _followers_at(ds, day_start, simulated)
    base_week = _followers_at(ds, as_of - timedelta(days=7), simulated)
    rr_now = _pooled(week, ("replies",))
    rr_prev = _pooled(prev, ("replies",))
    top = sorted(
        (r for r in week if r.get("follows") is not None),
        key=lambda r: (-r["follows"], -(r["impressions"] or 0), r["tweet_id"]),
    )[:limit]
    impressions = [r["impressions"] for r in week if r.get("impressions") is not None]
    return {
        "followers_today": None if latest is None or base_day is None else latest - base_day,
        "followers_7d": None if latest is None or base_week is None else latest - base_week,
        "fpki_avg_7d": _pooled(week, ("follows",), 1000.0),
        "reply_uplift_7d": rr_now / rr_prev - 1 if rr_now is not None and rr_prev else None,
        "novelty_avg_7d": _avg([r["novelty"] for r in week]),
        "top_posts_by_follows": [
            {k: r[k] for k in ("tweet_id", "content", "follows", "impressions", "fpki", "er")}
            | {"reward_composite": r["reward_composite"]}
            for r in top
        ],
        "engagement_summary": {
            "total_posts_7d": len(week),
            "mature_posts_7d": sum(r["has_outcome"] for r in week),
            "maturing_posts_7d": sum(not r["pass2"] for r in week),
            "total_impressions_7d": sum(impressions) if impressions else None,
            "avg_er_7d": _pooled(week, ("likes", "retweets", "replies")),
            "avg_reward_7d": _avg([r.get("reward_composite") for r in week]),
        },
    }


def assert_same(got: Any, want: Any, path: str = "") -> None:
    """Deep equality with floats compared at 5 decimals (SQL and Python sum in different orders)."""
    if isinstance(want, dict):
        assert isinstance(got, dict) and set(got) >= set(want), f"{path}: {got!r} lacks {set(want)}"
        for k, v in want.items():
            assert_same(got[k], v, f"{path}.{k}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), f"{path}: {got!r} != {want!r}"
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            assert_same(g, w, f"{path}[{i}]")
    elif isinstance(want, float) and not isinstance(want, bool):
        assert got is not None and round(float(got), 5) == round(want, 5), f"{path}: {got!r} != {want!r}"
    else:
        assert got == want, f"{path}: {got!r} != {want!r}"


def _iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


# ---- tests ----


def test_growth_every_field(api_dataset: ApiDataset, api_server: Callable[..., Any]) -> None:
    with api_server() as base, httpx.Client(base_url=base) as http:
        got = http.get("/api/growth", params={"as_of": _iso(AS_OF)}).json()
    want = expected_growth(api_dataset, AS_OF, simulated=False, limit=5)
    assert_same(got, want)
    # the seed was built to exercise each rule; pin the headline numbers by hand too
    assert got["followers_today"] == 1042 - 1010  # local (New York) midnight, not UTC midnight
    assert got["followers_7d"] == 1042 - 950
    # mature posts only: post 2 has its ok T+24h pass; post 1's came after as_of, post 3 and 5 have none
    # (still maturing), post 4's T+24h pass was unavailable (not maturing, never in a rate)
    assert [p["tweet_id"] for p in got["top_posts_by_follows"]] == ["1000002"]
    assert got["top_posts_by_follows"][0]["fpki"] == pytest.approx(1000 * 5 / 1500)
    summary = got["engagement_summary"]
    assert (summary["total_posts_7d"], summary["mature_posts_7d"], summary["maturing_posts_7d"]) == (5, 1, 3)
    assert summary["total_impressions_7d"] == 1500
    assert got["fpki_avg_7d"] == pytest.approx(1000 * 5 / 1500)
    assert summary["avg_er_7d"] == pytest.approx((30 + 6 + 3) / 1500)  # 0.026
    # pooled, as the daily report: this week 3/1500, the week before (2 + 3)/(1000 + 500); the mean of the
    # per-post rates (2/1000, 3/500) would give 3/1500 / 0.004 - 1 = -0.5
    assert got["reply_uplift_7d"] == pytest.approx(3 / 5 - 1)  # -0.4


def test_growth_simulated_and_limits_and_as_of(
    api_dataset: ApiDataset, api_server: Callable[..., Any]
) -> None:
    later = AS_OF + timedelta(days=1)
    with api_server() as base, httpx.Client(base_url=base) as http:
        sim = http.get("/api/growth", params={"as_of": _iso(AS_OF), "simulated": "true"}).json()
        top1 = http.get("/api/growth", params={"as_of": _iso(AS_OF), "limit": 1}).json()
        nxt = http.get("/api/growth", params={"as_of": _iso(later)}).json()
        now = http.get("/api/growth").json()
    assert_same(sim, expected_growth(api_dataset, AS_OF, simulated=True, limit=5))
    assert sim["top_posts_by_follows"][0]["tweet_id"] == "1000101"
    assert sim["followers_today"] == sim["followers_7d"] == 5000 - 4000  # simulated snapshots only
    assert_same(top1, expected_growth(api_dataset, AS_OF, simulated=False, limit=1))
    assert_same(nxt, expected_growth(api_dataset, later, simulated=False, limit=5))
    # a day later posts 1 (2000 impressions, 9 follows, 90+9+30 engagements) and 2 (1500, 5, 30+6+3) are
    # mature, post 4 has left the window; the week before is posts 6 and 7 (1000 + 500 impressions, 2 + 3
    # replies). Pooled by hand: FPKI 1000·14/3500 = 4 (the mean of per-post FPKI would be 3.91667), ER
    # 168/3500 = 0.048, reply uplift (33/3500)/(5/1500) - 1 = 64/35
    assert nxt["fpki_avg_7d"] == pytest.approx(4.0)
    assert nxt["engagement_summary"]["avg_er_7d"] == pytest.approx(0.048)
    assert nxt["reply_uplift_7d"] == pytest.approx(64 / 35)
    # default as_of is now: the whole seed lies weeks in the past
    assert now["engagement_summary"]["total_posts_7d"] == 0
    assert now["fpki_avg_7d"] is None and now["top_posts_by_follows"] == []


def test_learning_status_every_field(api_dataset: ApiDataset, api_server: Callable[..., Any]) -> None:
    with api_server() as base, httpx.Client(base_url=base) as http:
        real = http.get("/api/learning/status").json()
        sim = http.get("/api/learning/status", params={"simulated": True}).json()
    for got, simulated in ((real, False), (sim, True)):
        arms = sorted(
            (a for a in api_dataset.arms if a["simulated"] == simulated), key=lambda a: (a["scope"], a["arm"])
        )
        runs = sorted((r for r in api_dataset.runs if r["simulated"] == simulated), key=lambda r: r["ran_at"])
        trained = [r for r in runs if r["status"] == "trained"]
        assert_same(
            got["arms"],
            [
                {
                    "name": a["arm"],
                    "scope": a["scope"],
                    "successes": a["successes"],
                    "failures": a["failures"],
                    "sample_count": a["pulls"],
                    "mean_reward": a["sum_reward"] / a["pulls"] if a["pulls"] else None,
                    "posterior_mean": a["alpha"] / (a["alpha"] + a["beta"]),
                    "ci_width": float(
                        beta_dist.ppf(0.975, a["alpha"], a["beta"])
                        - beta_dist.ppf(0.025, a["alpha"], a["beta"])
                    ),
                }
                for a in arms
            ],
        )
        for g, a in zip(got["arms"], arms, strict=True):
            assert datetime.fromisoformat(g["last_updated"]) == a["updated_at"]
        assert got["exploreRate"] == runs[-1]["explore_ratio"]
        assert got["predictorVersion"] == trained[-1]["reward_version"]
        last = got["lastTrainingRun"]
        assert {
            k: last[k]
            for k in (
                "run_id",
                "status",
                "reward_version",
                "outcomes_used",
                "arms_trained",
                "explore_ratio",
                "message",
            )
        } == {
            k: runs[-1][k]
            for k in (
                "run_id",
                "status",
                "reward_version",
                "outcomes_used",
                "arms_trained",
                "explore_ratio",
                "message",
            )
        }
        assert datetime.fromisoformat(last["ran_at"]) == runs[-1]["ran_at"]
        # the drift alarm of the latest trained run, as its own field (the latest real run checked nothing)
        drift = trained[-1]["drift"]
        assert got["driftAlarm"] == {
            "runId": trained[-1]["run_id"],
            "raised": bool(drift["arms"]),
            "recentDays": drift["recent_days"],
            "minPosts": drift["min_posts"],
            "zAlarm": drift["z_alarm"],
            "arms": drift["arms"],
        }
    # hand-pinned: Beta(1, 1) is uniform, its central 95 % interval is [0.025, 0.975]
    assert [a["ci_width"] for a in real["arms"] if a["name"] == "story"] == [pytest.approx(0.95)]
    assert real["predictorVersion"] == 2 and real["exploreRate"] == 0.12 and real["activeRewardVersion"] == 1
    assert sim["predictorVersion"] == 1 and sim["exploreRate"] == 0.05
    assert real["driftAlarm"]["raised"] and real["driftAlarm"]["arms"][1]["z"] is None
    assert real["driftAlarm"]["zAlarm"] == 2.5 and not sim["driftAlarm"]["raised"]
    ok = {o["decision_id"]: o["simulated"] for o in api_dataset.outcomes if o["status"] == "ok"}
    for got in (real, sim):
        assert got["totalOutcomes"] == len(ok) == 10
        assert got["realOutcomes"] == sum(1 for s in ok.values() if not s) == 8
    for got, simulated in ((real, False), (sim, True)):
        passes = [o for o in api_dataset.outcomes if o["status"] == "ok" and o["simulated"] == simulated]
        lacking = [o for o in passes if o["missing_metrics"]]
        assert got["incompletePasses"] == len(lacking)
        assert got["incompleteShare"] == pytest.approx(len(lacking) / len(passes))
    assert real["incompletePasses"] > 0  # the seed holds passes without follows
    today = next(d for d in api_dataset.budget_days if d["budget_day"] == datetime.now(UTC).date())
    want_budget = {
        "day": today["budget_day"].isoformat(),
        "dailyLimit": float(today["limit_usd"]),
        "used": float(today["used_usd"]),
        "reserved": float(today["reserved_usd"]),
        "remaining": float(today["limit_usd"] - today["used_usd"] - today["reserved_usd"]),
        "circuitOpen": today["circuit_open"],
    }
    assert_same(real["budgetStatus"], want_budget)
    assert real["budgetStatus"]["remaining"] == pytest.approx(2.25)


def test_learning_status_with_nothing_yet(
    api_settings: Callable[..., Any], api_server: Callable[..., Any]
) -> None:
    """A fresh install (no account row, no runs, no budget day): nulls and the configured budget, no error."""
    with api_server(llm_daily_budget_usd=3.5) as base, httpx.Client(base_url=base) as http:
        got = http.get("/api/learning/status").json()
        growth = http.get("/api/growth").json()
        ops = http.get("/api/metrics").json()
    assert got["arms"] == [] and got["exploreRate"] is None and got["lastTrainingRun"] is None
    assert got["driftAlarm"] is None
    assert got["predictorVersion"] is None and got["totalOutcomes"] == 0 and got["realOutcomes"] == 0
    assert got["incompletePasses"] == 0 and got["incompleteShare"] is None
    assert got["budgetStatus"] | {"day": None} == {
        "day": None,
        "dailyLimit": 3.5,
        "used": 0.0,
        "reserved": 0.0,
        "remaining": 3.5,
        "circuitOpen": False,
    }
    assert growth["followers_today"] is None and growth["engagement_summary"]["total_impressions_7d"] is None
    assert ops["posts"] == dict.fromkeys(("queued", "posting", "posted", "failed", "skipped"), 0)


def expected_ops(ds: ApiDataset, simulated: bool) -> dict[str, Any]:
    decisions = [
        {"status": "posted", "skip_reason": None, "last_error": None, "simulated": p["simulated"]}
        for p in ds.posts
    ] + ds.others
    mine = [d for d in decisions if d["simulated"] == simulated]
    outs = [o for o in ds.outcomes if o["simulated"] == simulated]
    today = datetime.now(UTC).date()
    usage = [u for u in ds.usage if u["budget_day"] == today]
    errors = Counter(d["last_error"] for d in mine if d["last_error"] is not None)
    return {
        "posts": {
            s: sum(1 for d in mine if d["status"] == s)
            for s in ("queued", "posting", "posted", "failed", "skipped")
        },
        "outcomes_by_pass": {
            str(p): sum(1 for o in outs if o["collected_pass"] == p and o["status"] == "ok") for p in (1, 2)
        },
        "outcomes_unavailable_by_pass": {
            str(p): sum(1 for o in outs if o["collected_pass"] == p and o["status"] == "unavailable")
            for p in (1, 2)
        },
        "llm_day": today.isoformat(),
        "llm_calls_today": len(usage),
        "llm_cost_usd_today": float(sum(u["cost_usd"] or 0 for u in usage)),
        "llm_tokens_today": sum((u["prompt_tokens"] or 0) + (u["completion_tokens"] or 0) for u in usage),
        "skip_reasons": dict(Counter(d["skip_reason"] for d in mine if d["status"] == "skipped")),
        "posting_errors_total": sum(errors.values()),
        "posting_errors": [
            {"error": e, "count": n} for e, n in sorted(errors.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
    }


def test_metrics_json_and_prometheus(api_dataset: ApiDataset, api_server: Callable[..., Any]) -> None:
    with api_server() as base, httpx.Client(base_url=base) as http:
        real = http.get("/api/metrics").json()
        sim = http.get("/api/metrics", params={"simulated": "true"}).json()
        prom = http.get("/metrics")
    want_real, want_sim = expected_ops(api_dataset, False), expected_ops(api_dataset, True)
    assert_same(real, want_real)
    assert_same(sim, want_sim)
    assert real["posts"] == {"queued": 3, "posting": 0, "posted": 9, "failed": 2, "skipped": 3}
    assert real["llm_calls_by_status"]["succeeded"] == 2 and real["llm_cost_usd_today"] == pytest.approx(1.25)

    assert prom.status_code == 200 and prom.headers["content-type"].startswith("text/plain")
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for fam in text_string_to_metric_families(prom.text)
        for s in fam.samples
    }
    for sim_label, want in (("false", want_real), ("true", want_sim)):
        for st, n in want["posts"].items():
            assert samples[("xbot_posts", (("simulated", sim_label), ("status", st)))] == n
        for p, n in want["outcomes_by_pass"].items():
            assert samples[("xbot_outcomes", (("pass", p), ("simulated", sim_label), ("status", "ok")))] == n
        for reason, n in want["skip_reasons"].items():
            assert samples[("xbot_skipped_posts", (("reason", reason), ("simulated", sim_label)))] == n
        assert samples[("xbot_posting_errors", (("simulated", sim_label),))] == want["posting_errors_total"]
    assert samples[("xbot_llm_cost_usd_today", ())] == pytest.approx(want_real["llm_cost_usd_today"])
    assert samples[("xbot_llm_tokens_today", ())] == want_real["llm_tokens_today"]
    assert samples[("xbot_llm_calls_today", (("status", "failed"),))] == 1


def test_health(api_dataset: ApiDataset, api_server: Callable[..., Any]) -> None:
    with api_server(mode="shadow") as base, httpx.Client(base_url=base) as http:
        got = http.get("/health").json()
    assert got == {
        "status": "ok",
        "database_reachable": True,
        "schema_version": got["schema_version"],
        "mode": "shadow",
        "kill_switch": True,
        "kill_switch_reason": "seeded stop",
        "error": None,
    }
    from xbot_core.adapters.db.migrations import discover

    assert got["schema_version"] == max(m.version for m in discover())


def test_health_reports_unreachable_database(api_server: Callable[..., Any], tmp_path: Any) -> None:
    dead = f"postgresql://postgres@/postgres?host={tmp_path}&connect_timeout=1"
    with api_server(database_url=dead) as base, httpx.Client(base_url=base, timeout=30) as http:
        health = http.get("/health")
        growth = http.get("/api/growth")
    assert health.status_code == 503
    assert health.json()["database_reachable"] is False and health.json()["kill_switch"] is None
    assert growth.status_code == 503 and growth.json() == {"detail": "database unavailable"}


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"as_of": "yesterday"}, "as_of"),
        ({"as_of": "2026-01-06T12:00:00"}, "as_of"),  # no offset: ambiguous instant
        ({"as_of": "1767700800"}, "as_of"),  # a Unix timestamp is not a date-time here
        ({"as_of": "6.358809206474341e-90"}, "as_of"),  # nor in exponent form (found by the API fuzz test)
        ({"asof": "2026-01-06T12:00:00Z"}, "asof"),  # misspelt: named, not silently ignored
        ({"limit": 0}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"simulated": "perhaps"}, "simulated"),
    ],
)
def test_bad_parameters_are_422_naming_the_parameter(
    api_settings: Callable[..., Any], api_server: Callable[..., Any], params: dict[str, Any], name: str
) -> None:
    with api_server() as base, httpx.Client(base_url=base) as http:
        r = http.get("/api/growth", params=params)
    assert r.status_code == 422
    body = r.json()
    assert f"'{name}'" in body["message"]
    assert body["detail"][0]["loc"] == ["query", name]


def test_unmigrated_database_is_503_not_500(server_url: str, api_server: Callable[..., Any]) -> None:
    import psycopg
    from psycopg import sql

    name = "xbot_api_unmigrated"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    info = psycopg.conninfo.conninfo_to_dict(server_url) | {"dbname": name}
    try:
        with (
            api_server(database_url=psycopg.conninfo.make_conninfo(**info)) as base,  # type: ignore[arg-type]
            httpx.Client(base_url=base) as http,
        ):
            health, growth = http.get("/health"), http.get("/api/growth")
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    assert health.status_code == 503 and health.json()["schema_version"] == 0
    assert health.json()["database_reachable"] is True
    assert growth.status_code == 503 and "not migrated" in growth.json()["detail"]
