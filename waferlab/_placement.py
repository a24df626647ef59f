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

:class:`RowGrid` holds one die grid's rows (keep-out polygons enter through a
callback, so this module needs no shapely); :func:`optimise` finds its best
shift, :func:`site_map` classifies every site for a shift, and
:func:`optimal_counts` solves many die sizes at once.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

#: Site states (re-exported by :mod:`waferlab.geometry`).
SITE_OUTSIDE, SITE_PARTIAL, SITE_FULL = 0, 1, 2

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


class RowGrid:
    """Rows of one die grid in a disc cut by a horizontal line (plain numbers).

    ``radius_mm`` and ``y_cut_mm`` already include the containment tolerance.
    ``subtract`` (optional) removes forbidden stretches from the row intervals:
    ``subtract(bottom, top, lo, length) -> (lo, length)`` with a last axis of
    intervals per row; :mod:`waferlab.geometry` passes one for keep-out polygons.
    """

    def __init__(
        self,
        die_width_mm: float,
        die_height_mm: float,
        pitch_x_mm: float,
        pitch_y_mm: float,
        radius_mm: float,
        y_cut_mm: float,
        subtract: Callable[..., Intervals] | None = None,
    ) -> None:
        self.w = die_width_mm
        self.h = die_height_mm
        self.px = pitch_x_mm
        self.py = pitch_y_mm
        self.r = radius_mm
        self.y_cut = y_cut_mm
        self.subtract = subtract
        # rows that can meet the disc for any offset_y in [-py/2, py/2]
        j_lo, j_hi = row_range(self.r, self.py)
        self.rows = np.arange(int(j_lo), int(j_hi) + 1, dtype=np.int64)

    def bottoms(self, offset_y: NDArray[np.float64]) -> NDArray[np.float64]:
        """Bottom edge of every row, shape (N, K)."""
        return offset_y[:, None] - self.h / 2.0 + self.rows[None, :] * self.py

    def intervals(
        self, bottom: NDArray[np.float64], height: NDArray[np.float64] | float
    ) -> Intervals:
        """Feasible left edges ``[lo, lo + length]`` per row; shape (N, K, M).

        Invalid entries have ``length < 0``.
        """
        lo, length = disc_intervals(bottom, height, self.w, self.r, self.y_cut)
        if self.subtract is None:
            return lo[..., None], length[..., None]
        return self.subtract(bottom, bottom + height, lo, length)


def count_fixed(
    grid: RowGrid, offset_x: float, offset_y: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Row intervals for one offset (shape (K, M))."""
    bottom = grid.bottoms(np.array([offset_y]))
    lo, length = grid.intervals(bottom, grid.h)
    return lo[0], length[0]


def optimise(grid: RowGrid) -> tuple[float, float, int, int]:
    """Branch and bound over offset_y; exact sweep over offset_x: the best grid shift.

    Returns ``(offset_x, offset_y, count, gap)``.
    """
    h = grid.h

    def evaluate(
        oy: NDArray[np.float64], _: NDArray[np.int64]
    ) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        lo, length = grid.intervals(grid.bottoms(oy), h)
        n = oy.shape[0]
        return max_over_x(lo.reshape(n, -1), length.reshape(n, -1), grid.px)

    def upper(
        a: NDArray[np.float64], b: NDArray[np.float64], _: NDArray[np.int64]
    ) -> NDArray[np.int64]:
        # every die of a row at any offset in [a, b] contains the die of height
        # h - (b - a) in the band common to all those positions
        lo, length = grid.intervals(grid.bottoms(b), (h - (b - a))[:, None])
        n = a.shape[0]
        return max_over_x(lo.reshape(n, -1), length.reshape(n, -1), grid.px, with_phase=False)[0]

    best_y, best_phase, best, gap = branch_and_bound(np.array([grid.py]), evaluate, upper)
    offset_x = wrap(float(best_phase[0]) + grid.w / 2.0, grid.px)
    offset_y = wrap(float(best_y[0]), grid.py)
    return offset_x, offset_y, int(best[0]), int(gap[0])


def site_map(
    grid: RowGrid,
    offset_x: float,
    offset_y: float,
    wafer_radius_mm: float,
    flat_y_mm: float,
) -> tuple[
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.int64],
    NDArray[np.int64],
    NDArray[np.int8],
]:
    """Centres, indices and states of every site whose cell meets the wafer's box.

    ``wafer_radius_mm`` is the physical radius and ``flat_y_mm`` the height of
    the flat (``-inf`` without one): a site is partial when its die overlaps
    that region with a positive area and is not full.

    The sites are listed row by row. The tests are separable in x and y, so they
    are computed per column and per row and only broadcast to (rows, columns)
    as booleans, which keeps the temporary memory per site small.
    """
    big_r = wafer_radius_mm
    px, py, w, h = grid.px, grid.py, grid.w, grid.h
    i_lo = math.floor((-big_r - w / 2.0 - offset_x) / px)
    i_hi = math.ceil((big_r + w / 2.0 - offset_x) / px)
    j_lo = math.floor((-big_r - h / 2.0 - offset_y) / py)
    j_hi = math.ceil((big_r + h / 2.0 - offset_y) / py)
    cols = np.arange(i_lo, i_hi + 1, dtype=np.int64)
    rows = np.arange(j_lo, j_hi + 1, dtype=np.int64)
    xc = np.asarray(offset_x + cols * px, dtype=np.float64)
    yc = np.asarray(offset_y + rows * py, dtype=np.float64)
    # full: left edge inside one of the feasible intervals of the row
    # the row intervals are periodic in offset_y: compute them in the fundamental cell
    reduced_y = wrap(offset_y, py)
    shift = round((offset_y - reduced_y) / py)
    lo, length = count_fixed(grid, offset_x, reduced_y)
    row_pos = rows + shift - grid.rows[0]
    in_range = (row_pos >= 0) & (row_pos < grid.rows.size)
    row_pos = np.clip(row_pos, 0, grid.rows.size - 1)
    lo_r = lo[row_pos][:, None, :]
    len_r = length[row_pos][:, None, :]
    left = (xc - w / 2.0)[None, :, None]
    full = in_range[:, None] & np.any(
        (len_r >= 0) & (left >= lo_r) & (left <= lo_r + len_r), axis=2
    )
    # partial: positive-area overlap with the physical wafer (disc cut by the flat)
    x0, x1 = xc - w / 2.0, xc + w / 2.0
    y0, y1 = yc - h / 2.0, yc + h / 2.0
    y_flat = flat_y_mm
    y0c = np.maximum(y0, y_flat)
    nearest_x = np.clip(0.0, x0, x1)
    nearest_y = np.clip(0.0, y0c, y1)
    on_wafer = (y1 > y_flat)[:, None] & (
        nearest_x[None, :] ** 2 + nearest_y[:, None] ** 2 < big_r**2
    )
    state = np.full(full.shape, SITE_OUTSIDE, dtype=np.int8)
    state[on_wafer] = SITE_PARTIAL
    state[full] = SITE_FULL
    n_rows, n_cols = full.shape
    cx = np.tile(xc, n_rows)
    cy = np.repeat(yc, n_cols)
    return cx, cy, np.repeat(rows, n_cols), np.tile(cols, n_rows), state.ravel()


def wrap(value: float, period: float) -> float:
    """Reduce ``value`` into ``[-period/2, period/2)``."""
    out = float(np.mod(value + period / 2.0, period) - period / 2.0)
    return -period / 2.0 if out >= period / 2.0 else out


__all__ = [
    "OFFSET_TOLERANCE_MM",
    "SITE_FULL",
    "SITE_OUTSIDE",
    "SITE_PARTIAL",
    "RowGrid",
    "branch_and_bound",
    "count_fixed",
    "disc_intervals",
    "max_over_x",
    "optimal_counts",
    "optimise",
    "row_range",
    "site_map",
    "wrap",
]
