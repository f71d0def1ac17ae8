"""The summary tables, with intervals, and the headline the README shows.

Every number comes from :func:`spikecut.analysis.evidence.evaluate` on the runs'
operating points; the Markdown names both protocols and the machines the runs came
from. Definitions (docs/method.md §10):

- *speed-up at tolerance* (``speedup_at_tolerance``): the fewest fixed timesteps with
  which the alpha = 0 model of the same data set, method and seed comes within the
  tolerance of its own full-T accuracy, chosen by the same protocol as the policy's
  point (on validation, or on the test curve), divided by the policy's mean timesteps
  at its operating point;
- *speed-up at equal accuracy* (``speedup_equal_accuracy``): the smallest fixed T of
  the same run whose accuracy is at least the policy's, divided by its mean timesteps;
- *speed-up vs full T* (``speedup_vs_full_T``, the paper's measure): T divided by the
  policy's mean timesteps.

The protocols' gap (``protocol_gap.csv``) is the paper protocol minus the held-out one,
per alpha and policy, on the same test samples: how much more the paper's promises.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd
import yaml

from spikecut.analysis.evidence import RunSweep, evaluate
from spikecut.analysis.headline import ci_text, headline_cells, lookup
from spikecut.analysis.protocols import PROTOCOLS
from spikecut.analysis.timing import STEP_RATIO_MARGIN, wall_flagged
from spikecut.analysis.verdicts import conclusions
from spikecut.cutoff.policies import PAPER
from spikecut.regularisers import RCS

GROUP = ["dataset", "method"]
RUN = ["dataset", "method", "alpha", "seed"]
INTERVAL_NOTE = (
    "Each bootstrap replicate runs the protocol again: it draws the test and validation "
    "samples again (one draw for every policy, α and seed, so comparisons are paired), "
    "chooses each policy's knob and the baseline's fixed T anew on each seed's drawn "
    "curve and reads the drawn test samples there; to the mean over seeds it adds a "
    "Student-t draw (seeds - 1 degrees of freedom) times that mean's standard error. An "
    "interval therefore covers the choice of the operating point, its reading and the "
    "seeds."
)
PROTOCOL_NOTES = {
    "held-out": "each policy's knob chosen on the validation split, the test split read once at it",
    "paper": "the operating point read off the test curve, as the paper does (optimistic: "
    "the test split chooses what it is judged on)",
}


@dataclass(frozen=True)
class Summary:
    fixed: pd.DataFrame  # accuracy at each fixed T, with intervals
    points: pd.DataFrame  # each policy's quantities at its operating point
    effects: pd.DataFrame  # the regulariser's effect: alpha > 0 against alpha = 0, paired
    gaps: pd.DataFrame  # the protocols' difference: paper minus held-out, paired
    per_run: pd.DataFrame  # each run's operating points, no intervals
    sizes: pd.DataFrame  # per data set and method: T, test samples, seeds


def summarise(
    runs: dict[tuple[str, str, str, int], RunSweep],
    max_loss_pp: float,
    n_boot: int = 2000,
    seed: int = 0,
) -> Summary:
    """``runs`` maps (dataset, method, alpha, seed) to the run's sweep; every operating
    point is the fewest mean timesteps within ``max_loss_pp`` of full-T accuracy."""
    groups: dict[tuple[str, str], dict] = {}
    for (dataset, method, alpha, s), run in runs.items():
        groups.setdefault((dataset, method), {})[alpha, s] = run
    tables: dict[str, list[pd.DataFrame]] = {"fixed": [], "points": [], "effects": [], "gaps": []}
    for (dataset, method), members in sorted(groups.items()):
        for name, table in zip(tables, evaluate(members, max_loss_pp, n_boot, seed)):
            tables[name].append(table.assign(dataset=dataset, method=method))
    per_run = pd.concat(
        [
            run.operating_points(max_loss_pp).assign(dataset=d, method=m, alpha=a, seed=s)
            for (d, m, a, s), run in sorted(runs.items())
        ],
        ignore_index=True,
    )
    sizes = pd.DataFrame(
        [
            {
                "dataset": d,
                "method": m,
                "T": next(iter(members.values())).test.correct.shape[1],
                "n_test": next(iter(members.values())).test.correct.shape[0],
                "n_val": next(iter(members.values())).n_val,
                "n_seeds": len({s for _, s in members}),
            }
            for (d, m), members in sorted(groups.items())
        ]
    )

    def tidy(frames: list[pd.DataFrame]) -> pd.DataFrame:
        frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        keys = [c for c in GROUP + ["alpha", "T", "protocol", "policy", "quantity"] if c in frame]
        return frame[keys + [c for c in frame if c not in keys]]

    first = RUN + [
        "protocol",
        "policy",
        "parameter",
        "value",
        "within_tolerance",
        "accuracy",
        "mean_timesteps",
    ]
    first = [c for c in first if c in per_run]
    per_run = per_run[first + [c for c in per_run if c not in first and c != "row"]]
    return Summary(
        *(tidy(tables[name]) for name in ("fixed", "points", "effects", "gaps")), per_run, sizes
    )


def _points_table(summary: Summary, dataset: str, method: str, protocol: str) -> list[str]:
    points = summary.points[
        (summary.points["dataset"] == dataset)
        & (summary.points["method"] == method)
        & (summary.points["protocol"] == protocol)
    ]
    lines = [
        "| α | policy | acc @T (%) | acc (%) | timesteps | speed-up at tolerance "
        "| speed-up at equal accuracy | speed-up vs full T (the paper's) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for (alpha, policy), rows in points.groupby(["alpha", "policy"], sort=False):

        def q(name, scale=1.0, rows=rows):
            return ci_text(lookup(rows, quantity=name), scale)

        lines.append(
            f"| {alpha} | {policy} | {q('accuracy_T', 100)} | {q('accuracy', 100)} "
            f"| {q('mean_timesteps')} | {q('speedup_at_tolerance')}× "
            f"| {q('speedup_equal_accuracy')}× | {q('speedup_vs_full_T')}× |"
        )
    return lines


def _effects_table(
    summary: Summary, dataset: str, method: str, protocol: str, regulariser: str
) -> list[str]:
    effects = summary.effects
    if effects.empty:
        return []
    effects = effects[
        (effects["dataset"] == dataset)
        & (effects["method"] == method)
        & (effects["protocol"] == protocol)
    ]
    lines = [
        "",
        f"{regulariser} effect (α > 0 minus α = 0, same seed and test samples):",
        "",
        "| α | policy | Δ timesteps | excludes 0 | Δ accuracy (pp) | excludes 0 |",
        "|---|---|---|---|---|---|",
    ]
    for (alpha, policy), rows in effects.groupby(["alpha", "policy"], sort=False):
        steps, acc = (lookup(rows, quantity=q) for q in ("mean_timesteps", "accuracy"))
        lines.append(
            f"| {alpha} | {policy} | {ci_text(steps)} | "
            f"{'yes' if steps['excludes_zero'] else 'no'} | {ci_text(acc, 100)} | "
            f"{'yes' if acc['excludes_zero'] else 'no'} |"
        )
    return lines


def early_exit_markdown(timings: pd.DataFrame) -> list[str]:
    """The real early-exit runs, mean over seeds: exit step, the step ratio T / t* and
    the wall-time speed-up beside it. A speed-up that some seed's timing flagged (above
    T / t* by more than the noise: the machine was busier during the full-T pass) is
    not shown as a number."""
    keys = ["dataset", "method", "alpha", "policy", "epsilon"]
    timings = timings.assign(
        wall_flagged=wall_flagged(
            timings["wall_speedup"], timings["step_ratio"], timings["timing_noise"]
        )
    )
    agg = (
        timings.groupby(keys, sort=True)
        .agg(
            mean_timesteps=("mean_timesteps", "mean"),
            n_steps=("n_steps", "max"),
            samples=("samples", "max"),
            accuracy=("accuracy", "mean"),
            wall_speedup=("wall_speedup", "mean"),
            flagged=("wall_flagged", "sum"),
            seeds=("wall_flagged", "size"),
            matches=("matches_simulation", "all"),
        )
        .reset_index()
    )
    lines = [
        "## Real early exit",
        "",
        "Each policy run step by step with finished samples leaving the batch, timed "
        "against the same model run for all T steps, batch by batch in turn, in a job "
        "that had the machine to itself (mean over seeds). T / t* is the saving in "
        "steps; the wall-time speed-up is what it bought on this machine.",
        "",
        "| data set | method | α | policy | ε | samples | t* | T / t* | wall-time speed-up | "
        "acc (%) | equals simulation |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in agg.itertuples():
        wall = (
            f"flagged in {r.flagged} of {r.seeds} seeds" if r.flagged else f"{r.wall_speedup:.2f}×"
        )
        lines.append(
            f"| {r.dataset} | {r.method} | {r.alpha} | {r.policy} | {r.epsilon} | {r.samples} "
            f"| {r.mean_timesteps:.2f} of {r.n_steps} "
            f"| {r.n_steps / r.mean_timesteps:.2f}× | {wall} "
            f"| {100 * r.accuracy:.2f} | {'yes' if r.matches else 'NO'} |"
        )
    if agg["flagged"].any():
        lines += [
            "",
            "*Flagged*: the wall-time speed-up exceeded T / t* by more than the timing's "
            "own noise (its two full-T passes' difference) and "
            f"{STEP_RATIO_MARGIN:.0%}. A step-by-step pass "
            "cannot gain that much; the machine's load changed while the job timed "
            "itself, so the number is no result. Each seed's numbers are in "
            "`cutoff/early_exit.csv`.",
        ]
    return lines + [""]


def _preamble(
    summary: Summary, max_loss_pp: float, machines: list[str], diverged: dict[str, str]
) -> list[str]:
    warning = [
        "**Diverged runs.** These runs ended no better than guessing; their numbers are in "
        "the tables below, where they mean nothing (`training.fail_on_divergence: true` "
        "stops such a run instead):",
        "",
        *(f"- {run}: {why}" for run, why in sorted(diverged.items())),
        "",
    ]
    sizes = ", ".join(
        f"{r.dataset} ({r.method}): {_count(r.n_test, 'test sample')}"
        + (f" and {_count(r.n_val, 'validation sample')}" if r.n_val else "")
        + f", {_count(r.n_seeds, 'seed')}"
        for r in summary.sizes.itertuples()
    )
    return [
        f"Operating point of each policy: the fewest mean timesteps within {max_loss_pp} pp "
        "of the full-T accuracy. Estimates with 95 % bootstrap intervals [low, high]; "
        f"{sizes}. {INTERVAL_NOTE} Produced on " + "; ".join(machines) + ".",
        "",
        *(warning if diverged else []),
    ]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def summary_markdown(
    summary: Summary,
    max_loss_pp: float,
    config: dict,
    machines: list[str],
    timings: pd.DataFrame | None = None,
    settings_intro: str = "What the runs were trained, recorded, swept and summarised "
    "with (each run's folder holds its own `settings.json`).",
    diverged: dict[str, str] | None = None,
    regulariser: str = RCS.label,
) -> str:
    """``diverged``: why each run that ended no better than guessing did, by run;
    ``regulariser``: the name of what alpha weighs."""
    lines = [
        "# spikecut summary",
        "",
        *_preamble(summary, max_loss_pp, machines, diverged or {}),
        "*Speed-up at tolerance*: the fewest fixed timesteps with which the α = 0 model "
        f"comes within {max_loss_pp} pp of its own full-T accuracy (same seed; chosen on "
        "validation for the held-out protocol, on the test curve for the paper's), over "
        "the policy's timesteps. *Speed-up at equal accuracy*: the smallest fixed T of "
        "the same run whose accuracy is at least the policy's, over the policy's "
        "timesteps.",
        "",
    ]
    for dataset, method in summary.points[GROUP].drop_duplicates().itertuples(index=False):
        lines += [f"## {dataset} ({method})", ""]
        for protocol in [p for p in PROTOCOLS if p in set(summary.points["protocol"])]:
            lines += [f"### {protocol} protocol: {PROTOCOL_NOTES[protocol]}", ""]
            lines += _points_table(summary, dataset, method, protocol)
            lines += _effects_table(summary, dataset, method, protocol, regulariser)
            lines.append("")
    if timings is not None and len(timings):
        lines += early_exit_markdown(timings)
    lines += [
        "## Settings",
        "",
        settings_intro,
        "",
        "```yaml",
        # a JSON round trip drops the YAML aliases shared sub-dicts would get
        yaml.safe_dump(json.loads(json.dumps(config)), sort_keys=False).rstrip(),
        "```",
        "",
    ]
    return "\n".join(lines)


def headline_markdown(
    summary: Summary,
    max_loss_pp: float,
    machines: list[str],
    policy: str = PAPER,
    diverged: dict[str, str] | None = None,
    regulariser: str = RCS.label,
) -> str:
    """The README's results: per data set and method, the room a cutoff has, the
    fixed-T baseline, ``policy`` alone with its speed-ups, ``policy`` with the
    ``regulariser`` and its effect, under both protocols; then what the intervals
    show, in words; first, any run that diverged."""
    lines = [
        "<!-- generated by spikecut (summary/headline.md of the results); do not edit -->",
        "",
        *_preamble(summary, max_loss_pp, machines, diverged or {}),
        f'"{policy} alone" is the α = 0 model; *speed-up at tolerance* is the fixed T '
        f"with which that model stays within {max_loss_pp} pp of its full-T accuracy, over "
        f"{policy}'s timesteps; *vs full T* is the full T over them, the measure the "
        f"paper reports; the {regulariser} effect is α > 0 minus α = 0 with the same seeds "
        "and samples.",
        "",
    ]
    fixed, points, effects = summary.fixed, summary.points, summary.effects
    cells = headline_cells(fixed, points, effects, policy)
    for protocol in [p for p in PROTOCOLS if p in set(points["protocol"])]:
        lines += [
            f"**{protocol.capitalize()} protocol** ({PROTOCOL_NOTES[protocol]}).",
            "",
            "| data set, method | T | acc at t = 1 (%) | acc at T (%) | fixed T within "
            f"{max_loss_pp} pp | {policy} alone: timesteps | speed-up at tolerance "
            f"| speed-up vs full T (the paper's) | {regulariser} + {policy}: α, timesteps "
            f"| {regulariser} effect on timesteps |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for dataset, method, n_steps in summary.sizes[["dataset", "method", "T"]].itertuples(
            index=False
        ):
            row = cells[
                (cells["dataset"] == dataset)
                & (cells["method"] == method)
                & (cells["protocol"] == protocol)
            ].set_index("cell")
            if row.empty:
                lines.append(f"| {dataset}, {method} | no α = 0 run to compare with |" + " |" * 8)
                continue

            def c(cell, scale=1.0, row=row):
                return ci_text(row.loc[cell] if cell in row.index else None, scale)

            effect = "–"
            if "effect_on_timesteps" in row.index:
                excludes = row.loc["effect_on_timesteps", "excludes_zero"]
                verdict = "excludes" if excludes else "includes"
                effect = f"{c('effect_on_timesteps')} ({verdict} 0)"
            top = row.loc["regularised_timesteps", "alpha"]
            lines.append(
                f"| {dataset}, {method} | {n_steps} | {c('accuracy_t1', 100)} "
                f"| {c('accuracy_T', 100)} | {c('fixed_T')} | {c('alone_timesteps')} "
                f"| {c('speedup_at_tolerance')}× | {c('speedup_vs_full_T')}× "
                f"| {top}: {c('regularised_timesteps')} | {effect} |"
            )
        lines.append("")
    said = conclusions(
        points, effects, summary.gaps, summary.sizes, max_loss_pp, policy, regulariser
    )
    if said:
        lines += [
            "**What the intervals say** (generated with the tables: a claim is made only "
            "where its interval excludes the value of no effect):",
            "",
            *said,
            "",
        ]
    return "\n".join(lines)
