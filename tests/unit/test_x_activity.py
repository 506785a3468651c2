"""TweetActivityQuery parsing: values, sparse zeros, no analytics, bad values (shapes from X's web client)."""

from __future__ import annotations

import pytest

from xbot_core.adapters.x_browser.activity import is_activity_url, parse_activity, request_variables
from xbot_core.errors import ParseError

REQUESTED = ["DetailExpands", "Engagements", "Follows", "Impressions", "LinkClicks", "ProfileVisits"]


def body(grid: object, typename: str = "Tweet") -> dict[str, object]:
    result = {"__typename": typename, "datapoints_grid": grid}
    return {"data": {"tweet_result_by_rest_id": {"result": result}}}


def test_values_and_sparse_zeros() -> None:
    grid = [
        {"metric_type": "Impressions", "metric_value": 72},
        {"metric_type": "Engagements", "metric_value": "2"},
        {"metric_type": "DetailExpands", "metric_value": 1},
        {"metric_type": "ProfileVisits", "metric_value": 1},
    ]
    assert parse_activity(body(grid), REQUESTED) == {
        "impressions": 72,
        "engagements": 2,
        "new_follows": 0,  # requested, absent from a non-empty grid: X's zero
        "profile_visits": 1,
        "link_clicks": 0,
    }


def test_a_metric_not_requested_stays_unknown() -> None:
    grid = [{"metric_type": "Impressions", "metric_value": 5}]
    got = parse_activity(body(grid), ["Impressions"])
    assert got["impressions"] == 5 and got["new_follows"] is None and got["link_clicks"] is None


def test_visibility_wrapper_is_unwrapped() -> None:
    wrapped = {
        "data": {
            "tweet_result_by_rest_id": {
                "result": {
                    "__typename": "TweetWithVisibilityResults",
                    "tweet": {"datapoints_grid": [{"metric_type": "Follows", "metric_value": 3}]},
                }
            }
        }
    }
    assert parse_activity(wrapped, REQUESTED)["new_follows"] == 3


@pytest.mark.parametrize("payload", [body([]), {"data": {}}, {"errors": [{"message": "x"}]}, body(None)])
def test_no_grid_means_every_value_unknown(payload: dict[str, object]) -> None:
    assert set(parse_activity(payload, REQUESTED).values()) == {None}


@pytest.mark.parametrize("value", [-1, 1.5, "many", None, True])
def test_bad_values_raise_with_the_raw_text(value: object) -> None:
    with pytest.raises(ParseError, match="Follows"):
        parse_activity(body([{"metric_type": "Follows", "metric_value": value}]), REQUESTED)


def test_request_url_matching() -> None:
    url = (
        "http://x.test/i/api/graphql/abc/TweetActivityQuery?variables="
        "%7B%22restId%22%3A%2212%22%2C%22requested_organic_metrics%22%3A%5B%22Follows%22%5D%7D"
    )
    assert request_variables(url) == {"restId": "12", "requested_organic_metrics": ["Follows"]}
    assert is_activity_url(url, "12") and not is_activity_url(url, "13") and is_activity_url(url)
    assert not is_activity_url("http://x.test/i/api/graphql/abc/CreateTweet")
    assert request_variables("http://x.test/a?variables=%7Bnot") == {}
