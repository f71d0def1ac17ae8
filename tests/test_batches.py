"""The training split as batches, and the training step's traffic with the host."""

import dataclasses
import warnings

import numpy as np
import pytest
import torch
from conftest import TRAIN

from spikecut.data import prepare
from spikecut.methods import METHODS
from spikecut.seeding import seed_everything
from spikecut.settings import AugmentConfig, TrainConfig
from spikecut.training.batches import DEVICE_SHARE, TrainingSplit, fits_on_device
from spikecut.training.loop import EpochTotals, TrainingStep, make_optimizer
from spikecut.training.precision import Precision


def stored(n=50):
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (n, 3, 4, 4), dtype=np.uint8), rng.integers(0, 10, n)


def test_batches_follow_the_order_in_whole_batches_and_a_remainder():
    x, y = stored()
    split = TrainingSplit(x, y, torch.device("cpu"))
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(1))
    batches = list(split.batches(order, 16))
    assert [len(labels) for _, labels in batches] == [16, 16, 16, 2]
    got_x = torch.cat([b for b, _ in batches])
    got_y = torch.cat([labels for _, labels in batches])
    assert torch.equal(got_x, torch.as_tensor(x)[order])
    assert torch.equal(got_y, torch.as_tensor(y)[order])
    assert got_x.dtype == torch.uint8  # as stored: augmentation and encoding come later


def test_host_memory_always_holds_the_split():
    assert fits_on_device(10**15, torch.device("cpu"))
    x, y = stored()
    assert TrainingSplit(x, y, torch.device("cpu")).on_device


@pytest.mark.gpu
def test_a_split_too_large_for_the_gpu_streams_the_same_batches():
    x, y = stored(300)
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(2))
    device = torch.device("cuda")
    held = TrainingSplit(x, y, device)
    streamed = TrainingSplit(x, y, device, share=0.0)
    assert held.on_device and not streamed.on_device
    for (a, la), (b, lb) in zip(held.batches(order, 64), streamed.batches(order, 64), strict=True):
        assert b.is_cuda and torch.equal(a, b) and torch.equal(la, lb)


@pytest.mark.gpu
@pytest.mark.parametrize("share", [DEVICE_SHARE, 0.0], ids=["held", "streamed"])
@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_the_training_step_never_waits_for_the_gpu(precision, share):
    """torch reports every call that synchronises the host with the device; a whole
    epoch, the batches served and the watch for a non-finite loss included, makes none
    (the epoch's one read comes after it)."""
    device = torch.device("cuda")
    data = prepare(
        "digits", n_steps=3, seed=0, test_fraction=0.25, val_fraction=0.2, limit=300,
        options={"upsample": 4},
    )  # fmt: skip
    # uint8 images with a normalisation and every augmentation, as CIFAR's
    images = {k: (v * 255).astype(np.uint8) for k, v in data.x.items()}
    data = dataclasses.replace(data, x=images, norm=((0.3,), (0.2,)))
    augment = AugmentConfig(crop_padding=2, flip=True, autoaugment=True, cutout=8)
    generator = seed_everything(0)
    setup = METHODS["bptt"].setup(TRAIN.model_copy(update={"augment": augment}), data)
    model = setup.model.to(device)
    cfg = TrainConfig(batch_size=32, precision=precision)
    step = TrainingStep(
        model, make_optimizer(model, cfg), Precision(precision, device), cfg, 0.1,
        setup.encode, setup.regulariser, generator, setup.augment,
    )  # fmt: skip
    split = TrainingSplit(data.x["train"], data.y["train"], device, share=share)
    totals = EpochTotals(device)
    first = next(split.batches(torch.randperm(len(split), generator=generator), 32))
    step(*first, 1, totals)  # the first call compiles and checks the kernels
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("warn")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            order = torch.randperm(len(split), generator=generator)
            for i, (x, labels) in enumerate(split.batches(order, 32), 1):
                step(x, labels, i, totals)
                assert not totals.diverged()
    finally:
        torch.cuda.set_sync_debug_mode("default")
    syncs = [str(w.message) for w in caught if "synchroniz" in str(w.message)]
    assert not syncs, syncs[:3]
    sums, bad = totals.read()
    assert sums[3] > 0 and bad[0] == 0
