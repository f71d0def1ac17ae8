"""The ``spikecut`` command: the workflow's cutoff analysis for outputs of any SNN.

Every failure the user can fix is one line on stderr and exit status 2, never a
traceback. The heavy imports wait until the arguments are read, so that ``--help``
and bad arguments answer at once.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spikecut import __version__

FORMAT = """\
Each input file is an .npz (or a .pt written by torch.save) holding
  logits  [N, T, C]  the network's output o(t) at every step t (output spikes or the
                     output layer's per-step current), not summed over steps
  labels  [N]        integer classes in [0, C)
A policy stops sample n at the first step t whose accumulated output
Y(t) = o(1) + ... + o(t) is confident enough, and predicts argmax Y(t).
snnTorch and Norse record [T, N, C]: convert with spikecut.outputs.save_outputs(path,
logits, labels, time_major=True).
"""

DESCRIPTION = f"""\
Early exit for spiking neural networks, from per-step outputs you recorded with any
framework (SpikingJelly, snnTorch, Norse, your own code).

{FORMAT}"""

ANALYSE = f"""\
Calibrate every policy on CALIB (samples the model was trained on, or any split
other than the test split), sweep it over TEST, choose each policy's operating point
and write, under DIR:

  cutoff.csv            accuracy and mean timesteps of every policy at every knob
                        (split = test, and val with --val)
  exits.csv             how many test samples exit at each step, per knob
  summary.csv           each policy's accuracy, mean timesteps and both speed-ups at
                        its operating point, with 95 % bootstrap intervals
  fixed_T.csv           the accuracy of every fixed T, with intervals
  operating_points.csv  the knob each protocol chose; within_tolerance says whether
                        it met the tolerance on the split that chose it
  summary.md            both protocols' operating points as tables, and the settings
  settings.json         the inputs and settings the results came from
  figures/model.png     every policy's accuracy against mean timesteps, with the
                        operating points, beside where the test samples stop
  figures/*.png         accuracy against T, the Pareto front, every policy's curve
                        and the exit histogram, as the workflow draws them

Files already in DIR are replaced. The tables' alpha column is the RCS weight of
spikecut's own runs: outputs analysed here count as alpha = 0, no RCS.

Operating point: the fewest mean timesteps within --tolerance percentage points of
the accuracy at full T. Two protocols: "paper" reads it off the test curve, as the
paper does (optimistic); "held-out" (only with --val) chooses it on the validation
file and reads the test split once there: prefer it.
Speed-up at tolerance: the fewest fixed timesteps within the tolerance (chosen by the
same protocol) over the policy's mean timesteps. Speed-up at equal accuracy: the
smallest fixed T at least as accurate as the policy over its mean timesteps.

{FORMAT}"""

EXAMPLE = """\
example:
  spikecut analyse train_outputs.npz test_outputs.npz --val val_outputs.npz -o cutoff/
"""


class UsageError(Exception):
    """What the user gave cannot be used; the message says why and what to do."""


def _names(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def _option_flag(policy: str, key: str) -> str:
    return f"--{policy}-{key}".replace("_", "-")


def _add_policy_options(parser: argparse.ArgumentParser) -> None:
    """One flag per option of every registered policy, from its options model: its
    description, and the default written there."""
    from spikecut.cutoff.policies import POLICIES

    group = parser.add_argument_group("policy options")
    for name, record in POLICIES.items():
        for key, field in record.options.model_fields.items():
            group.add_argument(
                _option_flag(name, key),
                dest=f"option:{name}:{key}",
                metavar=key.upper(),
                help=f"{record.label}: {field.description or key} ({field.default})",
            )


def build_parser() -> argparse.ArgumentParser:
    from spikecut.cutoff.policies import POLICIES

    parser = argparse.ArgumentParser(
        prog="spikecut",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"spikecut {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    analyse = commands.add_parser(
        "analyse",
        aliases=["analyze"],
        help="cutoff curves, operating points, intervals and figures from per-step outputs",
        description=ANALYSE,
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    analyse.add_argument("calib", metavar="CALIB", help="outputs to calibrate the policies on")
    analyse.add_argument("test", metavar="TEST", help="outputs of the test split")
    analyse.add_argument("-o", "--out", metavar="DIR", required=True, help="results folder")
    analyse.add_argument(
        "--val",
        metavar="VAL",
        help="outputs of a validation split, for the held-out protocol (recommended)",
    )
    analyse.add_argument(
        "--policies",
        type=_names,
        default=list(POLICIES),
        metavar="P,P,...",
        help=f"policies to compare, from {', '.join(POLICIES)} (default: all). "
        "timestep (the fixed-T baseline) and topk are always included: the summary and "
        "figures compare against them",
    )
    for flag, setting in SETTING_FLAGS.items():
        analyse.add_argument(
            flag,
            type=setting.parse,
            default=None,
            metavar=setting.metavar,
            help=setting.help.format(default=setting.default()),
        )
    analyse.add_argument(
        "--dataset",
        default=None,
        help="the data set's name on tables and figures (default: TEST's file name)",
    )
    analyse.add_argument(
        "--method",
        default="model",
        help="the model's name on tables and figures (default: model)",
    )
    analyse.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    _add_policy_options(analyse)
    analyse.set_defaults(run=run_analyse)
    return parser


@dataclass(frozen=True)
class SettingFlag:
    """An option that sets a field of the settings: its default is the settings'."""

    block: str  # where the field lies: "cutoff", "summary" or "summary.bootstrap"
    field: str
    metavar: str
    parse: Callable[[str], Any]
    help: str  # "{default}" stands for the settings' default

    def default(self) -> str:
        from spikecut.settings import BootstrapConfig, CutoffConfig, SummaryConfig

        model = {"cutoff": CutoffConfig, "summary": SummaryConfig}.get(self.block, BootstrapConfig)
        value = model.model_fields[self.field].default
        return ",".join(value) if isinstance(value, tuple) else str(value)


SETTING_FLAGS = {
    "--epsilons": SettingFlag(
        "cutoff",
        "epsilons",
        "E,E,...",
        _names,
        "calibration levels: each policy is calibrated to 1 - epsilon on CALIB "
        "(default: {default}; each below 1)",
    ),
    "--tolerance": SettingFlag(
        "summary",
        "max_accuracy_loss_pp",
        "PP",
        float,
        "accuracy loss allowed at an operating point, in percentage points ({default})",
    ),
    "--raw": SettingFlag(
        "cutoff",
        "raw_thresholds",
        "N",
        int,
        "uncalibrated thresholds swept per policy, reported as <policy>-raw ({default})",
    ),
    "--histogram-epsilon": SettingFlag(
        "summary",
        "histogram_epsilon",
        "E",
        str,
        "the epsilon whose Top-K exits the histogram shows ({default} if swept, else the "
        "first epsilon)",
    ),
    "--bootstrap": SettingFlag(
        "summary.bootstrap",
        "replicates",
        "B",
        int,
        "bootstrap replicates behind every interval ({default})",
    ),
    "--seed": SettingFlag(
        "summary.bootstrap", "seed", "SEED", int, "seed of the bootstrap resampling ({default})"
    ),
}
# the settings' fields as the options that set them, for error messages
OPTIONS = {"policies": "--policies"} | {s.field: flag for flag, s in SETTING_FLAGS.items()}


def _given(args: argparse.Namespace, block: str) -> dict:
    """The settings of ``block`` that the options given set."""
    return {
        s.field: value
        for flag, s in SETTING_FLAGS.items()
        if s.block == block and (value := getattr(args, flag[2:].replace("-", "_"))) is not None
    }


def _settings(args: argparse.Namespace):
    from pydantic import ValidationError

    from spikecut.cutoff.policies import BASELINE, PAPER, POLICIES
    from spikecut.settings import CutoffConfig, SummaryConfig
    from spikecut.settings.base import error_message

    unknown = [p for p in args.policies if p not in POLICIES]
    if unknown:
        raise UsageError(
            f"--policies: unknown {', '.join(map(repr, unknown))}; choose from "
            f"{', '.join(POLICIES)}"
        )
    needed = (BASELINE, PAPER)
    policies = [*needed, *(p for p in args.policies if p not in needed)]
    cutoff = _given(args, "cutoff") | dict(
        policies=policies, options=_policy_options(args, policies)
    )
    try:
        cutoff = CutoffConfig.model_validate(cutoff)
        summary = _given(args, "summary") | {"bootstrap": _given(args, "summary.bootstrap")}
        if "histogram_epsilon" not in summary:  # the default where it is swept
            default = SummaryConfig.model_fields["histogram_epsilon"].default
            summary["histogram_epsilon"] = (
                default if default in cutoff.epsilons else cutoff.epsilons[0]
            )
        # whether the histogram's epsilon is swept, analyse_outputs checks
        summary = SummaryConfig.model_validate(summary)
    except ValidationError as err:
        first = err.errors()[0]
        option = OPTIONS.get(str(first["loc"][-1]), OPTIONS.get(str(first["loc"][0]), "option"))
        reason = error_message(first, given=False)
        raise UsageError(f"{option}: {reason} (got {first['input']!r})") from None
    return cutoff, summary


def _policy_options(args: argparse.Namespace, policies: list[str]) -> dict:
    """``{policy: options}`` from the policy flags given, each checked by its policy's
    options model so that an error names the flag."""
    from pydantic import ValidationError

    from spikecut.cutoff.policies import POLICIES
    from spikecut.settings.base import error_message

    given: dict[str, dict] = {}
    for dest, value in vars(args).items():
        if dest.startswith("option:") and value is not None:
            _, name, key = dest.split(":")
            given.setdefault(name, {})[key] = value
    for name, options in given.items():
        if name not in policies:
            flags = ", ".join(_option_flag(name, key) for key in options)
            raise UsageError(f"{flags}: {name} is not among --policies; add it or drop the flag")
        try:
            given[name] = POLICIES[name].options.model_validate(options)
        except ValidationError as err:
            first = err.errors()[0]
            flag = _option_flag(name, str(first["loc"][-1]))
            raise UsageError(
                f"{flag}: {error_message(first, given=False)} (got {first['input']!r})"
            ) from None
    return given


def _writable(folder: str) -> None:
    """Refuse an output folder that cannot be written, before any work is done."""
    out = Path(folder)
    if out.exists() and not out.is_dir():
        raise UsageError(f"-o {folder} is a file; give a folder (its files are replaced)")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".spikecut-probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        raise UsageError(
            f"-o {folder}: cannot write there ({err.strerror}); choose a folder you can write"
        ) from None


def run_analyse(args: argparse.Namespace) -> None:
    cutoff, summary = _settings(args)
    from spikecut.outputs import OutputsFileError, load_outputs
    from spikecut.stages.standalone import AnalysisInputError, analyse_outputs

    _writable(args.out)
    files = {"calibration": args.calib, "test": args.test}
    if args.val:
        files["validation"] = args.val
    try:
        sets = {name: load_outputs(path) for name, path in files.items()}
        paths = analyse_outputs(
            sets["test"],
            sets["calibration"],
            args.out,
            cutoff,
            summary,
            validation=sets.get("validation"),
            dataset=args.dataset or Path(args.test).stem,
            method=args.method,
            sources={name: str(Path(path).resolve()) for name, path in files.items()},
            progress=not args.quiet,
        )
    except (OutputsFileError, AnalysisInputError) as err:
        raise UsageError(str(err)) from None
    protocols = "held-out and paper" if args.val else "paper only (give --val for held-out)"
    print(f"spikecut: wrote {len(paths)} files under {args.out} (protocols: {protocols});")
    print(f"spikecut: start with {paths['markdown']}")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.run(args)
    except (UsageError, OSError) as err:  # OSError: e.g. an output folder we cannot write
        print(f"spikecut {args.command}: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
