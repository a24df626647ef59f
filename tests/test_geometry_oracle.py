"""waferlab.geometry against an independent exact oracle (tests/_placement_oracle.py).

The oracle finds the optimal count by evaluating every vertex of the arrangement of
"corner inside the disc" circles and "bottom above the band" lines in offset space; it
shares no code with waferlab. Here it is first checked on its own (against a dense grid of
offsets and against shapely containment), then used to check ``place_dies`` and
``gross_dies_per_wafer`` case by case: the optimal count, the offset the optimal map
reports, the fixed offsets, and the full/not-full state of every site.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest
import shapely
from _placement_oracle import PlacementOracle
from hypothesis import given, settings
from hypothesis import strategies as st

from waferlab.errors import GeometryError
from waferlab.geometry import (
    SITE_FULL,
    Die,
    Wafer,
    gross_dies_per_wafer,
    gross_dies_per_wafer_many,
    place_dies,
)


@dataclass(frozen=True)
class Case:
    """One wafer/die combination."""

    diameter_mm: float
    edge_exclusion_mm: float
    notch_keepout_mm: float
    width_mm: float
    height_mm: float
    scribe_x_mm: float
    scribe_y_mm: float | None = None

    @property
    def id(self) -> str:
        sy = "" if self.scribe_y_mm is None else f"/{self.scribe_y_mm:.3g}"
        return (
            f"{self.diameter_mm:.0f}mm-ee{self.edge_exclusion_mm:.3g}-"
            f"band{self.notch_keepout_mm:.3g}-{self.width_mm:.4g}x{self.height_mm:.4g}-"
            f"s{self.scribe_x_mm:.3g}{sy}"
        )

    def wafer(self) -> Wafer:
        return Wafer(
            diameter_mm=self.diameter_mm,
            edge_exclusion_mm=self.edge_exclusion_mm,
            notch_keepout_mm=self.notch_keepout_mm,
        )

    def die(self) -> Die:
        return Die(self.width_mm, self.height_mm, self.scribe_x_mm, self.scribe_y_mm)

    def oracle(self) -> PlacementOracle:
        return PlacementOracle(
            self.diameter_mm,
            self.edge_exclusion_mm,
            self.notch_keepout_mm,
            self.width_mm,
            self.height_mm,
            self.scribe_x_mm,
            self.scribe_y_mm,
        )


def _random_cases(n: int, seed: int) -> list[Case]:
    """Seeded random cases: 200/300/450 mm, die areas mostly 50–800 mm²."""
    rng = np.random.default_rng(seed)
    cases: list[Case] = []
    while len(cases) < n:
        width, height = (float(v) for v in np.round(rng.uniform(3.0, 33.0, 2), 3))
        if not 50.0 <= width * height <= 800.0:
            continue
        scribe_x = float(np.round(rng.uniform(0.0, 0.2), 3))
        scribe_y = float(np.round(rng.uniform(0.0, 0.2), 3)) if rng.random() < 0.3 else None
        band = float(np.round(rng.uniform(0.0, 10.0), 2)) if rng.random() < 0.5 else 0.0
        cases.append(
            Case(
                diameter_mm=float(rng.choice([200.0, 300.0, 450.0])),
                edge_exclusion_mm=float(np.round(rng.uniform(0.0, 5.0), 2)),
                notch_keepout_mm=band,
                width_mm=width,
                height_mm=height,
                scribe_x_mm=scribe_x,
                scribe_y_mm=scribe_y,
            )
        )
    return cases


NAMED_CASES = [
    # Ascend 910B die, 21.32 × 31.22 mm (SOURCES.md §2), 0.1 mm street, 300 mm, 3 mm EE.
    Case(300.0, 3.0, 0.0, 21.32, 31.22, 0.1),
    Case(300.0, 3.0, 0.0, 31.22, 21.32, 0.1),
    # the same die with a 5 mm notch band
    Case(300.0, 3.0, 5.0, 21.32, 31.22, 0.1),
    # the 10 × 10 mm die of the classic formula's worked example (5 mm EE, 0.1 mm street)
    Case(300.0, 5.0, 0.0, 10.0, 10.0, 0.1),
    Case(300.0, 3.0, 0.0, 10.0, 10.0, 0.1),
    # zero scribe: corners of neighbouring dies coincide
    Case(300.0, 0.0, 0.0, 25.0, 25.0, 0.0),
    # a few small dies (more sites, more candidates)
    Case(200.0, 3.0, 8.0, 4.0, 5.5, 0.1),
    Case(300.0, 2.0, 0.0, 3.2, 7.7, 0.08, 0.15),
    Case(450.0, 3.0, 0.0, 6.0, 9.0, 0.1),
]
RANDOM_CASES = _random_cases(30, seed=20261122)
ALL_CASES = NAMED_CASES + RANDOM_CASES

_ORACLE_RESULTS: dict[Case, tuple[int, tuple[float, float]]] = {}


def oracle_optimum(case: Case) -> tuple[int, tuple[float, float]]:
    """The oracle's (max count, argmax offset), computed once per case."""
    if case not in _ORACLE_RESULTS:
        _ORACLE_RESULTS[case] = case.oracle().optimum()
    return _ORACLE_RESULTS[case]


def shapely_bracket(
    case: Case, offset: tuple[float, float], quad_segs: int = 512
) -> tuple[int, int]:
    """Count dies inside an inscribed and a circumscribed polygon of the usable disc.

    The inscribed polygon lies inside the disc and the circumscribed one contains it, so
    the exact count lies between the two shapely counts; they are equal unless a corner
    is within about R·(π/4q)²/2 of the circle.
    """
    oracle = case.oracle()
    r = oracle.radius_mm
    half_angle = math.pi / (4 * quad_segs)
    counts = []
    for radius, band_slack in ((r, 0.0), (r / math.cos(half_angle), 1e-6)):
        region = shapely.Point(0.0, 0.0).buffer(radius, quad_segs=quad_segs)
        if case.notch_keepout_mm > 0:
            y_cut = -case.diameter_mm / 2 + case.notch_keepout_mm - band_slack
            region = region.intersection(shapely.box(-2 * r, y_cut, 2 * r, 2 * r))
        px, py = oracle.pitch_x_mm, oracle.pitch_y_mm
        # every site whose centre is within R of the wafer centre, for this offset
        i = np.arange(math.floor((-r - offset[0]) / px) - 1, math.ceil((r - offset[0]) / px) + 2)
        j = np.arange(math.floor((-r - offset[1]) / py) - 1, math.ceil((r - offset[1]) / py) + 2)
        gi, gj = np.meshgrid(i, j)
        cx = offset[0] + gi.ravel() * px
        cy = offset[1] + gj.ravel() * py
        w2, h2 = case.width_mm / 2, case.height_mm / 2
        boxes = shapely.box(cx - w2, cy - h2, cx + w2, cy + h2)
        counts.append(int(np.count_nonzero(shapely.covers(region, boxes))))
    return counts[0], counts[1]


def _random_offsets(case: Case, n: int, seed: int) -> list[tuple[float, float]]:
    """Shifts at three scales: within a pitch, a few pitches, and up to ±500 mm.

    A shift and the same shift plus whole pitches place the same grid, so every scale must
    give the same count as the shift reduced to one cell.
    """
    rng = np.random.default_rng(seed)
    oracle = case.oracle()
    pitch = np.array([oracle.pitch_x_mm, oracle.pitch_y_mm])
    scales = [0.5 * pitch, 4.0 * pitch, np.array([500.0, 500.0])]
    return [
        (float(x), float(y))
        for x, y in (rng.uniform(-1.0, 1.0, 2) * scales[k % 3] for k in range(n))
    ]


def _congruent(a: float, b: float, period: float) -> bool:
    """Whether a ≡ b modulo period (to 1e-9 mm)."""
    d = (a - b) / period
    return abs(d - round(d)) * period < 1e-9


# ---------------------------------------------------------------------------------------
# The oracle on its own
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ALL_CASES, ids=lambda c: c.id)
def test_oracle_optimum_not_below_dense_grid(case: Case) -> None:
    """The vertex maximum is never below a 96 × 96 grid of offsets, and is really attained."""
    oracle = case.oracle()
    best, offset = oracle_optimum(case)
    grid_best, grid_offset = oracle.grid_max(96)
    assert best >= grid_best, (grid_best, grid_offset)
    assert oracle.count_at(offset) == best
    # and it is not optimistic: shapely, with a polygon circumscribing the disc, finds at
    # least as many whole dies at the reported offset
    inner, outer = shapely_bracket(case, offset)
    assert inner <= best <= outer


@pytest.mark.parametrize("case", NAMED_CASES[:5] + RANDOM_CASES[:5], ids=lambda c: c.id)
def test_oracle_counts_match_shapely(case: Case) -> None:
    """count_at agrees with shapely containment of every die box."""
    oracle = case.oracle()
    px, py = oracle.pitch_x_mm, oracle.pitch_y_mm
    offsets = [(0.0, 0.0), (px / 2, py / 2), *_random_offsets(case, 3, seed=1)]
    for offset in offsets:
        inner, outer = shapely_bracket(case, offset)
        assert inner == oracle.count_at(offset) == outer, offset


@pytest.mark.parametrize("case", NAMED_CASES, ids=lambda c: c.id)
def test_oracle_batch_count_matches_single_count(case: Case) -> None:
    """The vectorised count (cell reduction, sure/undecided sites) equals the literal one."""
    oracle = case.oracle()
    offsets = np.array(_random_offsets(case, 40, seed=2))
    batch = oracle.count_many(offsets[:, 0], offsets[:, 1])
    single = [oracle.count_at((x, y)) for x, y in offsets]
    np.testing.assert_array_equal(batch, single)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    width=st.floats(6.0, 30.0),
    height=st.floats(6.0, 30.0),
    ox=st.floats(-50.0, 50.0),
    oy=st.floats(-50.0, 50.0),
)
def test_oracle_optimum_bounds_every_offset(
    width: float, height: float, ox: float, oy: float
) -> None:
    """No offset beats the oracle's optimum, and its count never exceeds the area bound."""
    case = Case(300.0, 3.0, 4.0, width, height, 0.1)
    oracle = case.oracle()
    best, _ = oracle.optimum()
    assert oracle.count_at((ox, oy)) <= best
    assert best * width * height <= math.pi * oracle.radius_mm**2


# ---------------------------------------------------------------------------------------
# waferlab.geometry against the oracle
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ALL_CASES, ids=lambda c: c.id)
def test_optimal_count_matches_oracle(case: Case) -> None:
    """gross_dies_per_wafer(offset="optimal") is the exact maximum; its offset reproduces it."""
    best, best_offset = oracle_optimum(case)
    assert gross_dies_per_wafer(case.wafer(), case.die(), offset="optimal") == best, best_offset
    die_map = place_dies(case.wafer(), case.die(), offset="optimal")
    assert die_map.gross_dies == best
    assert die_map.certified
    reported = (die_map.offset_x_mm, die_map.offset_y_mm)
    assert case.oracle().count_at(reported) == best, reported


@pytest.mark.parametrize("case", ALL_CASES, ids=lambda c: c.id)
def test_fixed_offsets_match_oracle(case: Case) -> None:
    """Die-centred, street-centred and arbitrary shifts give the oracle's count."""
    oracle = case.oracle()
    wafer, die = case.wafer(), case.die()
    px, py = oracle.pitch_x_mm, oracle.pitch_y_mm

    centred = place_dies(wafer, die, offset="die-centered")
    assert _congruent(centred.offset_x_mm, 0.0, px)
    assert _congruent(centred.offset_y_mm, 0.0, py)
    assert centred.gross_dies == oracle.count_at((0.0, 0.0))

    street = place_dies(wafer, die, offset="street-centered")
    assert _congruent(street.offset_x_mm, px / 2, px)
    assert _congruent(street.offset_y_mm, py / 2, py)
    assert street.gross_dies == oracle.count_at((px / 2, py / 2))

    for offset in _random_offsets(case, 3, seed=3):
        shifted = place_dies(wafer, die, offset=offset)
        assert shifted.gross_dies == oracle.count_at(offset), offset
        assert gross_dies_per_wafer(wafer, die, offset=offset) == shifted.gross_dies


@pytest.mark.parametrize("case", NAMED_CASES + RANDOM_CASES[:10], ids=lambda c: c.id)
def test_site_states_match_oracle(case: Case) -> None:
    """Every site marked full fits by the oracle's corner test, and no other site does."""
    oracle = case.oracle()
    for offset in ("optimal", "street-centered", *_random_offsets(case, 1, seed=4)):
        die_map = place_dies(case.wafer(), case.die(), offset=offset)
        full = np.asarray(die_map.state) == SITE_FULL
        fits = oracle.fits(np.asarray(die_map.center_x_mm), np.asarray(die_map.center_y_mm))
        np.testing.assert_array_equal(full, fits, err_msg=f"offset={offset}")
        assert int(np.count_nonzero(full)) == die_map.gross_dies
        # sites lie on the grid of the reported offset
        offset_x = (np.asarray(die_map.center_x_mm) - die_map.offset_x_mm) / oracle.pitch_x_mm
        offset_y = (np.asarray(die_map.center_y_mm) - die_map.offset_y_mm) / oracle.pitch_y_mm
        np.testing.assert_allclose(offset_x, np.round(offset_x), atol=1e-9)
        np.testing.assert_allclose(offset_y, np.round(offset_y), atol=1e-9)


def test_many_sizes_match_oracle() -> None:
    """The vectorised count over a broadcast grid of die sizes equals the oracle per size."""
    wafer = Wafer(300.0, edge_exclusion_mm=2.5, notch_keepout_mm=6.0)
    widths = np.array([[8.5], [17.25], [26.0]])
    heights = np.array([9.75, 22.4])
    counts = gross_dies_per_wafer_many(
        wafer, widths, heights, scribe_x_mm=0.08, scribe_y_mm=0.12, offset="optimal"
    )
    assert counts.shape == (3, 2)
    for (a, b), count in np.ndenumerate(counts):
        case = Case(300.0, 2.5, 6.0, float(widths[a, 0]), float(heights[b]), 0.08, 0.12)
        assert count == oracle_optimum(case)[0], case.id


@pytest.mark.parametrize(
    ("width_mm", "height_mm", "expected"),
    [
        # diagonal √2·200 = 282.8 mm < usable diameter 294 mm: exactly one die fits
        (200.0, 200.0, 1),
        # diagonal √2·210 = 297.0 mm > 294 mm: no position fits
        (210.0, 210.0, 0),
        # 140 × 100 mm: two dies side by side span 280.1 × 100 mm (diagonal 297.4 mm), so
        # a row holds one die; two stacked rows span 140 × 200.1 mm (diagonal 244.2 mm)
        # and fit, three rows are 300.2 mm tall: exactly two dies
        (140.0, 100.0, 2),
    ],
)
def test_few_large_dies_match_oracle(width_mm: float, height_mm: float, expected: int) -> None:
    """Dies so large that zero, one or two fit: closed-form count, oracle and waferlab agree."""
    case = Case(300.0, 3.0, 0.0, width_mm, height_mm, 0.1)
    assert oracle_optimum(case)[0] == expected
    assert gross_dies_per_wafer(case.wafer(), case.die()) == expected
    if expected == 0:
        with pytest.raises(GeometryError):
            place_dies(case.wafer(), case.die())
