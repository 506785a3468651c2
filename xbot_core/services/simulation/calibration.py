"""`xbot sandbox calibrate`: the sandbox's audience file with its scale parameters fitted to an account's real
imported history (domain/audience_fit.py), everything else — arms, ground truth, hour and weekday shapes,
accrual — kept from the template.

Each real post is perceived as the calibrated sandbox would perceive it (arms by the history rules, hour and
weekday when the export gives a time), so its multipliers are divided out before the fit; a day-only post's
hour is unknown, so its multipliers are the geometric mean over the 24 hours (what a uniformly random hour
gives on the log scale). The reach is fitted as a level: exports carry no follower counts, so `per_follower`
is written as 0.
"""

from __future__ import annotations

import math
import re
import textwrap
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import psycopg

from xbot_core.domain.audience_fit import RATE_SOURCES, AudienceFit, FitConfig, PostSample, fit_audience
from xbot_core.domain.catalog import ArmCatalog, slot_of_hour
from xbot_core.domain.history_arms import history_arms
from xbot_core.errors import ConfigError
from xbot_core.sandbox.audience import Perceived, expected_rates, expected_reach
from xbot_core.sandbox.config import AUDIENCE_FILE, AudienceConfig, load_audience_config
from xbot_core.services.operations.classify import cached_labels
from xbot_core.services.read import analytics

# the sandbox's per-metric rate multipliers (sandbox/audience.py) under each rate key of the fit
_RATE_METRIC = {
    "like": "likes",
    "retweet": "retweets",
    "reply": "replies",
    "bookmark": "bookmarks",
    "profile_visit": "profile_visits",
    "link_click": "link_clicks",
    "follow": "new_follows",
}
_COLUMNS = {"retweets": "reposts", "link_clicks": "url_clicks"}  # fit column → imported_posts column


# what an export cannot tell, said in the file and the command's output instead of a number invented for it
NOT_FROM_EXPORTS = (
    "kept from the template, not fitted: the accrual curve (the share visible at T+1h: an export holds one "
    "cumulative read per post per export day, never the hours after posting), the per-post rate noise "
    "rate_sigma, and the hour/weekday shapes"
)


@dataclass(frozen=True)
class Calibration:
    """The fit, the file written and the template it was written from."""

    handle: str
    fit: AudienceFit
    path: Path
    template: Path
    latest_read: date

    @property
    def message(self) -> str:
        f = self.fit
        fpki = "n/a" if f.follows_per_1k is None else f"{f.follows_per_1k:.4f}"
        return (
            f"calibrated from @{self.handle}: {f.posts} posts ({f.replies} replies, "
            f"share {f.reply_share:.0%}); "
            f"fit on {f.used} posts: median impressions {f.base_impressions:.1f} (neutral post), "
            f"sigma {f.sigma:.3f}, follows per 1,000 impressions {fpki}; {NOT_FROM_EXPORTS}; "
            f"wrote {self.path}"
        )


def perceptions(
    config: AudienceConfig,
    text: str,
    posted_at: datetime,
    time_known: bool,
    tz: str,
    label: str | None = None,
) -> list[Perceived]:
    """How the sandbox would perceive a real post: one perception when its time is known, one per local hour
    of its day when the export gave a day only. Unknown arms are None (neutral); `label` is an LLM's content
    type (`--classify llm`), which wins over the rules."""
    catalog = ArmCatalog()
    arms = history_arms(text, posted_at, time_known, tz)
    content_label = label or arms.content_type
    content = content_label if content_label in catalog.arms("content_type") else None
    hook = arms.hook_pattern if arms.hook_pattern in catalog.arms("hook_pattern") else None
    local = posted_at.astimezone(ZoneInfo(tz))
    if time_known:
        slot = arms.timing_slot if arms.timing_slot in catalog.arms("timing_slot") else None
        return [Perceived(content, hook, slot, local.hour, local.weekday())]
    return [Perceived(content, hook, slot_of_hour(h), h, local.weekday()) for h in range(24)]


def multipliers(config: AudienceConfig, seen: list[Perceived]) -> tuple[float, dict[str, float]]:
    """The reach multiplier and each rate key's multiplier of a post (geometric means over perceptions)."""
    unit = config.model_copy(
        update={
            "reach": config.reach.model_copy(update={"base_impressions": 1.0, "per_follower": 0.0}),
            "rates": config.rates.model_copy(update=dict.fromkeys(_RATE_METRIC, 1.0)),
        }
    )

    def geo(values: list[float]) -> float:
        return math.exp(sum(math.log(v) for v in values) / len(values))

    reach = geo([expected_reach(unit, p, 0) for p in seen])
    rate_list = [expected_rates(unit, p) for p in seen]
    return reach, {key: geo([r[metric] for r in rate_list]) for key, metric in _RATE_METRIC.items()}


def samples(
    config: AudienceConfig, posts: pl.DataFrame, tz: str, labels: dict[str, str] | None = None
) -> list[PostSample]:
    """The fit's input from imported posts (columns of sql/analytics/imported_history.sql)."""
    out = []
    labels = labels or {}
    for row in posts.iter_rows(named=True):
        seen = perceptions(
            config, row["text"], row["posted_at"], row["time_known"], tz, labels.get(row["text"])
        )
        reach, rate_mult = multipliers(config, seen)
        counts = {column: row[_COLUMNS.get(column, column)] for _, column in RATE_SOURCES}
        out.append(PostSample(int(row["impressions"]), counts, bool(row["is_reply"]), reach, rate_mult))
    return out


def load_posts(url: str, handle: str) -> tuple[pl.DataFrame, str]:
    """The account's imported posts (latest read each) and its time zone; ConfigError when it has none."""
    posts = analytics.load_sql(
        url,
        analytics.analytics_sql("imported_history"),
        {
            "handle": handle,
            "since": datetime(1970, 1, 1, tzinfo=UTC),
            "until": datetime(9999, 1, 1, tzinfo=UTC),
        },
    )
    if posts.height == 0:
        raise ConfigError(
            f"no imported history for account {handle!r}: "
            f"run `xbot import x-analytics PATH --account {handle}`"
        )
    return posts.drop("timezone"), str(posts["timezone"][0])


def _fmt(value: float) -> str:
    return f"{value:.6g}" if value >= 1e-4 or value == 0 else f"{value:.4e}"


def render(template_text: str, handle: str, fit: AudienceFit, latest_read: date, template: Path) -> str:
    """The template's text with the fitted values in [reach] and [rates] and a [calibration] section."""
    values = {
        ("reach", "base_impressions"): (
            fit.base_impressions,
            "fitted: exp(mean ln(impressions / multipliers))",
        ),
        ("reach", "per_follower"): (0.0, "exports carry no follower counts: reach is fitted as a level"),
        ("reach", "sigma"): (fit.sigma, "fitted: sd of ln(impressions / multipliers)"),
    }
    for name, rate in fit.rates.items():
        values[("rates", name)] = (rate, f"fitted: pooled over {fit.rate_posts[name]} posts")
    section = ""
    lines = []
    for line in template_text.splitlines():
        head = re.match(r"^\[([^\]]+)\]", line)
        if head:
            section = head.group(1)
        key = re.match(r"^(\s*)([A-Za-z_]+)(\s*=\s*)", line)
        if key and (section, key.group(2)) in values:
            value, note = values[(section, key.group(2))]
            line = f"{key.group(1)}{key.group(2)}{key.group(3)}{_fmt(value)}  # {note}"
        lines.append(line)
    kept = [k for k, _ in RATE_SOURCES if k not in fit.rates] + ["quote"]
    header = (
        f"# Calibrated by `xbot sandbox calibrate` from @{handle}'s imported history\n"
        f"# (latest read {latest_read}) on the template {template.name}: the scale parameters below are\n"
        "# fitted (see their comments); arms, ground truth and the account section are the template's.\n"
        + "".join(
            f"# {line}\n"
            for line in textwrap.wrap(NOT_FROM_EXPORTS[0].upper() + NOT_FROM_EXPORTS[1:] + ".", 105)
        )
    )
    fpki = "" if fit.follows_per_1k is None else f"follows_per_1k = {_fmt(fit.follows_per_1k)}\n"
    calibration = (
        "\n[calibration]\n"
        f'source_account = "{handle}"\n'
        f"latest_read = {latest_read.isoformat()}\n"
        f"posts = {fit.posts}\n"
        f"replies = {fit.replies}\n"
        f"reply_share = {fit.reply_share:.6g}\n"
        f"fitted_posts = {fit.used}\n"
        f"zero_impression_posts = {fit.zero_impressions}\n"
        f"{fpki}"
        f"fitted = {sorted(['base_impressions', 'sigma', *fit.rates])!r}\n"
        f"kept_from_template = {sorted(kept)!r}\n"
    ).replace("'", '"')
    return header + "\n".join(lines) + "\n" + calibration


def calibrate(
    url: str,
    handle: str,
    out: Path,
    *,
    template: Path = AUDIENCE_FILE,
    config: FitConfig | None = None,
) -> Calibration:
    """Fit the template's scale parameters to the account's history and write the audience file to `out`
    (validated by loading it back; nothing is written when the fit or the file is bad)."""
    base = load_audience_config(template)
    posts, tz = load_posts(url, handle)
    with psycopg.connect(url) as conn:
        labels = cached_labels(conn, posts["text"].to_list())
    fit = fit_audience(samples(base, posts, tz, labels), config)
    latest = max(posts["as_of"].to_list())
    text = render(template.read_text(encoding="utf-8"), handle, fit, latest, template)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    try:
        load_audience_config(tmp)
    except ConfigError:
        tmp.unlink()
        raise
    tmp.replace(out)
    return Calibration(handle, fit, out, template, latest)
