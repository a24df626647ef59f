"""Package-level contracts: public names, import weight, packaged data."""

from __future__ import annotations

import subprocess
import sys
from importlib import resources

import waferlab


def test_every_public_name_resolves() -> None:
    for name in waferlab.__all__:
        assert getattr(waferlab, name) is not None, name


def test_importing_waferlab_loads_neither_matplotlib_nor_the_cli() -> None:
    # DESIGN.md: no library module imports the CLI or matplotlib at import time.
    code = (
        "import sys, waferlab, waferlab.plotting; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('matplotlib', 'click')"
        " or m.startswith('waferlab.cli')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_package_data_is_installed() -> None:
    root = resources.files("waferlab")
    assert (root / "py.typed").is_file()
    data = sorted(p.name for p in (root / "data").iterdir() if p.name.endswith(".json"))
    assert "csis-2025.json" in data
    presets = sorted(p.name for p in resources.files("waferlab.scenarios").iterdir())
    assert "csis-2025-smic-target.toml" in presets


def _modules_after(code: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys\nprint('MODULES:', ' '.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    )
    listed = done.stdout.rpartition("MODULES:")[2]
    return {m.split(".")[0] for m in listed.split()}


def test_import_waferlab_is_lazy() -> None:
    # PEP 562: the submodules (and numpy) load when a name is first used.
    loaded = _modules_after("import waferlab")
    assert not loaded & {"numpy", "scipy", "shapely", "matplotlib", "pandas"}
    loaded = _modules_after("import waferlab; waferlab.die_yield")
    assert "numpy" in loaded
    assert not loaded & {"scipy", "shapely", "matplotlib", "pandas"}


def test_public_names_and_submodules_are_attributes() -> None:
    assert set(waferlab.__all__) <= set(dir(waferlab))
    assert waferlab.geometry.Wafer is waferlab.Wafer
    try:
        waferlab.no_such_name  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("expected AttributeError")


def test_cli_version_loads_neither_numpy_nor_the_commands() -> None:
    loaded = _modules_after(
        "from waferlab.cli.main import cli\ntry: cli(['--version'])\nexcept SystemExit: pass"
    )
    assert "click" in loaded
    assert not loaded & {"numpy", "scipy", "shapely", "matplotlib", "pandas"}


def test_quick_commands_do_not_load_scipy_matplotlib_or_pandas() -> None:
    for args in (
        "['dies', '--die-width-mm', '21.32', '--die-height-mm', '31.22']",
        "['yield', '--die-area-mm2', '665.61', '--defect-density-per-cm2', '0.1']",
        "['funnel', 'csis-2025-smic-target']",
    ):
        loaded = _modules_after(
            f"from waferlab.cli.main import cli\ntry: cli({args})\nexcept SystemExit: pass"
        )
        assert not loaded & {"scipy", "matplotlib", "pandas"}, args
