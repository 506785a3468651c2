"""Check: two report folders (e.g. two `bench/demo_phases.py` runs) hold the same reports.

Compares every HTML report of the first folder with the one of the same name in the second, after removing
what differs by construction: the lineage footer (render time, commit, the data snapshot at render time)
and the random element ids of the charts. Prints one line per report and exits 1 on any difference.

    .venv/bin/python bench/compare_reports.py DIR_A DIR_B
"""

from __future__ import annotations

import difflib
import sys
from pathlib import Path

from xbot_core.services.reporting.reports import report_content


def content(path: Path) -> str:
    return report_content(path.read_text(encoding="utf-8"))


def main() -> None:
    a, b = (Path(p) for p in sys.argv[1:3])
    names = sorted(p.name for p in a.glob("*.html") if p.name != "index.html")
    if not names:
        sys.exit(f"no reports in {a}")
    differ = 0
    for name in names:
        other = b / name
        if not other.is_file():
            print(f"{name}: missing in {b}")
            differ += 1
            continue
        left, right = content(a / name), content(other)
        if left == right:
            print(f"{name}: same ({len(left):,} characters compared)")
            continue
        differ += 1
        diff = difflib.unified_diff(left.splitlines(), right.splitlines(), lineterm="", n=0)
        print(f"{name}: DIFFERS")
        for line in list(diff)[2:12]:
            print("   ", line[:200])
    print(f"{len(names) - differ} of {len(names)} reports the same")
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
