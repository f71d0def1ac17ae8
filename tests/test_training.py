import dataclasses

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import TRAIN

from spikecut.data import prepare
from spikecut.methods import METHODS
from spikecut.seeding import pick_device, seed_everything
from spikecut.settings import AugmentConfig, QCFSNet, TrainConfig
from spikecut.training import task_loss, train_model

PLANS = {
    "bptt": TRAIN.model_copy(update={"model": TRAIN.model.model_copy(update={"channels": (8,)})}),
    "qcfs": TRAIN.model_copy(
        update={
            "method": "qcfs",
            "neuron": None,
            "qcfs": QCFSNet(levels=4, theta_init=8.0),
            "model": TRAIN.model.model_copy(update={"channels": (8,)}),
        }
    ),
}


@pytest.fixture(scope="module")
def small():
    return prepare("digits", n_steps=3, seed=0, test_fraction=0.25, val_fraction=0.2, limit=300)


def setup_for(method, data, **plan):
    return METHODS[method].setup(PLANS[method].model_copy(update=plan), data)


def train_on_cpu(setup, data, cfg, generator, alpha=0.0, **options):
    """``train_model`` on the CPU with what a method's setup gives."""
    return train_model(
        setup.model,
        data,
        cfg,
        alpha,
        setup.encode,
        setup.regulariser,
        generator,
        torch.device("cpu"),
        progress=False,
        **options,
    )


def run(data, seed=0, method="bptt", alpha=0.0, **overrides):
    generator = seed_everything(seed)
    setup = setup_for(method, data)
    cfg = TrainConfig(epochs=3, batch_size=32, **({"lr": 0.01} | overrides))
    return train_on_cpu(setup, data, cfg, generator, alpha)


@pytest.mark.parametrize("method", ["bptt", "qcfs"])
def test_training_learns_and_selects_on_validation(small, method):
    model, metrics = run(small, method=method)
    assert metrics["val_accuracy"].max() > 0.5
    assert metrics["loss"].iloc[-1] < metrics["loss"].iloc[0]
    assert metrics["selected"].sum() == 1
    chosen = metrics[metrics["selected"]].iloc[0]
    assert chosen["val_accuracy"] == metrics["val_accuracy"].max()
    assert list(metrics.columns[:7]) == [
        "epoch",
        "lr",
        "loss",
        "task_loss",
        "rcs",
        "train_accuracy",
        "val_accuracy",
    ]


def test_same_seed_same_numbers(small):
    m1, a = run(small, seed=3)
    m2, b = run(small, seed=3)
    assert a.equals(b)
    for (k, v), w in zip(m1.state_dict().items(), m2.state_dict().values()):
        assert torch.equal(v, w), k
    _, c = run(small, seed=4)
    assert not a.equals(c)


@pytest.mark.parametrize("method", ["bptt", "qcfs"])
def test_rcs_enters_the_loss(small, method):
    _, base = run(small, method=method, alpha=0.0)
    _, reg = run(small, method=method, alpha=0.5)
    np.testing.assert_allclose(base["loss"], base["task_loss"])
    assert (reg["loss"] > reg["task_loss"]).all()
    assert not np.allclose(base["task_loss"], reg["task_loss"])


@pytest.mark.parametrize("poison, shown", [(float("nan"), "nan"), (1e30, "inf")])
def test_non_finite_loss_stops_with_epoch_and_batch(small, poison, shown):
    # NaN inputs never reach the loss (a NaN membrane does not spike), so poison the
    # read-out, as a diverging run would; a logit of 1e30 overflows TET's squared term
    generator = seed_everything(0)
    setup = setup_for("bptt", small)
    with torch.no_grad():
        setup.model[-1].bias[0] = poison
    with pytest.raises(FloatingPointError, match=rf"loss became {shown} at epoch 1, batch 1/"):
        train_on_cpu(setup, small, TrainConfig(epochs=1, loss="tet"), generator)


def test_task_losses_by_hand():
    torch.manual_seed(0)
    logits, labels = torch.randn(4, 3, 5), torch.tensor([0, 2, 4])
    mean = task_loss("mean", logits, labels)
    torch.testing.assert_close(mean, F.cross_entropy(logits.mean(0), labels))
    tet = task_loss("tet", logits, labels, tet_lambda=0.1)
    ce = sum(F.cross_entropy(logits[t], labels) for t in range(4)) / 4
    mse = ((logits - 1) ** 2).mean()
    torch.testing.assert_close(tet, 0.9 * ce + 0.1 * mse)
    with pytest.raises(ValueError, match="unknown loss"):
        task_loss("hinge", logits, labels)


def test_bad_optimizer_and_device(small):
    with pytest.raises(ValueError, match="optimizer"):
        run(small, optimizer="lbfgs")  # refused by the settings already
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            pick_device("cuda")
    assert pick_device("auto").type in {"cpu", "cuda"}


def test_augmentation_changes_training_and_stays_reproducible():
    data = prepare(
        "digits",
        n_steps=2,
        seed=0,
        test_fraction=0.25,
        val_fraction=0.2,
        limit=200,
        options={"upsample": 2},
    )
    data = dataclasses.replace(
        data, x={k: (v * 255).astype(np.uint8) for k, v in data.x.items()}, norm=((0.0,), (1.0,))
    )
    flip = AugmentConfig(crop_padding=2, flip=True)

    def fit(augment):
        generator = seed_everything(0)
        setup = setup_for("bptt", data, augment=augment)
        assert (setup.augment is None) == (augment == AugmentConfig())
        config = TrainConfig(epochs=2, batch_size=32)
        return train_on_cpu(setup, data, config, generator, augment=setup.augment)[1]

    a, b, plain = fit(flip), fit(flip), fit(AugmentConfig())
    assert a.equals(b) and not a["loss"].equals(plain["loss"])


def test_augmentation_refused_for_events():
    data = prepare(
        "digits-dvs",
        n_steps=2,
        seed=0,
        test_fraction=0.25,
        val_fraction=0.2,
        limit=100,
        options={"recordings": 1},
    )
    with pytest.raises(ValueError, match="augmentation is for frame data"):
        setup_for("bptt", data, augment=AugmentConfig(flip=True))
