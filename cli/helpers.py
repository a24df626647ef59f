"""Helpers shared by the command modules: model selection, scenarios, output.

Nothing here defines an option (that is :mod:`waferlab.cli.options`) or maps an
error to an exit code (that is :mod:`waferlab.cli.main`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import click

from waferlab.yield_models import YIELD_MODELS

from .options import ALL_MODELS, PARAMETER_OPTIONS, parse_overrides

if TYPE_CHECKING:
    from waferlab.scenarios import Scenario

SET_SOURCE = "set on the command line (--set)"
#: Source text of a horizon set with ``--months``.
MONTHS_SOURCE = "set on the command line (--months)"


def selected_models(
    model: str, given: Mapping[str, Any]
) -> tuple[list[tuple[str, dict[str, Any]]], list[dict[str, str]]]:
    """Models to evaluate with their parameters, and those skipped (with the reason).

    For a single model every given parameter must belong to it (the library
    rejects the others); with ``all`` each model takes the parameters it knows
    and a model whose required parameter is missing is skipped.
    """
    present = {k: v for k, v in given.items() if v is not None}
    if model != ALL_MODELS:
        missing = [p for p in YIELD_MODELS[model].required_parameters if p not in present]
        if missing:
            flags = " and ".join(PARAMETER_OPTIONS[p] for p in missing)
            raise click.UsageError(f"{model} needs {flags}")
        return [(model, present)], []
    chosen: list[tuple[str, dict[str, Any]]] = []
    skipped: list[dict[str, str]] = []
    for name, entry in YIELD_MODELS.items():
        missing = [p for p in entry.required_parameters if p not in present]
        if missing:
            flags = ", ".join(PARAMETER_OPTIONS[p] for p in missing)
            skipped.append({"model": name, "reason": f"needs {flags}"})
            continue
        chosen.append((name, {p: present[p] for p in entry.parameters if p in present}))
    return chosen, skipped


def equivalent(
    name: str, parameters: Mapping[str, Any], density: float, area_mm2: float, fraction: float
) -> dict[str, Any] | None:
    """For a model that restates another: that model, its density and the load per die.

    ``None`` for every other model. ``bose_einstein_per_layer`` at D_layer is
    ``bose_einstein`` at D0 = n · D_layer, whose load D0 · A · f is the mean
    number of fatal defects per die.
    """
    from waferlab.yield_models import defect_load

    entry = YIELD_MODELS[name]
    if entry.equivalent_to is None or entry.equivalent_density is None:
        return None
    total = float(entry.equivalent_density(density, **parameters))
    return {
        "model": entry.equivalent_to,
        "defect_density_per_cm2": total,
        "defect_load": float(defect_load(area_mm2, total, critical_area_fraction=fraction)),
    }


def density_notes(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """One line per shown model whose density is not simply the die's mean density D0.

    ``rows`` are result rows with ``model`` and, for a model that restates
    another, ``equivalent`` (from :func:`equivalent`).
    """
    from waferlab.output import format_significant

    lines = []
    for row in rows:
        entry = YIELD_MODELS[row["model"]]
        if not entry.density_note:
            continue
        line = f"{row['model']}: {entry.density_note}"
        same = row.get("equivalent")
        if same is not None:
            line += (
                f", the same die as {same['model']} at D0 "
                f"{format_significant(same['defect_density_per_cm2'])} /cm² "
                f"(λ {format_significant(same['defect_load'])} per die)"
            )
        lines.append(line)
    return lines


def full_parameters(name: str, given: Mapping[str, Any]) -> dict[str, Any]:
    """The model's parameters with the registry defaults filled in (for display)."""
    parameters = dict(YIELD_MODELS[name].defaults)
    parameters.update(given)
    return parameters


def right_aligned(rows: list[dict[str, Any]], key: str, header: str) -> None:
    """Right-align the pre-formatted text cells of one column under its header (in place)."""
    width = max([len(header)] + [len(r[key]) for r in rows])
    for r in rows:
        r[key] = r[key].rjust(width)


def parameter_text(parameters: Mapping[str, Any]) -> str:
    """``alpha=2`` style text, or ``-`` for a model without parameters."""
    if not parameters:
        return "-"
    return ", ".join(f"{k}={v:g}" for k, v in parameters.items())


def resolve_scenario(
    name_or_path: str, overrides: Sequence[str] = (), months: int | None = None
) -> Scenario:
    """Load a scenario and apply ``--set`` values (and ``--months``).

    Raises
    ------
    click.BadParameter
        If an override is malformed or invalid (exit status 2).
    UnknownNameError, ScenarioError
        From :func:`waferlab.scenarios.load_scenario` (the command turns them
        into exit status 2 and 1).
    """
    from waferlab.errors import ScenarioError
    from waferlab.scenarios import load_scenario

    values = parse_overrides(overrides)
    scenario = load_scenario(name_or_path)
    if values:
        try:
            scenario = scenario.with_parameters(values, source=SET_SOURCE)
        except ScenarioError as exc:
            raise click.BadParameter(str(exc), param_hint="'--set'") from exc
    if months is not None:
        try:
            scenario = scenario.set_parameter("months", months, source=MONTHS_SOURCE)
        except ScenarioError as exc:
            raise click.BadParameter(str(exc), param_hint="'--months'") from exc
    return scenario


def changed_on_command_line(scenario: Scenario) -> dict[str, Any]:
    """The values that ``--set`` or ``--months`` changed, by key."""
    values = {**scenario.parameters, **scenario.costs}

    def value(key: str) -> Any:
        root, dot, number = key.partition(".")
        entry = scenario.timeline.get(root) if dot else None
        if isinstance(entry, list):
            return entry[int(number) - 1]
        if isinstance(entry, dict):
            return entry.get(number)
        return values.get(key)

    return {
        key: value(key)
        for key, source in scenario.sources.items()
        if source in (SET_SOURCE, MONTHS_SOURCE)
    }


def changed_line(scenario: Scenario) -> str | None:
    """One line naming every value changed on the command line, or None."""
    changed = changed_on_command_line(scenario)
    if not changed:
        return None
    parts = ", ".join(
        f"{key} = {value:,g}"
        if isinstance(value, int | float) and not isinstance(value, bool)
        else f"{key} = {value}"
        for key, value in changed.items()
    )
    return f"changed on the command line: {parts}"


def emit_json(data: Any) -> None:
    """Print ``data`` as one JSON object on stdout."""
    from waferlab.output import to_json

    click.echo(to_json(data))


def save_plot(ax: Any, path: str) -> None:
    """Save the figure of ``ax`` to ``path`` atomically and close it."""
    import matplotlib.pyplot as plt

    from waferlab.errors import InvalidParameterError
    from waferlab.output import save_figure_atomic

    try:
        save_figure_atomic(ax.figure, path)
    except InvalidParameterError as exc:
        raise click.BadParameter(
            str(exc).replace("plot path", "the file name", 1), param_hint="--plot"
        ) from exc
    finally:
        plt.close(ax.figure)
