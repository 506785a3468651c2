"""`xbot budget`: today's LLM budget (limit, used, reserved, remaining, circuit) and the X API's."""

from __future__ import annotations

from typing import Annotated

import typer

from xbot_core.commands.account import AccountOption


def budget(
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of lines.")] = False,
    account: AccountOption = None,
) -> None:
    """Print the LLM budget of the current budget day (XBOT_LLM_BUDGET_TIMEZONE), the account's share of it
    and the X API's (UTC day)."""
    import json

    from xbot_core.adapters.x_api.budget import x_api_budget_fields
    from xbot_core.services import wiring
    from xbot_core.services.operations.budget import account_budget, budget_status
    from xbot_core.settings import get_settings

    with wiring.open_deps(get_settings(), account) as deps:
        b = budget_status(deps.pool, deps.settings, deps.now())
        mine = account_budget(deps.pool, deps.settings, deps.account_id, deps.now())
        x_api = x_api_budget_fields(deps.pool, deps.settings, deps.now())
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
    fields.update(
        {
            "account": mine.handle,
            "account_share": f"{mine.share:g}",
            "account_limit_usd": str(mine.limit_usd),
            "account_used_usd": str(mine.used_usd),
            "account_reserved_usd": str(mine.reserved_usd),
            "account_remaining_usd": str(mine.remaining_usd),
        }
    )
    fields.update(x_api)
    if json_out:
        typer.echo(json.dumps(fields))
        return
    width = max(len(k) for k in fields)
    for k, v in fields.items():
        typer.echo(f"{k:<{width}}  {v}")
