"""Wall-clock timing shared by the benchmarks in this folder."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any


def timed(
    fn: Callable[[], Any], repeat: int, summary: Callable[[Sequence[float]], float] = min
) -> tuple[Any, float]:
    """Return the last run's result and ``summary`` of the ``repeat`` wall times [s]."""
    times = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return result, summary(times)


def waferlab_command() -> list[str]:
    """The ``waferlab`` entry point beside this Python, or on PATH, or via ``-c``."""
    import shutil
    import sys
    from pathlib import Path

    script = Path(sys.executable).with_name("waferlab")
    if script.is_file():
        return [str(script)]
    found = shutil.which("waferlab")
    if found:
        return [found]
    return [sys.executable, "-c", "import sys; from waferlab.cli.main import cli; cli()"]


def cache_bytecode() -> None:
    """Compile waferlab's modules to bytecode, as ``pip install`` does for a package.

    A start-up benchmark should time what a user sees from the second run on, not the
    compilation of every module (which happens each time when bytecode is never written,
    e.g. with ``PYTHONDONTWRITEBYTECODE`` set or a read-only checkout).
    """
    import compileall
    from pathlib import Path

    import waferlab
    import waferlab.cli

    for package in (waferlab, waferlab.cli):
        compileall.compile_dir(str(Path(package.__file__).parent), quiet=1)
