"""Neuron kernels and a VGG training step, timed per backend.

    python bench/neurons.py [--out FILE.md] [--reps 50]

Backends: spikecut's fused CuPy nodes; SpikingJelly 2.0's own CUDA path (its automatic
choice, Triton where it imports); and SpikingJelly's pure-PyTorch path. SpikingJelly
picks its implementation once per process from ``SJ_LIF_CUDA_IMPLEMENTATION``, so each
backend is measured in a worker process of its own (``--worker NAME``) and this process
only collects and tabulates.

Every neuron uses the same settings: LIF, tau = 2, hard reset to 0, no input decay and
the sigmoid surrogate, which all three backends implement natively. Times are medians
of ``--reps`` CUDA-event timings after ``--warmup`` untimed calls. The HBM floor is the
bytes an ideal kernel must move (read x, write spikes and z = h - v_th in the forward
pass; read the spike gradient and z, write the input gradient in the backward pass)
divided by the measured device-to-device copy bandwidth.

``--smoke`` runs tiny shapes on whatever device there is (the CPU included, timed with
``perf_counter``), to check that the script itself works.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pandas as pd
import torch
from spikingjelly.activation_based import functional

from spikecut.models import build_model
from spikecut.neurons import NeuronConfig, make_neuron
from spikecut.neurons.cupy_backend import cupy_available

BACKENDS = {
    # name: (neuron backend, SpikingJelly's implementation variable)
    "spikecut-cupy": ("cupy", None),
    "sj-auto": ("spikingjelly", "auto"),
    "sj-torch": ("spikingjelly", "torch"),
}
SHAPES = [(8, 64, 128, 32, 32), (16, 32, 2, 128, 128)]
SMOKE_SHAPES = [(4, 2, 8, 8, 8)]
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}
# tensors of the neuron's size each mode must move at least once
TENSORS_MOVED = {"inference": 2, "forward": 3, "forward+backward": 6}


class Timer:
    def __init__(self, device: torch.device, warmup: int, reps: int):
        self.device, self.warmup, self.reps = device, warmup, reps

    def median_ms(self, fn) -> float:
        for _ in range(self.warmup):
            fn()
        times = []
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            for _ in range(self.reps):
                start = torch.cuda.Event(enable_timing=True)
                end = torch.cuda.Event(enable_timing=True)
                start.record()
                fn()
                end.record()
                end.synchronize()
                times.append(start.elapsed_time(end))
        else:
            for _ in range(self.reps):
                t0 = time.perf_counter()
                fn()
                times.append((time.perf_counter() - t0) * 1e3)
        return statistics.median(times)


def copy_bandwidth(timer: Timer, device: torch.device, n_bytes: int) -> float:
    """Device-to-device copy bandwidth, bytes per second (a read plus a write)."""
    src = torch.empty(n_bytes // 4, dtype=torch.float32, device=device)
    dst = torch.empty_like(src)
    ms = timer.median_ms(lambda: dst.copy_(src))
    return 2 * n_bytes / (ms * 1e-3)


def neuron_settings(backend: str) -> dict:
    return {"backend": backend, "surrogate": "sigmoid"}  # sigmoid: alpha = 4


def lif_call(node, mode: str, x: torch.Tensor, grad: torch.Tensor) -> None:
    node.reset()
    if mode == "inference":
        with torch.no_grad():
            node(x)
    elif mode == "forward":
        node(x)
    else:
        torch.autograd.grad(node(x), x, grad)


def bench_lif(
    name: str, backend: str, timer: Timer, device: torch.device, shapes, bandwidth: float
):
    node = make_neuron(NeuronConfig(**neuron_settings(backend)), device).to(device)
    for shape in shapes:
        for dtype_name, dtype in DTYPES.items():
            x = (torch.randn(shape, device=device) + 0.5).to(dtype).requires_grad_(True)
            grad = torch.ones_like(x)
            for mode, tensors in TENSORS_MOVED.items():
                ms = timer.median_ms(functools.partial(lif_call, node, mode, x, grad))
                moved = tensors * x.numel() * x.element_size()
                yield {
                    "bench": "lif",
                    "backend": name,
                    "shape": "x".join(map(str, shape)),
                    "dtype": dtype_name,
                    "mode": mode,
                    "ms": ms,
                    "GB/s": moved / (ms * 1e-3) / 1e9,
                    "floor_ms": moved / bandwidth * 1e3,
                }


def train_step(model, opt, x: torch.Tensor, y: torch.Tensor, amp: bool) -> None:
    with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=amp):
        loss = torch.nn.functional.cross_entropy(model(x).mean(0), y)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    functional.reset_net(model)


def bench_vgg_step(
    name: str, backend: str, timer: Timer, device: torch.device, batch: int, size: int
):
    n_steps = 4
    role = {"kind": "snn", "neuron": neuron_settings(backend)}
    for amp in (False, True):
        torch.manual_seed(0)
        model = build_model("vggsnn", (3, size, size), 10, role, n_steps=n_steps).to(device)
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        x = torch.rand(n_steps, batch, 3, size, size, device=device)
        y = torch.randint(0, 10, (batch,), device=device)
        ms = timer.median_ms(functools.partial(train_step, model, opt, x, y, amp))
        yield {
            "bench": "vgg_step",
            "backend": name,
            "amp": amp,
            "batch": batch,
            "size": size,
            "ms": ms,
        }


def worker(name: str, args) -> None:
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    backend, _ = BACKENDS[name]
    if backend == "cupy" and not cupy_available():
        print(json.dumps({"skipped": name, "why": "needs CUDA and CuPy"}), flush=True)
        return
    timer = Timer(device, args.warmup, args.reps)
    shapes = SMOKE_SHAPES if args.smoke else SHAPES
    bandwidth = copy_bandwidth(timer, device, 2**20 if args.smoke else 2**30)
    print(json.dumps({"bench": "copy", "backend": name, "GB/s": bandwidth / 1e9}), flush=True)
    records = [
        *bench_lif(name, backend, timer, device, shapes, bandwidth),
        *bench_vgg_step(name, backend, timer, device, *((2, 16) if args.smoke else (128, 32))),
    ]
    for record in records:
        print(json.dumps(record), flush=True)


def run_workers(args) -> list[dict]:
    records = []
    for name, (_, implementation) in BACKENDS.items():
        env = dict(os.environ)
        env.pop("SJ_LIF_CUDA_IMPLEMENTATION", None)
        if implementation is not None:
            env["SJ_LIF_CUDA_IMPLEMENTATION"] = implementation
        cmd = [
            sys.executable,
            __file__,
            "--worker",
            name,
            "--reps",
            str(args.reps),
            "--warmup",
            str(args.warmup),
        ] + (["--smoke"] if args.smoke else [])
        print(f"# {name} ...", file=sys.stderr, flush=True)
        out = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if out.returncode != 0:
            raise SystemExit(f"worker {name} failed:\n{out.stderr[-4000:]}")
        records += [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    return records


def versions() -> str:
    parts = [f"Python {platform.python_version()}"]
    for dist in ("torch", "numpy", "spikingjelly", "cupy-cuda13x", "cupy-cuda12x", "triton"):
        try:
            parts.append(f"{dist} {version(dist)}")
        except PackageNotFoundError:
            pass
    gpu = torch.cuda.get_device_name() if torch.cuda.is_available() else "no GPU (CPU)"
    return f"{gpu}; " + ", ".join(parts)


def markdown(df: pd.DataFrame, digits: int) -> str:
    df = df.reset_index()
    cells = [
        [f"{v:.{digits}f}" if isinstance(v, float) else str(v) for v in row]
        for row in df.itertuples(index=False)
    ]
    rows = [list(map(str, df.columns)), ["---"] * len(df.columns), *cells]
    return "\n".join("| " + " | ".join(r) + " |" for r in rows)


def report(records: list[dict], header: str) -> str:
    skipped = [r for r in records if "skipped" in r]
    records = [r for r in records if "skipped" not in r]
    df = pd.DataFrame(records)
    lines = [f"Measured on: {header}", ""]
    copy = df[df.bench == "copy"]
    lines.append(f"Copy bandwidth: {copy['GB/s'].median():.0f} GB/s (read + write)\n")
    lif = df[df.bench == "lif"]
    table = lif.pivot_table(index=["shape", "dtype", "mode"], columns="backend", values="ms")
    table["floor"] = lif.groupby(["shape", "dtype", "mode"])["floor_ms"].median()
    ours = lif[lif.backend == "spikecut-cupy"]
    if len(ours):
        table["spikecut GB/s"] = ours.set_index(["shape", "dtype", "mode"])["GB/s"]
    sj = [c for c in ("sj-auto", "sj-torch") if c in table]
    if "spikecut-cupy" in table and sj:
        table["speed-up vs best SJ"] = table[sj].min(axis=1) / table["spikecut-cupy"]
    lines += ["LIF neuron, ms (median)", "", markdown(table, 3), ""]
    vgg = df[df.bench == "vgg_step"]
    step = vgg.pivot_table(index="backend", columns="amp", values="ms").rename(
        columns={False: "fp32 ms", True: "AMP (bf16) ms"}
    )
    lines += ["VGGSNN training step, T = 4, ms (median)", "", markdown(step, 2), ""]
    lines += [f"Not run: {r['skipped']} ({r['why']})" for r in skipped]
    if "spikecut-cupy" in step.index and "spikecut-cupy" in table:
        lines += ["", *targets(table, step)]
    return "\n".join(lines)


def targets(table: pd.DataFrame, step: pd.DataFrame) -> list[str]:
    """The neuron speed targets, each with its measured value."""
    ours = table["spikecut-cupy"]
    key = "x".join(map(str, SHAPES[0]))
    fp32, bf16 = ours[key, "fp32", "forward+backward"], ours[key, "bf16", "forward+backward"]
    sj_fp32 = table.loc[(key, "fp32", "forward+backward"), ["sj-auto", "sj-torch"]].min()
    sj_best = step.drop(index="spikecut-cupy").min().min()
    ours_amp = step.loc["spikecut-cupy", "AMP (bf16) ms"]
    checks = [
        (f"LIF fp32 fwd+bwd {key} <= 0.55 ms", f"{fp32:.3f} ms", fp32 <= 0.55),
        ("... and >= 2x SpikingJelly's best", f"{sj_fp32 / fp32:.2f}x", sj_fp32 / fp32 >= 2),
        (f"LIF bf16 fwd+bwd {key} <= 0.35 ms", f"{bf16:.3f} ms", bf16 <= 0.35),
        (
            "VGG step with AMP >= 1.4x SpikingJelly's best configuration",
            f"{sj_best / ours_amp:.2f}x",
            sj_best / ours_amp >= 1.4,
        ),
    ]
    return ["Targets", ""] + [
        f"- {'met' if ok else 'NOT met'}: {what}: {value}" for what, value, ok in checks
    ]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--worker", choices=sorted(BACKENDS))
    parser.add_argument("--reps", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--smoke", action="store_true", help="tiny shapes, any device")
    parser.add_argument("--out", type=Path, help="also write the Markdown report here")
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args)
        return
    if not args.smoke and not torch.cuda.is_available():
        raise SystemExit("bench/neurons.py needs a CUDA device (or --smoke for a dry run)")
    text = report(run_workers(args), versions())
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
