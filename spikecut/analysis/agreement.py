"""Two runs of the same experiment, compared cell by cell on their headlines.

Each headline estimate of one run either falls inside the other run's interval or not,
and each pair of intervals either overlaps or is disjoint. Two independent estimates
with correct 95 % intervals of equal width land inside each other's interval about
83 % of the time (their difference has √2 times the spread of one), and their intervals
are almost never disjoint; far fewer hits mean intervals that are too narrow. Runs of
one config with other seeds share their test and validation samples, so their
estimates differ by less than independent ones: 83 % is a floor for them.

    python -m spikecut.analysis.agreement results/summary results-lab2/summary
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from spikecut.analysis.headline import headline_cells
from spikecut.cutoff.policies import PAPER

KEYS = ["dataset", "method", "protocol", "cell", "alpha"]


def read_cells(summary_dir: str | Path, policy: str = PAPER) -> pd.DataFrame:
    """The headline cells of a run from its summary folder's tables."""
    folder = Path(summary_dir)
    tables = {}
    for name in ("fixed_T", "summary", "rcs_effect"):
        path = folder / f"{name}.csv"
        if not path.is_file():
            raise FileNotFoundError(
                f"{path} is missing: give the summary folder of a finished run "
                "(results/summary after make run)"
            )
        tables[name] = pd.read_csv(path, dtype={"alpha": str})
    return headline_cells(tables["fixed_T"], tables["summary"], tables["rcs_effect"], policy)


def compare(first: pd.DataFrame, second: pd.DataFrame) -> pd.DataFrame:
    """The cells both runs have, side by side (suffixes ``_1`` and ``_2``), with
    ``first_in_second``, ``second_in_first`` and ``disjoint``."""
    both = first.merge(second, on=KEYS, suffixes=("_1", "_2"), validate="one_to_one")
    if both.empty:
        raise ValueError("the two runs share no headline cell: compare runs of one config")
    return both.assign(
        first_in_second=both["estimate_1"].between(both["low_2"], both["high_2"]),
        second_in_first=both["estimate_2"].between(both["low_1"], both["high_1"]),
        disjoint=(both["high_1"] < both["low_2"]) | (both["high_2"] < both["low_1"]),
    )


def counts(pairs: pd.DataFrame) -> dict[str, int]:
    return {
        "cells": len(pairs),
        "first_in_second": int(pairs["first_in_second"].sum()),
        "second_in_first": int(pairs["second_in_first"].sum()),
        "disjoint": int(pairs["disjoint"].sum()),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m spikecut.analysis.agreement",
        description="How many headline estimates of each of two runs fall inside the "
        "other's 95 % intervals, and how many interval pairs are disjoint.",
    )
    parser.add_argument("first", help="summary folder of the first run")
    parser.add_argument("second", help="summary folder of the second run")
    parser.add_argument("--out", help="CSV of every cell pair (optional)")
    args = parser.parse_args(argv)
    pairs = compare(read_cells(args.first), read_cells(args.second))
    if args.out:
        pairs.to_csv(args.out, index=False)
    n = counts(pairs)
    print(
        f"{n['cells']} cells: {n['first_in_second']} estimates of the first run inside the "
        f"second's intervals ({n['first_in_second'] / n['cells']:.0%}), "
        f"{n['second_in_first']} of the second inside the first's "
        f"({n['second_in_first'] / n['cells']:.0%}); {n['disjoint']} disjoint pairs"
    )
    missed = pairs[~(pairs["first_in_second"] & pairs["second_in_first"])]
    if len(missed):
        shown = KEYS + ["estimate_1", "low_1", "high_1", "estimate_2", "low_2", "high_2"]
        print(missed[shown].to_string(index=False, float_format=lambda x: f"{x:.2f}"))


if __name__ == "__main__":
    main()
