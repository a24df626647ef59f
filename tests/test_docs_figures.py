"""Every figure in docs/img/ has a recipe in docs/make_figures.py: the command its page shows."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def make_figures() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_figures", ROOT / "docs" / "make_figures.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def test_every_docs_image_has_a_recipe_and_every_recipe_an_image(make_figures) -> None:  # type: ignore[no-untyped-def]
    assert make_figures.problems() == []
    assert make_figures.main(["--check"]) == 0
    on_disk = {p.name for p in (ROOT / "docs" / "img").glob("*.png")}
    assert {f.image for f in make_figures.FIGURES} == on_disk
    assert set(make_figures.referenced_images()) == on_disk


def test_check_finds_an_image_without_a_recipe(make_figures) -> None:  # type: ignore[no-untyped-def]
    fewer = [f for f in make_figures.FIGURES if f.image != "compare_waterfall.png"]
    found = make_figures.problems(fewer)
    assert "compare_waterfall.png: in docs/img/ but no recipe draws it" in found
    assert any(p.startswith("compare_waterfall.png: shown on uncertainty.md") for p in found)


def test_check_finds_a_recipe_without_an_image(make_figures) -> None:  # type: ignore[no-untyped-def]
    extra = make_figures.Figure(
        "funnel_csis.png", "funnels.md", command="waferlab funnel csis-2025-ramp --plot f.png"
    )
    found = make_figures.problems([*make_figures.FIGURES, extra])
    assert found == ["funnel_csis.png: not shown on docs/funnels.md"]


def test_check_finds_a_command_the_page_does_not_show_or_that_does_not_parse(make_figures) -> None:  # type: ignore[no-untyped-def]
    base = {f.image: f for f in make_figures.FIGURES}
    changed = dict(base)
    # the page shows --by quarter
    changed["timeline_morgan_stanley.png"] = make_figures.Figure(
        "timeline_morgan_stanley.png",
        "timeline.md",
        command="waferlab funnel morgan-stanley-2025-2027 --by year --plot timeline.png",
    )
    # an option waferlab uncertainty does not have, and a scenario that does not exist
    changed["uncertainty_tornado_csis.png"] = make_figures.Figure(
        "uncertainty_tornado_csis.png",
        "uncertainty.md",
        command="waferlab uncertainty csis-2025-smic-target --tornado --plot tornado.png",
    )
    changed["compare_waterfall.png"] = make_figures.Figure(
        "compare_waterfall.png",
        "uncertainty.md",
        command="waferlab compare morgan-stanley-2025 csis-2026 --plot waterfall.png",
    )
    found = "\n".join(make_figures.problems(changed.values()))
    assert "docs/timeline.md does not show" in found
    assert "--tornado" in found and "does not parse" in found
    assert "'csis-2026', which is not a built-in scenario" in found


def test_check_finds_an_example_that_does_not_write_the_image(make_figures) -> None:  # type: ignore[no-untyped-def]
    figures = [
        make_figures.Figure(f.image, f.page, example=f.example, written="funnel.png")
        if f.image == "funnel_910c.png"
        else f
        for f in make_figures.FIGURES
    ]
    assert make_figures.problems(figures) == [
        "funnel_910c.png: examples/funnel_910c.py does not write funnel.png"
    ]


def test_the_plot_file_is_replaced_by_the_image_path(make_figures) -> None:  # type: ignore[no-untyped-def]
    (figure,) = [f for f in make_figures.FIGURES if f.image == "uncertainty_fan_morgan_stanley.png"]
    assert figure.arguments("/tmp/x.png") == [
        "uncertainty", "morgan-stanley-2025-2027", "--by", "quarter", "--plot", "/tmp/x.png",
    ]  # fmt: skip
