"""Which package yields are consistent with CSIS' 75 %, and what the catalogue packages cost.

The CSIS report (G. C. Allen, CSIS, March 2025) says about 75 % of Ascend 910C packages
survive advanced packaging. A 910C bonds two logic dies and eight HBM2E stacks; this
script solves, for a range of per-attach yields, what the rest of the package (the two
interposers, the substrate, everything else) must yield for 75 % overall. It then
evaluates the four package descriptions of the catalogue (910C, H100, B200, MI300X) and
prints the yield, the parts used per good package and the scrap by cause.

Run: ``python examples/packages.py``
"""

from __future__ import annotations

import numpy as np

from waferlab.catalog import get_entry, load_package
from waferlab.errors import NoSolutionError
from waferlab.output import format_table
from waferlab.package import backsolve_yield


def main() -> None:
    target = get_entry("ascend-910c-package").fact("package_survival")
    print(f"CSIS: {target.value:.0%} of 910C packages survive ({target.source}, {target.date})")
    rows = []
    for bond in (0.999, 0.995, 0.99, 0.985, 0.98, 0.975, 0.97):
        try:
            rest = backsolve_yield(float(target.value), known_yield=bond**10)
        except NoSolutionError:
            rest = None
        rows.append({"bond": bond, "ten_bonds": bond**10, "rest": rest})
    print(
        format_table(
            rows,
            ["bond", "ten_bonds", "rest"],
            headers=["yield per attach", "10 attaches", "rest must yield"],
        )
    )
    print("('-': 75 % is out of reach with that attach yield)\n")

    rows = []
    for name in ("ascend-910c-package", "h100-package", "b200-package", "mi300x-package"):
        result = load_package(name).evaluate()
        logic = sum(r["tested_per_good_package"] for r in result.components if r["kind"] == "logic")
        hbm = sum(r["tested_per_good_package"] for r in result.components if r["kind"] == "hbm")
        rows.append(
            {
                "package": result.name,
                "yield": result.package_yield,
                "dies": logic,
                "stacks": hbm,
                "cost": result.cost_per_good_package_usd,
                "scrap": result.total_scrap_usd,
                "stacks_wasted": result.scrap_usd["wasted_stacks"],
            }
        )
    print(
        format_table(
            rows,
            ["package", "yield", "dies", "stacks", "cost", "scrap", "stacks_wasted"],
            headers=[
                "package",
                "yield",
                "dies used",
                "stacks used",
                "cost $",
                "scrap $",
                "wasted stacks $",
            ],
            float_format=",.4g",
        )
    )
    print(
        "Per good package; figures rest on the sourced assumptions in each description "
        "(waferlab catalog show NAME)."
    )
    assert np.isclose(rows[0]["yield"], 0.75)


if __name__ == "__main__":
    main()
