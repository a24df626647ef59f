"""Wafer economics: from the price of a wafer to the cost of a finished unit.

The cost build-up follows the funnel (:mod:`waferlab.funnel`): cost per wafer
→ per gross die → per good die → per package before packaging loss → per good
package → per tested unit → per compute equivalent. Scrap is charged to the
survivors: a package lost in packaging loses its dies, its HBM and its
packaging cost; a unit failing final test loses everything spent on it.

A wafer price can be given directly or derived with CSET's method
(:func:`wafer_cost_from_capex`): capital consumed per wafer in the year of
interest, plus other costs and markup in a fixed ratio to it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from waferlab._data import load_json
from waferlab._display import frame, html_table, short_repr
from waferlab.errors import (
    InvalidParameterError,
    check_array,
    check_bounded,
    check_fields,
    check_real,
)
from waferlab.funnel import (
    FunnelResult,
    InputConflictError,
    TimelineResult,
)
from waferlab.output import COST_NOTES, cost_note, format_quantity, format_table, leftover_note

__all__ = [
    "DIE_BANK_AT_ZERO_NOTE",
    "MAX_COST_USD",
    "NO_WAFER_PRICE_NOTE",
    "CostBreakdown",
    "CostComponent",
    "CostInputs",
    "MissingCostError",
    "cost_breakdown",
    "cost_per_tested_unit_usd",
    "cset_wafer_cost_data",
    "wafer_cost_from_capex",
]


#: Sanity bound on every unit cost (USD): a billion dollars for one wafer,
#: stack, package or test is far beyond any real price, and keeps a typo
#: (1e300) from turning into a cost with hundreds of digits.
MAX_COST_USD = 1e9


def _cost(name: str, value: Any, *, positive: bool = False) -> float:
    """Check a cost in USD: finite, >= 0 (> 0 if ``positive``), at most :data:`MAX_COST_USD`."""
    return check_bounded(name, value, MAX_COST_USD, "costs", "docs/economics.md", low_open=positive)


@dataclass(frozen=True)
class CostInputs:
    """Unit costs in US dollars, validated on construction.

    Field names are scenario-file keys.

    Parameters
    ----------
    wafer_cost_usd : float, optional
        Price of one processed wafer, > 0. Needed by :func:`cost_breakdown`
        when the funnel starts wafers; a scenario without wafer starts (a die
        bank alone) may leave it out (None), and the wafer rows of the cost
        ladder are then empty.
    hbm_cost_usd_per_stack : float, default 0.0
        Price of one HBM stack, ≥ 0.
    packaging_cost_usd_per_package : float, default 0.0
        Assembly and advanced-packaging cost per package attempted, ≥ 0.
    test_cost_usd_per_unit : float, default 0.0
        Final-test cost per good package tested, ≥ 0.
    die_bank_cost_usd_per_die : float, optional
        Cost carried by each die-bank die, ≥ 0. Not given (None): the die-bank
        dies are valued at $0 as a sunk cost, and :func:`cost_breakdown` says
        so in its notes; when every packaged die comes from the die bank it
        asks for the price instead (give 0 to accept the sunk-cost view).

    Raises
    ------
    InvalidParameterError
        If a cost is negative, above the sanity bound :data:`MAX_COST_USD`
        (1e9), not finite or not a number.

    Examples
    --------
    >>> costs = CostInputs(wafer_cost_usd=9346.0, hbm_cost_usd_per_stack=300.0)
    >>> costs.packaging_cost_usd_per_package
    0.0
    >>> CostInputs(die_bank_cost_usd_per_die=500.0).wafer_cost_usd is None
    True
    >>> CostInputs(wafer_cost_usd=-1.0)
    Traceback (most recent call last):
    ...
    waferlab.errors.InvalidParameterError: wafer_cost_usd must be > 0 (got -1.0)
    """

    wafer_cost_usd: float | None = None
    hbm_cost_usd_per_stack: float = 0.0
    packaging_cost_usd_per_package: float = 0.0
    test_cost_usd_per_unit: float = 0.0
    die_bank_cost_usd_per_die: float | None = None

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is None and f.default is None:
                continue  # an optional cost left out
            checked = _cost(f.name, value, positive=f.name == "wafer_cost_usd")
            object.__setattr__(self, f.name, checked)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CostInputs:
        """Build costs from a plain mapping, rejecting unknown keys.

        Raises
        ------
        UnknownNameError
            If a key is not a field; the message lists the valid ones.

        Examples
        --------
        >>> CostInputs.from_dict({"wafer_cost_usd": 9346}).wafer_cost_usd
        9346.0
        """
        return cls(**check_fields(cls, data))

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """Return the valid field names (the scenario-file keys)."""
        return tuple(f.name for f in dataclasses.fields(cls))

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a JSON-able dict."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class CostComponent:
    """One slice of the cost of a finished unit (US dollars per tested unit).

    ``share`` is the fraction of the cost per unit; None when the cost per
    unit is 0 (there is nothing to share out).

    Examples
    --------
    >>> from waferlab.funnel import FunnelInputs, run_funnel
    >>> funnel = run_funnel(FunnelInputs(wafer_starts_per_month=50_000, gross_dies_per_wafer=80,
    ...                                  die_yield=0.2, dies_per_package=2,
    ...                                  packaging_yield=0.75))
    >>> silicon = cost_breakdown(funnel, CostInputs(wafer_cost_usd=16_000)).components[0]
    >>> silicon.name, silicon.usd_per_unit, silicon.share
    ('silicon', 2000.0, 0.75)
    """

    name: str
    usd_per_unit: float
    share: float | None
    detail: Mapping[str, Any] = field(default_factory=dict)

    @property
    def note(self) -> str:
        """The component's detail in words (drawn by :func:`waferlab.output.cost_note`)."""
        return cost_note(self.detail)

    def to_dict(self) -> dict[str, Any]:
        """Return the component as a JSON-able dict (its detail and the note drawn from it)."""
        return {
            "name": self.name,
            "usd_per_unit": self.usd_per_unit,
            "share": self.share,
            "detail": dict(self.detail),
            "note": self.note,
        }


@dataclass(frozen=True)
class CostBreakdown:
    """Cost per stage and where the money of a finished unit goes.

    Attributes
    ----------
    funnel : FunnelResult
        The funnel the costs refer to.
    costs : CostInputs
        The unit costs.
    cost_per_wafer_usd, cost_per_gross_die_usd, cost_per_good_die_usd : float or None
        Fab-side ladder; a good die carries the dies that failed (infinite when
        the die yield is 0). None when no wafer price is given (possible only
        when the funnel starts no wafers).
    cost_per_die_supplied_usd : float
        Average cost of a die fed to packaging (fab dies and die-bank dies).
    cost_per_package_usd : float
        Cost of one package before packaging loss: dies, HBM and packaging.
    cost_per_good_package_usd : float
        Cost per package surviving packaging (carries the packages lost).
    cost_per_tested_unit_usd : float
        Cost per finished unit (carries the good packages failing test).
    cost_per_compute_equivalent_usd : float or None
        Cost per compute equivalent, when the funnel has a factor.
    components : tuple of CostComponent
        Where the money of one finished unit goes; the components sum to
        ``cost_per_tested_unit_usd``.
    wafer_spend_usd, hbm_spend_usd, packaging_spend_usd, test_spend_usd : float
        Whole-horizon spending (HBM only for the stacks packaged).
    die_bank_spend_usd : float
        Die-bank dies at ``die_bank_cost_usd_per_die``.
    unused_die_value_usd : float
        Value of the dies left over after packaging, at the average die cost;
        not charged to the finished units in ``cost_per_tested_unit_usd``
        (kept as inventory), written off in the all-in view.
    all_in_cost_per_tested_unit_usd : float
        All-in cost per finished unit: everything spent over the horizon
        (wafers, die-bank dies, HBM, packaging, test) divided by the finished
        units, so leftover dies are written off rather than kept as inventory.
        Equals ``cost_per_tested_unit_usd`` when no die is left over.
    all_in_cost_per_compute_equivalent_usd : float or None
        The same per compute equivalent.
    note_codes : tuple of str
        Warnings a reader of the figures must see, as codes of
        :data:`waferlab.output.COST_NOTES` (e.g. ``"die_bank_at_zero"``);
        ``notes`` gives them in words.

    Examples
    --------
    >>> from waferlab.funnel import FunnelInputs, run_funnel
    >>> funnel = run_funnel(FunnelInputs(wafer_starts_per_month=50_000, gross_dies_per_wafer=80,
    ...                                  die_yield=0.2, dies_per_package=2,
    ...                                  packaging_yield=0.75))
    >>> b = cost_breakdown(funnel, CostInputs(wafer_cost_usd=16_000,
    ...                                       packaging_cost_usd_per_package=500))
    >>> b.cost_per_wafer_usd, b.cost_per_good_die_usd, b.wafer_spend_usd
    (16000.0, 1000.0, 800000000.0)
    >>> [(c.name, round(c.usd_per_unit, 2)) for c in b.components if c.usd_per_unit]
    [('silicon', 2000.0), ('packaging', 500.0), ('packaging scrap', 833.33)]
    """

    funnel: FunnelResult
    costs: CostInputs
    cost_per_gross_die_usd: float | None
    cost_per_good_die_usd: float | None
    cost_per_die_supplied_usd: float
    cost_per_package_usd: float
    cost_per_good_package_usd: float
    cost_per_tested_unit_usd: float
    components: tuple[CostComponent, ...]
    wafer_spend_usd: float
    die_bank_spend_usd: float
    hbm_spend_usd: float
    packaging_spend_usd: float
    test_spend_usd: float
    note_codes: tuple[str, ...] = ()

    @property
    def notes(self) -> tuple[str, ...]:
        """The notes in words (:data:`waferlab.output.COST_NOTES`), one per code."""
        return tuple(COST_NOTES[code] for code in self.note_codes)

    @property
    def cost_per_wafer_usd(self) -> float | None:
        """Price of one wafer (``costs.wafer_cost_usd``); None when not given."""
        return self.costs.wafer_cost_usd

    @property
    def cost_per_compute_equivalent_usd(self) -> float | None:
        """Cost per compute equivalent; None when the funnel has no factor."""
        return self._per_compute_equivalent(self.cost_per_tested_unit_usd)

    @property
    def unused_die_value_usd(self) -> float:
        """Value of the dies left over after packaging, at the average die cost."""
        return self.funnel.leftover_dies * self.cost_per_die_supplied_usd

    @property
    def all_in_cost_per_tested_unit_usd(self) -> float:
        """Everything spent over the horizon divided by the finished units."""
        return self.all_in_spend_usd / self.funnel.final_units

    @property
    def all_in_cost_per_compute_equivalent_usd(self) -> float | None:
        """All-in cost per compute equivalent; None when the funnel has no factor."""
        return self._per_compute_equivalent(self.all_in_cost_per_tested_unit_usd)

    def _per_compute_equivalent(self, usd_per_unit: float) -> float | None:
        factor = self.funnel.compute_equivalent_factor
        return None if factor is None else _ratio(usd_per_unit, factor)

    @property
    def total_spend_usd(self) -> float:
        """Money charged to the finished units over the horizon (leftover dies excluded)."""
        return self.cost_per_tested_unit_usd * self.funnel.final_units

    @property
    def all_in_spend_usd(self) -> float:
        """Everything spent over the horizon, leftover dies included."""
        return math.fsum(
            (
                self.wafer_spend_usd,
                self.die_bank_spend_usd,
                self.hbm_spend_usd,
                self.packaging_spend_usd,
                self.test_spend_usd,
            )
        )

    def view_rows(self) -> list[dict[str, Any]]:
        """Return the two views of the cost per unit: dies packaged only, and all-in."""
        kept = leftover_note(self.funnel.leftover_dies, self.cost_per_die_supplied_usd)
        rows = [
            {
                "view": "dies packaged only",
                "per": "tested unit",
                "usd": self.cost_per_tested_unit_usd,
                "note": kept,
            },
            {
                "view": "all-in",
                "per": "tested unit",
                "usd": self.all_in_cost_per_tested_unit_usd,
                "note": "all spend / tested units; leftover dies written off",
            },
        ]
        if self.cost_per_compute_equivalent_usd is not None:
            unit = self.funnel.inputs.compute_equivalent_unit
            per = unit[:-1] if unit.endswith("s") else unit
            rows[1:1] = [
                {
                    "view": "dies packaged only",
                    "per": per,
                    "usd": self.cost_per_compute_equivalent_usd,
                    "note": "",
                }
            ]
            rows.append(
                {
                    "view": "all-in",
                    "per": per,
                    "usd": self.all_in_cost_per_compute_equivalent_usd,
                    "note": "",
                }
            )
        return rows

    def ladder_rows(self) -> list[dict[str, Any]]:
        """Return the cost ladder, one dict per step (for tables and CSV)."""
        rows = [
            ("wafer", "wafers", self.cost_per_wafer_usd),
            ("gross die", "dies", self.cost_per_gross_die_usd),
            ("good die", "good dies", self.cost_per_good_die_usd),
            ("die supplied to packaging", "dies", self.cost_per_die_supplied_usd),
            ("package before packaging loss", "packages", self.cost_per_package_usd),
            ("good package", "good packages", self.cost_per_good_package_usd),
            ("tested unit", "tested units", self.cost_per_tested_unit_usd),
        ]
        if self.cost_per_compute_equivalent_usd is not None:
            rows.append(
                (
                    "compute equivalent",
                    self.funnel.inputs.compute_equivalent_unit,
                    self.cost_per_compute_equivalent_usd,
                )
            )
        return [{"per": p, "unit": u, "usd": c} for p, u, c in rows]

    def component_rows(self) -> list[dict[str, Any]]:
        """Return where the money of one finished unit goes, plus a total row."""
        costed = self.cost_per_tested_unit_usd > 0
        rows: list[dict[str, Any]] = [
            {
                "component": c.name,
                "usd_per_unit": c.usd_per_unit,
                "share_percent": None if c.share is None else 100.0 * c.share,
                "note": c.note,
            }
            for c in self.components
        ]
        rows.append(
            {
                "component": "total per tested unit",
                "usd_per_unit": self.cost_per_tested_unit_usd,
                "share_percent": 100.0 if costed else None,
                "note": "" if costed else COST_NOTES["nothing_costed_total"],
            }
        )
        return rows

    def __repr__(self) -> str:
        return short_repr(
            "CostBreakdown",
            f"${self.cost_per_tested_unit_usd:,.2f} per tested unit, "
            f"{len(self.components)} components",
        )

    def _repr_html_(self) -> str:
        """The ladder and the components as a table (Jupyter)."""
        rows: list[tuple[str, Any]] = [(f"per {r['per']}", r["usd"]) for r in self.ladder_rows()]
        rows += [(c.name, c.usd_per_unit) for c in self.components]
        return html_table("CostBreakdown (USD)", rows)

    def to_frame(self) -> Any:
        """Return one row per component (USD per unit, share, note) as a DataFrame.

        Needs pandas (``pip install 'waferlab[pandas]'``).
        """
        rows = self.component_rows()
        return frame({key: [r[key] for r in rows] for key in rows[0]}).set_index("component")

    def table(self) -> str:
        """Return the cost ladder and the per-unit breakdown as text tables.

        Examples
        --------
        >>> from waferlab.funnel import FunnelInputs, run_funnel
        >>> funnel = run_funnel(FunnelInputs(wafer_starts_per_month=1000,
        ...                                  gross_dies_per_wafer=100, die_yield=0.5))
        >>> print(cost_breakdown(funnel, CostInputs(wafer_cost_usd=10_000)).table())
        ... # doctest: +ELLIPSIS
        cost per                       unit      ...
        ...
        good die                       good dies  ...200...
        ...
        """
        ladder = format_table(
            _money_cells(self.ladder_rows(), "usd", "USD"),
            ["per", "unit", "usd"],
            headers=["cost per", "unit", "USD"],
        )
        parts = format_table(
            _money_cells(self.component_rows(), "usd_per_unit", "USD per unit"),
            ["component", "usd_per_unit", "share_percent", "note"],
            headers=["where the money goes", "USD per unit", "share %", "note"],
            float_format=",.2f",
        )
        views = format_table(
            _money_cells(self.view_rows(), "usd", "USD"),
            ["view", "per", "usd", "note"],
            headers=["cost view", "per", "USD", "note"],
        )
        head = "".join(f"NOTE: {note}\n\n" for note in self.notes)
        return head + ladder + "\n\n" + parts + "\n\n" + views

    def to_dict(self) -> dict[str, Any]:
        """Return the breakdown as a JSON-able dict (costs, ladder, components, spend)."""
        return {
            "costs": self.costs.to_dict(),
            "cost_per_wafer_usd": self.cost_per_wafer_usd,
            "cost_per_gross_die_usd": self.cost_per_gross_die_usd,
            "cost_per_good_die_usd": self.cost_per_good_die_usd,
            "cost_per_die_supplied_usd": self.cost_per_die_supplied_usd,
            "cost_per_package_usd": self.cost_per_package_usd,
            "cost_per_good_package_usd": self.cost_per_good_package_usd,
            "cost_per_tested_unit_usd": self.cost_per_tested_unit_usd,
            "cost_per_compute_equivalent_usd": self.cost_per_compute_equivalent_usd,
            "compute_equivalent_unit": self.funnel.inputs.compute_equivalent_unit,
            "components": [c.to_dict() for c in self.components],
            "wafer_spend_usd": self.wafer_spend_usd,
            "die_bank_spend_usd": self.die_bank_spend_usd,
            "hbm_spend_usd": self.hbm_spend_usd,
            "packaging_spend_usd": self.packaging_spend_usd,
            "test_spend_usd": self.test_spend_usd,
            "total_spend_usd": self.total_spend_usd,
            "unused_die_value_usd": self.unused_die_value_usd,
            "leftover_dies": self.funnel.leftover_dies,
            "all_in_spend_usd": self.all_in_spend_usd,
            "all_in_cost_per_tested_unit_usd": self.all_in_cost_per_tested_unit_usd,
            "all_in_cost_per_compute_equivalent_usd": self.all_in_cost_per_compute_equivalent_usd,
            "notes": list(self.notes),
            "note_codes": list(self.note_codes),
            "final_units": self.funnel.final_units,
        }


def _money_cells(rows: list[dict[str, Any]], key: str, header: str) -> list[dict[str, Any]]:
    """Format one dollar column as right-aligned text (huge values in scientific notation)."""
    texts = [
        "-"
        if r[key] is None or not math.isfinite(r[key])
        else format_quantity(float(r[key]), ",.2f")
        for r in rows
    ]
    width = max(len(t) for t in [header, *texts])
    return [{**r, key: t.rjust(width)} for r, t in zip(rows, texts, strict=True)]


#: Note added when the costs give no wafer price (the funnel starts no wafers).
NO_WAFER_PRICE_NOTE = COST_NOTES["no_wafer_price"]


class MissingCostError(InputConflictError):
    """Costs the funnel needs are not given.

    ``keys`` names them (:class:`CostInputs` fields), in field order; the
    message says why each one is needed.

    Examples
    --------
    >>> error = MissingCostError(("wafer_cost_usd",), "costs missing: wafer_cost_usd")
    >>> error.keys, error.parameter
    (('wafer_cost_usd',), 'wafer_cost_usd')
    """

    def __init__(self, keys: tuple[str, ...], message: str) -> None:
        super().__init__(keys[0], None, message)
        self.keys = keys


def _fab_dies(funnel: FunnelResult) -> float:
    """Dies the fab supplies to packaging (the die supply without the die bank)."""
    return funnel.die_supply - funnel.die_bank_dies


def _missing_costs(funnel: FunnelResult, costs: CostInputs) -> None:
    """Raise :class:`MissingCostError` naming every cost the funnel needs but lacks."""
    reasons: dict[str, str] = {}
    if costs.wafer_cost_usd is None and funnel.wafers > 0:
        reasons["wafer_cost_usd"] = (
            f"the funnel starts {format_quantity(funnel.wafers, ',.0f')} wafers"
        )
    if (
        funnel.die_bank_dies > 0
        and costs.die_bank_cost_usd_per_die is None
        and not _fab_dies(funnel) > 0
    ):
        reasons["die_bank_cost_usd_per_die"] = (
            "every packaged die comes from the die bank, so without it the units would "
            "carry no silicon cost; 0 values the bank as a sunk cost"
        )
    if not reasons:
        return
    keys = tuple(reasons)
    raise MissingCostError(
        keys,
        "costs missing: "
        + " and ".join(f"{key} ({why})" for key, why in reasons.items())
        + "; on the command line: "
        + " ".join(f"--set {key}=..." for key in keys),
    )


#: Note added when die-bank dies enter the cost at $0.
DIE_BANK_AT_ZERO_NOTE = COST_NOTES["die_bank_at_zero"]


def _ratio(numerator: float, denominator: float) -> float:
    if denominator > 0:
        return numerator / denominator
    return math.inf if numerator > 0 else 0.0


def cost_breakdown(funnel: FunnelResult, costs: CostInputs) -> CostBreakdown:
    """Build the cost of a finished unit stage by stage.

    Parameters
    ----------
    funnel : FunnelResult
        A funnel from :func:`waferlab.funnel.run_funnel`; it must finish at
        least one tested unit.
    costs : CostInputs
        Unit costs in US dollars.

    Returns
    -------
    CostBreakdown
        The cost ladder, the per-unit components and the horizon spend.

    Raises
    ------
    InvalidParameterError
        If the arguments have the wrong type, or the funnel finishes no unit
        (there is no cost per unit to give).
    MissingCostError
        (An :class:`InvalidParameterError`.) If a cost the funnel needs is not
        given, naming every such cost at once: ``costs.wafer_cost_usd`` when
        the funnel starts wafers, and ``costs.die_bank_cost_usd_per_die`` when
        every packaged die comes from the die bank (the units would carry no
        silicon cost; give the price, or 0 for a sunk cost).

    Notes
    -----
    With wafer price C_w, N gross dies per wafer, fully-good yield Y (plus the
    degraded fraction Y_d when degraded dies are packaged), die-bank B dies at
    C_b each, k dies and h HBM stacks per package at C_h per stack, packaging
    cost C_p, packaging yield p, test cost C_t and test yield t:

    .. math::

        c_{die} = \\frac{C_w}{N (Y + Y_d)},\\qquad
        \\bar c_{die} = \\frac{W C_w + B C_b}{W N (Y + Y_d) + B}

        c_{pkg} = k \\bar c_{die} + h C_h + C_p,\\qquad
        c_{good} = c_{pkg} / p,\\qquad
        c_{unit} = (c_{good} + C_t) / t

    and per compute equivalent c_unit / f. Per unit the money splits into
    silicon k c̄_die, HBM h C_h, packaging C_p, test C_t, packaging scrap
    c_pkg (1/p − 1) and test scrap (c_good + C_t)(1/t − 1), which sum to c_unit.
    Dies left over after packaging (e.g. when HBM binds) are valued at c̄_die
    and not charged to the units (they are inventory); unused HBM is not
    bought. The all-in view writes the leftover dies off instead: with P
    packages and p P good packages,

    .. math::

        c_{unit}^{all\text{-}in} = \frac{W C_w + B C_b + P (h C_h + C_p) + P p\\, C_t}
                                       {P p t}

    which equals c_unit when no die is left over.

    References
    ----------
    .. [1] S. M. Khan and A. Mann, "AI Chips: What They Are and Why They
       Matter", CSET, April 2020, Appendix D (chip economics model).

    Examples
    --------
    >>> from waferlab.funnel import FunnelInputs, run_funnel
    >>> funnel = run_funnel(FunnelInputs(wafer_starts_per_month=50_000, gross_dies_per_wafer=80,
    ...                                  die_yield=0.2, dies_per_package=2,
    ...                                  packaging_yield=0.75))
    >>> costs = CostInputs(wafer_cost_usd=16_000, packaging_cost_usd_per_package=500)
    >>> b = cost_breakdown(funnel, costs)
    >>> b.cost_per_good_die_usd, b.cost_per_package_usd, b.cost_per_tested_unit_usd
    (1000.0, 2500.0, 3333.333...)
    """
    if not isinstance(funnel, FunnelResult):
        raise InvalidParameterError("funnel", funnel, "a FunnelResult from run_funnel")
    if not isinstance(costs, CostInputs):
        raise InvalidParameterError("costs", costs, "a CostInputs")
    if not funnel.final_units > 0:
        raise InputConflictError(
            "funnel",
            funnel.final_units,
            "the funnel finishes no tested unit, so there is no cost per unit to give "
            "(look at the funnel's stages to see where everything is lost)",
        )
    _missing_costs(funnel, costs)
    inputs = funnel.inputs
    usable_fraction = funnel.die_yield + (
        funnel.degraded_fraction if inputs.package_degraded_dies else 0.0
    )
    per_wafer_dies = funnel.gross_dies_per_wafer
    notes: list[str] = []
    c_wafer = costs.wafer_cost_usd
    c_gross: float | None = None
    c_good: float | None = None
    if c_wafer is None:
        # only when no wafer is started (_missing_costs): nothing to price
        wafer_spend = 0.0
        notes.append("no_wafer_price")
    else:
        c_gross = _ratio(c_wafer, per_wafer_dies)
        c_good = _ratio(c_wafer, per_wafer_dies * usable_fraction)
        wafer_spend = funnel.wafers * c_wafer
    fab_dies = _fab_dies(funnel)
    bank_cost = costs.die_bank_cost_usd_per_die
    if funnel.die_bank_dies > 0 and not bank_cost:
        notes.append("die_bank_at_zero")
    bank_spend = funnel.die_bank_dies * (bank_cost or 0.0)
    c_supplied = _ratio(wafer_spend + bank_spend, funnel.die_supply)

    k = inputs.dies_per_package
    h = inputs.hbm_stacks_per_package
    silicon = k * c_supplied
    hbm = h * costs.hbm_cost_usd_per_stack
    packaging = costs.packaging_cost_usd_per_package
    c_package = silicon + hbm + packaging
    p = funnel.packaging_yield
    t = funnel.test_yield
    # final_units > 0 implies p > 0 and t > 0.
    c_good_package = c_package / p
    test = costs.test_cost_usd_per_unit
    with np.errstate(over="ignore"):
        c_unit = float(np.float64(c_good_package + test) / t)
    if not math.isfinite(c_unit):  # a yield so small (1e-320) that the quotient overflows
        raise InputConflictError(
            "funnel",
            funnel.final_units,
            "the funnel finishes so few tested units that the cost per unit is beyond "
            "any finite number (look at the funnel's stages for a yield close to 0)",
        )
    hbm_spend = funnel.packages * h * costs.hbm_cost_usd_per_stack
    packaging_spend = funnel.packages * packaging
    test_spend = funnel.good_packages * test

    packaging_scrap = c_package * (1.0 / p - 1.0)
    test_scrap = (c_good_package + test) * (1.0 / t - 1.0)
    # where the dies come from decides what the silicon line says
    if funnel.die_supply > 0 and fab_dies < funnel.die_supply:
        origin = "mixed" if fab_dies > 0 else "die_bank"
    else:
        origin = "fab"
    parts: list[tuple[str, float, dict[str, Any]]] = [
        (
            "silicon",
            silicon,
            {"code": "silicon", "dies": k, "origin": origin, "bank_at_zero": not bank_cost},
        ),
        ("HBM", hbm, {"code": "hbm", "stacks": h}),
        ("packaging", packaging, {"code": "packaging"}),
        ("test", test, {"code": "test"}),
        ("packaging scrap", packaging_scrap, {"code": "packaging_scrap"}),
        ("test scrap", test_scrap, {"code": "test_scrap"}),
    ]
    components = tuple(
        CostComponent(name, value, value / c_unit if c_unit > 0 else None, detail)
        for name, value, detail in parts
    )
    if c_unit == 0:
        notes.append("nothing_costed")

    return CostBreakdown(
        funnel=funnel,
        costs=costs,
        cost_per_gross_die_usd=c_gross,
        cost_per_good_die_usd=c_good,
        cost_per_die_supplied_usd=c_supplied,
        cost_per_package_usd=c_package,
        cost_per_good_package_usd=c_good_package,
        cost_per_tested_unit_usd=c_unit,
        components=components,
        wafer_spend_usd=wafer_spend,
        die_bank_spend_usd=bank_spend,
        hbm_spend_usd=hbm_spend,
        packaging_spend_usd=packaging_spend,
        test_spend_usd=test_spend,
        note_codes=tuple(notes),
    )


#: Flows of a :class:`~waferlab.funnel.TimelineResult` that :func:`cost_per_tested_unit_usd` reads.
COST_FLOWS: tuple[str, ...] = (
    "wafer_starts",
    "dies_arrived",
    "die_bank_dies_in",
    "packages_started",
    "good_packages",
    "final_units",
)


def _per_draw_rate(value: Any, numerator: Any, denominator: Any) -> NDArray[np.float64]:
    """A yield per draw: the input when it is a number or draws, the realised ratio for a series."""
    array = np.asarray(value, dtype=np.float64)
    if array.ndim == 2 and array.shape[1] > 1:
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = numerator / denominator
        return np.where(denominator > 0, ratio, array.mean(axis=1))
    return np.broadcast_to(array.reshape(-1), np.shape(numerator)).astype(np.float64)


def cost_per_tested_unit_usd(
    result: TimelineResult, costs: CostInputs | Mapping[str, Any]
) -> NDArray[np.float64]:
    """Return the cost per tested unit of every draw of a month-by-month run.

    The vectorised form of :attr:`CostBreakdown.cost_per_tested_unit_usd`:
    the same cost ladder (:func:`cost_breakdown`, Notes), computed from the
    horizon totals of each draw at once.

    Parameters
    ----------
    result : TimelineResult
        From :func:`waferlab.funnel.run_timeline`, with the flows in
        :data:`COST_FLOWS` kept.
    costs : CostInputs or mapping
        Unit costs in USD; a mapping may hold draws of shape (n,) for any cost
        (``wafer_cost_usd``, ``hbm_cost_usd_per_stack``, ...); costs it leaves
        out are 0 (``die_bank_cost_usd_per_die``: the bank at $0).

    Returns
    -------
    ndarray, shape (n,)
        USD per tested unit; ``inf`` for a draw that finishes no unit.

    Raises
    ------
    MissingCostError
        If the wafer price is missing while some draw starts wafers.

    Notes
    -----
    Per draw, with W wafers started and B die-bank dies over the horizon, D
    dies arrived for packaging (fab and bank), P packages, G good packages and
    U tested units:

    .. math::

        \\bar c_{die} = \\frac{W C_w + B C_b}{D},\\quad
        c_{pkg} = k \\bar c_{die} + h C_h + C_p,\\quad
        c_{unit} = \\frac{c_{pkg} / p + C_t}{t}

    with p and t the given packaging and test yields (a draw's own value), or
    G / P and U / G when they are monthly series.

    Examples
    --------
    >>> from waferlab.funnel import FunnelInputs, run_timeline
    >>> result = run_timeline(FunnelInputs(
    ...     wafer_starts_per_month=50_000, gross_dies_per_wafer=80,
    ...     die_yield=np.array([0.2, 0.4]), dies_per_package=2, packaging_yield=0.75))
    >>> cost_per_tested_unit_usd(result, {"wafer_cost_usd": 16_000,
    ...                                   "packaging_cost_usd_per_package": 500}).tolist()
    [3333.3333333333335, 2000.0]
    """
    if not isinstance(result, TimelineResult):
        raise InvalidParameterError("result", result, "a TimelineResult from run_timeline")
    values = costs.to_dict() if isinstance(costs, CostInputs) else dict(costs)
    missing = [name for name in COST_FLOWS if name not in result.arrays]
    if missing:
        raise InvalidParameterError(
            "result",
            f"a run without {', '.join(missing)}",
            f"a run keeping {', '.join(COST_FLOWS)}",
        )

    def cost(name: str) -> NDArray[np.float64]:
        value = values.get(name)
        return np.asarray(0.0 if value is None else value, dtype=np.float64).reshape(-1)

    wafers = result.total("wafer_starts")
    bank = result.total("die_bank_dies_in")
    arrived = result.total("dies_arrived") + bank
    packages = result.total("packages_started")
    good = result.total("good_packages")
    units = result.total("final_units")
    if values.get("wafer_cost_usd") is None and bool(np.any(wafers > 0)):
        raise MissingCostError(
            ("wafer_cost_usd",),
            "costs missing: wafer_cost_usd (the funnel starts wafers); on the command line: "
            "--set wafer_cost_usd=...",
        )
    inputs = result.inputs
    with np.errstate(divide="ignore", invalid="ignore"):
        spend = wafers * cost("wafer_cost_usd") + bank * cost("die_bank_cost_usd_per_die")
        per_die = np.where(arrived > 0, spend / arrived, np.where(spend > 0, np.inf, 0.0))
        package = (
            inputs.dies_per_package * per_die
            + inputs.hbm_stacks_per_package * cost("hbm_cost_usd_per_stack")
            + cost("packaging_cost_usd_per_package")
        )
        p = _per_draw_rate(inputs.packaging_yield, good, packages)
        t = _per_draw_rate(inputs.test_yield, units, good)
        unit = (package / p + cost("test_cost_usd_per_unit")) / t
    return np.where(units > 0, unit, np.inf)


@cache
def _cset_data() -> Mapping[str, Any]:
    return MappingProxyType(load_json("cset-2020-wafer-cost.json"))


def cset_wafer_cost_data() -> dict[str, Any]:
    """Return the published constants of CSET's wafer-price model (with their source).

    Examples
    --------
    >>> data = cset_wafer_cost_data()
    >>> data["depreciation_share_of_revenue"]
    0.2493
    """
    data: dict[str, Any] = load_json("cset-2020-wafer-cost.json")
    return data


def wafer_cost_from_capex(
    capital_usd_per_wafer_year: ArrayLike,
    node_age_years: ArrayLike = 0.0,
    *,
    depreciation_rate: float | None = None,
    other_costs_and_markup_ratio: float | None = None,
) -> float | NDArray[np.float64]:
    """Estimate a foundry wafer price from capital cost, as CSET did.

    Parameters
    ----------
    capital_usd_per_wafer_year : float or array_like
        Capital investment (fab, equipment) per wafer of annual capacity, USD, ≥ 0.
    node_age_years : float or array_like, default 0
        Years since the node's capital was installed (0 in its first year), ≥ 0.
    depreciation_rate : float, optional
        Fraction of the remaining capital value consumed per year, in (0, 1].
        Default: CSET's 25.29 %/yr (from TSMC's 2004–2018 accounts).
    other_costs_and_markup_ratio : float, optional
        Other costs plus operating profit per dollar of depreciation, ≥ 0.
        Default: (1 − s)/s with s = 24.93 %, the depreciation share of TSMC's
        revenue found by CSET, i.e. ≈ 3.01.

    Returns
    -------
    float or ndarray
        Wafer price in USD (scalar in, float out; arrays broadcast).

    Raises
    ------
    InvalidParameterError
        If an argument is out of range.

    Notes
    -----
    Capital consumed per wafer in year ``a`` of the node's life, under
    declining-balance depreciation at rate r, is

    .. math::  D = K\\, r\\, (1 - r)^{a}

    (waferlab's reading of CSET's "depreciation by node age" as a declining
    balance; CSET's exact age adjustment could not be checked), and the price
    adds other costs and markup in proportion m to it:
    P = D (1 + m), m = (1 − s)/s. So a price is depreciation divided by its
    revenue share s. The published 2020 prices (TSMC 7 nm $9,346, 5 nm
    $16,988) imply capital consumed per wafer of P·s (see
    :func:`cset_wafer_cost_data`); CSET's per-node capital inputs K are not
    reproduced here because waferlab could not verify them.

    References
    ----------
    .. [1] S. M. Khan and A. Mann, "AI Chips: What They Are and Why They
       Matter", CSET, April 2020, Appendix D.
    .. [2] S. Jones, "Leading Edge Foundry Wafer Prices", SemiWiki, 6 Nov 2020
       (restates CSET's 24.93 % depreciation share and 25.29 % rate).

    Examples
    --------
    >>> round(wafer_cost_from_capex(10_000.0), 2)   # first year: 10,000 × 0.2529 / 0.2493
    10144.4
    >>> wafer_cost_from_capex([10_000.0, 10_000.0], [0, 1]).round(1)
    array([10144.4,  7578.9])
    """
    data = _cset_data()
    if depreciation_rate is None:
        r = float(data["depreciation_rate_per_year"])
    else:
        r = check_real("depreciation_rate", depreciation_rate, low=0.0, high=1.0, low_open=True)
    if other_costs_and_markup_ratio is None:
        s = float(data["depreciation_share_of_revenue"])
        m = (1.0 - s) / s
    else:
        m = check_real("other_costs_and_markup_ratio", other_costs_and_markup_ratio, low=0.0)
    capital = check_array("capital_usd_per_wafer_year", capital_usd_per_wafer_year, low=0.0)
    age = check_array("node_age_years", node_age_years, low=0.0)
    price = capital * r * np.power(1.0 - r, age) * (1.0 + m)
    if price.ndim == 0:
        return float(price)
    return price
