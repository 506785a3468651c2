"""A real worker process for the fault tests: `python -m tests.faults.worker <mode> [...]`, from XBOT_ env.

Modes:
  drain               reconcile expired claims, then post until nothing is due (what post_due does)
  post-and-die        claim and publish one decision, then SIGKILL itself before the record is written
  collect BATCH       collect every due pass, committing every BATCH passes
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys

from xbot_core.adapters.x_browser.client import PlaywrightXClient
from xbot_core.adapters.x_browser.models import PostRef
from xbot_core.services import wiring
from xbot_core.services.loop import collection, posting
from xbot_core.settings import get_settings


class DiesAfterPublish(PlaywrightXClient):
    """The real client; the process is killed the instant X has confirmed the post."""

    async def publish(self, text: str) -> PostRef:
        ref = await super().publish(text)
        print(json.dumps({"published": ref.tweet_id}), flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
        raise AssertionError("unreachable")


async def main(mode: str, args: list[str]) -> int:
    with wiring.open_deps(get_settings()) as rt:
        now = rt.clock.now
        if mode == "post-and-die":
            async with DiesAfterPublish.from_settings(rt.settings, clock=rt.clock) as x:
                await posting.post_next(rt.pool, x, account_id=rt.account_id, now=now(), settings=rt.settings)
            return 3  # not reached when something was published
        async with PlaywrightXClient.from_settings(rt.settings, clock=rt.clock) as x:
            if mode == "drain":
                worker = posting.worker_id()
                rec = await posting.reconcile(
                    rt.pool, x, account_id=rt.account_id, now=now(), settings=rt.settings
                )
                posted = []
                while True:
                    res = await posting.post_next(
                        rt.pool, x, account_id=rt.account_id, now=now(), settings=rt.settings, worker=worker
                    )
                    if res.status != "posted":
                        break
                    posted.append(res.tweet_id)
                out = {
                    "reconciled": [str(d) for d in rec.recorded],
                    "requeued": len(rec.requeued),
                    "posted": posted,
                    "last": res.status,
                }
                print(json.dumps(out), flush=True)
                return 0
            if mode == "collect":
                report = await collection.collect_due(
                    rt.pool,
                    x,
                    account_id=rt.account_id,
                    now=now(),
                    settings=rt.settings,
                    simulated=True,
                    batch_size=int(args[0]),
                )
                print(json.dumps({"stored": report.stored, "due": report.due}), flush=True)
                return 0
    raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1], sys.argv[2:])))
