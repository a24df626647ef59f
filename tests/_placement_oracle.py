"""Exact reference count of whole dies on a wafer, used only as a test oracle.

This module deliberately imports nothing from waferlab: it restates the placement
problem from first principles and solves it with its own algorithm, so that tests can
compare ``waferlab.geometry`` against an independent computation.

The problem
-----------
The usable region is ``U = {x² + y² ≤ R²} ∩ {y ≥ y_cut}`` with
``R = diameter/2 − edge_exclusion`` and ``y_cut = −diameter/2 + notch_keepout`` (no band
when the keep-out height is zero). Dies are ``w × h`` rectangles on a grid of pitch
``px = w + sx``, ``py = h + sy``; die ``(i, j)`` is centred at ``(ox + i·px, oy + j·py)``,
so the offset ``(0, 0)`` puts a die on the wafer centre. A die counts when its closed
rectangle lies in ``U`` (tolerance 1e-9 mm). ``N(ox, oy)`` is the number of such dies; it
is periodic with periods ``px`` and ``py``.

The algorithm (arrangement vertices)
------------------------------------
``U`` is convex, so a rectangle lies in ``U`` exactly when its four corners do (a convex
set contains the convex hull of any of its points) and its bottom edge is above
``y_cut``. Seen as a condition on the offset ``o``:

* corner ``c`` of die ``(i, j)`` in the disc  ⇔  ``|o + c + (i·px, j·py)| ≤ R``: the closed
  disc of radius ``R`` centred at ``−(c + (i·px, j·py))``;
* bottom of die ``(i, j)`` above the band  ⇔  ``oy ≥ y_cut + h/2 − j·py``: a half-plane.

For any set ``S`` of dies, the offsets at which every die of ``S`` fits form
``F(S)``, an intersection of discs and half-planes: compact and convex. Let ``S*`` be a
largest set that fits somewhere. ``F(S*)`` is non-empty, and every point of it has
``N ≥ |S*| = max N``. Its boundary is made of circular arcs and horizontal segments
(it is never a single whole disc: the four corner discs of one die have distinct
centres), so it has a point where two of these boundaries meet (or touch, when
``F(S*)`` is a single point). Hence the maximum of ``N`` is attained at an intersection
point of two constraint boundaries, both belonging to dies of ``S*``. Translating by a
lattice vector changes nothing (``N`` is periodic), so the first of the two dies can be
taken as die ``(0, 0)``. The candidates are therefore

* for every pair of corners ``k, l`` and every lattice difference ``Δ`` whose circles
  meet (centre distance ≤ 2R), the two intersection points of the corner-``k`` circle of
  die ``(0, 0)`` and the corner-``l`` circle of die ``Δ``;
* the intersection points of the band line of die ``(0, 0)`` with the corner circles of
  every die ``Δ``;

and ``max N`` is the largest count over them. Both dies that define a candidate must fit
at the candidate (they belong to ``S*``), which discards most of them before counting.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

#: Containment tolerance (mm) for corners on the circle and bottoms on the band line.
TOLERANCE_MM = 1e-9

# Corner offsets from a die centre, in units of (w/2, h/2).
_CORNER_SIGNS = np.array([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]])

FloatArray = NDArray[np.floating]


@dataclass(frozen=True)
class PlacementOracle:
    """Exact whole-die counts on a disc wafer with an optional bottom keep-out band.

    Parameters
    ----------
    wafer_diameter_mm, edge_exclusion_mm, notch_keepout_mm
        Wafer diameter, edge exclusion and height of the bottom keep-out band (0: none).
    die_width_mm, die_height_mm
        Die size.
    scribe_x_mm, scribe_y_mm
        Street widths; ``scribe_y_mm=None`` means the same as ``scribe_x_mm``.
    tolerance_mm
        Containment tolerance.

    Examples
    --------
    >>> oracle = PlacementOracle(300.0, 3.0, 0.0, 10.0, 10.0, 0.1)
    >>> oracle.count_at((0.0, 0.0)) <= oracle.optimum()[0]
    True
    """

    wafer_diameter_mm: float
    edge_exclusion_mm: float
    notch_keepout_mm: float
    die_width_mm: float
    die_height_mm: float
    scribe_x_mm: float
    scribe_y_mm: float | None = None
    tolerance_mm: float = TOLERANCE_MM
    _corners: FloatArray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        half = np.array([self.die_width_mm / 2.0, self.die_height_mm / 2.0])
        object.__setattr__(self, "_corners", _CORNER_SIGNS * half)

    # -- derived quantities -------------------------------------------------------------
    @property
    def radius_mm(self) -> float:
        return self.wafer_diameter_mm / 2.0 - self.edge_exclusion_mm

    @property
    def y_cut_mm(self) -> float:
        if self.notch_keepout_mm <= 0.0:
            return -math.inf
        return -self.wafer_diameter_mm / 2.0 + self.notch_keepout_mm

    @property
    def pitch_x_mm(self) -> float:
        return self.die_width_mm + self.scribe_x_mm

    @property
    def pitch_y_mm(self) -> float:
        sy = self.scribe_x_mm if self.scribe_y_mm is None else self.scribe_y_mm
        return self.die_height_mm + sy

    # -- counting ------------------------------------------------------------------------
    def fits(self, cx: FloatArray, cy: FloatArray) -> NDArray[np.bool_]:
        """Whether dies centred at ``(cx, cy)`` (any broadcastable shape) lie in ``U``."""
        # why: U is convex, so the die is inside iff all four corners are inside the disc
        # and its bottom edge is above the band; each corner is tested literally.
        r_tol2 = (self.radius_mm + self.tolerance_mm) ** 2
        ok = np.ones(np.broadcast(cx, cy).shape, dtype=bool)
        for dx, dy in self._corners:
            ok &= (cx + dx) ** 2 + (cy + dy) ** 2 <= r_tol2
        ok &= cy - self.die_height_mm / 2.0 >= self.y_cut_mm - self.tolerance_mm
        return ok

    def count_at(self, offset: tuple[float, float]) -> int:
        """Count whole dies for one grid offset, testing every site literally."""
        ox, oy = float(offset[0]), float(offset[1])
        px, py = self.pitch_x_mm, self.pitch_y_mm
        reach = self.radius_mm + max(self.die_width_mm, self.die_height_mm) + px + py
        # why: sites whose centre is farther than R from the origin in x or y cannot fit;
        # ``reach`` is a generous bound so that no candidate site is left out.
        i = np.arange(math.floor((-reach - ox) / px), math.ceil((reach - ox) / px) + 1)
        j = np.arange(math.floor((-reach - oy) / py), math.ceil((reach - oy) / py) + 1)
        cx = ox + i[:, None] * px
        cy = oy + j[None, :] * py
        return int(np.count_nonzero(self.fits(cx, cy)))

    def _reduce(self, ox: FloatArray, oy: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Map offsets into the cell [−px/2, px/2) × [−py/2, py/2) (N is periodic)."""
        px, py = self.pitch_x_mm, self.pitch_y_mm
        rx = ox - px * np.floor(ox / px + 0.5)
        ry = oy - py * np.floor(oy / py + 0.5)
        return rx, ry

    def _site_classes(self) -> tuple[int, FloatArray, FloatArray]:
        """Split grid sites for offsets in the reduced cell into sure / undecided.

        Returns the number of sites that fit for every offset of the cell, and the
        lattice positions ``(i·px, j·py)`` of the sites that need testing.
        """
        px, py = self.pitch_x_mm, self.pitch_y_mm
        w2, h2 = self.die_width_mm / 2.0, self.die_height_mm / 2.0
        r = self.radius_mm
        ni = math.ceil((r + w2) / px) + 2
        nj = math.ceil((r + h2) / py) + 2
        gx = (np.arange(-ni, ni + 1) * px)[:, None]
        gy = (np.arange(-nj, nj + 1) * py)[None, :]
        # why: with the offset anywhere in the cell, the centre of site (i, j) lies in the
        # box [gx ± px/2] × [gy ± py/2]. The corner farthest from the origin is then at
        # most (|gx| + px/2 + w/2, |gy| + py/2 + h/2) away, and at least
        # (max(0, |gx| − px/2) + w/2, max(0, |gy| − py/2) + h/2) away. These two bounds
        # decide most sites for all offsets at once; the rest are tested one by one.
        far = np.hypot(np.abs(gx) + px / 2 + w2, np.abs(gy) + py / 2 + h2)
        near = np.hypot(
            np.maximum(0.0, np.abs(gx) - px / 2) + w2, np.maximum(0.0, np.abs(gy) - py / 2) + h2
        )
        bottom_low = gy - py / 2 - h2
        bottom_high = gy + py / 2 - h2
        y_cut = self.y_cut_mm
        # keep a margin well above rounding so that boundary sites are always tested
        margin = 1e-6
        sure = (far <= r - margin) & (bottom_low >= y_cut + margin)
        never = (near > r + margin) | (bottom_high < y_cut - margin)
        undecided = ~(sure | never)
        gxx, gyy = np.broadcast_arrays(gx, gy)
        return int(np.count_nonzero(sure)), gxx[undecided], gyy[undecided]

    def count_many(self, ox: FloatArray, oy: FloatArray, *, chunk: int = 2_000_000) -> NDArray:
        """Count whole dies at many offsets (vectorised; agrees with `count_at`)."""
        ox = np.asarray(ox, dtype=float).ravel()
        oy = np.asarray(oy, dtype=float).ravel()
        rx, ry = self._reduce(ox, oy)
        n_sure, sx, sy = self._site_classes()
        out = np.full(rx.shape, n_sure, dtype=np.int64)
        if sx.size == 0:
            return out
        step = max(1, chunk // sx.size)
        for start in range(0, rx.size, step):
            stop = start + step
            cx = rx[start:stop, None] + sx[None, :]
            cy = ry[start:stop, None] + sy[None, :]
            out[start:stop] += np.count_nonzero(self.fits(cx, cy), axis=1)
        return out

    # -- candidates ----------------------------------------------------------------------
    def candidates(self) -> tuple[FloatArray, FloatArray]:
        """Return all arrangement-vertex candidates, reduced to the fundamental cell."""
        px, py = self.pitch_x_mm, self.pitch_y_mm
        r = self.radius_mm
        corners = self._corners
        span_i = math.ceil((2 * r + self.die_width_mm) / px) + 1
        span_j = math.ceil((2 * r + self.die_height_mm) / py) + 1
        di, dj = np.meshgrid(np.arange(-span_i, span_i + 1), np.arange(-span_j, span_j + 1))
        lat = np.stack([di.ravel() * px, dj.ravel() * py], axis=1)  # (L, 2)
        lat_idx = np.stack([di.ravel(), dj.ravel()], axis=1)

        xs: list[FloatArray] = []
        ys: list[FloatArray] = []

        # circle–circle: corner k of die 0 (centre −c_k) with corner l of die Δ
        # (centre −(c_l + Δ)).
        for k in range(4):
            a = -corners[k]  # (2,)
            for l_ in range(4):
                b = -(corners[l_][None, :] + lat)  # (L, 2)
                d_vec = b - a
                d = np.hypot(d_vec[:, 0], d_vec[:, 1])
                # why: equal circles meet iff their centres are at most 2R apart; d ≈ 0 is
                # the same circle twice (zero scribe makes neighbouring corners coincide)
                # and defines no vertex. The small slack keeps tangencies.
                keep = (d <= 2 * r + 1e-9) & (d > 1e-12)
                if not np.any(keep):
                    continue
                dv, dd, bb = d_vec[keep], d[keep], b[keep]
                mid = (a[None, :] + bb) / 2.0
                half = np.sqrt(np.maximum(r * r - (dd / 2.0) ** 2, 0.0))
                perp = np.stack([-dv[:, 1], dv[:, 0]], axis=1) / dd[:, None]
                idx = lat_idx[keep]
                for sign in (1.0, -1.0):
                    v = mid + sign * half[:, None] * perp
                    ok = self._pair_fits(v, idx)
                    xs.append(v[ok, 0])
                    ys.append(v[ok, 1])

        # circle–line: the band line of die 0 (oy = y_cut + h/2) with corner l of die Δ.
        if math.isfinite(self.y_cut_mm):
            c = self.y_cut_mm + self.die_height_mm / 2.0
            for l_ in range(4):
                b = -(corners[l_][None, :] + lat)
                dy = c - b[:, 1]
                keep = np.abs(dy) <= r + 1e-9
                bb = b[keep]
                half = np.sqrt(np.maximum(r * r - dy[keep] ** 2, 0.0))
                idx = lat_idx[keep]
                for sign in (1.0, -1.0):
                    v = np.stack([bb[:, 0] + sign * half, np.full(bb.shape[0], c)], axis=1)
                    ok = self._pair_fits(v, idx)
                    xs.append(v[ok, 0])
                    ys.append(v[ok, 1])

        if not xs:
            return np.empty(0), np.empty(0)
        return self._reduce(np.concatenate(xs), np.concatenate(ys))

    def _pair_fits(self, v: FloatArray, idx: NDArray) -> NDArray[np.bool_]:
        """Whether die (0, 0) and die Δ both fit at offsets ``v`` (rows of ``idx``)."""
        # why: a vertex of F(S*) lies in F(S*), so both dies defining it fit there.
        px, py = self.pitch_x_mm, self.pitch_y_mm
        first = self.fits(v[:, 0], v[:, 1])
        second = self.fits(v[:, 0] + idx[:, 0] * px, v[:, 1] + idx[:, 1] * py)
        return first & second

    def optimum(self) -> tuple[int, tuple[float, float]]:
        """Return the maximum whole-die count over all offsets and one offset attaining it."""
        cx, cy = self.candidates()
        if cx.size == 0:
            # why: if even one die fits somewhere, F({that die}) is bounded by its own
            # corner circles (and possibly the band line), whose meeting points are
            # enumerated with Δ = 0; no candidate at all therefore means no die fits.
            return 0, (0.0, 0.0)
        counts = self.count_many(cx, cy)
        best = int(np.argmax(counts))
        return int(counts[best]), (float(cx[best]), float(cy[best]))

    def grid_max(self, n: int = 64) -> tuple[int, tuple[float, float]]:
        """Return the best count on an ``n × n`` grid of offsets (a lower bound on max)."""
        gx = (np.arange(n) / n - 0.5) * self.pitch_x_mm
        gy = (np.arange(n) / n - 0.5) * self.pitch_y_mm
        ox, oy = np.meshgrid(gx, gy)
        counts = self.count_many(ox.ravel(), oy.ravel())
        best = int(np.argmax(counts))
        return int(counts[best]), (float(ox.ravel()[best]), float(oy.ravel()[best]))
