"""Multiple-comparison adjustments for several arms or metrics, as statsmodels' multipletests defines them.

NaN p-values (comparisons whose status was not "ok") stay NaN and do not count towards m.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from xbot_core.errors import StatsError


def _clean(p_values: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(p_values, dtype=float).ravel()
    finite = ~np.isnan(p)
    if ((p[finite] < 0) | (p[finite] > 1)).any():
        raise StatsError(f"p-values must lie in [0, 1], got {p.tolist()}")
    return p, finite


def holm(p_values: ArrayLike) -> np.ndarray:
    """Holm step-down adjusted p-values: max over j ≤ i of min(1, (m − j + 1)·p_(j)) in sorted order."""
    p, finite = _clean(p_values)
    out = np.full(p.shape, np.nan)
    q = p[finite]
    m = q.size
    if m == 0:
        return out
    order = np.argsort(q, kind="stable")
    stepped = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * q[order]))
    adjusted = np.empty(m)
    adjusted[order] = stepped
    out[finite] = adjusted
    return out


def benjamini_hochberg(p_values: ArrayLike) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (q-values): min over j ≥ i of min(1, m·p_(j)/j)."""
    p, finite = _clean(p_values)
    out = np.full(p.shape, np.nan)
    q = p[finite]
    m = q.size
    if m == 0:
        return out
    order = np.argsort(q, kind="stable")
    scaled = q[order] * m / np.arange(1, m + 1)
    stepped = np.minimum(1.0, np.minimum.accumulate(scaled[::-1])[::-1])
    adjusted = np.empty(m)
    adjusted[order] = stepped
    out[finite] = adjusted
    return out
