"""`xbot budget`: today's LLM budget (limit, used, reserved, remaining, circuit) and the X API's."""

from __future__ import annotations

from typing import Annotated

import typer


def budget(
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of lines.")] = False,
) -> None:
    """Print the LLM budget of the current budget day (XBOT_LLM_BUDGET_TIMEZONE) and the X API's (UTC day)."""
    import json

    from xbot_core.services.budget import budget_status
    from xbot_core.services.runtime import open_runtime
    from xbot_core.services.x_api_budget import x_api_budget_fields

    with open_runtime() as rt:
        b = budget_status(rt.pool, rt.settings, rt.now())
        x_api = x_api_budget_fields(rt.pool, rt.settings, rt.now())
    fields = {
        "day": b.budget_day.isoformat(),
        "limit_usd": str(b.limit_usd),
        "used_usd": str(b.used_usd),
        "reserved_usd": str(b.reserved_usd),
        "remaining_usd": str(b.remaining_usd),
        "circuit": "open" if b.circuit_open else "closed",
    }
    if b.circuit_open:
        fields["circuit_reason"] = b.circuit_reason or ""
    fields.update(x_api)
    if json_out:
        typer.echo(json.dumps(fields))
        return
    width = max(len(k) for k in fields)
    for k, v in fields.items():
        typer.echo(f"{k:<{width}}  {v}")
