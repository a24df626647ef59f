"""``waferlab simulate``: Monte Carlo of defects on a real die map."""

from __future__ import annotations

import sys
import time

import click

from waferlab.geometry import Die, Wafer, place_dies
from waferlab.output import format_fields, format_percent, format_significant
from waferlab.simulate import CLUSTERING, SimulationResult, simulate_wafers

from .helpers import emit_json, save_plot
from .main import command as waferlab_command
from .options import (
    NON_NEGATIVE,
    POSITIVE,
    Integer,
    Number,
    check_repair_rule,
    critical_area_fraction_option,
    die_options,
    format_option,
    harvest_options,
    offset_option,
    plot_option,
    wafer_options,
)

NO_CLUSTERING = "none"


def _text(result: SimulationResult) -> str:
    die, wafer = result.die_map.die, result.die_map.wafer
    clustering = "none (random defects)"
    if result.clustering is not None:
        clustering = f"per {result.clustering}, alpha = {result.alpha:g}"
        if result.n_regions is not None:
            clustering += f", {result.n_regions} angular sectors"
    good = result.good_dies_per_wafer
    summary = result.to_dict()
    p5, p95 = summary["good_dies_per_wafer_p5"], summary["good_dies_per_wafer_p95"]
    se = result.yield_standard_error
    se_text = "n/a with one wafer" if se != se else f"± {format_percent(se, 2)} (standard error)"
    rows = [
        ("Wafer", f"{wafer.diameter_mm:g} mm, edge exclusion {wafer.edge_exclusion_mm:g} mm"),
        (
            "Die",
            f"{die.width_mm:g} x {die.height_mm:g} mm ({die.area_mm2:,.2f} mm²), "
            f"{result.n_dies} full dies per wafer",
        ),
        ("Defect density", f"{format_significant(result.defect_density_per_cm2)} /cm²"),
        ("Clustering", clustering),
        ("Edge gradient", f"{result.edge_gradient:g} (density ∝ 1 + g (r/R)², mean kept)"),
        (
            "Wafers",
            f"{result.n_wafers:,}" + (f" (seed {result.seed})" if result.seed is not None else ""),
        ),
        ("Mean die yield", f"{format_percent(result.mean_yield, 2)} {se_text}"),
        ("Analytic yield", format_percent(result.expected_yield, 2)),
        (
            "Good dies per wafer",
            f"mean {good.mean():.2f}, 5th-95th percentile {p5:g}-{p95:g}, "
            f"range {good.min()}-{good.max()}",
        ),
    ]
    if result.harvestable_fraction is not None:
        if result.n_blocks is not None:
            rule = f"at most {result.max_bad_blocks} of {result.n_blocks} blocks hit"
        else:
            rule = f"at most {result.max_defects} harvestable defects"
        degraded_se = result.degraded_standard_error
        spread = (
            "(n/a with one wafer)"
            if degraded_se != degraded_se
            else f"± {format_percent(degraded_se, 2)}"
        )
        rows += [
            ("Harvestable", f"{result.harvestable_fraction:g} of the critical area, {rule}"),
            (
                "Mean degraded",
                f"{format_percent(result.mean_degraded_fraction, 2)} {spread}; analytic "
                f"{format_percent(result.expected_degraded_fraction, 2)}; "
                f"{result.degraded_dies_per_wafer.mean():.2f} dies per wafer",
            ),
        ]
    return format_fields(rows)


class _ProgressBar:
    """A one-line progress bar on stderr, for runs longer than ``delay_s`` at a terminal."""

    def __init__(self, delay_s: float = 2.0) -> None:
        self.start = time.monotonic()
        self.delay_s = delay_s
        self.shown = False
        self.active = sys.stderr.isatty()

    def __call__(self, done: int, total: int) -> None:
        if not self.active:
            return
        elapsed = time.monotonic() - self.start
        if not self.shown and elapsed < self.delay_s:
            return
        self.shown = True
        width = 30
        filled = round(width * done / total)
        remaining = elapsed * (total - done) / done if done else 0.0
        line = (
            f"\rsimulating [{'#' * filled}{'.' * (width - filled)}] "
            f"{done:,}/{total:,} wafers, {remaining:.0f} s left "
        )
        click.echo(line, nl=False, err=True)
        if done >= total:
            click.echo("\r" + " " * len(line) + "\r", nl=False, err=True)


@waferlab_command("simulate", short_help="Monte Carlo of killer defects on a die map.")
@wafer_options
@die_options
@offset_option
@click.option(
    "--defect-density-per-cm2",
    type=NON_NEGATIVE,
    required=True,
    help="Mean killer defect density D0 [defects/cm²].",
)
@click.option(
    "--n-wafers",
    type=Integer(min=1),
    default=1000,
    show_default=True,
    help="Wafers to simulate.",
)
@click.option(
    "--clustering",
    type=click.Choice([NO_CLUSTERING, *CLUSTERING]),
    default=NO_CLUSTERING,
    show_default=True,
    help="Where the gamma intensity is drawn: none (random defects), per die, wafer or region.",
)
@click.option(
    "--alpha",
    type=POSITIVE,
    default=None,
    help="Gamma shape of the clustering (with --clustering).",
)
@click.option(
    "--n-regions",
    type=Integer(min=1),
    default=None,
    help="Angular sectors for --clustering region [default: 4].",
)
@click.option(
    "--edge-gradient",
    type=Number(-1.0, low_open=True),
    default=0.0,
    show_default=True,
    help="Radial gradient g: density ∝ 1 + g (r/R)², mean over the dies kept at D0.",
)
@critical_area_fraction_option
@harvest_options
@click.option("--seed", type=Integer(min=0), default=None, help="Random seed (reproducible runs).")
@format_option()
@plot_option("Write a wafer map of one simulated wafer (good / degraded / bad) to this file.")
@click.option(
    "--plot-wafer",
    type=Integer(min=0),
    default=0,
    show_default=True,
    help="Index of the wafer drawn by --plot.",
)
def command(
    wafer: Wafer,
    die: Die,
    offset: str | tuple[float, float],
    defect_density_per_cm2: float,
    n_wafers: int,
    clustering: str,
    alpha: float | None,
    n_regions: int | None,
    edge_gradient: float,
    critical_area_fraction: float,
    harvestable_fraction: float | None,
    max_defects: int | None,
    n_blocks: int | None,
    max_bad_blocks: int | None,
    seed: int | None,
    output_format: str,
    plot_path: str | None,
    plot_wafer: int,
) -> None:
    """Simulate killer defects on every full die of many wafers.

    Random defects give the Poisson yield; gamma clustering per die gives the
    negative binomial exactly, per wafer or per region the same yield per die
    but correlated dies (more spread between wafers). Prints the mean yield
    with its standard error next to the analytic value.

    Example: waferlab simulate --die-width-mm 21.32 --die-height-mm 31.22
    --defect-density-per-cm2 0.24 --clustering wafer --alpha 2 --seed 1
    """
    if plot_path is not None and plot_wafer >= n_wafers:
        raise click.BadParameter(
            f"must be < --n-wafers ({n_wafers}) (got {plot_wafer})", param_hint="--plot-wafer"
        )
    scope = None if clustering == NO_CLUSTERING else clustering
    if scope is None and alpha is not None:
        raise click.UsageError("--alpha only applies with --clustering")
    if scope is not None and alpha is None:
        raise click.UsageError(f"--clustering {scope} needs --alpha")
    if scope != "region" and n_regions is not None:
        raise click.UsageError("--n-regions only applies with --clustering region")
    check_repair_rule(
        max_defects, n_blocks, max_bad_blocks, harvestable_fraction, needs_fraction=True
    )
    if plot_path is None and plot_wafer != 0:
        raise click.UsageError("--plot-wafer needs --plot")
    die_map = place_dies(wafer, die, offset=offset)
    result = simulate_wafers(
        die_map,
        defect_density_per_cm2,
        n_wafers=n_wafers,
        clustering=scope,
        alpha=alpha,
        n_regions=n_regions,
        edge_gradient=edge_gradient,
        critical_area_fraction=critical_area_fraction,
        harvestable_fraction=harvestable_fraction,
        max_defects=max_defects,
        n_blocks=n_blocks,
        max_bad_blocks=max_bad_blocks,
        seed=seed,
        keep_dies=plot_path is not None,
        progress=_ProgressBar(),
    )
    if plot_path is not None:
        from waferlab.plotting import plot_simulated_wafer

        save_plot(plot_simulated_wafer(result, wafer_index=plot_wafer), plot_path)
    if output_format == "json":
        data = result.to_dict()
        if data["clustering"] is None:
            data["clustering"] = NO_CLUSTERING
        if plot_path is not None:
            data["plot"] = plot_path
            data["plot_wafer"] = plot_wafer
        emit_json(data)
        return
    click.echo(_text(result))
    if plot_path is not None:
        click.echo(
            f"Wafer map of wafer {plot_wafer + 1} of {result.n_wafers:,} "
            f"(--plot-wafer {plot_wafer}) written to {plot_path}"
        )
