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
