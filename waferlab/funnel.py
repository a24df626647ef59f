"""Die-to-chip funnels: from wafer starts to finished units and compute equivalents.

A funnel is a chain of stages over typed quantities::

    wafer starts ──► gross dies ──► good dies (──► degraded dies)
        ──► die supply (fab dies + die bank stock)
        ──► packages before packaging loss  (min of what dies and HBM allow)
        ──► good packages ──► tested units ──► compute equivalents

Every stage is a :class:`FunnelStage` that records what came in (expressed in
the stage's own unit, i.e. the most the stage could output), what came out and
the loss, so ``quantity_in == quantity + loss`` and ``0 <= quantity <= quantity_in``
at every stage: a funnel never creates units.

Flows and stocks are kept apart. Wafer starts and HBM supply are flows (per
month) and are multiplied by ``months``; a die bank and an HBM inventory are
stocks and enter once over the whole horizon. Every quantity in a
:class:`FunnelResult` is a whole-horizon total; ``*_per_month`` figures are
horizon totals divided by ``months`` and therefore include any stock spread
evenly over the horizon (``fab_only_final_units`` gives the count without the
die bank).

Whole units: yield stages give expected values and may be fractional (an
expected 0.75 × 3 = 2.25 good packages is a meaningful figure). Assembly is the
only integer step: a package needs whole dies and whole HBM stacks, so the
number of packages before packaging loss is floored. With the report's rounded
inputs every figure is a whole number anyway (50,000 × 80 = 4,000,000 dies;
× 0.20 = 800,000 good dies; ÷ 2 = 400,000 packages; × 0.75 = 300,000).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from waferlab import harvest
from waferlab.errors import (
    GeometryError,
    InvalidParameterError,
    UnknownNameError,
    WaferlabError,
    check_choice,
    check_integer,
    check_real,
)
from waferlab.geometry import Die, Wafer, area_bound_dies_per_wafer, gross_dies_per_wafer
from waferlab.harvest import HARVEST_MODELS, MAX_HARVEST_BLOCKS
from waferlab.output import format_quantity, format_table
from waferlab.yield_models import YIELD_MODELS, defect_density_for_yield, die_yield

__all__ = [
    "BINDING_CONSTRAINTS",
    "COMPUTE_EQUIVALENT_BASES",
    "MAX_COMPUTE_EQUIVALENT_FACTOR",
    "MAX_GROSS_DIES_PER_WAFER",
    "MAX_MONTHS",
    "MAX_STOCK",
    "MAX_WAFER_STARTS_PER_MONTH",
    "FunnelInputs",
    "FunnelResult",
    "FunnelStage",
    "InputConflictError",
    "ModelParameters",
    "run_funnel",
]

#: Accepted values of ``FunnelInputs.compute_equivalent_basis`` and what each means.
COMPUTE_EQUIVALENT_BASES: Mapping[str, str] = MappingProxyType(
    {
        "bf16-spec": "ratio of dense BF16 TFLOPS from data sheets",
        "int8-tops": "ratio of dense 8-bit TOPS from data sheets",
        "memory-bandwidth": "ratio of memory bandwidth (TB/s)",
        "measured": "a measured or reported performance ratio (e.g. CSIS's 60 %)",
    }
)

#: Possible values of ``FunnelResult.binding_constraint``.
BINDING_CONSTRAINTS: tuple[str, ...] = ("dies", "hbm", "none")

#: Sanity bounds on counts, enforced by :class:`FunnelInputs`. They are far
#: above anything real (the largest fab groups start a few million wafers a
#: month) and keep every horizon total below about 1e22, so results stay
#: readable numbers instead of hundreds of digits.
MAX_WAFER_STARTS_PER_MONTH = 1e9
#: Bound on stocks and on HBM supply per month (die bank, HBM inventory).
MAX_STOCK = 1e12
#: Bound on the horizon (100 years).
MAX_MONTHS = 1200
#: Bound on dies per wafer (a 450 mm wafer of 0.1 mm dies holds about 4 million).
MAX_GROSS_DIES_PER_WAFER = 1e7
#: Bound on compute equivalents per unit.
MAX_COMPUTE_EQUIVALENT_FACTOR = 1e6

# Tolerance of the whole-package floor: a package count that falls short of an
# integer only by floating-point rounding (399,999.9999999999) is that integer.
_FLOOR_TOLERANCE = 1e-6


# Parameters every yield model takes, neutral at 1.0: the gross yield and the
# fraction of the die area that is critical.
_NEUTRAL_PARAMETERS = ("gross_yield", "critical_area_fraction")


def _whole(x: float) -> float:
    """Floor ``x`` to whole units, forgiving floating-point rounding just below an integer."""
    return float(math.floor(x + _FLOOR_TOLERANCE))


def _bound_text(bound: float) -> str:
    """Write a power-of-ten bound as ``1e9`` (not ``1e+09``)."""
    return f"{bound:.0e}".replace("e+0", "e").replace("e+", "e")


def _bounded(
    name: str, value: Any, bound: float, what: str, doc: str, *, low_open: bool = False
) -> float:
    """Check that a value is finite, >= 0 (> 0 if ``low_open``) and at most ``bound``."""
    x = check_real(name, value, low=0.0, low_open=low_open)
    if x > bound:
        raise InvalidParameterError(
            name, x, f"at most {_bound_text(bound)}", f"a sanity bound on {what} (see {doc})"
        )
    return x


def _count(name: str, value: Any, bound: float) -> float:
    """Check a count: finite, >= 0 and at most the sanity ``bound``."""
    return _bounded(name, value, bound, "counts", "docs/funnels.md")


class InputConflictError(InvalidParameterError):
    """Inputs that are each valid but do not go together.

    The message is a whole sentence saying what to change, rather than the
    "``name`` must be ``allowed`` (got ``value``)" form.

    Examples
    --------
    >>> str(InputConflictError("die_yield", None, "give die_yield or a defect density"))
    'give die_yield or a defect density'
    """

    def __init__(self, parameter: str, value: object, message: str) -> None:
        super().__init__(parameter, value, "consistent with the other inputs", message)
        self.args = (message,)

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class FunnelInputs:
    """Everything a funnel needs, validated on construction.

    Field names are the keys of scenario files. Counts are per month (flows) or
    whole-horizon stocks as stated; fractions are in [0, 1].

    Parameters
    ----------
    wafer_starts_per_month : float
        Wafer starts per month of the fab (or fab group), ≥ 0. A flow.
    capacity_share : float, default 1.0
        Fraction of those starts allocated to this product, in [0, 1].
    months : int, default 1
        Length of the horizon in months, integer ≥ 1.
    gross_dies_per_wafer : float, optional
        Whole dies per wafer. None: computed by exact placement
        (:func:`waferlab.geometry.gross_dies_per_wafer`) from ``die_width_mm``,
        ``die_height_mm``, ``scribe_mm``, ``wafer_diameter_mm`` and ``edge_exclusion_mm``.
    die_width_mm, die_height_mm : float, optional
        Die size in mm, > 0. Needed for the geometry and, unless
        ``die_area_mm2`` is given, for the die area used by the yield model.
    die_area_mm2 : float, optional
        Die area in mm² for the yield model when the width and height are not
        given (not both).
    scribe_mm : float, default 0.1
        Scribe street in mm (both directions), ≥ 0.
    wafer_diameter_mm : float, default 300.0
        Wafer diameter in mm, > 0.
    edge_exclusion_mm : float, default 3.0
        Edge exclusion in mm, ≥ 0.
    die_yield : float, optional
        Fraction of gross dies that are fully functional, in [0, 1]. None:
        computed by :func:`waferlab.yield_models.die_yield` from ``yield_model``,
        the die area and ``defect_density_per_cm2`` (give one or the other, not both).
    yield_model : str, default "poisson"
        Name of a model in :data:`waferlab.yield_models.YIELD_MODELS`.
    defect_density_per_cm2 : float, optional
        Defect density D0 in defects/cm², ≥ 0.
    yield_model_parameters : mapping of str to float, default {}
        Extra keyword arguments of the yield model, e.g. ``{"alpha": 2.0}``,
        ``gross_yield`` or ``critical_area_fraction``.
    harvestable_fraction : float, optional
        Fraction of the die area whose defects leave a working, degraded die
        (fused-off cores), in [0, 1]. None: no degraded bin.
    harvest_n_blocks : int, optional
        Block rule of the harvest bins: the harvestable area is this many equal
        blocks (e.g. 25 AI cores on the 910B), in [1,
        :data:`waferlab.harvest.MAX_HARVEST_BLOCKS`] (4096). None: a die is
        degraded when it has one defect, in the harvestable area. Needs
        ``harvestable_fraction``.
    harvest_max_bad_blocks : int, optional
        Blocks that may be fused off, in [0, ``harvest_n_blocks``] (default 1
        with ``harvest_n_blocks``).
    package_degraded_dies : bool, default False
        Whether degraded dies are packaged with the good ones. By default they
        are counted and reported but not packaged (the report's yield means
        fully functional dies).
    dies_per_package : int, default 1
        Dies per package (2 for the Ascend 910C), integer ≥ 1.
    hbm_stacks_per_package : int, default 0
        HBM stacks per package, integer ≥ 0 (0: HBM is not modelled).
    hbm_stock_stacks : float, optional
        HBM inventory at the start of the horizon (a stock), ≥ 0.
    hbm_supply_stacks_per_month : float, optional
        HBM arriving per month (a flow), ≥ 0. When both HBM fields are None the
        HBM supply is unconstrained.
    die_bank_dies : float, default 0.0
        Good dies made earlier (a stock, added once over the horizon), ≥ 0.
    packaging_yield : float, default 1.0
        Fraction of packages surviving advanced packaging, in [0, 1].
    test_yield : float, default 1.0
        Fraction of good packages passing final test, in [0, 1].
    compute_equivalent_factor : float, optional
        Compute equivalents per tested unit, ≥ 0 (e.g. 0.6 H100-equivalents per
        910C). Requires ``compute_equivalent_basis``.
    compute_equivalent_basis : str, optional
        One of :data:`COMPUTE_EQUIVALENT_BASES`: "bf16-spec", "int8-tops",
        "memory-bandwidth" or "measured".
    compute_equivalent_unit : str, default "H100-equivalents"
        Name of the compute-equivalent unit.

    Raises
    ------
    InvalidParameterError
        If a field is out of range, of the wrong type, or a required
        combination is missing; the message names the field.

    Examples
    --------
    >>> inputs = FunnelInputs(wafer_starts_per_month=50_000, gross_dies_per_wafer=80,
    ...                       die_yield=0.2, dies_per_package=2, packaging_yield=0.75)
    >>> inputs.dies_per_package
    2
    >>> FunnelInputs(wafer_starts_per_month=1, gross_dies_per_wafer=80, die_yield=1.2)
    Traceback (most recent call last):
    ...
    waferlab.errors.InvalidParameterError: die_yield must be in [0, 1] (got 1.2)
    """

    wafer_starts_per_month: float
    capacity_share: float = 1.0
    months: int = 1
    gross_dies_per_wafer: float | None = None
    die_width_mm: float | None = None
    die_height_mm: float | None = None
    scribe_mm: float = 0.1
    wafer_diameter_mm: float = 300.0
    edge_exclusion_mm: float = 3.0
    die_yield: float | None = None
    yield_model: str = "poisson"
    defect_density_per_cm2: float | None = None
    yield_model_parameters: Mapping[str, float] = field(default_factory=dict)
    harvestable_fraction: float | None = None
    dies_per_package: int = 1
    hbm_stacks_per_package: int = 0
    hbm_stock_stacks: float | None = None
    hbm_supply_stacks_per_month: float | None = None
    die_bank_dies: float = 0.0
    packaging_yield: float = 1.0
    test_yield: float = 1.0
    compute_equivalent_factor: float | None = None
    compute_equivalent_basis: str | None = None
    compute_equivalent_unit: str = "H100-equivalents"
    die_area_mm2: float | None = None
    package_degraded_dies: bool = False
    harvest_n_blocks: int | None = None
    harvest_max_bad_blocks: int | None = None

    def __post_init__(self) -> None:
        def check(name: str, checker: Callable[..., Any], *args: Any, **bounds: Any) -> None:
            """Replace field ``name`` by ``checker(name, value, ...)``.

            None stays None in a field whose default is None (an optional field).
            """
            value = getattr(self, name)
            if value is None and self.__dataclass_fields__[name].default is None:
                return
            object.__setattr__(self, name, checker(name, value, *args, **bounds))

        fraction: dict[str, Any] = {"low": 0.0, "high": 1.0}
        positive: dict[str, Any] = {"low": 0.0, "low_open": True}
        check("wafer_starts_per_month", _count, MAX_WAFER_STARTS_PER_MONTH)
        check("capacity_share", check_real, **fraction)
        check("months", check_integer, low=1, high=MAX_MONTHS)
        check("gross_dies_per_wafer", _count, MAX_GROSS_DIES_PER_WAFER)
        check("die_width_mm", check_real, **positive)
        check("die_height_mm", check_real, **positive)
        check("die_area_mm2", check_real, **positive)
        check("scribe_mm", check_real, low=0.0)
        check("wafer_diameter_mm", check_real, **positive)
        check("edge_exclusion_mm", check_real, low=0.0)
        check("die_yield", check_real, **fraction)
        if not isinstance(self.yield_model, str) or not self.yield_model:
            raise InvalidParameterError("yield_model", self.yield_model, "a yield model name")
        check("defect_density_per_cm2", check_real, low=0.0)
        object.__setattr__(
            self, "yield_model_parameters", _check_parameters(self.yield_model_parameters)
        )
        check("harvestable_fraction", check_real, **fraction)
        check("harvest_n_blocks", check_integer, low=1, high=MAX_HARVEST_BLOCKS)
        check("harvest_max_bad_blocks", check_integer, low=0, high=self.harvest_n_blocks)
        if self.harvest_max_bad_blocks is not None and self.harvest_n_blocks is None:
            raise InputConflictError(
                "harvest_n_blocks",
                None,
                "harvest_max_bad_blocks is given without harvest_n_blocks: give the number "
                "of blocks too",
            )
        if not isinstance(self.package_degraded_dies, bool):
            raise InvalidParameterError(
                "package_degraded_dies", self.package_degraded_dies, "true or false"
            )
        if self.harvestable_fraction is None:
            # The degraded bin exists only with harvestable_fraction; refuse
            # the settings that would otherwise be ignored without a word.
            for name in ("package_degraded_dies", "harvest_n_blocks"):
                if getattr(self, name) not in (None, False):
                    raise InputConflictError(
                        name,
                        getattr(self, name),
                        f"{name} needs harvestable_fraction: without it there is no "
                        "degraded bin, so the setting would have no effect; give "
                        "harvestable_fraction (on the command line: "
                        "--set harvestable_fraction=...)",
                    )
        check("dies_per_package", check_integer, low=1)
        check("hbm_stacks_per_package", check_integer, low=0)
        check("hbm_stock_stacks", _count, MAX_STOCK)
        check("hbm_supply_stacks_per_month", _count, MAX_STOCK)
        check("die_bank_dies", _count, MAX_STOCK)
        check("packaging_yield", check_real, **fraction)
        check("test_yield", check_real, **fraction)
        check("compute_equivalent_factor", _count, MAX_COMPUTE_EQUIVALENT_FACTOR)
        if self.compute_equivalent_basis is not None:
            check_choice(
                "compute_equivalent_basis", self.compute_equivalent_basis, COMPUTE_EQUIVALENT_BASES
            )
        if not isinstance(self.compute_equivalent_unit, str) or not self.compute_equivalent_unit:
            raise InvalidParameterError(
                "compute_equivalent_unit", self.compute_equivalent_unit, "a non-empty unit name"
            )
        self._check_combinations()

    def _check_pair(self, first: str, second: str, advice: str) -> None:
        """Refuse one of two fields that only make sense together given without the other."""
        if (getattr(self, first) is None) != (getattr(self, second) is None):
            given, missing = (first, second) if getattr(self, second) is None else (second, first)
            raise InputConflictError(missing, None, f"{given} is given without {missing}: {advice}")

    def _check_combinations(self) -> None:
        has_dims = self.die_width_mm is not None and self.die_height_mm is not None
        self._check_pair("die_width_mm", "die_height_mm", "give both die dimensions")
        if has_dims and self.die_area_mm2 is not None:
            raise InputConflictError(
                "die_area_mm2",
                self.die_area_mm2,
                "give die_area_mm2 or die_width_mm and die_height_mm, not both",
            )
        if self.gross_dies_per_wafer is None and not has_dims:
            raise InputConflictError(
                "gross_dies_per_wafer",
                None,
                "give gross_dies_per_wafer, or die_width_mm and die_height_mm to compute it",
            )
        if self.die_yield is None and self.defect_density_per_cm2 is None:
            raise InputConflictError(
                "die_yield",
                None,
                "give die_yield, or defect_density_per_cm2 (with the die size) to compute it "
                "with the yield model",
            )
        if self.die_yield is not None and self.defect_density_per_cm2 is not None:
            raise InputConflictError(
                "defect_density_per_cm2",
                self.defect_density_per_cm2,
                "give die_yield or defect_density_per_cm2, not both; to use the yield model, "
                "also remove die_yield (on the command line: --set die_yield=none)",
            )
        if (
            self.die_yield is not None
            and self.harvestable_fraction is None
            and self.yield_model_parameters
        ):
            raise InputConflictError(
                "yield_model_parameters",
                dict(self.yield_model_parameters),
                "yield_model_parameters has no effect: die_yield is given, so the yield model "
                "is not used; to use the model, remove die_yield and give "
                "defect_density_per_cm2 (on the command line: --set die_yield=none "
                "--set defect_density_per_cm2=...)",
            )
        needs_area = self.die_yield is None or self.harvestable_fraction is not None
        if needs_area and self.die_area_mm2 is None and not has_dims:
            raise InputConflictError(
                "die_area_mm2",
                None,
                "the yield model and the harvest bins need the die size: give die_width_mm "
                "and die_height_mm, or die_area_mm2",
            )
        # Fail at construction (where scenario files are checked), not at run time:
        # an unknown model name (a typo even when the model is not used) or a
        # parameter the model does not take.
        check_choice("yield_model", self.yield_model, YIELD_MODELS)
        if needs_area:
            if self.harvestable_fraction is not None and self.yield_model not in HARVEST_MODELS:
                raise InputConflictError(
                    "yield_model",
                    self.yield_model,
                    f"harvest bins (harvestable_fraction) exist only for the yield models "
                    f"{', '.join(HARVEST_MODELS)}; yield_model is {self.yield_model}",
                )
            self._check_model_parameters()
        self._check_pair(
            "compute_equivalent_factor",
            "compute_equivalent_basis",
            f"give both (the basis is one of {', '.join(COMPUTE_EQUIVALENT_BASES)})",
        )

    def _check_model_parameters(self) -> None:
        """Check the yield-model parameters against the model, in words a user can act on."""
        model = YIELD_MODELS[self.yield_model]
        given = dict(self.yield_model_parameters)
        takes = (*model.parameters, *_NEUTRAL_PARAMETERS)
        for name in given:
            if name not in takes:
                raise InputConflictError(
                    "yield_model_parameters",
                    given,
                    f"yield model {self.yield_model} does not take {name!r} in "
                    f"yield_model_parameters; it takes {', '.join(takes)}",
                )
        missing = [name for name in model.required_parameters if name not in given]
        if missing:
            example = ", ".join(f"{name} = 10" for name in missing)
            compact = ",".join(f"{name}=10" for name in missing)
            raise InputConflictError(
                "yield_model_parameters",
                given,
                f"yield model {self.yield_model} needs {', '.join(missing)}: set "
                f"yield_model_parameters = {{{example}}} (for example; on the command line: "
                f"--set 'yield_model_parameters={{{compact}}}')",
            )
        if self.defect_density_per_cm2 is not None and self.area_mm2 is not None:
            try:
                die_yield(self.yield_model, self.area_mm2, self.defect_density_per_cm2, **given)
            except InvalidParameterError as exc:
                raise InputConflictError(
                    "yield_model_parameters",
                    given,
                    f"yield_model_parameters of yield model {self.yield_model}: {exc}",
                ) from exc

    def yield_parameters_used(self) -> dict[str, float]:
        """Return every yield-model parameter the funnel uses, defaults included.

        Empty when ``die_yield`` is given and no harvest bins are asked for
        (the yield model is then not used).

        Examples
        --------
        >>> inputs = FunnelInputs(wafer_starts_per_month=1000, gross_dies_per_wafer=80,
        ...                       die_area_mm2=600.0, defect_density_per_cm2=0.1,
        ...                       yield_model="negative_binomial")
        >>> inputs.yield_parameters_used()
        {'alpha': 2.0, 'gross_yield': 1.0, 'critical_area_fraction': 1.0}
        """
        if self.die_yield is not None and self.harvestable_fraction is None:
            return {}
        model = YIELD_MODELS[self.yield_model]
        used: dict[str, float] = {name: float(v) for name, v in model.defaults.items()}
        used.update(dict.fromkeys(_NEUTRAL_PARAMETERS, 1.0))
        used.update({name: float(v) for name, v in self.yield_model_parameters.items()})
        return used

    @property
    def area_mm2(self) -> float | None:
        """Die area in mm² used by the yield model (None when no size is given)."""
        if self.die_area_mm2 is not None:
            return self.die_area_mm2
        if self.die_width_mm is not None and self.die_height_mm is not None:
            return self.die_width_mm * self.die_height_mm
        return None

    @property
    def hbm_constrained(self) -> bool:
        """Whether HBM limits the package count (stacks per package > 0 and a supply given)."""
        return self.hbm_stacks_per_package > 0 and (
            self.hbm_stock_stacks is not None or self.hbm_supply_stacks_per_month is not None
        )

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """Return the valid field names (the scenario-file keys)."""
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FunnelInputs:
        """Build inputs from a plain mapping, rejecting unknown keys.

        Raises
        ------
        UnknownNameError
            If a key is not a field; the message lists the valid ones.
        InvalidParameterError
            If a value is invalid or a required key is missing.

        Examples
        --------
        >>> FunnelInputs.from_dict({"wafer_starts_per_month": 20_000,
        ...                         "gross_dies_per_wafer": 80, "die_yield": 0.2}).months
        1
        >>> FunnelInputs.from_dict({"wafer_starts": 1})
        Traceback (most recent call last):
        ...
        waferlab.errors.UnknownNameError: FunnelInputs key must be one of ...
        """
        return cls(**_checked_keys(cls, data))

    def with_yield_model(self, model: str, parameters: Mapping[str, Any]) -> FunnelInputs:
        """Return a copy whose die yield comes from a model and its parameters.

        ``parameters`` holds ``defect_density_per_cm2`` and any extra model
        parameters (``gross_yield``, ``critical_area_fraction``, ``alpha``,
        ``n_layers``), e.g. ``CalibrationResult.parameters``; a given
        ``die_yield`` is dropped.

        Raises
        ------
        InvalidParameterError
            If ``defect_density_per_cm2`` is missing or a value is invalid.

        Examples
        --------
        >>> base = FunnelInputs(wafer_starts_per_month=1000, gross_dies_per_wafer=80,
        ...                     die_yield=0.2, die_area_mm2=665.61)
        >>> fitted = base.with_yield_model("seeds", {"defect_density_per_cm2": 0.6})
        >>> fitted.die_yield is None, fitted.yield_model
        (True, 'seeds')
        """
        params = dict(parameters)
        if "defect_density_per_cm2" not in params:
            raise InvalidParameterError(
                "parameters", parameters, "a mapping with defect_density_per_cm2"
            )
        d0 = params.pop("defect_density_per_cm2")
        return dataclasses.replace(
            self,
            die_yield=None,
            yield_model=model,
            defect_density_per_cm2=d0,
            yield_model_parameters=params,
        )

    def with_calibration(self, calibration: Any) -> FunnelInputs:
        """Return a copy whose die yield comes from a calibration result.

        ``calibration`` is a :class:`waferlab.calibration.CalibrationResult`
        (anything with ``model`` and ``parameters``); see :meth:`with_yield_model`.
        """
        return self.with_yield_model(calibration.model, calibration.parameters)

    def replace(self, **changes: Any) -> FunnelInputs:
        """Return a copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a JSON-able dict."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["yield_model_parameters"] = dict(self.yield_model_parameters)
        return out


def _checked_keys(cls: type, data: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise InvalidParameterError(f"{cls.__name__} data", data, "a mapping of field names")
    names = tuple(f.name for f in dataclasses.fields(cls))
    for key in data:
        if key not in names:
            raise UnknownNameError(f"{cls.__name__} key", key, names)
    required = [
        f.name
        for f in dataclasses.fields(cls)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    for key in required:
        if key not in data:
            raise InvalidParameterError(key, None, "given (a required key)")
    return dict(data)


class ModelParameters(Mapping[str, float]):
    """A read-only, hashable mapping of yield-model parameter names to values.

    Unlike :class:`types.MappingProxyType` it can be copied, pickled and hashed,
    so :class:`FunnelInputs` stays an ordinary frozen value.

    Examples
    --------
    >>> params = ModelParameters({"alpha": 2.0})
    >>> params["alpha"], params == {"alpha": 2.0}
    (2.0, True)
    """

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, float] | None = None) -> None:
        self._data: dict[str, float] = dict(data or {})

    def __getitem__(self, key: str) -> float:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        return hash(frozenset(self._data.items()))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return dict(self._data) == dict(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"ModelParameters({self._data!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (ModelParameters, (self._data,))


def _check_parameters(value: Any) -> Mapping[str, float]:
    if not isinstance(value, Mapping):
        raise InvalidParameterError(
            "yield_model_parameters", value, "a mapping of parameter name to number"
        )
    checked: dict[str, float] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise InvalidParameterError("yield_model_parameters", value, "keyed by names")
        checked[key] = check_real(f"yield_model_parameters.{key}", item)
    return ModelParameters(checked)


@dataclass(frozen=True)
class FunnelStage:
    """One stage of a funnel: what came in, what came out, and what was lost.

    ``quantity_in`` is the stage's input expressed in the stage's own unit (the
    most the stage could output); ``loss = quantity_in - quantity``. All three
    are whole-horizon totals.

    Examples
    --------
    >>> stage = FunnelStage("good dies", "good dies", 4_000_000.0, 800_000.0, 3_200_000.0)
    >>> stage.quantity_in == stage.quantity + stage.loss
    True
    """

    name: str
    unit: str
    quantity_in: float
    quantity: float
    loss: float
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return the stage as a JSON-able dict."""
        return {
            "name": self.name,
            "unit": self.unit,
            "quantity_in": self.quantity_in,
            "quantity": self.quantity,
            "loss": self.loss,
            "note": self.note,
        }


@dataclass(frozen=True)
class FunnelResult:
    """The outcome of :func:`run_funnel`; every quantity is a whole-horizon total.

    Attributes
    ----------
    inputs : FunnelInputs
        The inputs.
    stages : tuple of FunnelStage
        The stages in order.
    final_units : float
        Tested (finished) units over the horizon, including units built from
        the die bank when there is one.
    final_unit : str
        What ``final_units`` counts ("tested units").
    compute_equivalents : float or None
        ``final_units × compute_equivalent_factor`` when a factor is given.
    binding_constraint : str
        "hbm" when HBM allows fewer packages than the dies, "dies" when the
        dies allow no more packages than HBM, "none" when HBM is not
        modelled (unconstrained or zero stacks per package), so the die supply
        alone sets the package count.
    leftover_dies : float
        Usable dies not packaged (die supply − packages × dies per package).
    leftover_hbm_stacks : float or None
        HBM stacks not used; None when HBM is unconstrained.
    gross_dies_per_wafer : float
        Gross dies per wafer used (given or computed).
    gross_dies_source : str
        "given" or "exact placement".
    die_yield : float
        Fully-good fraction used (given or computed).
    degraded_fraction : float
        Fraction of gross dies that are degraded (0 without harvest bins).
    wafers : float
        Wafer starts allocated to the product over the horizon.
    die_supply : float
        Dies available for packaging (fab dies + die bank).
    hbm_available_stacks : float or None
        HBM stock + supply over the horizon; None when unconstrained.
    packages : float
        Packages before packaging loss (whole packages).
    good_packages : float
        Packages surviving packaging.
    includes_stock : bool
        Whether a die bank contributed to the totals.
    fab_only_final_units : float
        Tested units the fab flow alone would give (the same funnel without
        the die bank); equals ``final_units`` when there is no die bank.
    yield_parameters : mapping of str to float
        Every yield-model parameter used, defaults included
        (:meth:`FunnelInputs.yield_parameters_used`); empty when the die
        yield is given and the model is not used.

    Examples
    --------
    Three months of the report's chain plus a die bank of 100,000 dies:

    >>> result = run_funnel(FunnelInputs(wafer_starts_per_month=50_000, months=3,
    ...                                  gross_dies_per_wafer=80, die_yield=0.2,
    ...                                  dies_per_package=2, packaging_yield=0.75,
    ...                                  die_bank_dies=100_000))
    >>> result.final_units, result.final_units_per_month, result.fab_only_final_units
    (937500.0, 312500.0, 900000.0)
    >>> result.stage("good dies").quantity, result.binding_constraint
    (2400000.0, 'none')
    >>> print(result.summary())
    937,500 tested units over 3 months
    312,500 tested units per month (average)
    includes the die bank of 100,000 dies; the fab flow alone gives 900,000
    binding constraint: none
    """

    inputs: FunnelInputs
    stages: tuple[FunnelStage, ...]
    compute_equivalents: float | None
    binding_constraint: str
    leftover_dies: float
    leftover_hbm_stacks: float | None
    gross_dies_per_wafer: float
    gross_dies_source: str
    die_yield: float
    degraded_fraction: float
    die_supply: float
    hbm_available_stacks: float | None
    fab_only_final_units: float

    @property
    def wafers(self) -> float:
        """Wafer starts allocated to the product over the horizon."""
        return self.stage("wafer starts").quantity

    @property
    def packages(self) -> float:
        """Packages before packaging loss (whole packages)."""
        return self.stage("packages before packaging loss").quantity

    @property
    def good_packages(self) -> float:
        """Packages surviving packaging."""
        return self.stage("good packages").quantity

    @property
    def final_units(self) -> float:
        """Tested (finished) units over the horizon, die bank included."""
        return self.stage("tested units").quantity

    @property
    def final_unit(self) -> str:
        """What ``final_units`` counts ("tested units")."""
        return "tested units"

    @property
    def includes_stock(self) -> bool:
        """Whether a die bank contributed to the totals."""
        return self.inputs.die_bank_dies > 0

    @property
    def yield_parameters(self) -> dict[str, float]:
        """Every yield-model parameter used (:meth:`FunnelInputs.yield_parameters_used`)."""
        return self.inputs.yield_parameters_used()

    @property
    def months(self) -> int:
        """Length of the horizon in months."""
        return self.inputs.months

    @property
    def final_units_per_month(self) -> float:
        """Average tested units per month (includes the die bank spread over the horizon)."""
        return self.final_units / self.inputs.months

    @property
    def fab_only_final_units_per_month(self) -> float:
        """Average tested units per month from the fab flow alone."""
        return self.fab_only_final_units / self.inputs.months

    def stage(self, name: str) -> FunnelStage:
        """Return the stage called ``name``.

        Raises
        ------
        UnknownNameError
            If there is no such stage; the message lists the stage names.
        """
        for s in self.stages:
            if s.name == name:
                return s
        raise UnknownNameError("stage", name, [s.name for s in self.stages])

    def stage_rows(self) -> list[dict[str, Any]]:
        """Return one dict per stage (for CSV), with horizon totals and per-month averages."""
        m = self.inputs.months
        return [
            {
                "stage": s.name,
                "unit": s.unit,
                "quantity_in": s.quantity_in,
                "quantity": s.quantity,
                "loss": s.loss,
                "quantity_per_month": s.quantity / m,
                "note": s.note,
            }
            for s in self.stages
        ]

    def stage_table(self) -> str:
        """Return the stages as an aligned text table.

        Examples
        --------
        >>> inputs = FunnelInputs(wafer_starts_per_month=50_000, gross_dies_per_wafer=80,
        ...                       die_yield=0.2, dies_per_package=2, packaging_yield=0.75)
        >>> table = run_funnel(inputs).stage_table()
        >>> print(table.splitlines()[4])  # doctest: +NORMALIZE_WHITESPACE
        good dies   good dies   4,000,000   800,000   3,200,000   die yield 0.2 (given)
        """
        rows = self.stage_rows()
        columns = ["stage", "unit", "quantity_in", "quantity", "loss"]
        headers = ["stage", "unit", "in", "out", "loss"]
        if self.inputs.months > 1:
            columns.append("quantity_per_month")
            headers.append("out per month")
        columns.append("note")
        headers.append("note")
        return format_table(rows, columns, headers=headers, float_format=",.0f")

    def summary(self) -> str:
        """Return a few lines naming the final figures and the binding constraint."""
        m = self.inputs.months
        span = "1 month" if m == 1 else f"{m} months"
        lines = [f"{self.final_units:,.0f} {self.final_unit} over {span}"]
        if m > 1:
            lines.append(f"{self.final_units_per_month:,.0f} {self.final_unit} per month (average)")
        if self.includes_stock:
            bank = f"{self.inputs.die_bank_dies:,.0f}"
            if self.fab_only_final_units >= self.final_units:
                limit = "HBM" if self.binding_constraint == "hbm" else "the packaging chain"
                lines.append(
                    f"the die bank of {bank} dies adds no units while {limit} is the limit "
                    "(the fab flow alone gives the same)"
                )
            else:
                lines.append(
                    f"includes the die bank of {bank} dies; "
                    f"the fab flow alone gives {self.fab_only_final_units:,.0f}"
                )
        if self.compute_equivalents is not None:
            lines.append(
                f"{self.compute_equivalents:,.0f} {self.inputs.compute_equivalent_unit} "
                f"(basis: {self.inputs.compute_equivalent_basis})"
            )
        lines.append(f"binding constraint: {self.binding_constraint}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """Return the result as a JSON-able dict.

        Keys: ``stages`` (each with name, unit, quantity_in, quantity, loss,
        note), ``final_units``, ``final_unit``, ``final_units_per_month``,
        ``compute_equivalents``, ``binding_constraint``, leftovers, the resolved
        per-wafer figures, ``yield_parameters`` (every yield-model parameter
        used, defaults included) and ``inputs``.
        """
        return {
            "stages": [s.to_dict() for s in self.stages],
            "final_units": self.final_units,
            "final_unit": self.final_unit,
            "final_units_per_month": self.final_units_per_month,
            "compute_equivalents": self.compute_equivalents,
            "compute_equivalent_unit": self.inputs.compute_equivalent_unit,
            "compute_equivalent_basis": self.inputs.compute_equivalent_basis,
            "binding_constraint": self.binding_constraint,
            "leftover_dies": self.leftover_dies,
            "leftover_hbm_stacks": self.leftover_hbm_stacks,
            "months": self.inputs.months,
            "includes_stock": self.includes_stock,
            "fab_only_final_units": self.fab_only_final_units,
            "gross_dies_per_wafer": self.gross_dies_per_wafer,
            "gross_dies_source": self.gross_dies_source,
            "die_yield": self.die_yield,
            "degraded_fraction": self.degraded_fraction,
            "yield_parameters": dict(self.yield_parameters),
            "inputs": self.inputs.to_dict(),
        }


def _gross_dies(inputs: FunnelInputs) -> tuple[float, str]:
    if inputs.gross_dies_per_wafer is not None:
        return inputs.gross_dies_per_wafer, "given"
    assert inputs.die_width_mm is not None and inputs.die_height_mm is not None
    wafer = Wafer(diameter_mm=inputs.wafer_diameter_mm, edge_exclusion_mm=inputs.edge_exclusion_mm)
    die = Die(inputs.die_width_mm, inputs.die_height_mm, scribe_x_mm=inputs.scribe_mm)
    # Upper bound on the count (usable area over the die pitch), checked before
    # the placement so that a microscopic die cannot exhaust memory.
    ceiling = area_bound_dies_per_wafer(wafer.usable_area_mm2, die.pitch_area_mm2)
    if ceiling > MAX_GROSS_DIES_PER_WAFER:
        raise InvalidParameterError(
            "die_width_mm",
            inputs.die_width_mm,
            f"large enough that a wafer holds at most {_bound_text(MAX_GROSS_DIES_PER_WAFER)} dies",
            f"a {inputs.die_width_mm:g} x {inputs.die_height_mm:g} mm die gives about "
            f"{format_quantity(ceiling, ',.0f')} per wafer",
        )
    count = gross_dies_per_wafer(wafer, die)
    if count == 0:
        raise GeometryError(
            f"a {inputs.die_width_mm:g} x {inputs.die_height_mm:g} mm die does not fit in the "
            f"usable region of a {inputs.wafer_diameter_mm:g} mm wafer (usable radius "
            f"{wafer.usable_radius_mm:g} mm): no gross dies per wafer; give a smaller die "
            "or gross_dies_per_wafer"
        )
    return float(count), "exact placement"


#: Magnitude from which quantities print in scientific notation.
def _parameters_text(inputs: FunnelInputs, used: Mapping[str, float]) -> str:
    """Name every model parameter used; mark the defaults."""
    given = inputs.yield_model_parameters
    parts = []
    for name, value in used.items():
        if name in _NEUTRAL_PARAMETERS and name not in given:
            continue  # the neutral 1.0 of every model; listed in the JSON
        parts.append(f"{name} = {value:g}" + ("" if name in given else " (default)"))
    return ", ".join(parts)


def _yields(inputs: FunnelInputs) -> tuple[float, float, str]:
    """Return (fully good fraction, degraded fraction, note)."""
    area = inputs.area_mm2
    params: dict[str, Any] = dict(inputs.yield_model_parameters)
    used = inputs.yield_parameters_used()
    d0 = inputs.defect_density_per_cm2
    if inputs.die_yield is not None:
        good = inputs.die_yield
        note = f"die yield {good:.4g} (given)"
        if not used and inputs.yield_model != "poisson":
            note += f"; die_yield is given, so the yield model {inputs.yield_model} is not used"
    else:
        assert area is not None and d0 is not None
        good = float(die_yield(inputs.yield_model, area, d0, **params))
        detail = _parameters_text(inputs, used)
        note = (
            f"{inputs.yield_model} yield at D0 = {d0:g}/cm², {area:.6g} mm²"
            + (f", {detail}" if detail else "")
            + f": {good:.4g}"
        )
    if inputs.harvestable_fraction is None:
        return good, 0.0, note
    assert area is not None
    if d0 is None:
        d0 = float(defect_density_for_yield(inputs.yield_model, area, good, **params))
    # Floating-point warnings inside the bins are not shown: a result that is
    # not finite is reported below as one error instead.
    with np.errstate(all="ignore"):
        bins = harvest.harvest_bins(
            inputs.yield_model,
            area,
            d0,
            harvestable_fraction=inputs.harvestable_fraction,
            n_blocks=inputs.harvest_n_blocks,
            max_bad_blocks=inputs.harvest_max_bad_blocks,
            **params,
        )
    if not math.isfinite(bins.degraded):
        # A numerical failure of the harvest bins must not reach the package
        # count as NaN (or a traceback): say what could not be computed.
        raise WaferlabError(
            f"the degraded fraction of the harvest bins could not be computed for "
            f"{inputs.yield_model} with harvest_n_blocks = {inputs.harvest_n_blocks} and "
            f"harvest_max_bad_blocks = {inputs.harvest_max_bad_blocks} (not a finite "
            "number); try fewer blocks"
        )
    # The good fraction stays the given or model yield; the degraded bin cannot
    # exceed the dies that are not fully good.
    degraded = min(max(float(bins.degraded), 0.0), 1.0 - good)
    return good, degraded, note


def run_funnel(inputs: FunnelInputs) -> FunnelResult:
    """Run a die-to-chip funnel over the horizon.

    Parameters
    ----------
    inputs : FunnelInputs
        Validated inputs (flows per month, stocks for the whole horizon).

    Returns
    -------
    FunnelResult
        Stages, final units, binding constraint, leftovers; all whole-horizon totals.

    Raises
    ------
    InvalidParameterError
        If ``inputs`` is not a :class:`FunnelInputs`, or the yield model or
        geometry rejects the die.

    Notes
    -----
    With W wafer starts per month, share s, T months, N gross dies per wafer,
    fully-good yield Y, degraded fraction Y_d, die bank B, dies per package k,
    HBM stacks per package h, HBM stock H₀ and supply H₁ per month, packaging
    yield p, test yield t and compute-equivalent factor f:

    .. math::

        \\text{wafers} = W s T,\\quad \\text{dies} = \\text{wafers}\\,N,\\quad
        \\text{good} = \\text{dies}\\,Y,\\quad
        D = \\text{good} (+\\,\\text{dies}\\,Y_d) + B

        P = \\lfloor \\min(D / k,\\; (H_0 + H_1 T) / h) \\rfloor,\\quad
        \\text{good packages} = P p,\\quad
        \\text{units} = P p t,\\quad \\text{equivalents} = P p t f

    References
    ----------
    .. [1] G. C. Allen, "DeepSeek, Huawei, Export Controls, and the Future of
       the U.S.-China AI Race", CSIS, 7 March 2025 (the 50,000 WPM chain).

    Examples
    --------
    The report's arithmetic (CSIS 2025, Allen):

    >>> inputs = FunnelInputs(wafer_starts_per_month=50_000, gross_dies_per_wafer=80,
    ...                       die_yield=0.2, dies_per_package=2, packaging_yield=0.75)
    >>> result = run_funnel(inputs)
    >>> [s.quantity for s in result.stages]
    [50000.0, 4000000.0, 800000.0, 400000.0, 300000.0, 300000.0]
    >>> result.final_units, result.binding_constraint
    (300000.0, 'none')
    """
    if not isinstance(inputs, FunnelInputs):
        raise InvalidParameterError("inputs", inputs, "a FunnelInputs")
    result = _run(inputs)
    if inputs.die_bank_dies > 0:
        fab_only = _run(inputs.replace(die_bank_dies=0.0)).final_units
        result = dataclasses.replace(result, fab_only_final_units=fab_only)
    return result


def _run(inputs: FunnelInputs) -> FunnelResult:
    months = inputs.months
    stages: list[FunnelStage] = []

    capacity = inputs.wafer_starts_per_month * months
    wafers = capacity * inputs.capacity_share
    stages.append(
        FunnelStage(
            "wafer starts",
            "wafers",
            capacity,
            wafers,
            capacity - wafers,
            f"{inputs.wafer_starts_per_month:,.0f} per month × share "
            f"{inputs.capacity_share:g} × {months} month{'s' if months > 1 else ''}",
        )
    )

    per_wafer, source = _gross_dies(inputs)
    gross = wafers * per_wafer
    stages.append(
        FunnelStage("gross dies", "dies", gross, gross, 0.0, f"{per_wafer:g} per wafer ({source})")
    )

    good_fraction, degraded_fraction, yield_note = _yields(inputs)
    good = gross * good_fraction
    stages.append(FunnelStage("good dies", "good dies", gross, good, gross - good, yield_note))
    degraded = gross * degraded_fraction
    if inputs.harvestable_fraction is not None:
        failing = gross - good
        stages.append(
            FunnelStage(
                "degraded dies",
                "degraded dies",
                failing,
                degraded,
                max(failing - degraded, 0.0),
                f"harvestable fraction {inputs.harvestable_fraction:g}; "
                + ("packaged" if inputs.package_degraded_dies else "not packaged"),
            )
        )

    fab_dies = good + (degraded if inputs.package_degraded_dies else 0.0)
    die_supply = fab_dies + inputs.die_bank_dies
    if inputs.die_bank_dies > 0 or inputs.package_degraded_dies:
        parts = ["good dies"]
        if inputs.package_degraded_dies:
            parts.append("degraded dies")
        if inputs.die_bank_dies > 0:
            parts.append(f"die bank stock of {inputs.die_bank_dies:,.0f} (once over the horizon)")
        stages.append(
            FunnelStage("die supply", "dies", die_supply, die_supply, 0.0, " + ".join(parts))
        )

    k = inputs.dies_per_package
    die_limit = die_supply / k
    if inputs.hbm_constrained:
        hbm_available: float | None = (inputs.hbm_stock_stacks or 0.0) + (
            inputs.hbm_supply_stacks_per_month or 0.0
        ) * months
        assert hbm_available is not None
        hbm_limit = hbm_available / inputs.hbm_stacks_per_package
        binding = "hbm" if hbm_limit < die_limit else "dies"
        limit = min(die_limit, hbm_limit)
    else:
        hbm_available = None
        binding = "none"
        limit = die_limit
    packages = _whole(limit)
    leftover_dies = max(die_supply - packages * k, 0.0)
    leftover_hbm = (
        None
        if hbm_available is None
        else max(hbm_available - packages * inputs.hbm_stacks_per_package, 0.0)
    )
    note = f"{k} {'die' if k == 1 else 'dies'} per package"
    if inputs.hbm_stacks_per_package > 0:
        note += f", {inputs.hbm_stacks_per_package} HBM stacks per package"
        if hbm_available is None:
            note += " (HBM unconstrained)"
        else:
            note += f"; HBM available {hbm_available:,.0f}; binding: {binding}"
    stages.append(
        FunnelStage(
            "packages before packaging loss",
            "packages before packaging loss",
            die_limit,
            packages,
            max(die_limit - packages, 0.0),
            note,
        )
    )

    good_packages = packages * inputs.packaging_yield
    stages.append(
        FunnelStage(
            "good packages",
            "good packages",
            packages,
            good_packages,
            packages - good_packages,
            f"packaging yield {inputs.packaging_yield:g}",
        )
    )

    units = good_packages * inputs.test_yield
    stages.append(
        FunnelStage(
            "tested units",
            "tested units",
            good_packages,
            units,
            good_packages - units,
            f"test yield {inputs.test_yield:g}",
        )
    )

    equivalents: float | None = None
    if inputs.compute_equivalent_factor is not None:
        equivalents = units * inputs.compute_equivalent_factor
        stages.append(
            FunnelStage(
                "compute equivalents",
                inputs.compute_equivalent_unit,
                equivalents,
                equivalents,
                0.0,
                f"{inputs.compute_equivalent_factor:g} per unit "
                f"(basis: {inputs.compute_equivalent_basis})",
            )
        )

    return FunnelResult(
        inputs=inputs,
        stages=tuple(stages),
        compute_equivalents=equivalents,
        binding_constraint=binding,
        leftover_dies=leftover_dies,
        leftover_hbm_stacks=leftover_hbm,
        gross_dies_per_wafer=per_wafer,
        gross_dies_source=source,
        die_yield=good_fraction,
        degraded_fraction=degraded_fraction,
        die_supply=die_supply,
        hbm_available_stacks=hbm_available,
        fab_only_final_units=units,
    )
