"""Multi-component packages: known-good parts, assembly yield, consumption and cost.

A finished accelerator is an assembly: logic dies (one or more die types, each
from its own wafer and process), HBM stacks, bridges, usually a silicon (or
RDL) interposer, and an organic substrate. This module turns such a
description into

* the **package yield** (the share of assemblies that pass final test),
  built up factor by factor: bonding of every attached part, test escapes of
  every part (Williams & Brown), the interposer, its attach to the substrate
  and a final step;
* the **consumption** per good package: tested-good parts, fabricated parts,
  interposers, substrates and assembly attempts;
* the **cost** per good package and the **scrap** by cause (defective parts,
  good dies, good stacks, interposers and substrates thrown away with failed
  assemblies), following the accounting of Chiplet Actuary (Feng & Ma, DAC 2022)
  for the two assembly flows ``chip-last`` and ``chip-first``.

Every yield and cost may be a scalar or an array of draws (shape ``(n,)``);
results broadcast. Counts are integers.

The scalar ``packaging_yield`` of :mod:`waferlab.funnel` is the shortcut this
module refines: :attr:`Package.package_yield`, :attr:`Package.dies_per_package`
and :attr:`Package.hbm_stacks_per_package` are what a funnel needs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from waferlab.errors import (
    InvalidParameterError,
    NoSolutionError,
    UnknownKeyError,
    check_array,
    check_choice,
    check_integer,
    check_real,
)
from waferlab.geometry import Die, Wafer, gross_dies_per_wafer
from waferlab.yield_models import die_yield

__all__ = [
    "ASSEMBLY_FLOWS",
    "COMPONENT_KINDS",
    "SCRAP_CAUSES",
    "Component",
    "Interposer",
    "Package",
    "PackageResult",
    "PackagingCapacity",
    "backsolve_yield",
    "escape_rate",
    "hbm_stack_yield",
    "interposer_area_for_count",
    "package_from_spec",
    "packaging_capacity",
    "passing_fraction",
]

FloatOrArray = float | NDArray[np.float64]

#: Assembly flows: parts bonded onto a finished, tested interposer (``chip-last``)
#: or the interposer/RDL built over parts already placed (``chip-first``).
ASSEMBLY_FLOWS: tuple[str, ...] = ("chip-last", "chip-first")

#: What an attached part is; it decides the scrap cause its waste is booked under.
COMPONENT_KINDS: tuple[str, ...] = ("logic", "hbm", "bridge", "other")

#: Causes in :attr:`PackageResult.scrap_usd`, in display order.
SCRAP_CAUSES: tuple[str, ...] = (
    "defective_parts",
    "wasted_good_dies",
    "wasted_stacks",
    "wasted_other_parts",
    "interposers",
    "substrates",
    "assembly",
)

_WASTE_CAUSE = {
    "logic": "wasted_good_dies",
    "hbm": "wasted_stacks",
    "bridge": "wasted_other_parts",
    "other": "wasted_other_parts",
}

#: Largest count of one component per package (MI300X-class packages have 12 dies
#: and 8 stacks; 4096 only stops typing mistakes).
MAX_COUNT = 4096


def _out(x: NDArray[np.float64]) -> FloatOrArray:
    return float(x) if np.ndim(x) == 0 else x


def _unit(name: str, value: ArrayLike) -> NDArray[np.float64]:
    return check_array(name, value, low=0.0, high=1.0)


def _cost(name: str, value: ArrayLike) -> NDArray[np.float64]:
    return check_array(name, value, low=0.0)


def _positive_unit(name: str, value: ArrayLike) -> NDArray[np.float64]:
    return check_array(name, value, low=0.0, high=1.0, low_open=True)


# --------------------------------------------------------------------------- test escapes


def passing_fraction(part_yield: ArrayLike, test_coverage: ArrayLike) -> FloatOrArray:
    """Return the fraction of parts that pass a test of fault coverage T.

    Parameters
    ----------
    part_yield : float or array_like
        True yield Y of the parts (good / fabricated), in (0, 1].
    test_coverage : float or array_like
        Fault coverage T of the test, in [0, 1].

    Returns
    -------
    float or ndarray
        ``Y^T``: a part passes when none of its faults lies in the covered share.

    Notes
    -----
    With faults Poisson-distributed, a part passes a test covering a share T of
    them with probability ``Y^T`` (Williams & Brown 1981). T = 1 passes exactly
    the good parts (Y); T = 0 passes everything.

    References
    ----------
    T. W. Williams and N. C. Brown, "Defect level as a function of fault
    coverage", IEEE Trans. Computers C-30(12) (1981) 987–988.

    Examples
    --------
    >>> round(passing_fraction(0.5, 0.9), 4)
    0.5359
    """
    y = _positive_unit("part_yield", part_yield)
    t = _unit("test_coverage", test_coverage)
    return _out(np.exp(t * np.log(y)))


def escape_rate(part_yield: ArrayLike, test_coverage: ArrayLike) -> FloatOrArray:
    """Return the defect level: the share of bad parts among those that pass test.

    Parameters
    ----------
    part_yield : float or array_like
        True yield Y of the parts, in (0, 1].
    test_coverage : float or array_like
        Fault coverage T of the test, in [0, 1].

    Returns
    -------
    float or ndarray
        ``DL = 1 − Y^(1−T)``.

    Notes
    -----
    Of the ``Y^T`` parts that pass (:func:`passing_fraction`), ``Y`` are good,
    so the defect level is ``DL = 1 − Y / Y^T = 1 − Y^(1−T)``.

    References
    ----------
    T. W. Williams and N. C. Brown, "Defect level as a function of fault
    coverage", IEEE Trans. Computers C-30(12) (1981) 987–988.

    Examples
    --------
    A 50 %-yield die tested at 99 % coverage lets through 0.69 % bad dies:

    >>> round(escape_rate(0.5, 0.99), 5)
    0.00691
    """
    y = _positive_unit("part_yield", part_yield)
    t = _unit("test_coverage", test_coverage)
    return _out(np.maximum(-np.expm1((1.0 - t) * np.log(y)), 0.0))


def hbm_stack_yield(
    layers: int,
    layer_yield: ArrayLike,
    *,
    layer_bond_yield: ArrayLike = 1.0,
    base_die_yield: ArrayLike = 1.0,
) -> FloatOrArray:
    """Return the yield of a memory stack built from ``layers`` dies.

    Parameters
    ----------
    layers : int
        DRAM dies in the stack (8 for an 8-high HBM2E stack), in [1, 64].
    layer_yield : float or array_like
        Yield of one DRAM layer as stacked, in [0, 1].
    layer_bond_yield : float or array_like, default 1.0
        Yield of each layer's bond (TSV / micro-bump) onto the stack, in [0, 1].
    base_die_yield : float or array_like, default 1.0
        Yield of the logic base die, in [0, 1].

    Returns
    -------
    float or ndarray
        ``Y_stack = Y_base · (y_layer · y_bond)^layers``.

    Notes
    -----
    Every layer and every bond must work; failures are independent.

    Examples
    --------
    >>> [round(hbm_stack_yield(n, 0.99), 4) for n in (8, 12, 16)]
    [0.9227, 0.8864, 0.8515]
    """
    n = check_integer("layers", layers, low=1, high=64)
    y = _unit("layer_yield", layer_yield)
    b = _unit("layer_bond_yield", layer_bond_yield)
    base = _unit("base_die_yield", base_die_yield)
    return _out(base * (y * b) ** n)


def backsolve_yield(
    target_yield: ArrayLike, *, known_yield: ArrayLike = 1.0, unknown_factors: int = 1
) -> FloatOrArray:
    """Return the yield each of k equal unknown factors must have to reach a target.

    Parameters
    ----------
    target_yield : float or array_like
        The overall yield to reach (e.g. CSIS' 75 % of packages surviving), in (0, 1].
    known_yield : float or array_like, default 1.0
        Product of the factors already known (e.g. ten bonds at 0.99), in (0, 1].
    unknown_factors : int, default 1
        How many equal factors share the rest (1: their product), >= 1.

    Returns
    -------
    float or ndarray
        ``x = (target / known)^(1/k)``.

    Raises
    ------
    NoSolutionError
        If the known factors already yield less than the target (x would exceed 1).

    Examples
    --------
    Ascend 910C: two logic dies and eight HBM stacks bonded at 0.99 each leave
    the interposer and substrate together to yield about 0.83 for 75 %:

    >>> round(backsolve_yield(0.75, known_yield=0.99**10), 4)
    0.8293
    >>> round(backsolve_yield(0.75, unknown_factors=10), 4)  # ten equal bonds, nothing else
    0.9716
    """
    target = _positive_unit("target_yield", target_yield)
    known = _positive_unit("known_yield", known_yield)
    k = check_integer("unknown_factors", unknown_factors, low=1, high=MAX_COUNT)
    ratio = target / known
    if np.any(ratio > 1.0 + 1e-12):
        raise NoSolutionError(
            "target_yield",
            float(np.max(target)),
            f"at most known_yield ({float(np.min(known)):.6g})",
            "the known factors alone already yield less than the target",
        )
    return _out(np.minimum(ratio, 1.0) ** (1.0 / k))


# --------------------------------------------------------------------------- parts


@dataclass(frozen=True)
class Component:
    """A part attached to the package, ``count`` times per package.

    Parameters
    ----------
    name : str
        Label, unique within the package (e.g. ``"910B die"``, ``"HBM2E"``).
    count : int
        Parts of this type per package, in [1, 4096].
    kind : {"logic", "hbm", "bridge", "other"}, default "logic"
        What the part is (decides where its waste is booked).
    part_yield : float or array_like, default 1.0
        True yield of the fabricated parts (die yield, stack yield), in (0, 1].
    raw_cost_usd : float or array_like, optional
        Cost per fabricated part [USD] (wafer cost / dies per wafer). Give this
        or ``known_good_cost_usd``.
    known_good_cost_usd : float or array_like, optional
        Cost per part that passed its test [USD] (e.g. a bought known-good HBM
        stack). Default: ``raw_cost_usd / passing_fraction``.
    test_coverage : float or array_like, default 1.0
        Fault coverage T of the part's test before assembly, in [0, 1].
    bond_yield : float or array_like, default 1.0
        Yield of attaching one part (chip-last flow), in (0, 1].
    attach_cost_usd : float or array_like, default 0.0
        Cost added to each placed part (bumps) [USD], lost with it on failure.

    Examples
    --------
    >>> c = Component("HBM2E", 8, kind="hbm", known_good_cost_usd=300.0, bond_yield=0.99)
    >>> c.count, c.kind, c.raw_cost_usd
    (8, 'hbm', 300.0)
    """

    name: str
    count: int
    kind: str = "logic"
    part_yield: Any = 1.0
    raw_cost_usd: Any = None
    known_good_cost_usd: Any = None
    test_coverage: Any = 1.0
    bond_yield: Any = 1.0
    attach_cost_usd: Any = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise InvalidParameterError("name", self.name, "a non-empty string")
        object.__setattr__(self, "count", check_integer("count", self.count, low=1, high=MAX_COUNT))
        check_choice("kind", self.kind, COMPONENT_KINDS)
        y = _positive_unit("part_yield", self.part_yield)
        t = _unit("test_coverage", self.test_coverage)
        pass_fraction = np.exp(t * np.log(y))
        if (self.raw_cost_usd is None) == (self.known_good_cost_usd is None):
            if self.raw_cost_usd is None:
                object.__setattr__(self, "raw_cost_usd", 0.0)
                object.__setattr__(self, "known_good_cost_usd", 0.0)
            else:
                raise InvalidParameterError(
                    "known_good_cost_usd",
                    self.known_good_cost_usd,
                    "omitted when raw_cost_usd is given",
                )
        elif self.known_good_cost_usd is None:
            raw = _cost("raw_cost_usd", self.raw_cost_usd)
            object.__setattr__(self, "known_good_cost_usd", _out(raw / pass_fraction))
        else:
            kgd = _cost("known_good_cost_usd", self.known_good_cost_usd)
            object.__setattr__(self, "raw_cost_usd", _out(kgd))
        for name in ("part_yield", "test_coverage"):
            object.__setattr__(self, name, _out(np.asarray(getattr(self, name), dtype=float)))
        object.__setattr__(self, "bond_yield", _out(_positive_unit("bond_yield", self.bond_yield)))
        object.__setattr__(
            self, "attach_cost_usd", _out(_cost("attach_cost_usd", self.attach_cost_usd))
        )

    @classmethod
    def logic_die(
        cls,
        name: str,
        count: int,
        *,
        die: Die,
        model: str,
        defect_density_per_cm2: ArrayLike,
        wafer_cost_usd: ArrayLike,
        wafer: Wafer | None = None,
        dies_per_wafer: float | None = None,
        test_coverage: ArrayLike = 1.0,
        bond_yield: ArrayLike = 1.0,
        attach_cost_usd: ArrayLike = 0.0,
        kind: str = "logic",
        **model_parameters: Any,
    ) -> Component:
        """Return a die whose yield and cost come from its wafer and process.

        Parameters
        ----------
        name, count
            As for :class:`Component`.
        die : Die
            The die and its scribe lines.
        model : str
            Yield model (a key of :data:`waferlab.yield_models.YIELD_MODELS`).
        defect_density_per_cm2 : float or array_like
            D0 of the die's process under ``model`` [/cm²].
        wafer_cost_usd : float or array_like
            Processed wafer cost [USD].
        wafer : Wafer, optional
            Default ``Wafer(300.0)`` (3 mm edge exclusion).
        dies_per_wafer : float, optional
            Gross dies per wafer; default: exact placement
            (:func:`waferlab.geometry.gross_dies_per_wafer`).
        test_coverage, bond_yield, attach_cost_usd, kind
            As for :class:`Component` (``kind="bridge"`` for a bridge die).
        **model_parameters
            ``alpha`` and the other parameters of the yield model.

        Examples
        --------
        >>> c = Component.logic_die("910B", 2, die=Die(21.32, 31.22), model="poisson",
        ...                         defect_density_per_cm2=0.2418, wafer_cost_usd=13000.0)
        >>> round(c.part_yield, 3), round(c.raw_cost_usd, 2)
        (0.2, 152.94)
        """
        w = wafer if wafer is not None else Wafer(300.0)
        if dies_per_wafer is None:
            gross = float(gross_dies_per_wafer(w, die))
        else:
            gross = check_real("dies_per_wafer", dies_per_wafer, low=0.0, low_open=True)
        if gross <= 0:
            raise NoSolutionError("die", die, "a die that fits on the wafer")
        y = die_yield(model, die.area_mm2, defect_density_per_cm2, **model_parameters)
        cost = _cost("wafer_cost_usd", wafer_cost_usd)
        return cls(
            name,
            count,
            kind=kind,
            part_yield=y,
            raw_cost_usd=_out(cost / gross),
            test_coverage=test_coverage,
            bond_yield=bond_yield,
            attach_cost_usd=attach_cost_usd,
        )

    @classmethod
    def hbm_stack(
        cls,
        name: str,
        count: int,
        *,
        known_good_cost_usd: ArrayLike,
        stack_yield: ArrayLike | None = None,
        layers: int | None = None,
        layer_yield: ArrayLike = 1.0,
        layer_bond_yield: ArrayLike = 1.0,
        test_coverage: ArrayLike = 1.0,
        bond_yield: ArrayLike = 1.0,
        attach_cost_usd: ArrayLike = 0.0,
    ) -> Component:
        """Return an HBM stack bought as a known-good stack.

        The stack yield is ``stack_yield`` if given, else
        :func:`hbm_stack_yield` of ``layers``; it matters for the escapes
        when ``test_coverage`` < 1 (the stack maker bears the stack's own loss,
        which is in its price).

        Examples
        --------
        >>> s = Component.hbm_stack("HBM2E", 8, known_good_cost_usd=300.0, layers=8,
        ...                         layer_yield=0.99, test_coverage=0.99)
        >>> round(s.part_yield, 4)
        0.9227
        """
        if stack_yield is None:
            y: ArrayLike = (
                1.0
                if layers is None
                else hbm_stack_yield(layers, layer_yield, layer_bond_yield=layer_bond_yield)
            )
        elif layers is not None:
            raise InvalidParameterError("layers", layers, "omitted when stack_yield is given")
        else:
            y = stack_yield
        return cls(
            name,
            count,
            kind="hbm",
            part_yield=y,
            known_good_cost_usd=known_good_cost_usd,
            test_coverage=test_coverage,
            bond_yield=bond_yield,
            attach_cost_usd=attach_cost_usd,
        )

    @property
    def pass_fraction(self) -> FloatOrArray:
        """Share of fabricated parts that pass their test, ``Y^T``."""
        return passing_fraction(self.part_yield, self.test_coverage)

    @property
    def escape_rate(self) -> FloatOrArray:
        """Share of bad parts among the parts that pass test, ``1 − Y^(1−T)``."""
        return escape_rate(self.part_yield, self.test_coverage)


@dataclass(frozen=True)
class Interposer:
    """The interposer (or RDL carrier) the parts sit on, and its wafer.

    Parameters
    ----------
    width_mm, height_mm : float
        Interposer size [mm].
    defect_density_per_cm2 : float or array_like, default 0.0
        D0 of the interposer process under ``model`` [/cm²].
    model : str, default "negative_binomial"
        Yield model of the interposer.
    model_parameters : mapping, default {}
        Its parameters, e.g. ``{"alpha": 6.0}`` (Chiplet Actuary's silicon interposer).
    wafer : Wafer, optional
        Interposer wafer; default ``Wafer(300.0)``.
    scribe_mm : float, default 0.1
        Street between interposers [mm].
    wafer_cost_usd : float or array_like, default 0.0
        Interposer wafer cost [USD].
    units_per_wafer : float, optional
        Interposers per wafer; default: exact placement on ``wafer``.
    count : int, default 1
        Interposers per package (the 910C has two).
    test_coverage : float or array_like, default 1.0
        Coverage of the interposer test before chip-last assembly, in [0, 1].
    attach_cost_usd : float or array_like, default 0.0
        Cost added to each interposer (C4 bumps) [USD].
    substrate_attach_yield : float or array_like, default 1.0
        Yield of attaching one interposer to the substrate, in (0, 1].
    name : str, default "interposer"

    Examples
    --------
    >>> i = Interposer(33.0, 26.0, defect_density_per_cm2=0.06, model_parameters={"alpha": 6.0})
    >>> i.gross_per_wafer, round(i.interposer_yield, 3)
    (64.0, 0.61)
    """

    width_mm: float
    height_mm: float
    defect_density_per_cm2: Any = 0.0
    model: str = "negative_binomial"
    model_parameters: Mapping[str, Any] = field(default_factory=dict)
    wafer: Wafer | None = None
    scribe_mm: float = 0.1
    wafer_cost_usd: Any = 0.0
    units_per_wafer: float | None = None
    count: int = 1
    test_coverage: Any = 1.0
    attach_cost_usd: Any = 0.0
    substrate_attach_yield: Any = 1.0
    name: str = "interposer"

    def __post_init__(self) -> None:
        die = Die(self.width_mm, self.height_mm, scribe_x_mm=self.scribe_mm)
        object.__setattr__(self, "width_mm", die.width_mm)
        object.__setattr__(self, "height_mm", die.height_mm)
        object.__setattr__(self, "count", check_integer("count", self.count, low=1, high=64))
        if self.wafer is None:
            object.__setattr__(self, "wafer", Wafer(300.0))
        if self.units_per_wafer is not None:
            object.__setattr__(
                self,
                "units_per_wafer",
                check_real("units_per_wafer", self.units_per_wafer, low=0.0, low_open=True),
            )
        object.__setattr__(self, "model_parameters", dict(self.model_parameters))
        # Validates D0, the model and its parameters at once.
        self.interposer_yield  # noqa: B018
        for name in ("wafer_cost_usd", "attach_cost_usd"):
            object.__setattr__(self, name, _out(_cost(name, getattr(self, name))))
        object.__setattr__(self, "test_coverage", _out(_unit("test_coverage", self.test_coverage)))
        object.__setattr__(
            self,
            "substrate_attach_yield",
            _out(_positive_unit("substrate_attach_yield", self.substrate_attach_yield)),
        )

    @property
    def area_mm2(self) -> float:
        """Interposer area [mm²]."""
        return self.width_mm * self.height_mm

    @cached_property
    def interposer_yield(self) -> FloatOrArray:
        """Yield of one interposer from its area and D0 under its model."""
        y = die_yield(
            self.model, self.area_mm2, self.defect_density_per_cm2, **self.model_parameters
        )
        if np.any(np.asarray(y) <= 0.0):
            raise NoSolutionError(
                "defect_density_per_cm2", self.defect_density_per_cm2, "a D0 with some yield"
            )
        return y

    @cached_property
    def gross_per_wafer(self) -> float:
        """Interposers per wafer: ``units_per_wafer`` or exact placement."""
        if self.units_per_wafer is not None:
            return float(self.units_per_wafer)
        assert self.wafer is not None
        die = Die(self.width_mm, self.height_mm, scribe_x_mm=self.scribe_mm)
        return float(gross_dies_per_wafer(self.wafer, die))

    @property
    def pass_fraction(self) -> FloatOrArray:
        """Share of interposers passing their test, ``Y^T``."""
        return passing_fraction(self.interposer_yield, self.test_coverage)

    @property
    def unit_cost_usd(self) -> FloatOrArray:
        """Cost of one fabricated interposer [USD]: wafer cost / count + bumps."""
        if self.gross_per_wafer <= 0:
            raise NoSolutionError("width_mm", self.width_mm, "an interposer that fits its wafer")
        return _out(
            np.asarray(self.wafer_cost_usd) / self.gross_per_wafer
            + np.asarray(self.attach_cost_usd)
        )


# --------------------------------------------------------------------------- package


@dataclass(frozen=True)
class Package:
    """A package: attached parts, an optional interposer, a substrate and a flow.

    Parameters
    ----------
    name : str
    components : sequence of Component
        The attached parts (logic dies, HBM stacks, bridges, ...); names unique.
    interposer : Interposer, optional
        None for parts bonded straight onto an organic substrate.
    substrate_cost_usd : float or array_like, default 0.0
        Cost of the organic substrate [USD].
    flow : {"chip-last", "chip-first"}, default "chip-last"
        ``chip-first`` needs an interposer (the RDL built over the parts).
    final_yield : float or array_like, default 1.0
        Yield of the steps after the last attach (lid, burn-in), in (0, 1];
        a failure scraps the whole package.
    assembly_cost_usd : float or array_like, default 0.0
        Cost of one assembly attempt (labour, test) [USD].

    Notes
    -----
    With ``n_i`` parts of type i (yield ``Y_i``, test coverage ``T_i``, bond
    yield ``b_i``) and ``m`` interposers of yield ``Y_I`` (coverage ``T_I``,
    substrate attach ``s``), the package yield is

    .. math::

        Y_\\text{pkg} = \\underbrace{\\prod_i b_i^{n_i}}_{B}\\;
                        \\underbrace{\\prod_i Y_i^{(1-T_i) n_i}}_{Q}\\;
                        Y_I^{(1-T_I) m}\\; s^m\\; f   \\quad\\text{(chip-last)}

        Y_\\text{pkg} = Q\\; Y_I^{m}\\; s^m\\; f   \\quad\\text{(chip-first)}

    where ``Y^(1−T) = 1 − DL`` is the escape-free share of tested parts
    (Williams & Brown). Without an interposer, ``Y_pkg = B · Q · f``. In
    ``chip-first`` the parts are placed first and the interposer (RDL) is
    built over them, so there is no separate bond (``b_i`` is not used) and a
    bad interposer takes the parts with it.

    Per good package: ``n_i / Y_pkg`` tested parts and ``n_i / (Y_pkg · Y_i^T_i)``
    fabricated parts are used; ``m / (Y_pkg · Y_I^T_I)`` interposers are made
    (chip-last; ``m / Y_pkg`` chip-first); ``1 / (s^m f)`` substrates (the
    substrate enters last; without an interposer it is the carrier and
    ``1 / Y_pkg`` are used); ``1 / Y_pkg`` assembly attempts.

    The cost per good package is the sum of: raw parts ``Σ n_i (c_i + a_i)``
    (c_i cost per fabricated part, a_i attach cost), defective parts
    ``Σ n_i (k_i − c_i)`` (k_i = c_i / Y_i^T_i per tested part), the raw package
    (``m C_I + C_S``), its scrap and the wasted parts
    ``Σ n_i (k_i + a_i)(1/Y_pkg − 1)`` — the five terms of Chiplet Actuary's
    recurring cost.

    References
    ----------
    Y. Feng and K. Ma, "Chiplet Actuary: a quantitative cost model and
    multi-chiplet architecture exploration", Proc. 59th ACM/IEEE DAC (2022);
    code at github.com/Yinxiao-Feng/chiplet-actuary.
    T. W. Williams and N. C. Brown, IEEE Trans. Computers C-30(12) (1981) 987–988.

    Examples
    --------
    The CSIS 910C shortcut: two dies and eight stacks bonded at 0.99 each, an
    interposer pair and substrate yielding 0.8293 together:

    >>> pkg = Package("910C", (Component("910B", 2, bond_yield=0.99),
    ...                        Component("HBM2E", 8, kind="hbm", bond_yield=0.99)),
    ...               final_yield=0.8293)
    >>> round(pkg.package_yield, 3), pkg.dies_per_package, pkg.hbm_stacks_per_package
    (0.75, {'910B': 2}, 8)
    """

    name: str
    components: Sequence[Component]
    interposer: Interposer | None = None
    substrate_cost_usd: Any = 0.0
    flow: str = "chip-last"
    final_yield: Any = 1.0
    assembly_cost_usd: Any = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise InvalidParameterError("name", self.name, "a non-empty string")
        parts = tuple(self.components)
        if not parts or not all(isinstance(c, Component) for c in parts):
            raise InvalidParameterError(
                "components", self.components, "a non-empty sequence of Component"
            )
        names = [c.name for c in parts]
        duplicate = next((n for n in names if names.count(n) > 1), None)
        if duplicate is not None:
            raise InvalidParameterError("components", duplicate, "components with unique names")
        object.__setattr__(self, "components", parts)
        check_choice("flow", self.flow, ASSEMBLY_FLOWS)
        if self.flow == "chip-first" and self.interposer is None:
            raise InvalidParameterError(
                "flow", self.flow, "chip-last for a package without an interposer"
            )
        if self.interposer is not None and not isinstance(self.interposer, Interposer):
            raise InvalidParameterError("interposer", self.interposer, "an Interposer or None")
        object.__setattr__(
            self, "substrate_cost_usd", _out(_cost("substrate_cost_usd", self.substrate_cost_usd))
        )
        object.__setattr__(
            self, "assembly_cost_usd", _out(_cost("assembly_cost_usd", self.assembly_cost_usd))
        )
        object.__setattr__(
            self, "final_yield", _out(_positive_unit("final_yield", self.final_yield))
        )

    def __repr__(self) -> str:
        parts = ", ".join(f"{c.count} x {c.name}" for c in self.components)
        text = f"Package(name={self.name!r}, flow={self.flow!r}, parts=[{parts}]"
        if self.interposer is not None:
            text += f", interposer={self.interposer.count} x {self.interposer.area_mm2:.0f} mm2"
        return (text[:280] + " ...]" if len(text) > 285 else text) + ")"

    # ---------------------------------------------------------------- counts the funnel needs

    @property
    def dies_per_package(self) -> dict[str, int]:
        """Logic dies per package, by die type (component name)."""
        return {c.name: c.count for c in self.components if c.kind == "logic"}

    @property
    def logic_dies_per_package(self) -> int:
        """All logic dies per package."""
        return sum(self.dies_per_package.values())

    @property
    def hbm_stacks_per_package(self) -> int:
        """HBM stacks per package."""
        return sum(c.count for c in self.components if c.kind == "hbm")

    @property
    def package_yield(self) -> FloatOrArray:
        """Share of assembly attempts that give a good package (see Notes)."""
        return _out(self._log_factors()[1])

    # ---------------------------------------------------------------- build-up

    def _log_factors(self) -> tuple[dict[str, NDArray[np.float64]], NDArray[np.float64]]:
        """Named yield factors and their product."""
        factors: dict[str, NDArray[np.float64]] = {}
        chip_last = self.flow == "chip-last"
        for c in self.components:
            if chip_last:
                factors[f"bond: {c.name}"] = np.asarray(c.bond_yield, dtype=float) ** c.count
            escape_free = np.exp((1.0 - np.asarray(c.test_coverage)) * np.log(c.part_yield))
            factors[f"escapes: {c.name}"] = escape_free**c.count
        i = self.interposer
        if i is not None:
            y = np.asarray(i.interposer_yield, dtype=float)
            if chip_last:
                factors[f"escapes: {i.name}"] = np.exp(
                    (1.0 - np.asarray(i.test_coverage)) * np.log(y) * i.count
                )
            else:
                factors[f"{i.name} (built over the parts)"] = y**i.count
            factors["substrate attach"] = np.asarray(i.substrate_attach_yield) ** i.count
        factors["final"] = np.asarray(self.final_yield, dtype=float)
        total = np.ones(())
        for value in factors.values():
            total = total * value
        return factors, total

    def yield_factors(self) -> dict[str, FloatOrArray]:
        """Return the named factors whose product is :attr:`package_yield`.

        Examples
        --------
        >>> pkg = Package("p", (Component("die", 2, bond_yield=0.99),))
        >>> {k: round(v, 4) for k, v in pkg.yield_factors().items()}
        {'bond: die': 0.9801, 'escapes: die': 1.0, 'final': 1.0}
        """
        return {k: _out(v) for k, v in self._log_factors()[0].items()}

    def residual_yield_for(self, target_package_yield: ArrayLike) -> FloatOrArray:
        """Return the further yield factor that brings this package to a target.

        The factor stands for whatever the description leaves out (for CSIS'
        75 % with only the bonds described: the interposer and substrate).

        Raises
        ------
        NoSolutionError
            If the package already yields less than the target.

        Examples
        --------
        >>> pkg = Package("910C", (Component("910B", 2, bond_yield=0.99),
        ...                        Component("HBM2E", 8, kind="hbm", bond_yield=0.99)))
        >>> round(pkg.residual_yield_for(0.75), 4)
        0.8293
        """
        return backsolve_yield(target_package_yield, known_yield=self.package_yield)

    def packages_per_interposer_wafer(self) -> FloatOrArray:
        """Return the packages that one interposer wafer can start.

        ``units · Y_I^T_I / m`` in chip-last (only tested-good interposers are
        used), ``units / m`` in chip-first.

        Raises
        ------
        InvalidParameterError
            If the package has no interposer.

        Examples
        --------
        >>> i = Interposer(33.0, 26.0, units_per_wafer=60.0, count=2)
        >>> Package("p", (Component("die", 1),), interposer=i).packages_per_interposer_wafer()
        30.0
        """
        i = self.interposer
        if i is None:
            raise InvalidParameterError("interposer", None, "an Interposer for a package")
        units = i.gross_per_wafer / i.count
        if self.flow == "chip-first":
            return units
        return _out(units * np.asarray(i.pass_fraction))

    def evaluate(self) -> PackageResult:
        """Return the yield build-up, consumption per good package and cost.

        Examples
        --------
        >>> pkg = Package("os", (Component("die", 4, raw_cost_usd=45.0, part_yield=0.85,
        ...                                bond_yield=0.99),), substrate_cost_usd=24.0)
        >>> r = pkg.evaluate()
        >>> round(r.package_yield, 4), round(r.cost_per_good_package_usd, 2)
        (0.9606, 245.44)
        """
        factors, y_pkg = self._log_factors()
        per_attempt = 1.0 / y_pkg
        rows: list[dict[str, Any]] = []
        raw_parts = np.zeros(())
        defective = np.zeros(())
        wasted: dict[str, NDArray[np.float64]] = {}
        for c in self.components:
            raw = np.asarray(c.raw_cost_usd, dtype=float)
            kgd = np.asarray(c.known_good_cost_usd, dtype=float)
            attach = np.asarray(c.attach_cost_usd, dtype=float)
            pass_fraction = np.asarray(c.pass_fraction, dtype=float)
            raw_parts = raw_parts + c.count * (raw + attach)
            defective = defective + c.count * (kgd - raw)
            cause = _WASTE_CAUSE[c.kind]
            wasted[cause] = wasted.get(cause, np.zeros(())) + c.count * (kgd + attach) * (
                per_attempt - 1.0
            )
            factor = factors.get(f"bond: {c.name}", 1.0) * factors[f"escapes: {c.name}"]
            rows.append(
                {
                    "name": c.name,
                    "kind": c.kind,
                    "count": c.count,
                    "yield": _out(np.asarray(c.part_yield, dtype=float)),
                    "escape_rate": c.escape_rate,
                    "bond_yield": c.bond_yield if self.flow == "chip-last" else None,
                    "package_yield_factor": _out(np.asarray(factor)),
                    "known_good_cost_usd": c.known_good_cost_usd,
                    "tested_per_good_package": _out(c.count * per_attempt),
                    "fabricated_per_good_package": _out(c.count * per_attempt / pass_fraction),
                }
            )
        i = self.interposer
        substrate = np.asarray(self.substrate_cost_usd, dtype=float)
        if i is None:
            substrates_used = per_attempt
            interposer_cost = np.zeros(())
            interposers_made = np.zeros(())
            interposer_units = 0
        else:
            interposer_units = i.count
            interposer_cost = np.asarray(i.unit_cost_usd, dtype=float)
            after_attach = np.asarray(i.substrate_attach_yield) ** i.count * np.asarray(
                self.final_yield
            )
            substrates_used = 1.0 / after_attach
            if self.flow == "chip-last":
                interposers_made = i.count * per_attempt / np.asarray(i.pass_fraction)
                factor = factors[f"escapes: {i.name}"]
            else:
                interposers_made = i.count * per_attempt
                factor = factors[f"{i.name} (built over the parts)"]
            rows.append(
                {
                    "name": i.name,
                    "kind": "interposer",
                    "count": i.count,
                    "yield": i.interposer_yield,
                    "escape_rate": escape_rate(i.interposer_yield, i.test_coverage)
                    if self.flow == "chip-last"
                    else None,
                    "bond_yield": i.substrate_attach_yield,
                    "package_yield_factor": _out(np.asarray(factor * factors["substrate attach"])),
                    "known_good_cost_usd": _out(interposer_cost / np.asarray(i.pass_fraction)),
                    "tested_per_good_package": _out(np.asarray(i.count * per_attempt)),
                    "fabricated_per_good_package": _out(np.asarray(interposers_made)),
                }
            )
        rows.append(
            {
                "name": "substrate",
                "kind": "substrate",
                "count": 1,
                "yield": 1.0,
                "escape_rate": None,
                "bond_yield": None,
                "package_yield_factor": 1.0,
                "known_good_cost_usd": self.substrate_cost_usd,
                "tested_per_good_package": _out(np.asarray(substrates_used)),
                "fabricated_per_good_package": _out(np.asarray(substrates_used)),
            }
        )
        assembly = np.asarray(self.assembly_cost_usd, dtype=float)
        scrap = {
            "defective_parts": defective,
            "wasted_good_dies": wasted.get("wasted_good_dies", np.zeros(())),
            "wasted_stacks": wasted.get("wasted_stacks", np.zeros(())),
            "wasted_other_parts": wasted.get("wasted_other_parts", np.zeros(())),
            "interposers": interposer_cost * (interposers_made - interposer_units),
            "substrates": substrate * (substrates_used - 1.0),
            "assembly": assembly * (per_attempt - 1.0),
        }
        raw_package = interposer_cost * interposer_units + substrate + assembly
        total = raw_parts + raw_package
        for value in scrap.values():
            total = total + value
        # Every figure takes the shape of the draws, even those no draw changes.
        shape = np.broadcast_shapes(np.shape(total), np.shape(y_pkg))
        scrap = {k: np.broadcast_to(v, shape).copy() for k, v in scrap.items()}
        raw_parts = np.broadcast_to(raw_parts, shape).copy()
        raw_package = np.broadcast_to(raw_package, shape).copy()
        return PackageResult(
            name=self.name,
            flow=self.flow,
            package_yield=_out(np.asarray(y_pkg)),
            yield_factors={k: _out(np.asarray(v)) for k, v in factors.items()},
            components=tuple(rows),
            raw_parts_usd=_out(np.asarray(raw_parts)),
            raw_package_usd=_out(np.asarray(raw_package)),
            scrap_usd={k: _out(np.asarray(v)) for k, v in scrap.items()},
            cost_per_good_package_usd=_out(np.asarray(total)),
            dies_per_package=self.dies_per_package,
            hbm_stacks_per_package=self.hbm_stacks_per_package,
            packages_per_interposer_wafer=None
            if i is None
            else self.packages_per_interposer_wafer(),
        )


@dataclass(frozen=True)
class PackageResult:
    """Yield build-up, consumption and cost of one package (see :meth:`Package.evaluate`).

    Attributes
    ----------
    name, flow : str
    package_yield : float or ndarray
        Good packages per assembly attempt.
    yield_factors : dict
        Named factors whose product is ``package_yield``.
    components : tuple of dict
        One row per part type, then the interposer and the substrate: ``name``,
        ``kind``, ``count``, ``yield``, ``escape_rate``, ``bond_yield``,
        ``package_yield_factor``, ``known_good_cost_usd``,
        ``tested_per_good_package``, ``fabricated_per_good_package``.
    raw_parts_usd : float or ndarray
        Fabricated cost of the parts in one package, with attach costs [USD].
    raw_package_usd : float or ndarray
        Interposers, substrate and one assembly attempt [USD].
    scrap_usd : dict
        Cost per good package lost to each cause in :data:`SCRAP_CAUSES` [USD].
    cost_per_good_package_usd : float or ndarray
        ``raw_parts_usd + raw_package_usd + Σ scrap_usd``.
    dies_per_package : dict
        Logic dies per package by die type.
    hbm_stacks_per_package : int
    packages_per_interposer_wafer : float or ndarray or None
    """

    name: str
    flow: str
    package_yield: FloatOrArray
    yield_factors: Mapping[str, FloatOrArray]
    components: tuple[Mapping[str, Any], ...]
    raw_parts_usd: FloatOrArray
    raw_package_usd: FloatOrArray
    scrap_usd: Mapping[str, FloatOrArray]
    cost_per_good_package_usd: FloatOrArray
    dies_per_package: Mapping[str, int]
    hbm_stacks_per_package: int
    packages_per_interposer_wafer: FloatOrArray | None

    @property
    def total_scrap_usd(self) -> FloatOrArray:
        """All scrap per good package [USD]."""
        total = np.zeros(())
        for value in self.scrap_usd.values():
            total = total + np.asarray(value)
        return _out(total)

    def to_dict(self) -> dict[str, Any]:
        """Return the result as JSON-able data (the ``waferlab package`` JSON)."""
        return {
            "name": self.name,
            "flow": self.flow,
            "package_yield": self.package_yield,
            "yield_factors": dict(self.yield_factors),
            "components": [dict(row) for row in self.components],
            "dies_per_package": dict(self.dies_per_package),
            "hbm_stacks_per_package": self.hbm_stacks_per_package,
            "packages_per_interposer_wafer": self.packages_per_interposer_wafer,
            "raw_parts_usd": self.raw_parts_usd,
            "raw_package_usd": self.raw_package_usd,
            "scrap_usd": dict(self.scrap_usd),
            "total_scrap_usd": self.total_scrap_usd,
            "cost_per_good_package_usd": self.cost_per_good_package_usd,
        }

    def __repr__(self) -> str:
        def show(x: Any) -> str:
            return f"{x:.4g}" if np.ndim(x) == 0 else f"array(shape={np.shape(x)})"

        return (
            f"PackageResult(name={self.name!r}, flow={self.flow!r}, "
            f"package_yield={show(self.package_yield)}, "
            f"cost_per_good_package_usd={show(self.cost_per_good_package_usd)})"
        )


# --------------------------------------------------------------------------- capacity


@dataclass(frozen=True)
class PackagingCapacity:
    """Packages an interposer line can start and finish per month.

    Attributes
    ----------
    interposer_wafers_per_month : float or ndarray
    packages_per_interposer_wafer : float or ndarray
        Packages one interposer wafer can start.
    packages_started_per_month : float or ndarray
        The packaging capacity the funnel engine takes as a constraint.
    good_packages_per_month : float or ndarray
        ``packages_started_per_month × package_yield``.
    """

    interposer_wafers_per_month: FloatOrArray
    packages_per_interposer_wafer: FloatOrArray
    packages_started_per_month: FloatOrArray
    good_packages_per_month: FloatOrArray

    def to_dict(self) -> dict[str, Any]:
        """Return the figures as JSON-able data."""
        return {
            "interposer_wafers_per_month": self.interposer_wafers_per_month,
            "packages_per_interposer_wafer": self.packages_per_interposer_wafer,
            "packages_started_per_month": self.packages_started_per_month,
            "good_packages_per_month": self.good_packages_per_month,
        }


def packaging_capacity(
    interposer_wafers_per_month: ArrayLike, package: Package
) -> PackagingCapacity:
    """Return the packaging capacity of an interposer line for ``package``.

    Parameters
    ----------
    interposer_wafers_per_month : float or array_like
        Interposer (e.g. CoWoS) wafers processed per month, >= 0; a scalar,
        draws or a monthly series.
    package : Package
        A package with an interposer.

    Returns
    -------
    PackagingCapacity

    Notes
    -----
    ``P_started = W × N_I × Y_I^T_I / m`` (chip-last; ``W × N_I / m`` chip-first),
    with ``N_I`` interposers per wafer by exact placement and ``m`` per package;
    good packages ``= P_started × Y_pkg``.

    Examples
    --------
    >>> i = Interposer(50.0, 50.0, units_per_wafer=28.0)
    >>> cap = packaging_capacity(10_000.0, Package("p", (Component("d", 1),), interposer=i))
    >>> cap.packages_started_per_month
    280000.0
    """
    wafers = check_array("interposer_wafers_per_month", interposer_wafers_per_month, low=0.0)
    per_wafer = np.asarray(package.packages_per_interposer_wafer(), dtype=float)
    started = wafers * per_wafer
    return PackagingCapacity(
        interposer_wafers_per_month=_out(wafers),
        packages_per_interposer_wafer=_out(per_wafer),
        packages_started_per_month=_out(started),
        good_packages_per_month=_out(started * np.asarray(package.package_yield)),
    )


def interposer_area_for_count(
    units_per_wafer: int,
    *,
    aspect_ratio: float = 1.0,
    wafer: Wafer | None = None,
    scribe_mm: float = 0.1,
    tolerance_mm: float = 1e-3,
) -> tuple[float, float]:
    """Return the interposer areas that give exactly ``units_per_wafer`` per wafer.

    Parameters
    ----------
    units_per_wafer : int
        Interposers per wafer (e.g. TrendForce's ≈ 28 H100 per CoWoS wafer), in [1, 10^5].
    aspect_ratio : float, default 1.0
        Width / height of the interposer, in [0.1, 10].
    wafer : Wafer, optional
        Default ``Wafer(300.0)``.
    scribe_mm : float, default 0.1
    tolerance_mm : float, default 1e-3
        Precision of the side lengths found.

    Returns
    -------
    (float, float)
        Smallest and largest area [mm²] (within the tolerance) at which the
        exact placement (optimal grid offset) counts ``units_per_wafer``.

    Raises
    ------
    NoSolutionError
        If no size of that shape gives that count (the count jumps over it).

    Notes
    -----
    The count under optimal placement falls as the interposer grows; both
    ends of the interval are found by bisection on the height at a fixed
    aspect ratio.

    Examples
    --------
    >>> lo, hi = interposer_area_for_count(28)
    >>> 1500 < lo < hi < 2500
    True
    """
    target = check_integer("units_per_wafer", units_per_wafer, low=1, high=100_000)
    ratio = check_real("aspect_ratio", aspect_ratio, low=0.1, high=10.0)
    w = wafer if wafer is not None else Wafer(300.0)
    tol = check_real("tolerance_mm", tolerance_mm, low=0.0, low_open=True)

    def count(height: float) -> int:
        return int(gross_dies_per_wafer(w, Die(ratio * height, height, scribe_x_mm=scribe_mm)))

    def largest_height_with_at_least(k: int) -> float:
        lo, hi = tol, w.diameter_mm / max(ratio, 1.0)
        if count(lo) < k:
            return 0.0
        while hi - lo > tol:
            mid = 0.5 * (lo + hi)
            if count(mid) >= k:
                lo = mid
            else:
                hi = mid
        return lo

    h_hi = largest_height_with_at_least(target)
    h_lo = largest_height_with_at_least(target + 1)
    if h_hi <= 0.0 or count(h_hi) != target:
        raise NoSolutionError(
            "units_per_wafer", target, "a count some interposer of this shape reaches"
        )
    area = lambda h: ratio * h * h  # noqa: E731
    return (math.ceil(area(h_lo) * 10) / 10, math.floor(area(h_hi) * 10) / 10)


# --------------------------------------------------------------------------- descriptions

_SPEC_KEYS = frozenset(
    {
        "name",
        "flow",
        "components",
        "interposer",
        "substrate_cost_usd",
        "final_yield",
        "assembly_cost_usd",
        "target_package_yield",
        "sources",
    }
)
_COMPONENT_KEYS = frozenset(
    {
        "name",
        "kind",
        "count",
        "part_yield",
        "raw_cost_usd",
        "known_good_cost_usd",
        "test_coverage",
        "bond_yield",
        "attach_cost_usd",
        "die",
        "stack_yield",
        "layers",
        "layer_yield",
        "layer_bond_yield",
    }
)
# A die or an interposer: its size, its process and its wafer.
_SILICON_KEYS = frozenset(
    {
        "width_mm",
        "height_mm",
        "area_mm2",
        "scribe_mm",
        "model",
        "defect_density_per_cm2",
        "alpha",
        "n_layers",
        "wafer_cost_usd",
        "wafer_diameter_mm",
        "edge_exclusion_mm",
    }
)
_DIE_KEYS = _SILICON_KEYS | {"dies_per_wafer"}
_INTERPOSER_KEYS = _SILICON_KEYS | {
    "name",
    "units_per_wafer",
    "count",
    "test_coverage",
    "attach_cost_usd",
    "substrate_attach_yield",
}


def _table(where: str, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidParameterError(where, value, "a table")
    return value


def _known_keys(where: str, table: Mapping[str, Any], allowed: frozenset[str]) -> None:
    for key in table:
        if key not in allowed:
            raise UnknownKeyError(where.rstrip("."), key, sorted(allowed))


def _renamed(where: str, exc: InvalidParameterError) -> InvalidParameterError:
    """The same error, naming the key in the description."""
    cls = NoSolutionError if isinstance(exc, NoSolutionError) else InvalidParameterError
    return cls(f"{where}{exc.parameter}", exc.value, exc.allowed, exc.detail)


def _size(where: str, table: Mapping[str, Any]) -> tuple[float, float]:
    if "area_mm2" in table:
        if "width_mm" in table or "height_mm" in table:
            raise InvalidParameterError(
                f"{where}area_mm2", table["area_mm2"], "omitted when width_mm/height_mm are given"
            )
        side = math.sqrt(check_real(f"{where}area_mm2", table["area_mm2"], low=0.0, low_open=True))
        return side, side
    if "width_mm" not in table or "height_mm" not in table:
        raise InvalidParameterError(f"{where}width_mm", None, "given with height_mm, or area_mm2")
    return table["width_mm"], table["height_mm"]


def _wafer(table: Mapping[str, Any]) -> Wafer:
    return Wafer(table.get("wafer_diameter_mm", 300.0), table.get("edge_exclusion_mm", 3.0))


def _model_parameters(table: Mapping[str, Any]) -> dict[str, Any]:
    return {k: table[k] for k in ("alpha", "n_layers") if k in table}


def _component(where: str, table: Mapping[str, Any]) -> Component:
    _known_keys(where, table, _COMPONENT_KEYS)
    kind = table.get("kind", "logic")
    common = {k: table[k] for k in ("test_coverage", "bond_yield", "attach_cost_usd") if k in table}
    name: Any = table.get("name")
    count: Any = table.get("count")
    if "die" in table:
        die_where = f"{where}die."
        die_table = _table(f"{where}die", table["die"])
        _known_keys(die_where, die_table, _DIE_KEYS)
        try:
            width, height = _size(die_where, die_table)
            die = Die(width, height, scribe_x_mm=die_table.get("scribe_mm", 0.1))
            wafer = _wafer(die_table)
        except InvalidParameterError as exc:
            raise _renamed(die_where, exc) from exc
        if "wafer_cost_usd" not in die_table:
            raise InvalidParameterError(f"{die_where}wafer_cost_usd", None, "given")
        if "part_yield" in table:  # an observed yield; the die gives the cost only
            gross = die_table.get("dies_per_wafer")
            try:
                gross = float(gross_dies_per_wafer(wafer, die)) if gross is None else gross
                gross = check_real("dies_per_wafer", gross, low=0.0, low_open=True)
                raw = _out(_cost("wafer_cost_usd", die_table["wafer_cost_usd"]) / gross)
            except InvalidParameterError as exc:
                raise _renamed(die_where, exc) from exc
            return Component(
                name, count, kind=kind, part_yield=table["part_yield"], raw_cost_usd=raw, **common
            )
        if "model" not in die_table or "defect_density_per_cm2" not in die_table:
            raise InvalidParameterError(
                f"{die_where}model", None, "given with defect_density_per_cm2, or part_yield"
            )
        try:
            return Component.logic_die(
                name,
                count,
                die=die,
                wafer=wafer,
                model=die_table["model"],
                defect_density_per_cm2=die_table["defect_density_per_cm2"],
                wafer_cost_usd=die_table["wafer_cost_usd"],
                dies_per_wafer=die_table.get("dies_per_wafer"),
                **common,
                **_model_parameters(die_table),
                kind=kind,
            )
        except InvalidParameterError as exc:
            raise _renamed(die_where, exc) from exc
    if kind == "hbm" and ("layers" in table or "stack_yield" in table):
        return Component.hbm_stack(
            name,
            count,
            known_good_cost_usd=table.get("known_good_cost_usd", 0.0),
            stack_yield=table.get("stack_yield"),
            layers=table.get("layers"),
            layer_yield=table.get("layer_yield", 1.0),
            layer_bond_yield=table.get("layer_bond_yield", 1.0),
            **common,
        )
    plain = {
        k: table[k] for k in ("part_yield", "raw_cost_usd", "known_good_cost_usd") if k in table
    }
    return Component(name, count, kind=kind, **plain, **common)


def _interposer(where: str, table: Mapping[str, Any]) -> Interposer:
    _known_keys(where, table, _INTERPOSER_KEYS)
    width, height = _size(where, table)
    keys = (
        "name",
        "scribe_mm",
        "model",
        "defect_density_per_cm2",
        "wafer_cost_usd",
        "units_per_wafer",
        "count",
        "test_coverage",
        "attach_cost_usd",
        "substrate_attach_yield",
    )
    return Interposer(
        width,
        height,
        wafer=_wafer(table),
        model_parameters=_model_parameters(table),
        **{k: table[k] for k in keys if k in table},
    )


def package_from_spec(spec: Mapping[str, Any]) -> Package:
    """Build a :class:`Package` from a description (a parsed package TOML file).

    Parameters
    ----------
    spec : mapping
        Keys ``name``, ``flow``, ``components`` (a list of tables),
        ``interposer`` (a table, optional), ``substrate_cost_usd``,
        ``final_yield``, ``assembly_cost_usd``, ``target_package_yield``
        (optional: the final factor is solved so the package yields this) and
        ``sources`` (ignored here). A component takes the :class:`Component`
        fields, plus ``die`` (a table with ``width_mm`` and ``height_mm`` or
        ``area_mm2``, ``wafer_cost_usd`` and either the yield ``model`` with
        ``defect_density_per_cm2`` (and ``alpha``) or an observed
        ``part_yield`` on the component) or, for HBM, ``layers`` with
        ``layer_yield`` or ``stack_yield``. See ``docs/packages.md``.

    Returns
    -------
    Package

    Raises
    ------
    UnknownKeyError
        For a key the table does not take, naming the table, the key, the
        valid keys and the nearest one (an :class:`InvalidParameterError`).
    InvalidParameterError
        Naming the key (``components[1].die.width_mm``) for a value out of range.

    Examples
    --------
    >>> pkg = package_from_spec({"name": "p", "target_package_yield": 0.75, "components": [
    ...     {"name": "die", "count": 2, "bond_yield": 0.99},
    ...     {"name": "HBM", "kind": "hbm", "count": 8, "bond_yield": 0.99}]})
    >>> round(pkg.final_yield, 4), round(pkg.package_yield, 4)
    (0.8293, 0.75)
    """
    spec = _table("package", spec)
    _known_keys("", spec, _SPEC_KEYS)
    raw_parts = spec.get("components")
    if not isinstance(raw_parts, Sequence) or isinstance(raw_parts, str) or not raw_parts:
        raise InvalidParameterError("components", raw_parts, "a non-empty list of tables")
    parts = []
    for k, item in enumerate(raw_parts):
        where = f"components[{k}]."
        try:
            parts.append(_component(where, _table(f"components[{k}]", item)))
        except InvalidParameterError as exc:
            if exc.parameter.startswith("components["):
                raise
            raise _renamed(where, exc) from exc
    interposer = None
    if "interposer" in spec:
        try:
            interposer = _interposer("interposer.", _table("interposer", spec["interposer"]))
        except InvalidParameterError as exc:
            if exc.parameter.startswith("interposer."):
                raise
            raise _renamed("interposer.", exc) from exc
    common = {k: spec[k] for k in ("flow", "substrate_cost_usd", "assembly_cost_usd") if k in spec}
    name = spec.get("name", "package")
    if "target_package_yield" in spec:
        if "final_yield" in spec:
            raise InvalidParameterError(
                "final_yield", spec["final_yield"], "omitted when target_package_yield is given"
            )
        before = Package(name, parts, interposer=interposer, **common)
        final = before.residual_yield_for(spec["target_package_yield"])
        return Package(name, parts, interposer=interposer, final_yield=final, **common)
    if "final_yield" in spec:
        common["final_yield"] = spec["final_yield"]
    return Package(name, parts, interposer=interposer, **common)
