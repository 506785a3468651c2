"""The data of the history report: an account's imported posts with their features and the per-feature table
(domain.history_analysis). Notebooks and the CLI call this; it holds no statistics of its own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import polars as pl

from xbot_core.domain.history_analysis import (
    LABELLED_BY_LLM,
    LABELLED_BY_RULES,
    HistoryAnalysisConfig,
    Labeller,
    content_labeller,
    history_table,
    read_growth,
    surrogates,
    trend,
    with_features,
)
from xbot_core.domain.history_power import STATUS_OK as POWER_OK
from xbot_core.domain.history_power import posts_needed_table
from xbot_core.services.read import analytics
from xbot_core.services.reporting.report_tables import DASH, _missing, pvalue


@dataclass(frozen=True)
class HistoryData:
    """The posts (one row per post, latest read, with FEATURES columns) and the table of comparisons."""

    handle: str
    timezone: str
    posts: pl.DataFrame
    table: pl.DataFrame
    trend: pl.DataFrame
    growth: pl.DataFrame
    power: pl.DataFrame  # domain.history_power.posts_needed_table of the posts
    labeller: Labeller  # who labelled the original posts' content types (LLM, rules or mixed)


def load_history(
    url: str,
    handle: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    config: HistoryAnalysisConfig | None = None,
) -> HistoryData:
    """Read the account's imported posts in [since, until) (default: all) and analyse them."""
    posts = analytics.load_sql(
        url,
        analytics.analytics_sql("imported_history"),
        {
            "handle": handle,
            "since": since or datetime(1970, 1, 1, tzinfo=UTC),
            "until": until or datetime(9999, 1, 1, tzinfo=UTC),
        },
    )
    tz = str(posts["timezone"][0]) if posts.height else "UTC"
    if posts.height:
        labels = analytics.load_sql(url, analytics.analytics_sql("content_type_labels"))
        llm = dict(labels.select("text_hash", "content_type").iter_rows())
        posts = with_features(posts.drop("timezone"), tz, llm)
    else:
        posts = posts.drop("timezone")
    table = history_table(posts, config) if posts.height else pl.DataFrame()
    reads = analytics.load_sql(url, analytics.analytics_sql("imported_reads"), {"handle": handle})
    if posts.height:
        reads = reads.join(posts.select("tweet_id"), on="tweet_id", how="semi")
    return HistoryData(
        handle=handle,
        timezone=tz,
        posts=posts,
        table=table,
        trend=trend(posts, "1mo"),
        growth=read_growth(reads) if posts.height else pl.DataFrame(),
        power=posts_needed_table(posts) if posts.height else pl.DataFrame(),
        labeller=content_labeller(posts) if posts.height else Labeller(LABELLED_BY_RULES, 0, 0),
    )


METRIC_LABELS = {
    "follows_per_1k": ("follows per 1,000 impressions", "{:.3f}"),
    "profile_visit_rate": ("profile visits per impression", "{:.4%}"),
    "engagement_rate": ("engagement rate (likes + reposts + replies)", "{:.3%}"),
}


def markdown_table(frame: pl.DataFrame) -> str:
    """A frame of strings and numbers as a Markdown table (the notebook's formatted tables); a missing or
    non-finite value is an em dash, never an empty cell or 'nan'."""
    if frame.height == 0:
        return "_none_"
    head = "| " + " | ".join(frame.columns) + " |\n|" + "---|" * frame.width + "\n"
    body = "".join(
        "| "
        + " | ".join(DASH if _missing(v) else str(v).replace("|", "\\|").replace("\n", " ") for v in row)
        + " |\n"
        for row in frame.iter_rows()
    )
    return head + body


def _fmt(template: str, value: float | None) -> str:
    return DASH if _missing(value) else template.format(value)


def comparisons(table: pl.DataFrame, metric: str) -> pl.DataFrame:
    """One metric's comparisons with enough data, most convincing first, formatted for reading."""
    if table.height == 0:
        return pl.DataFrame()
    _, fmt = METRIC_LABELS[metric]
    ok = table.filter((pl.col("metric") == metric) & (pl.col("status") == "ok")).sort("q_value")
    return pl.DataFrame(
        {
            "feature": ok["feature"],
            "level": ok["level"],
            "posts": ok["posts"],
            # a rate is never negative: the delta-method interval is cut at 0 (its coverage stays the same)
            "rate (95% CI)": [
                f"{_fmt(fmt, r)} ({_fmt(fmt, None if _missing(lo) else max(lo, 0.0))} – {_fmt(fmt, hi)})"
                for r, lo, hi in ok.select("rate", "ci_low", "ci_high").iter_rows()
            ],
            "vs the other posts": [_fmt("{:+.0%}", lift) for lift in ok["lift_vs_rest"]],
            "q (BH)": [pvalue(q) for q in ok["q_value"]],  # '< 0.001', never '0.000'
        }
    )


def not_enough(table: pl.DataFrame, metric: str) -> pl.DataFrame:
    """The levels of one metric that have too little data to compare (said, never ranked)."""
    if table.height == 0:
        return pl.DataFrame()
    rows = table.filter((pl.col("metric") == metric) & (pl.col("status") != "ok"))
    return rows.group_by("feature", maintain_order=True).agg(
        pl.col("level").str.join(", ").alias("levels"), pl.col("posts").sum().alias("posts")
    )


def top_posts(posts: pl.DataFrame, n: int = 5, *, best: bool = True) -> pl.DataFrame:
    """The n posts with the most (or fewest) impressions, text shortened."""
    if posts.height == 0:
        return pl.DataFrame()
    picked = posts.sort("impressions", descending=best).head(n)
    return pl.DataFrame(
        {
            "posted": [
                p.strftime("%Y-%m-%d %H:%M" if k else "%Y-%m-%d")
                for p, k in picked.select("posted_at", "time_known").iter_rows()
            ],
            "impressions": [f"{v:,}" for v in picked["impressions"]],
            "likes": picked["likes"],
            "follows": picked["follows"],
            "text": [t[:90] + ("…" if len(t) > 90 else "") for t in picked["text"]],
        }
    )


def summary_markdown(data: HistoryData) -> str:
    """One paragraph: how much history there is and its pooled rates."""
    p = data.posts
    if p.height == 0:
        return (
            f"**@{data.handle}**: no imported posts in this window (`xbot import x-analytics … --account`)."
        )
    impressions = int(p["impressions"].sum())
    follows = p["follows"].drop_nulls()
    fpk = 1000 * follows.sum() / impressions if follows.len() and impressions else None
    fpk_text = f"{fpk:.3f} follows per 1,000 impressions" if fpk is not None else "no follows column"
    known = int(p["time_known"].sum())
    median, top = float(p["impressions"].median() or 0), float(p["impressions"].max() or 0)  # type: ignore[arg-type]
    first, last, latest = (str(v) for v in (p["posted_at"].min(), p["posted_at"].max(), p["as_of"].max()))
    return (
        f"**@{data.handle}**: {p.height:,} posts ({int(p['is_reply'].sum()):,} replies) from "
        f"{first[:10]} to {last[:10]}; {impressions:,} impressions (median {median:,.0f} per post, "
        f"max {top:,.0f}); {fpk_text}; time of day known for {known:,} posts (time zone {data.timezone}); "
        f"latest read {latest}."
    )


def labeller_markdown(data: HistoryData) -> str:
    """Which labeller gave the original posts their content types (LLM, rules or mixed, with counts), and
    where the LLM spoke, its labels beside the rules' (how often they agree)."""
    lab, p = data.labeller, data.posts
    if p.height == 0:
        return ""
    replies = (
        " Replies keep the rules' label (the LLM labels original posts only)." if p["is_reply"].any() else ""
    )
    if lab.kind == LABELLED_BY_RULES:
        return (
            f"**Content types: rules** for all {lab.rules:,} original posts (no LLM labels cached; "
            "`xbot import x-analytics … --classify llm` labels them through the LLM)." + replies
        )
    head = (
        f"**Content types: LLM** (`--classify llm`) for all {lab.llm:,} original posts."
        if lab.kind == LABELLED_BY_LLM
        else f"**Content types: mixed**: LLM (`--classify llm`) for {lab.llm:,} original posts, rules for "
        f"{lab.rules:,} (texts the LLM has not labelled, or answered outside the catalog)."
    )
    pairs = (
        p.filter(pl.col("content_type_by") == LABELLED_BY_LLM)
        .group_by("content_type", "rules_content_type")
        .len()
        .sort(["len", "content_type", "rules_content_type"], descending=[True, False, False])
    )
    agree = int(pairs.filter(pl.col("content_type") == pl.col("rules_content_type"))["len"].sum())
    table = pl.DataFrame(
        {
            "LLM label": pairs["content_type"],
            "rules' label": pairs["rules_content_type"],
            "posts": pairs["len"],
        }
    )
    return f"{head}{replies} The rules agree with the LLM on {agree:,} of {lab.llm:,}.\n\n" + markdown_table(
        table
    )


def trend_table(data: HistoryData) -> pl.DataFrame:
    """The monthly trend, formatted."""
    t = data.trend
    if t.height == 0:
        return pl.DataFrame()

    def fmt(v: float | None, spec: str) -> str:
        return "n/a" if v is None else format(v, spec)

    return pl.DataFrame(
        {
            "month": [str(p)[:7] for p in t["period"]],
            "posts": t["posts"],
            "impressions per post": [fmt(v, ",.0f") for v in t["impressions_per_post"]],
            "follows per 1,000": [fmt(v, ".3f") for v in t["follows_per_1k"]],
            "profile visit rate": [fmt(v, ".3%") for v in t["profile_visit_rate"]],
            "engagement rate": [fmt(v, ".3%") for v in t["engagement_rate"]],
        }
    )


def growth_markdown(data: HistoryData, n: int = 5) -> str:
    """Export-to-export growth, or a plain sentence when every post was read once."""
    g = data.growth
    if g.height == 0:
        return "Every post has a single read (one export per post): no growth between exports to show yet."
    top = g.head(n)
    table = pl.DataFrame(
        {
            "post": top["tweet_id"],
            "reads": top["reads"],
            "from": [f"{a} ({b:,})" for a, b in top.select("first_as_of", "first_impressions").iter_rows()],
            "to": [f"{a} ({b:,})" for a, b in top.select("latest_as_of", "latest_impressions").iter_rows()],
            "impressions gained": [f"{v:+,}" for v in top["impressions_growth"]],
        }
    )
    return f"{g.height:,} posts were read more than once.\n\n" + markdown_table(table)


def surrogate_markdown(data: HistoryData) -> str:
    """Follows are rare: how well profile visits and likes per impression rank posts like follows do."""
    if data.posts.height == 0:
        return "_no posts_"
    s = surrogates(data.posts)
    table = pl.DataFrame(
        {
            "surrogate (per impression)": s["surrogate"].str.replace("_", " "),
            "posts": s["posts"],
            "Spearman ρ with follows per impression": [
                "not enough data" if v is None else f"{v:+.2f}" for v in s["spearman_rho"]
            ],
        }
    )
    follows = int(data.posts["follows"].drop_nulls().sum())
    return f"{follows:,} follows over {data.posts.height:,} posts.\n\n" + markdown_table(table)


def power_markdown(data: HistoryData) -> str:
    """Per reward term: posts per arm to tell two arms apart (+50 %, +100 % relative difference, 80 % power,
    two-sided 5 %) at the account's own rate and spread; "not enough data" and what is missing otherwise."""
    p = data.power
    if p.height == 0:
        return "_no posts_"
    lifts = sorted(set(p["lift"].to_list()))
    rows: dict[str, list[object]] = {"reward term": [], "posts": [], "rate": [], "per-post CV": []}
    for lift in lifts:
        rows[f"posts per arm for {lift:+.0%}"] = []
    notes: list[str] = []
    for metric, group in p.group_by("metric", maintain_order=True):
        first = group.row(0, named=True)
        label, fmt = METRIC_LABELS[str(metric[0])]
        rows["reward term"].append(label)
        rows["posts"].append(f"{first['posts']:,}")
        rows["rate"].append("n/a" if first["rate"] != first["rate"] else fmt.format(first["rate"]))
        ok = first["status"] == POWER_OK
        rows["per-post CV"].append(f"{first['cv']:.2f}" if ok else "not enough data")
        for lift in lifts:
            need = group.filter(pl.col("lift") == lift)["posts_per_arm"][0]
            rows[f"posts per arm for {lift:+.0%}"].append(f"{need:,}" if ok else "not enough data")
        if not ok:
            notes.append(f"- {label}: {first['message']}")
    text = markdown_table(pl.DataFrame(rows))
    return text + ("\n\n" + "\n".join(notes) if notes else "")
