"""``waferlab harvest``: fully good, degraded and dead dies, and the inverse question."""

from __future__ import annotations

from typing import Any

import click

from waferlab.harvest import (
    HARVEST_MODELS,
    HarvestableFractionFit,
    HarvestBins,
    harvest_bins,
    harvestable_fraction_for,
)
from waferlab.output import format_fields, format_percent, format_significant, format_table
from waferlab.yield_models import defect_density_for_yield

from .helpers import emit_json
from .main import command as waferlab_command
from .options import (
    FRACTION,
    NON_NEGATIVE,
    POSITIVE,
    POSITIVE_FRACTION,
    Integer,
    check_repair_rule,
    critical_area_fraction_option,
    format_option,
    harvest_options,
)


def _rule_text(bins: HarvestBins) -> str:
    p = bins.parameters
    if p.get("n_blocks") is not None:
        return (
            f"at most {p['max_bad_blocks']} of {p['n_blocks']} equal blocks hit, "
            "no defect outside them"
        )
    m = p["max_defects"]
    return f"at most {m} defect{'s' if m != 1 else ''}, all in the harvestable area"


def _model_text(bins: HarvestBins) -> str:
    p = bins.parameters
    extra = [f"{k} = {p[k]:g}" for k in ("alpha", "n_layers") if k in p]
    if p.get("gross_yield", 1.0) != 1.0:
        extra.append(f"gross yield {p['gross_yield']:g}")
    if p.get("critical_area_fraction", 1.0) != 1.0:
        extra.append(f"critical area fraction {p['critical_area_fraction']:g}")
    return bins.model + (f" ({', '.join(extra)})" if extra else "")


def _bins_text(bins: HarvestBins, header: list[tuple[str, str]]) -> str:
    p = bins.parameters
    rows = [
        ("Model", _model_text(bins)),
        ("Die area", f"{format_significant(p['die_area_mm2'], 6)} mm²"),
        *header,
        ("Repair rule", _rule_text(bins)),
    ]
    head = format_fields(rows)
    table = format_table(
        [
            {"bin": "fully good", "fraction": format_percent(bins.fully_good, 2)},
            {"bin": "degraded", "fraction": format_percent(bins.degraded, 2)},
            {"bin": "dead", "fraction": format_percent(bins.dead, 2)},
            {"bin": "good or degraded", "fraction": format_percent(bins.good_or_degraded, 2)},
        ],
        ["bin", "fraction"],
        headers=["Bin", "Share of dies"],
    )
    return f"{head}\n\n{table}"


def _model_parameters(
    model: str, alpha: float | None, n_layers: int | None, gross_yield: float, fcrit: float
) -> dict[str, Any]:
    params: dict[str, Any] = {"gross_yield": gross_yield, "critical_area_fraction": fcrit}
    if alpha is not None:
        if model != "negative_binomial":
            raise click.UsageError(f"--alpha applies to negative_binomial only (model is {model})")
        params["alpha"] = alpha
    if n_layers is not None:
        if model != "bose_einstein":
            raise click.UsageError(f"--n-layers applies to bose_einstein only (model is {model})")
        params["n_layers"] = n_layers
    if model == "bose_einstein" and n_layers is None:
        raise click.UsageError("--n-layers is required with --model bose_einstein")
    return params


@waferlab_command(
    "harvest", short_help="Fully good, degraded and dead dies; or the harvestable fraction."
)
@click.option("--die-area-mm2", type=POSITIVE, required=True, help="Die area [mm²] (910B: 665.61).")
@click.option(
    "--defect-density-per-cm2",
    type=NON_NEGATIVE,
    default=None,
    help="Killer defect density D0 [defects/cm²].",
)
@click.option(
    "--fully-good-yield",
    type=POSITIVE_FRACTION,
    default=None,
    help="Observed fully-functional yield; implies D0 under the model (instead of D0).",
)
@click.option(
    "--good-or-degraded-yield",
    type=FRACTION,
    default=None,
    help="Observed yield counting degraded dies too: solve for the harvestable fraction.",
)
@click.option(
    "--model",
    "model",
    type=click.Choice(list(HARVEST_MODELS)),
    default="poisson",
    show_default=True,
    help="Defect model (gamma-mixed models cluster defects at die level).",
)
@click.option("--alpha", type=POSITIVE, default=None, help="Clustering shape of negative_binomial.")
@click.option(
    "--n-layers",
    type=Integer(min=1),
    default=None,
    help="Critical layers of bose_einstein (gamma shape n).",
)
@click.option(
    "--gross-yield",
    type=FRACTION,
    default=1.0,
    show_default=True,
    help="Area-independent yield factor Y0 (its losses are dead dies).",
)
@critical_area_fraction_option
@harvest_options
@format_option()
def command(
    die_area_mm2: float,
    defect_density_per_cm2: float | None,
    fully_good_yield: float | None,
    good_or_degraded_yield: float | None,
    model: str,
    alpha: float | None,
    n_layers: int | None,
    gross_yield: float,
    critical_area_fraction: float,
    harvestable_fraction: float | None,
    max_defects: int | None,
    n_blocks: int | None,
    max_bad_blocks: int | None,
    output_format: str,
) -> None:
    """Split dies into fully good, degraded (cores fused off) and dead.

    Give D0 (or an observed fully-good yield, from which D0 follows) and the
    harvestable fraction. Or give both observed yields (--fully-good-yield and
    --good-or-degraded-yield) to solve for the harvestable fraction that
    reconciles them.

    Example: waferlab harvest --die-area-mm2 665.61 --fully-good-yield 0.2
    --good-or-degraded-yield 0.4 --n-blocks 25 --max-bad-blocks 2
    """
    params = _model_parameters(model, alpha, n_layers, gross_yield, critical_area_fraction)
    check_repair_rule(max_defects, n_blocks, max_bad_blocks, None, needs_fraction=False)
    rule = {"max_defects": max_defects, "n_blocks": n_blocks, "max_bad_blocks": max_bad_blocks}
    if good_or_degraded_yield is not None:
        if fully_good_yield is None:
            raise click.UsageError("--good-or-degraded-yield needs --fully-good-yield")
        for given, flag in (
            (defect_density_per_cm2, "--defect-density-per-cm2"),
            (harvestable_fraction, "--harvestable-fraction"),
        ):
            if given is not None:
                raise click.UsageError(
                    f"{flag} cannot be given with --good-or-degraded-yield (it is solved for)"
                )
        fit = harvestable_fraction_for(
            model,
            die_area_mm2,
            fully_good_yield=fully_good_yield,
            good_or_degraded_yield=good_or_degraded_yield,
            **rule,
            **params,
        )
        _emit_fit(fit, output_format)
        return

    if harvestable_fraction is None:
        raise click.UsageError(
            "give --harvestable-fraction (or --good-or-degraded-yield to solve for it)"
        )
    if (defect_density_per_cm2 is None) == (fully_good_yield is None):
        raise click.UsageError(
            "give exactly one of --defect-density-per-cm2 and --fully-good-yield"
        )
    source = "given"
    if defect_density_per_cm2 is None:
        assert fully_good_yield is not None
        defect_density_per_cm2 = float(
            defect_density_for_yield(model, die_area_mm2, fully_good_yield, **params)
        )
        source = f"implied by fully-good yield {fully_good_yield:g}"
    bins = harvest_bins(
        model,
        die_area_mm2,
        defect_density_per_cm2,
        harvestable_fraction=harvestable_fraction,
        **rule,
        **params,
    )
    if output_format == "json":
        emit_json({"mode": "bins", "defect_density_source": source, **bins.to_dict()})
        return
    header = [
        ("Defect density", f"{format_significant(defect_density_per_cm2)} /cm² ({source})"),
        ("Harvestable fraction", f"{harvestable_fraction:g} of the critical area"),
    ]
    click.echo(_bins_text(bins, header))


def _emit_fit(fit: HarvestableFractionFit, output_format: str) -> None:
    if output_format == "json":
        emit_json({"mode": "harvestable_fraction", **fit.to_dict()})
        return
    header = [
        (
            "Defect density",
            f"{format_significant(fit.defect_density_per_cm2)} /cm² (implied by fully-good yield "
            f"{format_percent(fit.fully_good_yield, 2)})",
        ),
        (
            "Harvestable fraction",
            f"{fit.harvestable_fraction:.4f} of the critical area "
            f"(gives good or degraded = {format_percent(fit.good_or_degraded_yield, 2)})",
        ),
        (
            "Reachable at most",
            f"{format_percent(fit.max_good_or_degraded_yield, 2)} good or degraded (fraction 1)",
        ),
    ]
    click.echo(_bins_text(fit.bins, header))
