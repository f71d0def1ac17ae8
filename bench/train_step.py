"""Milliseconds per training step of the paper grid's models, and what the grid costs.

    python bench/train_step.py [--out FILE.md] [--batch B] [--reps 5] [--rounds 3]
                               [--warmup 3] [--only TEXT] [--skip-price] [--smoke]

**Compared cases** (the VGG-16 QCFS ANN and the TET ResNet-19 on CIFAR-10, VGGSNN on
48x48 CIFAR10-DVS, ``dvs_vgg`` on DVS128 Gesture, and a VGG SNN at 32x32 with T = 4):
each model of ``config/paper.yaml`` is timed per optimiser step through spikecut's own
:class:`spikecut.training.loop.TrainingStep`, data path included (the batch taken from
the training split as the loop holds it, augmented on the device, encoded), at every
precision, as a baseline run (alpha = 0); and through a plain SpikingJelly loop on the
same architecture, written the way SpikingJelly's tutorials write one: SpikingJelly's
own neurons, float32, a ``DataLoader`` over a data set that normalises (and, for the
frame data sets, augments with torchvision's transforms) image by image in the main
process, ``.to(device)``, the same loss, ``loss.item()`` and the accuracy read every
step. Both augmentations are also timed on their own.

**Price** (unless ``--skip-price``): every (data set, method) entry of the grid at the
grid's own precision, with alpha = 0 and alpha > 0, and its forward passes in
evaluation mode (validation, recording); with the grid's epochs and the data sets'
published sizes these give the GPU-hours of the grid, per entry and in all.

Times are per call: after ``--warmup`` untimed calls, every way of running a case takes
its turn for ``--reps`` calls, ``--rounds`` times over, and each reports the mean of
its fastest turn (the device synchronised at the ends of a turn only, as in training).
Taking turns spreads drifts in the machine's speed over all of them.
``--smoke`` runs tiny batches and single steps on whatever device there is, event
frames at 32x32 and T at most 2, to check that the script works; its numbers mean
nothing.
"""

from __future__ import annotations

import argparse
import math
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
import torch
import yaml
from spikingjelly.activation_based import functional

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from spikecut.data import DATASETS, PreparedData  # noqa: E402
from spikecut.data.augment import cutout, make_augment  # noqa: E402
from spikecut.data.encoding import normalise  # noqa: E402
from spikecut.methods import METHODS, rebuild  # noqa: E402
from spikecut.seeding import seed_everything  # noqa: E402
from spikecut.settings import RecordPlan, Settings, TrainPlan  # noqa: E402
from spikecut.settings.blocks import MODEL_ADAPTER  # noqa: E402
from spikecut.training.batches import TrainingSplit  # noqa: E402
from spikecut.training.loop import EpochTotals, make_optimizer, training_step  # noqa: E402
from spikecut.training.losses import task_loss  # noqa: E402
from spikecut.training.precision import PRECISIONS  # noqa: E402

PAPER = ROOT / "config" / "paper.yaml"

# Published sizes (training, test) of the grid's data sets; the event sets' 9:1 splits
# as spikecut makes them. Validation takes data.val_fraction of the training part.
SIZES = {
    "cifar10": (50_000, 10_000),
    "cifar100": (50_000, 10_000),
    "tiny-imagenet": (100_000, 10_000),
    "cifar10-dvs": (9_000, 1_000),
    "dvs128-gesture": (1_176, 288),
    "n-caltech101": (7_420, 822),  # 8,242 recordings without the background class
}


@dataclass(frozen=True)
class Case:
    label: str
    dataset: str
    method: str
    model: dict | None = None  # replaces the grid's model


COMPARED = (
    Case("VGG-16 QCFS ANN, CIFAR-10", "cifar10", "qcfs-l4"),
    Case("ResNet-19 TET, CIFAR-10, T = 4", "cifar10", "tet-resnet19"),
    Case("VGG SNN, 32x32, T = 4", "cifar10", "tet", {"name": "vggsnn"}),
    Case("VGGSNN TET, CIFAR10-DVS 48x48, T = 10", "cifar10-dvs", "tet"),
    Case("dvs_vgg TET, DVS128 Gesture, T = 16", "dvs128-gesture", "tet"),
)


class Bench:
    def __init__(self, args):
        self.args = args
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        self.settings = Settings.load(yaml.safe_load(PAPER.read_text()))

    def sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def times_ms(self, calls: dict[str, Callable[[], object]]) -> dict[str, float | str]:
        """Milliseconds per call of each of ``calls``: ``--rounds`` rounds, each running
        every call ``--reps`` times in turn (the device synchronised at both ends of a
        block only, as in training), after ``--warmup`` untimed calls; the fastest of
        each call's block means. Taking turns spreads drifts of the machine's speed
        over all of them, and the fastest block is the one least slowed by whatever
        else the machine did."""
        blocks: dict[str, list[float]] = {name: [] for name in calls}
        failed: dict[str, str] = {}
        for name, fn in calls.items():
            failed |= _failure(name, lambda fn=fn: [fn() for _ in range(self.args.warmup)])
        for _ in range(self.args.rounds):
            for name, fn in calls.items():
                if name in failed:
                    continue
                self.sync()
                start = time.perf_counter()
                failed |= _failure(name, lambda fn=fn: [fn() for _ in range(self.args.reps)])
                self.sync()
                blocks[name].append((time.perf_counter() - start) * 1e3 / self.args.reps)
        return {name: failed.get(name) or min(blocks[name]) for name in calls}

    # -- what a case trains on ----------------------------------------------------------

    def plan(self, case: Case, **training) -> TrainPlan:
        plan = self.settings.train_plan(case.dataset, case.method)
        if case.model is not None:
            plan = plan.model_copy(update={"model": MODEL_ADAPTER.validate_python(case.model)})
        return plan.model_copy(
            update={"training": plan.training.model_copy(update=training | {"device": "auto"})}
        )

    def data(self, case: Case, batch: int) -> PreparedData:
        """Random samples of the case's shape, stored as its data set stores them:
        enough for every timed step to take a batch of its own."""
        spec = DATASETS[case.dataset]
        entry = self.settings.datasets[case.dataset]
        options = self.settings.options(case.dataset)
        if self.args.smoke and spec.kind == "events":
            options = options.model_copy(update={"size": (32, 32)})
        frame = spec.frame_shape(options)
        n_steps = min(entry.T, 2) if self.args.smoke else entry.T
        n = batch * 4  # the timed steps cycle through these
        rng = np.random.default_rng(0)
        # event frames hold small spike counts, images any value
        high = 256 if spec.kind == "static" else 4
        shape = (n, *frame) if spec.kind == "static" else (n, n_steps, *frame)
        x = rng.integers(0, high, shape, dtype=np.uint8)
        y = rng.integers(0, spec.num_classes, n)
        norm = (spec.mean, spec.std) if spec.mean is not None else None
        parts = {"train": x, "val": x[:batch], "test": x[:batch]}
        labels = {"train": y, "val": y[:batch], "test": y[:batch]}
        index = {k: np.arange(len(v)) for k, v in labels.items()}
        return PreparedData(spec.kind, spec.num_classes, n_steps, parts, labels, index, norm)

    # -- the three ways of running a case -----------------------------------------------

    def spikecut_step(
        self, case: Case, batch: int, precision: str, alpha: float, compile: bool = False
    ):
        plan = self.plan(case, precision=precision, batch_size=batch, compile=compile)
        data = self.data(case, batch)
        generator = seed_everything(0, plan.training.deterministic)
        setup = METHODS[plan.method].setup(plan, data)
        setup.model.train()
        step = training_step(setup, plan.training, alpha, generator, self.device)
        split = TrainingSplit(data.x["train"], data.y["train"], self.device)
        totals = EpochTotals(self.device)

        def epochs():
            while True:
                yield from split.batches(torch.randperm(len(split), generator=generator), batch)

        batches = epochs()
        return _under_cudnn(plan, lambda: step(*next(batches), 1, totals))

    def host_pipeline(self, case: Case) -> Callable[[torch.Tensor], torch.Tensor] | None:
        """The case's augmentation of one uint8 image the way a plain loop's data set
        runs it, on the host: torchvision's transforms, then a Cutout square; None
        where the case has none."""
        cfg = self.plan(case).augment
        if not cfg.any:
            return None
        from torchvision.transforms import v2

        h, w = DATASETS[case.dataset].frame_shape(self.settings.options(case.dataset))[1:]
        steps = [v2.RandomCrop((h, w), padding=cfg.crop_padding)] if cfg.crop_padding else []
        steps += [v2.RandomHorizontalFlip()] if cfg.flip else []
        steps += [v2.AutoAugment(v2.AutoAugmentPolicy.CIFAR10)] if cfg.autoaugment else []
        pipeline = v2.Compose(steps)

        def augment(image: torch.Tensor) -> torch.Tensor:
            image = pipeline(image)
            if cfg.cutout:
                centre = torch.stack([torch.randint(h, (1,)), torch.randint(w, (1,))], dim=1)
                image = cutout(image[None], cfg.cutout, centre)[0]
            return image

        return augment

    def plain_step(self, case: Case, batch: int):
        """The same architecture in a SpikingJelly tutorial's training loop, its data
        set augmenting image by image in the main process (no loader workers)."""
        plan = self.plan(case, batch_size=batch)
        data = self.data(case, batch)
        seed_everything(0)
        setup = METHODS[plan.method].setup(plan, data)
        model = rebuild(setup.spec, "spikingjelly").to(self.device).train()
        optimizer = make_optimizer(model, plan.training)
        labels = torch.as_tensor(data.y["train"])
        augment = self.host_pipeline(case)
        if augment is None:
            # the data set's ToTensor and Normalize, done once for every sample
            dataset = torch.utils.data.TensorDataset(normalise(data.x["train"], data.norm), labels)
        else:
            dataset = _Augmented(torch.as_tensor(data.x["train"]), labels, augment, data.norm)
        loader = torch.utils.data.DataLoader(
            dataset, batch_size=batch, shuffle=True, pin_memory=self.device.type == "cuda"
        )

        def epochs():
            while True:
                yield from loader

        batches = epochs()
        n_steps = setup.spec["n_steps"] if plan.method == "bptt" else 1
        stats = {"loss": 0.0, "correct": 0.0}

        def step():
            img, label = next(batches)
            img = img.to(self.device, non_blocking=True)
            label = label.to(self.device, non_blocking=True)
            if data.kind == "events":
                img = img.transpose(0, 1)  # [B, T, ...] -> [T, B, ...]
            else:
                img = img.unsqueeze(0).repeat(n_steps, 1, 1, 1, 1)
            out = model(img)
            loss = task_loss(out, label, plan.training)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            functional.reset_net(model)
            stats["loss"] += loss.item() * label.numel()
            stats["correct"] += (out.mean(0).argmax(1) == label).float().sum().item()

        return _under_cudnn(plan, step)

    def forward(self, case: Case, recorded: bool) -> tuple[Callable[[], None], int]:
        """A forward pass in evaluation mode, float32: of the trained model (validation
        during training) or of the SNN that is recorded (for a QCFS run, the converted
        network over qcfs.T steps)."""
        batch = 2 if self.args.smoke else self.settings.record.batch_size
        plan = self.plan(case, batch_size=batch)
        data = self.data(case, batch)
        setup = METHODS[plan.method].setup(plan, data)
        model, encode = setup.model, setup.encode
        if recorded:
            record = RecordPlan.model_validate(
                self.settings.record_params(case.dataset, case.method)
            )
            if self.args.smoke and record.static_steps:
                record = record.model_copy(update={"static_steps": 2})
            model, encode, _ = METHODS[plan.method].inference(model, data, record)
        model = model.to(self.device).eval()
        x = encode(torch.as_tensor(data.x["train"][:batch]).to(self.device))

        @torch.no_grad()
        def forward():
            model(x)
            functional.reset_net(model)

        return forward, batch

    def host_augment(self, case: Case, batch: int):
        """A batch through :meth:`host_pipeline`, image by image."""
        augment = self.host_pipeline(case)
        if augment is None:
            return None
        images = torch.as_tensor(self.data(case, batch).x["train"][:batch])
        return lambda: [augment(image) for image in images]

    def device_augment(self, case: Case, batch: int):
        augment = make_augment(self.plan(case).augment)
        if augment is None:
            return None
        images = torch.as_tensor(self.data(case, batch).x["train"][:batch]).to(self.device)
        generator = torch.Generator().manual_seed(0)
        return lambda: augment(images, generator)


def _under_cudnn(plan: TrainPlan, call: Callable[[], object]) -> Callable[[], object]:
    """``call`` with the cuDNN setting of ``plan``'s runs, which is global to the
    process that builds and times every way of running a case."""

    def run():
        torch.backends.cudnn.benchmark = not plan.training.deterministic
        torch.backends.cudnn.deterministic = plan.training.deterministic
        return call()

    return run


class _Augmented(torch.utils.data.Dataset):
    """uint8 images augmented and normalised one by one as they are read."""

    def __init__(self, images, labels, augment, norm):
        self.images, self.labels, self.augment, self.norm = images, labels, augment, norm

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int):
        return normalise(self.augment(self.images[i])[None], self.norm)[0], self.labels[i]


def _failure(name: str, run: Callable[[], object]) -> dict[str, str]:
    """``{name: why}`` where ``run`` fails for want of device memory, else nothing."""
    try:
        run()
    except torch.OutOfMemoryError:
        torch.cuda.empty_cache()
        return {name: "out of memory"}
    return {}


def compare(
    bench: Bench, batch: int, only: str | None, precisions: list[str], compiled: bool
) -> list[dict]:
    rows = []
    for case in COMPARED:
        if only and only not in case.label:
            continue
        print(f"# {case.label} ...", file=sys.stderr, flush=True)
        calls = {f"spikecut {p}": bench.spikecut_step(case, batch, p, 0.0) for p in precisions}
        if compiled:
            name = f"spikecut {precisions[0]} compiled"
            calls[name] = bench.spikecut_step(case, batch, precisions[0], 0.0, compile=True)
        calls["plain SJ fp32"] = bench.plain_step(case, batch)
        augments = {
            "host augment": bench.host_augment(case, batch),
            "device augment": bench.device_augment(case, batch),
        }
        calls |= {k: v for k, v in augments.items() if v is not None}
        rows.append({"case": case.label} | bench.times_ms(calls))
    return rows


def price(bench: Bench, batch: int) -> list[dict]:
    """Every grid entry's step and forward times, and its GPU-hours."""
    settings = bench.settings
    val_fraction = settings.data.val_fraction
    alpha = min(float(a) for a in settings.alphas if float(a) > 0)
    n_alpha0 = sum(float(a) == 0 for a in settings.alphas)
    rows = []
    for dataset in settings.datasets:
        for method in settings.dataset_methods(dataset):
            case = Case(f"{dataset} {method}", dataset, method)
            print(f"# price {case.label} ...", file=sys.stderr, flush=True)
            training = bench.plan(case).training
            validate, val_batch = bench.forward(case, False)
            record, record_batch = bench.forward(case, True)
            ms = bench.times_ms(
                {
                    "alpha 0": bench.spikecut_step(case, batch, training.precision, 0.0),
                    "alpha": bench.spikecut_step(case, batch, training.precision, alpha),
                    "validate": validate,
                    "record": record,
                }
            )
            if not isinstance(ms["validate"], str):
                ms["validate"] /= val_batch
            if not isinstance(ms["record"], str):
                ms["record"] /= record_batch
            n_train, n_test = SIZES[dataset]
            n_val = math.ceil(n_train * val_fraction)
            row = {
                "data set": dataset,
                "method": method,
                "precision": training.precision,
                "batch": batch,
                "epochs": training.epochs,
                "runs": len(settings.alphas) * len(settings.seeds),
                "step ms (alpha 0)": ms["alpha 0"],
                f"step ms (alpha {alpha:g})": ms["alpha"],
                "validation ms/sample": ms["validate"],
                "recording ms/sample": ms["record"],
            }
            if not any(isinstance(v, str) for v in ms.values()):
                batches = math.ceil((n_train - n_val) / batch)
                epoch0, epoch1 = (
                    batches * ms[k] + n_val * ms["validate"] for k in ("alpha 0", "alpha")
                )
                # recording (training, validation and test splits), then the early
                # exits: a full-T run and four policies over the test split
                after = (n_train + n_test + 5 * n_test) * ms["record"]
                seeds = len(settings.seeds)
                n_alpha = row["runs"] // seeds - n_alpha0
                total_ms = training.epochs * seeds * (n_alpha0 * epoch0 + n_alpha * epoch1)
                row["hours"] = (total_ms + row["runs"] * after) / 3.6e6
            rows.append(row)
    return rows


def versions() -> str:
    parts = [f"Python {platform.python_version()}"]
    for dist in ("torch", "spikingjelly", "cupy-cuda13x", "cupy-cuda12x", "triton"):
        try:
            parts.append(f"{dist} {version(dist)}")
        except PackageNotFoundError:
            pass
    if torch.cuda.is_available():
        device = torch.cuda.get_device_name()
    else:
        from spikecut.machine import _cpu_model

        device = f"{torch.get_num_threads()} CPU threads of {_cpu_model()}, no GPU"
    return f"{device}; " + ", ".join(parts)


def markdown(rows: list[dict], digits: int = 2) -> str:
    if not rows:
        return ""
    columns = list(dict.fromkeys(k for row in rows for k in row))

    def cell(v):
        if v is None:
            return "-"
        return f"{v:.{digits}f}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row.get(c)) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def ratio(a, b) -> float | None:
    return a / b if isinstance(a, float) and isinstance(b, float) else None


def report(compared: list[dict], priced: list[dict], header: str, batch: int) -> str:
    lines = [f"Measured on: {header}", f"Batch size {batch}; ms per training step.", ""]
    table = []
    for row in compared:
        plain = row["plain SJ fp32"]
        table.append(
            {
                "case": row["case"],
                **{k: row[k] for k in row if k.startswith("spikecut")},
                "plain SJ fp32": plain,
                **{
                    f"{p} / SJ fp32": ratio(row[f"spikecut {p}"], plain)
                    for p in PRECISIONS
                    if f"spikecut {p}" in row
                },
            }
        )
    lines += ["Training step, spikecut's loop against a plain SpikingJelly loop", ""]
    lines += [markdown(table), ""]
    augments = [
        {
            "case": row["case"],
            "host, torchvision per image (ms)": row["host augment"],
            "spikecut, batched on the device (ms)": row["device augment"],
            "share of the fp32 step": ratio(row["device augment"], row.get("spikecut fp32")),
        }
        for row in compared
        if "host augment" in row
    ]
    if augments:
        lines += ["Augmentation of one batch (crop, flip, AutoAugment, Cutout)", ""]
        lines += [markdown(augments, 3), ""]
    if priced:
        hours = [r["hours"] for r in priced if "hours" in r]
        unit = "GPU-hours" if torch.cuda.is_available() else "hours on this CPU"
        lines += [
            f"The grid of {PAPER.relative_to(ROOT)} on this device, in {unit} per entry: "
            "training with validation every epoch, recording, early exits",
            "",
            markdown(priced),
            "",
            f"Total: {sum(hours):,.0f} {unit}"
            + ("" if len(hours) == len(priced) else " (without the entries that did not run)"),
            "",
        ]
    lines += targets(compared)
    return "\n".join(lines)


def targets(compared: list[dict]) -> list[str]:
    """The speed targets, each with its measured value, for the cases that ran."""
    by_case = {row["case"]: row for row in compared}
    checks = []

    def value(case: Case, *columns):
        row = by_case.get(case.label, {})
        found = [row.get(c) for c in columns]
        return found[0] if len(found) == 1 else ratio(*found)

    if torch.cuda.is_available():
        vgg = value(COMPARED[2], "spikecut fp32")
        speedup = value(COMPARED[1], "spikecut fp32", "spikecut bf16")
        share = value(COMPARED[0], "device augment", "spikecut bf16")
        checks += [
            ("VGG SNN step (T = 4, B = 128) <= 13.5 ms", vgg, lambda v: v <= 13.5),
            ("ResNet-19 step: bf16 >= 1.5x faster than fp32", speedup, lambda v: v >= 1.5),
            ("device augmentation < 10 % of a CIFAR step (bf16)", share, lambda v: v < 0.1),
        ]
    else:
        for case in COMPARED:
            r = value(case, "spikecut fp32", "plain SJ fp32")
            checks.append((f"{case.label}: fp32 / plain SJ <= 1.0", r, lambda v: v <= 1.0))

    def line(what, v, ok):
        if not isinstance(v, float):
            return f"- not measured: {what}"
        return f"- {'met' if ok(v) else 'NOT met'}: {what}: {v:.2f}"

    return ["Targets", ""] + [line(*check) for check in checks]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, help="default: the grid's batch size")
    parser.add_argument("--reps", type=int, default=5, help="calls per timed block")
    parser.add_argument("--rounds", type=int, default=3, help="timed blocks per call")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--skip-price", action="store_true", help="only the compared cases")
    parser.add_argument(
        "--compile",
        action="store_true",
        help="also time the first precision with torch.compile (compiling takes minutes)",
    )
    parser.add_argument("--only", help="only the compared cases whose name holds this")
    parser.add_argument(
        "--precisions",
        default=",".join(PRECISIONS),
        help="of the compared cases (float16 is emulated, and slow, on a CPU)",
    )
    parser.add_argument("--smoke", action="store_true", help="a dry run on any device")
    parser.add_argument("--threads", type=int, help="CPU threads (torch's default otherwise)")
    parser.add_argument("--out", type=Path, help="also write the Markdown report here")
    args = parser.parse_args(argv)
    if args.smoke:
        args.reps, args.rounds, args.warmup = 1, 1, 0
    if args.threads:
        torch.set_num_threads(args.threads)
    bench = Bench(args)
    batch = args.batch or (2 if args.smoke else bench.settings.training.batch_size)
    compared = compare(bench, batch, args.only, args.precisions.split(","), args.compile)
    priced = [] if args.skip_price else price(bench, batch)
    text = report(compared, priced, versions(), batch)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
