"""The cutoff sweep engine on a large synthetic recording.

    python bench/cutoff.py [--repeats 3]

Synthetic per-step logits with N = 50,000 calibration and 10,000 test samples, T = 10
steps and C = 100 classes (the label's logit drifts up over time, as in a trained
SNN). The timed call is the whole sweep: every policy, 10 epsilons, 100 raw thresholds
each, exit-step histograms included. The recording's own derived arrays (Y(t), the
softmax) are part of the time: each repeat starts from fresh ``StepOutputs``.
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np

from spikecut.cutoff import POLICIES, StepOutputs, sweep

N_CAL, N_TEST, T, C = 50_000, 10_000, 10, 100
EPSILONS = [i / 100 for i in range(10)]
RAW = 100


def synthetic(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    labels = rng.integers(0, C, n)
    logits = rng.normal(size=(n, T, C)).astype(np.float32)
    drift = rng.random((n, 1)) * np.linspace(0.2, 1.5, T)[None, :]
    logits[np.arange(n), :, labels] += drift.astype(np.float32)
    return logits, labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    cal, test = synthetic(rng, N_CAL), synthetic(rng, N_TEST)
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        curve, _ = sweep(StepOutputs(*test), StepOutputs(*cal), list(POLICIES), EPSILONS, raw=RAW)
        times.append(time.perf_counter() - start)
    print(f"{platform.processor() or platform.machine()}, numpy {np.__version__}")
    print(f"{len(curve)} operating points from {len(POLICIES)} policies")
    print(
        f"full sweep: best {min(times):.2f} s, median {np.median(times):.2f} s "
        f"over {args.repeats} runs (target <= 3 s)"
    )


if __name__ == "__main__":
    main()
