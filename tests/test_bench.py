"""The benchmarks: their dry runs on the CPU, and their reports and targets on known
numbers."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]


def load(name):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / f"bench/{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # for its dataclasses
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench():
    return load("neurons")


@pytest.fixture(scope="module")
def steps():
    return load("train_step")


@pytest.mark.slow
def test_smoke_run_reports_every_backend_it_can(tmp_path):
    out = tmp_path / "neurons.md"
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench/neurons.py"),
            "--smoke",
            "--reps",
            "1",
            "--warmup",
            "0",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    text = out.read_text()
    assert "LIF neuron, ms (median)" in text and "VGGSNN training step" in text
    lif_rows = [line for line in text.splitlines() if line.startswith("| 4x2x8x8x8")]
    assert len(lif_rows) == 6  # 2 dtypes x 3 modes
    assert "sj-auto" in text and "sj-torch" in text


def synthetic(bench, ours_fp32_ms, sj_factor):
    records = [{"bench": "copy", "backend": b, "GB/s": 4300.0} for b in bench.BACKENDS]
    for backend, factor in (
        ("spikecut-cupy", 1.0),
        ("sj-auto", sj_factor),
        ("sj-torch", 2 * sj_factor),
    ):
        for shape in bench.SHAPES:
            for dtype in bench.DTYPES:
                for mode in bench.TENSORS_MOVED:
                    ms = ours_fp32_ms * factor * (0.6 if dtype == "bf16" else 1.0)
                    records.append(
                        {
                            "bench": "lif",
                            "backend": backend,
                            "dtype": dtype,
                            "shape": "x".join(map(str, shape)),
                            "mode": mode,
                            "ms": ms,
                            "GB/s": 1000.0,
                            "floor_ms": 0.37,
                        }
                    )
        for amp in (False, True):
            records.append(
                {"bench": "vgg_step", "backend": backend, "amp": amp, "ms": 10.0 * factor}
            )
    return records


def test_targets_met_and_missed(bench):
    met = bench.report(synthetic(bench, 0.5, 2.2), "synthetic")
    assert met.count("- met:") == 4 and "NOT met" not in met
    missed = bench.report(synthetic(bench, 0.6, 1.5), "synthetic")
    # 0.6 ms > 0.55, 1.5x < 2x, 0.36 ms > 0.35, VGG 1.5x >= 1.4x
    assert missed.count("- NOT met:") == 3 and missed.count("- met:") == 1
    assert "| 8x64x128x32x32 | fp32 | forward+backward |" in met


@pytest.mark.slow
def test_train_step_smoke_run_compares_and_prices_every_case(tmp_path):
    out = tmp_path / "train_step.md"
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench/train_step.py"), "--smoke", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    text = out.read_text()
    for case in ("VGG-16 QCFS ANN", "ResNet-19 TET", "VGGSNN TET", "dvs_vgg TET"):
        assert f"| {case}" in text
    # every entry of the grid is priced: 4 methods on each frame set, 2 on each event set
    priced = [
        line
        for line in text.splitlines()
        if line.split(" | ")[0][2:]
        in ("cifar10", "cifar100", "tiny-imagenet", "cifar10-dvs", "dvs128-gesture", "n-caltech101")
    ]
    assert len(priced) == 18
    assert "Total: " in text and "Augmentation of one batch" in text


def test_train_step_report_and_targets(steps):
    rows = [
        {
            "case": case.label,
            "spikecut fp32": 90.0 if i else 110.0,
            "spikecut bf16": 50.0,
            "plain SJ fp32": 100.0,
        }
        for i, case in enumerate(steps.COMPARED)
    ]
    rows[0] |= {"host augment": 40.0, "device augment": 2.0}
    rows[3]["spikecut bf16"] = "out of memory"
    text = steps.report(rows, [], "synthetic", 16)
    assert "| VGG-16 QCFS ANN, CIFAR-10 | 110.00 | 50.00 | 100.00 | 1.10 | 0.50 |" in text
    assert "| out of memory |" in text and "share of the fp32 step" in text
    if not torch.cuda.is_available():  # the CPU's targets: no slower than SpikingJelly
        assert text.count("- met:") == 4 and text.count("- NOT met:") == 1
        assert "NOT met: VGG-16 QCFS ANN, CIFAR-10: fp32 / plain SJ <= 1.0: 1.10" in text


def test_train_step_report_of_one_precision_compiled(steps):
    """gpu_check.sh's torch.compile run: one precision, no float32 step."""
    row = {
        "case": steps.COMPARED[0].label,
        "spikecut bf16": 50.0,
        "spikecut bf16 compiled": 40.0,
        "plain SJ fp32": 100.0,
        "host augment": 40.0,
        "device augment": 2.0,
    }
    text = steps.report([row], [], "synthetic", 128)
    assert "| 50.00 | 40.00 | 100.00 | 0.50 |" in text
    assert "not measured: VGG-16 QCFS ANN" in text or torch.cuda.is_available()
