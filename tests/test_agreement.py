"""Two runs compared on their headline cells: the cells against the headline's own
table, and the counts against a loop."""

import numpy as np
import pandas as pd
import pytest

from spikecut.analysis import headline_markdown
from spikecut.analysis.agreement import compare, counts, main, read_cells
from spikecut.analysis.headline import CELLS, headline_cells
from tests.test_summary import runs, summary  # noqa: F401  (fixtures)


def test_the_cells_are_the_headline_table(summary):  # noqa: F811
    cells = headline_cells(summary.fixed, summary.points, summary.effects)
    assert set(cells["cell"]) == set(CELLS)
    assert len(cells) == 2 * len(CELLS)  # one data set, two protocols
    text = headline_markdown(summary, 0.5, ["m"])
    held = cells[cells["protocol"] == "held-out"].set_index("cell")
    (row, _) = [line for line in text.splitlines() if line.startswith("| d, bptt |")]
    shown = [c.strip() for c in row.strip("|").split("|")]
    for position, cell, scale in (
        (2, "accuracy_t1", 100),
        (3, "accuracy_T", 100),
        (4, "fixed_T", 1),
        (5, "alone_timesteps", 1),
        (6, "speedup_at_tolerance", 1),
        (7, "speedup_vs_full_T", 1),
    ):
        assert shown[position].startswith(f"{held.loc[cell, 'estimate'] * scale:.2f} ["), cell
    assert held.loc["regularised_timesteps", "alpha"] == "0.5"


def cells(estimates, half_widths):
    rows = [
        {"dataset": "d", "method": "m", "protocol": "paper", "cell": f"c{i}", "T": 4, "alpha": "0"}
        for i in range(len(estimates))
    ]
    frame = pd.DataFrame(rows)
    e, h = np.asarray(estimates, float), np.asarray(half_widths, float)
    return frame.assign(estimate=e, low=e - h, high=e + h)


def test_counts_equal_a_loop():
    rng = np.random.default_rng(0)
    first = cells(rng.normal(0, 1, 50), rng.uniform(0.1, 1.5, 50))
    second = cells(rng.normal(0, 1, 50), rng.uniform(0.1, 1.5, 50))
    got = counts(compare(first, second))
    inside_12 = inside_21 = apart = 0
    for a, b in zip(first.itertuples(), second.itertuples()):
        inside_12 += b.low <= a.estimate <= b.high
        inside_21 += a.low <= b.estimate <= a.high
        apart += a.high < b.low or b.high < a.low
    assert got == {
        "cells": 50,
        "first_in_second": inside_12,
        "second_in_first": inside_21,
        "disjoint": apart,
    }
    assert 0 < apart < 50 and 0 < inside_12 < 50


def test_runs_of_other_configs_share_nothing():
    renamed = cells([1.0], [0.5]).assign(dataset="other")
    with pytest.raises(ValueError, match="share no headline cell"):
        compare(cells([1.0], [0.5]), renamed)


def test_the_command_reads_two_summary_folders(tmp_path, summary, capsys):  # noqa: F811
    for run in ("one", "two"):
        folder = tmp_path / run
        folder.mkdir()
        summary.fixed.to_csv(folder / "fixed_T.csv", index=False)
        summary.points.to_csv(folder / "summary.csv", index=False)
        summary.effects.to_csv(folder / "rcs_effect.csv", index=False)
    assert len(read_cells(tmp_path / "one")) == 2 * len(CELLS)
    main([str(tmp_path / "one"), str(tmp_path / "two"), "--out", str(tmp_path / "pairs.csv")])
    printed = capsys.readouterr().out
    assert printed.startswith("16 cells: 16 estimates of the first run inside the second's")
    assert "0 disjoint pairs" in printed and (tmp_path / "pairs.csv").is_file()
    (tmp_path / "two" / "summary.csv").unlink()
    with pytest.raises(FileNotFoundError, match="summary.csv is missing: give the summary"):
        read_cells(tmp_path / "two")
