"""A whole analysis of per-step outputs recorded anywhere (``spikecut analyse``): the
files the workflow writes for one of its own runs, from the sweep to the figures.
No torch."""

from __future__ import annotations

import os
from pathlib import Path

from tqdm.auto import tqdm

from spikecut.analysis import summarise, summary_markdown
from spikecut.analysis.evidence import RunSweep
from spikecut.cutoff import StepOutputs
from spikecut.io import config_id, write_csv, write_json, write_text
from spikecut.machine import describe
from spikecut.plots import (
    plot_accuracy_vs_timestep,
    plot_exit_histograms,
    plot_model,
    plot_pareto,
    plot_policy_comparison,
)
from spikecut.settings import CutoffConfig, SummaryConfig
from spikecut.stages.analysis import KNOBS, sweep_splits, tidy_curves
from spikecut.stages.common import with_run


class AnalysisInputError(ValueError):
    """Outputs or settings that cannot be analysed together; the message says why."""


# what a directory of results holds, relative to it
FILES = {
    "curves": "cutoff.csv",
    "exits": "exits.csv",
    "points": "summary.csv",
    "fixed": "fixed_T.csv",
    "per_run": "operating_points.csv",
    "markdown": "summary.md",
    "settings": "settings.json",
    "model": "figures/model.png",
    "accuracy_vs_timestep": "figures/accuracy_vs_timestep.png",
    "pareto": "figures/pareto.png",
    "policy_comparison": "figures/policy_comparison.png",
    "exit_histograms": "figures/exit_histograms.png",
}


def analyse_outputs(
    test: StepOutputs,
    calibration: StepOutputs,
    out_dir: str | os.PathLike,
    cutoff: CutoffConfig | None = None,
    summary: SummaryConfig | None = None,
    validation: StepOutputs | None = None,
    dataset: str = "outputs",
    method: str = "model",
    sources: dict[str, str] | None = None,
    progress: bool = True,
) -> dict[str, Path]:
    """Sweep every policy of ``cutoff`` on ``test``, calibrated on ``calibration``; choose
    each one's operating point by the paper's protocol and, given ``validation``, by the
    held-out one; and write the curves, exits, summary with intervals and figures under
    ``out_dir`` (the paths of :data:`FILES`, returned). ``dataset`` and ``method`` label
    the tables and figures; ``sources`` (e.g. the input files) is quoted in the
    settings the results carry. The settings default to the workflow's."""
    cutoff, summary = cutoff or CutoffConfig(), summary or SummaryConfig()
    out = Path(out_dir)
    sources = sources or {}

    def named(split: str) -> str:
        return f"{split} ({sources[split]})" if split in sources else split

    for name, other in (("calibration", calibration), ("validation", validation)):
        if other is not None:
            try:
                test.check_matches(other, named(name), named("test"))
            except ValueError as err:
                raise AnalysisInputError(str(err)) from None
    for name, split in (("test", test), ("validation", validation)):
        if split is not None and len(split.labels) < 2:
            # a bootstrap of one sample draws it every time: an interval of width 0
            raise AnalysisInputError(
                f"{named(name)} holds {len(split.labels)} sample"
                f"{'' if len(split.labels) == 1 else 's'}; intervals need at least two: "
                "record the outputs of more samples"
            )
    # both are canonical number strings (NumberString), so equal values are equal text
    if summary.histogram_epsilon not in cutoff.epsilons:
        raise AnalysisInputError(
            f"the exit histogram's epsilon {summary.histogram_epsilon} is not among the "
            f"swept epsilons {', '.join(cutoff.epsilons)}: pick one of them, or sweep it too"
        )
    paths = {k: out / v for k, v in FILES.items()}
    used = {
        "inputs": sources,
        # no compute was recorded, so no energy is estimated
        "cutoff": cutoff.model_dump(mode="json", exclude={"energy"}),
        "summary": summary.model_dump(mode="json"),
    }
    cid = config_id(used)
    run = {"dataset": dataset, "method": method, "alpha": "0", "seed": 0}
    steps = ["sweep", "bootstrap", "figures"]
    bar = tqdm(total=len(steps), desc="spikecut analyse", unit="stage", disable=not progress)

    def advance() -> None:  # one step done; show the next
        bar.update()
        if bar.n < len(steps):
            bar.set_postfix_str(steps[bar.n])

    bar.set_postfix_str(steps[0])
    curves, exits, splits = sweep_splits(test, calibration, validation, cutoff)
    advance()
    curve, exits = tidy_curves(curves, test.n_steps, run, cid), with_run(exits, run, cid)
    write_csv(paths["curves"], curve)
    write_csv(paths["exits"], exits)

    run_sweep = RunSweep(curves["test"][KNOBS], splits["test"], splits.get("val"))
    result = summarise(
        {(dataset, method, "0", 0): run_sweep},
        summary.max_accuracy_loss_pp,
        summary.bootstrap.replicates,
        summary.bootstrap.seed,
    )
    machine = f"{describe()} (the analysis; the outputs' own machine is not recorded)"
    write_csv(paths["points"], result.points)
    write_csv(paths["fixed"], result.fixed)
    write_csv(paths["per_run"], result.per_run)
    write_text(
        paths["markdown"],
        summary_markdown(
            result,
            summary.max_accuracy_loss_pp,
            used,
            [machine],
            settings_intro="The inputs and settings of this analysis (also in "
            "`settings.json`). α is the RCS weight of spikecut's own runs; outputs "
            "from elsewhere count as α = 0.",
        ),
    )
    write_json(paths["settings"], used | {"config_id": cid, "machine": machine})
    advance()

    epsilon = float(summary.histogram_epsilon)
    plot_model(
        curve,
        result.fixed,
        result.points,
        exits,
        paths["model"],
        dataset=dataset,
        method=method,
        alpha="0",
        epsilon=epsilon,
    )
    plot_accuracy_vs_timestep(result.fixed, paths["accuracy_vs_timestep"])
    plot_pareto(curve, result.points, paths["pareto"])
    plot_policy_comparison(curve, result.points, paths["policy_comparison"])
    plot_exit_histograms(exits, epsilon, paths["exit_histograms"])
    advance()
    bar.close()
    return paths
