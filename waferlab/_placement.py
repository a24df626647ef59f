"""The exact die-placement solver, on plain numbers (private).

:mod:`waferlab.geometry` owns the objects (Wafer, Die, DieMap) and the
keep-out polygons; this module owns the arithmetic of the optimal grid shift:
die sizes, pitches, the usable radius and the flat cut, as floats or arrays,
with any number of die sizes solved at once.

The count of full dies for a grid shift ``(offset_x, offset_y)`` is a sum over
the grid rows. For one ``offset_y`` every row is an interval of feasible left
edges, and the best ``offset_x`` is found exactly by a circular sweep
(:func:`max_over_x`). Over ``offset_y`` a branch and bound
(:func:`branch_and_bound`) keeps only the sub-intervals whose upper bound can
still beat the best count found, down to :data:`OFFSET_TOLERANCE_MM`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

#: Branch-and-bound resolution of the grid shift [mm].
OFFSET_TOLERANCE_MM = 1e-7

#: Initial partition of one row pitch in the branch and bound: for one die
#: (place_dies) and per size when many sizes are counted at once (fewer cells
#: cost less there; the count is exact either way, only ties between equally
#: good offsets may resolve differently).
INITIAL_CELLS = 32
INITIAL_CELLS_MANY = 16

#: Target number of row entries per batch when many die sizes are solved at
#: once (sizes × samples × rows): bounds the temporary memory (~100 MB).
_BATCH_ENTRIES = 400_000

Intervals = tuple[NDArray[np.float64], NDArray[np.float64]]


def row_range(radius_mm: ArrayLike, pitch_y_mm: ArrayLike) -> tuple[NDArray[np.int64], ...]:
    """First and last row index that can meet the disc for any ``offset_y`` in a pitch."""
    r = np.asarray(radius_mm, dtype=np.float64)
    py = np.asarray(pitch_y_mm, dtype=np.float64)
    j_lo = np.floor((-r - py) / py).astype(np.int64) - 1
    j_hi = np.ceil((r + py) / py).astype(np.int64) + 1
    return j_lo, j_hi


def disc_intervals(
    bottom: NDArray[np.float64],
    height: NDArray[np.float64] | float,
    die_width_mm: NDArray[np.float64] | float,
    radius_mm: float,
    y_cut_mm: float,
) -> Intervals:
    """Feasible left edges ``[lo, lo + length]`` of dies in rows of a cut disc.

    A die of width ``die_width_mm`` whose bottom edge is ``bottom`` and whose
    height is ``height`` lies in the disc of ``radius_mm`` above ``y_cut_mm``
    exactly when its left edge is in the interval; an invalid row has
    ``length < 0``. Arrays broadcast.
    """
    top = bottom + height
    m = np.maximum(np.abs(bottom), np.abs(top))
    # a row straddling y = 0 is limited by its farther edge (m), which is right
    half2 = radius_mm**2 - m**2
    ok = (half2 >= 0.0) & (bottom >= y_cut_mm)
    half = np.sqrt(np.where(ok, half2, 0.0))
    lo = -half
    length = np.where(ok, 2.0 * half - die_width_mm, -1.0)
    return lo, length


def max_over_x(
    lo: NDArray[np.float64],
    length: NDArray[np.float64],
    px: float | NDArray[np.float64],
    *,
    with_phase: bool = True,
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Maximise, over the column phase, the number of grid points in the intervals.

    ``lo`` and ``length`` have shape (N, L) (invalid: ``length < 0``); ``px``
    is the column pitch, one for all or one per row (N,). The grid points are
    ``phi + i·px``. An interval ``[A, A + ℓ]`` holds
    ``q + [(phi − A) mod px ≤ r]`` of them (``q = ⌊ℓ/px⌋``, ``r = ℓ − q·px``),
    so the total is ``Σq`` plus the number of closed circular arcs
    ``[A, A + r] (mod px)`` covering ``phi``; its maximum is found by sorting
    the arc end points and sweeping once (exact; attained at an arc start).

    Returns the maximal counts (N,) and a column phase inside each maximal
    segment (N,); without ``with_phase`` (an upper bound needs only the
    count) the phases are not computed and are returned as zeros.
    """
    n = lo.shape[0]
    pxc = np.asarray(px, dtype=np.float64).reshape(-1, 1)  # (1, 1) or (N, 1)
    px1 = pxc[:, 0]
    valid = length >= 0.0
    ln = np.where(valid, length, 0.0)
    q = np.floor(ln / pxc)
    q = np.where(q * pxc > ln, q - 1.0, q)  # the division may round up to an integer
    r = np.clip(ln - q * pxc, 0.0, None)
    # r may round up to px: then the arc is the whole circle
    full_circle = r >= pxc
    q = np.where(full_circle, q + 1, q)
    r = np.where(full_circle, 0.0, r)
    base = np.where(valid, q, 0.0).sum(axis=1)
    s = np.mod(lo, pxc)
    e = s + r
    wrapped = valid & (e >= pxc)
    e = np.where(e >= pxc, e - pxc, e)
    init = wrapped.sum(axis=1)
    weight = valid.astype(np.int64)
    pos = np.concatenate([np.zeros((n, 1)), s, e], axis=1)
    wts = np.concatenate([np.zeros((n, 1), dtype=np.int64), weight, -weight], axis=1)
    order = np.argsort(pos, axis=1, kind="stable")
    w_s = np.take_along_axis(wts, order, axis=1)
    cover = init[:, None] + np.cumsum(w_s, axis=1)
    best = np.argmax(cover, axis=1)
    rows = np.arange(n)
    counts = (base + cover[rows, best]).astype(np.int64)
    if not with_phase:
        return counts, np.zeros(n)
    pos_s = np.take_along_axis(pos, order, axis=1)
    t0 = pos_s[rows, best]
    nxt = best + 1
    wrap_next = nxt >= pos_s.shape[1]
    t1 = np.where(wrap_next, pos_s[:, 0] + px1, pos_s[rows, np.minimum(nxt, pos_s.shape[1] - 1)])
    phase = np.mod(0.5 * (t0 + t1), px1)
    return counts, phase


def _first_max_per_group(
    values: NDArray[np.int64], group: NDArray[np.int64], n_groups: int
) -> tuple[NDArray[np.bool_], NDArray[np.int64]]:
    """For each group present, the index of its first maximal value (like argmax)."""
    order = np.lexsort((np.arange(values.size), -values, group))
    g_sorted = group[order]
    first = np.ones(order.size, dtype=bool)
    first[1:] = g_sorted[1:] != g_sorted[:-1]
    present = np.zeros(n_groups, dtype=bool)
    present[g_sorted[first]] = True
    index = np.zeros(n_groups, dtype=np.int64)
    index[g_sorted[first]] = order[first]
    return present, index


def branch_and_bound(
    pitch_y_mm: NDArray[np.float64],
    evaluate: Callable[
        [NDArray[np.float64], NDArray[np.int64]], tuple[NDArray[np.int64], NDArray[np.float64]]
    ],
    upper: Callable[
        [NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]], NDArray[np.int64]
    ],
    initial_cells: int = INITIAL_CELLS,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]:
    """Maximise the count over ``offset_y`` for several problems at once.

    ``evaluate(offset_y, problem)`` gives the best count over ``offset_x`` and
    its column phase at each ``offset_y``; ``upper(a, b, problem)`` bounds the
    count over every ``offset_y`` in ``[a, b]``. Each problem runs exactly the
    search it would run alone (its candidates keep their order), so one
    problem or many give the same answers.

    Returns ``(best_y, best_phase, count, gap)`` per problem; ``gap`` is how
    many more dies the unresolved sub-intervals might hold (0: certified).
    """
    py = np.asarray(pitch_y_mm, dtype=np.float64)
    n_problems = py.size
    ids = np.arange(n_problems)
    edges = -py[:, None] / 2.0 + py[:, None] * np.arange(initial_cells + 1) / initial_cells
    a = edges[:, :-1].ravel()
    b = edges[:, 1:].ravel()
    group = np.repeat(ids, initial_cells)
    samples = np.concatenate(
        [np.zeros((n_problems, 1)), -py[:, None] / 2.0, 0.5 * (edges[:, :-1] + edges[:, 1:])],
        axis=1,
    )
    sample_group = np.repeat(ids, samples.shape[1])
    counts, phases = evaluate(samples.ravel(), sample_group)
    _, k = _first_max_per_group(counts, sample_group, n_problems)
    best = counts[k].astype(np.int64)
    best_y = samples.ravel()[k]
    best_phase = phases[k]
    gap = np.zeros(n_problems, dtype=np.int64)
    while a.size:
        ub = upper(a, b, group)
        alive = ub > best[group]
        a, b, ub, group = a[alive], b[alive], ub[alive], group[alive]
        if not a.size:
            break
        wide = np.bincount(group, weights=(b - a) >= OFFSET_TOLERANCE_MM, minlength=n_problems)
        present = np.bincount(group, minlength=n_problems) > 0
        done = present & (wide == 0)
        if np.any(done):
            top = np.zeros(n_problems, dtype=np.int64)
            np.maximum.at(top, group, ub)
            gap[done] = top[done] - best[done]
            keep = ~done[group]
            a, b, group = a[keep], b[keep], group[keep]
            if not a.size:
                break
        mid = 0.5 * (a + b)
        counts, phases = evaluate(mid, group)
        found, k = _first_max_per_group(counts, group, n_problems)
        better = found & (counts[k] > best)
        best = np.where(better, counts[k], best)
        best_y = np.where(better, mid[k], best_y)
        best_phase = np.where(better, phases[k], best_phase)
        a, b = np.concatenate([a, mid]), np.concatenate([mid, b])
        group = np.concatenate([group, group])
    return best_y, best_phase, best, gap


def optimal_counts(
    die_width_mm: NDArray[np.float64],
    die_height_mm: NDArray[np.float64],
    pitch_x_mm: NDArray[np.float64],
    pitch_y_mm: NDArray[np.float64],
    radius_mm: float,
    y_cut_mm: float,
) -> NDArray[np.int64]:
    """The most full dies over every grid shift, for many die sizes (1-D arrays).

    The region is the disc of ``radius_mm`` above ``y_cut_mm`` (no keep-out
    polygons). Sizes are solved in batches of similar row counts, so the
    memory stays bounded whatever the number of sizes.
    """
    w = np.asarray(die_width_mm, dtype=np.float64)
    h = np.asarray(die_height_mm, dtype=np.float64)
    px = np.asarray(pitch_x_mm, dtype=np.float64)
    py = np.asarray(pitch_y_mm, dtype=np.float64)
    out = np.zeros(w.size, dtype=np.int64)
    j_lo, j_hi = row_range(radius_mm, py)
    n_rows = j_hi - j_lo + 1
    order = np.argsort(n_rows, kind="stable")
    per_size = (INITIAL_CELLS_MANY + 2) * n_rows[order]
    start = 0
    while start < order.size:
        # a batch: sizes of similar row counts (sorted), up to the entry budget
        stop = start + 1
        while stop < order.size and (stop - start + 1) * per_size[stop] <= _BATCH_ENTRIES:
            stop += 1
        batch = order[start:stop]
        out[batch] = _batch_counts(
            w[batch],
            h[batch],
            px[batch],
            py[batch],
            j_lo[batch],
            n_rows[batch],
            radius_mm,
            y_cut_mm,
        )
        start = stop
    return out


def _batch_counts(
    w: NDArray[np.float64],
    h: NDArray[np.float64],
    px: NDArray[np.float64],
    py: NDArray[np.float64],
    j_lo: NDArray[np.int64],
    n_rows: NDArray[np.int64],
    radius_mm: float,
    y_cut_mm: float,
) -> NDArray[np.int64]:
    k_max = int(n_rows.max())
    k = np.arange(k_max)
    rows = (j_lo[:, None] + k[None, :]).astype(np.float64)
    real_row = k[None, :] < n_rows[:, None]

    def intervals(
        oy: NDArray[np.float64], g: NDArray[np.int64], height: NDArray[np.float64]
    ) -> Intervals:
        bottom = oy[:, None] - h[g, None] / 2.0 + rows[g] * py[g, None]
        lo, length = disc_intervals(bottom, height, w[g, None], radius_mm, y_cut_mm)
        return lo, np.where(real_row[g], length, -1.0)

    def evaluate(
        oy: NDArray[np.float64], g: NDArray[np.int64]
    ) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        lo, length = intervals(oy, g, h[g, None])
        return max_over_x(lo, length, px[g])

    def upper(a: NDArray[np.float64], b: NDArray[np.float64], g: NDArray[np.int64]) -> Any:
        lo, length = intervals(b, g, (h[g] - (b - a))[:, None])
        return max_over_x(lo, length, px[g], with_phase=False)[0]

    return branch_and_bound(py, evaluate, upper, INITIAL_CELLS_MANY)[2]


def wrap(value: float, period: float) -> float:
    """Reduce ``value`` into ``[-period/2, period/2)``."""
    out = float(np.mod(value + period / 2.0, period) - period / 2.0)
    return -period / 2.0 if out >= period / 2.0 else out


__all__ = [
    "OFFSET_TOLERANCE_MM",
    "branch_and_bound",
    "disc_intervals",
    "max_over_x",
    "optimal_counts",
    "row_range",
    "wrap",
]
