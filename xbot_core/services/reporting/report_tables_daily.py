"""The daily report's tables for people (great_tables, see report_tables): provisional figures labelled."""

from __future__ import annotations

from great_tables import GT

from xbot_core.services.reporting.report_daily import DailyReport
from xbot_core.services.reporting.report_tables import count, num, pct, table, when

PROVISIONAL = "provisional"
PROVISIONAL_NOTE = (
    "Provisional: computed from the mature posts only (T+24h metrics stored); other posts of the period are "
    "still maturing and the figure will change when their T+24h pass is stored (see 'Mature data')."
)
_KPI_FORMAT = {  # by metric-name prefix, first match wins
    "followers gained": lambda v: "—" if v is None else f"{v:+,.0f}",
    "followers": count,
    "FPKI": lambda v: num(v, 2),
    "reply rate": lambda v: pct(v, 2),
    "reply uplift": lambda v: pct(v, 0, signed=True),
    "novelty": lambda v: num(v, 2),
    "posts": count,
    "incomplete passes": count,
    "incomplete share": lambda v: pct(v, 1),
}


def _kpi(metric: str, value: float | None) -> str:
    for prefix, fmt in _KPI_FORMAT.items():
        if metric.startswith(prefix):
            return fmt(value)
    return num(value)


def kpi_table(report: DailyReport) -> GT:
    rows = [
        {
            "metric": r["metric"],
            "value": _kpi(r["metric"], r["value"]),
            "": PROVISIONAL if r["provisional"] else "",
        }
        for r in report.kpis.iter_rows(named=True)
    ]
    return table(rows, f"Key figures, {report.day}", [PROVISIONAL_NOTE])


def maturity_table(report: DailyReport) -> GT:
    rows = [
        {
            "period": r["period"],
            "posts": count(r["posts"]),
            "mature (T+24h stored)": count(r["mature"]),
            "still maturing": count(r["maturing"]),
            "all mature by": when(r["mature_by"]),
        }
        for r in report.maturity.iter_rows(named=True)
    ]
    return table(rows, "Mature data", ["A post matures when its T+24h metrics are stored."])


def top_posts_table(report: DailyReport) -> GT:
    rows = [
        {
            "posted": when(r["posted_at"]),
            "post": r["excerpt"] or "—",
            "arms": f"{r['content_type']} · {r['hook_pattern']} · {r['timing_slot']}",
            "impressions": count(r["impressions"]),
            "follows": count(r["follows"]),
            "FPKI": num(r["fpki"], 2),
            "reward": num(r["reward"]),
        }
        for r in report.top_posts.iter_rows(named=True)
    ]
    return table(rows, "Top posts by follows", empty="no measured posts in this window")


def engagement_table(report: DailyReport) -> GT:
    provisional = dict(zip(report.maturity["period"], report.maturity["maturing"], strict=True))
    rows = [
        {
            "period": r["period"],
            "posts (mature)": f"{count(r['posts'])} ({count(r['mature'])})",
            "impressions": count(r["impressions"]),
            "engagements": count(r["engagements"]),
            "follows": count(r["follows"]),
            "ER": pct(r["ER"], 2),
            "FPKI": num(r["FPKI"], 2),
            "reply rate": pct(r["reply rate"], 2),
            "weighted reward": num(r["weighted reward"]),
            "": PROVISIONAL if provisional.get(r["period"]) else "",
        }
        for r in report.engagement.iter_rows(named=True)
    ]
    return table(
        rows,
        "Engagement (mature posts)",
        [PROVISIONAL_NOTE, "Sums and ratio metrics (ratios of sums) over the mature posts of the period."],
    )


def money(x: float | None) -> str:
    return "—" if x is None else f"${x:,.2f}"


def budget_table(report: DailyReport) -> GT:
    day = report.budget.filter(report.budget["budget_day"] == report.day)
    rows = [
        {
            "day": str(r["budget_day"]),
            "limit": money(r["limit_usd"]),
            "used": money(r["used_usd"]),
            "reserved": money(r["reserved_usd"]),
            "calls (succeeded)": f"{count(r['calls'])} ({count(r['succeeded'])})",
            "tokens in / out": f"{count(r['prompt_tokens'])} / {count(r['completion_tokens'])}",
            "circuit": f"open: {r['circuit_reason']}" if r["circuit_open"] else "closed",
        }
        for r in day.iter_rows(named=True)
    ]
    return table(rows, "LLM budget (workspace)", empty="no LLM budget day recorded for this date")


def learning_table(report: DailyReport) -> GT:
    rows = [
        {
            "ran at": when(r["ran_at"]),
            "status": r["status"],
            "reward version": count(r["reward_version"]),
            "outcomes used": count(r["outcomes_used"]),
            "arms trained": count(r["arms_trained"]),
            "explore ratio": pct(r["explore_ratio"]),
            "message": r["message"] or "—",
        }
        for r in report.learning.iter_rows(named=True)
    ]
    return table(rows, "Learning runs", empty="no learning run yet")
