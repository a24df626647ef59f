"""Draw every figure in docs/img/ with the command the docs page shows beside it.

Run ``python docs/make_figures.py`` after changing a plot, a preset or an
example; it redraws every image (in about 15 s). ``python
docs/make_figures.py --check`` draws nothing: it checks that every image in
docs/img/ has a recipe here, that every recipe's image is shown on its page,
that the page shows the recipe's command (or names its example script), and
that each command parses (its options, its scenarios) and each example script
compiles and writes the image. ``tests/test_docs_figures.py`` runs the check.

A figure comes either from the ``waferlab`` command line, with the arguments
the page shows and the ``--plot`` file name replaced by the image's path, or
from an ``examples/*.py`` script, run in a fresh folder as the script's
docstring says, whose file is copied into docs/img/. Every file is written
whole or not at all.
"""

from __future__ import annotations

import argparse
import re
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
IMG = DOCS / "img"
EXAMPLES = ROOT / "examples"


@dataclass(frozen=True)
class Figure:
    """How one image of docs/img/ is drawn.

    Exactly one of ``command`` (the ``waferlab`` command line as the page
    shows it, with ``--plot NAME``) and ``example`` (a script in examples/
    that writes ``written`` into the current folder) is given.
    """

    image: str
    page: str
    command: str | None = None
    example: str | None = None
    written: str | None = None

    def arguments(self, path: Path | str | None = None) -> list[str]:
        """The command's arguments after ``waferlab``, the ``--plot`` file set to ``path``."""
        assert self.command is not None
        words = shlex.split(self.command)
        if words[0] != "waferlab" or "--plot" not in words[:-1]:
            raise ValueError(f"{self.image}: not a waferlab command with --plot: {self.command}")
        if path is not None:
            words[words.index("--plot") + 1] = str(path)
        return words[1:]


FIGURES: tuple[Figure, ...] = (
    Figure(
        "calibration_yield_curves.png",
        "calibration.md",
        example="calibrate_report.py",
        written="calibration_yield_curves.png",
    ),
    Figure("funnel_910c.png", "funnels.md", example="funnel_910c.py", written="funnel_910c.png"),
    Figure("cost_910c.png", "economics.md", example="funnel_910c.py", written="cost_910c.png"),
    Figure(
        "simulated_wafer_910b.png",
        "harvest-and-simulation.md",
        command=(
            "waferlab simulate --die-width-mm 21.32 --die-height-mm 31.22 --offset street-centered"
            " --defect-density-per-cm2 0.3714 --n-wafers 10000 --clustering wafer --alpha 2"
            " --harvestable-fraction 0.5952 --n-blocks 25 --max-bad-blocks 2 --seed 1"
            " --plot simulated_wafer_910b.png --plot-wafer 5"
        ),
    ),
    Figure(
        "timeline_morgan_stanley.png",
        "timeline.md",
        command="waferlab funnel morgan-stanley-2025-2027 --by quarter --plot timeline.png",
    ),
    Figure(
        "timeline_semianalysis_capacity.png",
        "timeline.md",
        command=(
            "waferlab funnel semianalysis-2025-2027-ramp --by quarter"
            " --set packaging_capacity_per_month=89445 --plot timeline.png"
        ),
    ),
    Figure(
        "uncertainty_fan.png",
        "uncertainty.md",
        example="uncertainty_chain.py",
        written="uncertainty_fan.png",
    ),
    Figure(
        "uncertainty_tornado.png",
        "uncertainty.md",
        example="uncertainty_chain.py",
        written="uncertainty_tornado.png",
    ),
    Figure(
        "uncertainty_waterfall.png",
        "uncertainty.md",
        example="uncertainty_chain.py",
        written="uncertainty_waterfall.png",
    ),
    Figure(
        "uncertainty_fan_morgan_stanley.png",
        "uncertainty.md",
        command="waferlab uncertainty morgan-stanley-2025-2027 --by quarter --plot fan.png",
    ),
    Figure(
        "uncertainty_fan_semianalysis.png",
        "uncertainty.md",
        command=(
            "waferlab uncertainty semianalysis-2025-hbm-bound --draws 2000 --by month"
            " --plot fan.png"
        ),
    ),
    Figure(
        "uncertainty_tornado_csis.png",
        "uncertainty.md",
        command=(
            "waferlab uncertainty csis-2025-smic-target --sensitivity tornado --plot tornado.png"
        ),
    ),
    Figure(
        "compare_waterfall.png",
        "uncertainty.md",
        command="waferlab compare morgan-stanley-2025 csis-2025-ramp --plot waterfall.png",
    ),
)


def _flat(text: str) -> str:
    """``text`` with Markdown backticks dropped and every run of white space one space."""
    return " ".join(text.replace("`", " ").split())


def referenced_images() -> dict[str, set[str]]:
    """Images of docs/img/ shown on the docs pages: file name -> pages that show it."""
    shown: dict[str, set[str]] = {}
    for page in sorted(DOCS.glob("*.md")):
        text = page.read_text(encoding="utf-8")
        for name in re.findall(r"!\[[^\]]*\]\(img/([^)\s]+)\)", text):
            shown.setdefault(name, set()).add(page.name)
    return shown


def _parse(figure: Figure) -> list[str]:
    """Parse the figure's command as ``waferlab`` would, without running it."""
    import click

    from waferlab.cli.main import cli
    from waferlab.scenarios import list_scenarios

    problems = []
    args = figure.arguments()
    try:
        root = click.Context(cli, info_name="waferlab")
        name, command, rest = cli.resolve_command(root, args)
        assert command is not None and name is not None
        with command.make_context(name, rest, parent=root) as ctx:
            given = ctx.params
    except click.ClickException as exc:
        return [f"{figure.image}: `{figure.command}` does not parse: {exc.format_message()}"]
    presets = set(list_scenarios())
    names = given.get("scenarios") or ([given["scenario"]] if given.get("scenario") else [])
    problems += [
        f"{figure.image}: `{figure.command}` names {n!r}, which is not a built-in scenario"
        for n in names
        if n not in presets
    ]
    return problems


def problems(figures: Iterable[Figure] = FIGURES) -> list[str]:
    """Everything that keeps docs/img/ and the recipes from matching one to one (empty: fine)."""
    figures = tuple(figures)
    found: list[str] = []
    shown = referenced_images()
    on_disk = {p.name for p in IMG.glob("*.png")}
    recipes: dict[str, Figure] = {}
    for f in figures:
        if f.image in recipes:
            found.append(f"{f.image}: two recipes")
        recipes[f.image] = f
    found += [
        f"{name}: in docs/img/ but no recipe draws it" for name in sorted(on_disk - recipes.keys())
    ]
    found += [
        f"{name}: shown on {', '.join(sorted(shown[name]))} but no recipe draws it"
        for name in sorted(shown.keys() - recipes.keys())
    ]
    for f in figures:
        if (f.command is None) == (f.example is None):
            found.append(f"{f.image}: give either a command or an example")
            continue
        if f.page not in shown.get(f.image, set()):
            found.append(f"{f.image}: not shown on docs/{f.page}")
            continue
        text = _flat((DOCS / f.page).read_text(encoding="utf-8"))
        if f.command is not None:
            if _flat(f.command) not in text:
                found.append(f"{f.image}: docs/{f.page} does not show `{f.command}`")
            found += _parse(f)
        else:
            script = EXAMPLES / str(f.example)
            if f"examples/{f.example}" not in text:
                found.append(f"{f.image}: docs/{f.page} does not name examples/{f.example}")
            if not script.is_file():
                found.append(f"{f.image}: examples/{f.example} does not exist")
                continue
            source = script.read_text(encoding="utf-8")
            compile(source, str(script), "exec")
            if not f.written or f'"{f.written}"' not in source:
                found.append(f"{f.image}: examples/{f.example} does not write {f.written}")
    return found


def _run_command(figure: Figure) -> None:
    from click.testing import CliRunner

    from waferlab.cli.main import cli

    result = CliRunner().invoke(cli, figure.arguments(IMG / figure.image))
    if result.exit_code != 0:
        raise SystemExit(f"{figure.image}: `{figure.command}` failed:\n{result.output}")


def _run_example(script: str, figures: list[Figure]) -> None:
    from waferlab.output import write_bytes_atomic

    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(
            [sys.executable, str(EXAMPLES / script)],
            cwd=tmp,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise SystemExit(f"examples/{script} failed:\n{done.stderr}")
        for f in figures:
            write_bytes_atomic(IMG / f.image, (Path(tmp) / str(f.written)).read_bytes())


def draw(figures: Iterable[Figure] = FIGURES) -> None:
    """Draw ``figures`` into docs/img/, each example script run once."""
    import matplotlib

    matplotlib.use("Agg")
    by_example: dict[str, list[Figure]] = {}
    for f in figures:
        if f.command is not None:
            print(f"{f.image}: {f.command}", flush=True)
            _run_command(f)
        else:
            by_example.setdefault(str(f.example), []).append(f)
    for script, group in by_example.items():
        print(f"{', '.join(f.image for f in group)}: python examples/{script}", flush=True)
        _run_example(script, group)


def main(argv: list[str] | None = None) -> int:
    """Redraw the figures, or with ``--check`` only check the recipes; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--check", action="store_true", help="check the recipes; draw nothing")
    parser.add_argument("images", nargs="*", help="draw only these images (file names)")
    options = parser.parse_args(argv)
    found = problems()
    for line in found:
        print(line, file=sys.stderr)
    if found or options.check:
        return 1 if found else 0
    chosen = [f for f in FIGURES if not options.images or f.image in options.images]
    unknown = set(options.images) - {f.image for f in FIGURES}
    if unknown:
        print(f"no recipe for {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    draw(chosen)
    return 0


if __name__ == "__main__":
    sys.exit(main())
