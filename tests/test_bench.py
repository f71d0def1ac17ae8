"""bench/neurons.py: its dry run on the CPU, and its report and targets on known numbers."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_neurons", ROOT / "bench/neurons.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
