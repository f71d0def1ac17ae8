import dataclasses
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import TRAIN
from spikingjelly.activation_based import functional

from spikecut.data import prepare
from spikecut.methods import METHODS
from spikecut.seeding import seed_everything
from spikecut.settings import AugmentConfig, QCFSNet, TrainConfig
from spikecut.training import task_loss, train_model
from spikecut.training.loop import make_optimizer

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
        setup, data, cfg, alpha, generator, torch.device("cpu"), progress=False, **options
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
    assert base["rcs"].isna().all()  # the baseline does not compute it
    assert (reg["loss"] > reg["task_loss"]).all()
    assert not np.allclose(base["task_loss"], reg["task_loss"])


@pytest.mark.parametrize("alpha", [0.0, 0.5])
@pytest.mark.parametrize("poison, shown", [(float("nan"), "nan"), (1e30, "inf")])
def test_non_finite_loss_stops_with_epoch_and_batch(small, poison, shown, alpha):
    # NaN inputs never reach the loss (a NaN membrane does not spike), so poison the
    # read-out, as a diverging run would; a logit of 1e30 overflows TET's squared term
    generator = seed_everything(0)
    setup = setup_for("bptt", small)
    with torch.no_grad():
        setup.model[-1].bias[0] = poison
    batches = []
    setup.model.register_forward_hook(
        lambda *_: batches.append(1) if setup.model.training else None
    )
    with pytest.raises(
        FloatingPointError, match=rf"loss became {shown} at epoch 1, batch 1/"
    ) as err:
        train_on_cpu(setup, small, TrainConfig(epochs=1, loss="tet"), generator, alpha)
    assert len(batches) == 1  # it stopped at the batch, not at the end of the epoch
    # the fix it names is the one that applies
    assert ("alpha" in str(err.value)) == (alpha > 0) and "learning rate" in str(err.value)


def test_task_losses_by_hand():
    torch.manual_seed(0)
    logits, labels = torch.randn(4, 3, 5), torch.tensor([0, 2, 4])
    mean = task_loss(logits, labels, TrainConfig(loss="mean"))
    torch.testing.assert_close(mean, F.cross_entropy(logits.mean(0), labels))
    tet = task_loss(logits, labels, TrainConfig(loss="tet", tet_lambda=0.1))
    ce = sum(F.cross_entropy(logits[t], labels) for t in range(4)) / 4
    mse = ((logits - 1) ** 2).mean()
    torch.testing.assert_close(tet, 0.9 * ce + 0.1 * mse)


def test_bad_optimizer(small):
    with pytest.raises(ValueError, match="optimizer"):
        run(small, optimizer="lbfgs")  # refused by the settings already


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
        return train_on_cpu(setup, data, config, generator)[1]

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


def plain_training(setup, data, cfg, generator, alpha):
    """The training loop written out the plain way: each batch indexed from the split
    in host memory, every loss term read at once, the sums kept in Python. Returns the
    model's state and the mean loss after each epoch."""
    model = setup.model
    optimizer = make_optimizer(model, cfg)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=cfg.epochs)
    x, y = torch.as_tensor(data.x["train"]), torch.as_tensor(data.y["train"])
    states, losses = [], []
    for _ in range(cfg.epochs):
        model.train()
        total = 0.0
        for idx in torch.randperm(len(y), generator=generator).split(cfg.batch_size):
            with setup.regulariser:
                logits = model(setup.encode(x[idx]))
            loss = task_loss(logits, y[idx], cfg)
            if alpha > 0:
                loss = loss + alpha * setup.regulariser.value(logits, y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            functional.reset_net(model)
            total += loss.item() * len(idx)
        scheduler.step()
        states.append({k: v.clone() for k, v in model.state_dict().items()})
        losses.append(total / len(y))
    return states, losses


@pytest.mark.parametrize("alpha", [0.0, 0.3])
@pytest.mark.parametrize("method", ["bptt", "qcfs"])
def test_the_loop_equals_the_plain_loop_to_the_last_bit(small, method, alpha):
    """Deterministic float32 training keeps the numbers it always had: sums kept on the
    device, the deferred check for a non-finite loss and the batches served by the
    training split change nothing."""
    cfg = TrainConfig(epochs=3, batch_size=32, lr=0.01)
    generator = seed_everything(2)
    model, metrics = train_on_cpu(setup_for(method, small), small, cfg, generator, alpha)
    generator = seed_everything(2)
    states, losses = plain_training(setup_for(method, small), small, cfg, generator, alpha)
    assert metrics["loss"].tolist() == losses
    chosen = int(metrics.loc[metrics["selected"], "epoch"].iloc[0])
    for key, value in model.state_dict().items():
        assert torch.equal(value, states[chosen - 1][key]), key


@pytest.fixture(scope="module")
def tiny_dvs():
    return prepare(
        "digits-dvs",
        n_steps=4,
        seed=0,
        test_fraction=0.25,
        val_fraction=0.25,
        limit=600,
        options={"recordings": 1},
    )


def test_bf16_trains_about_as_well_as_fp32(tiny_dvs):
    def fit(precision):
        generator = seed_everything(0)
        setup = setup_for("bptt", tiny_dvs)
        cfg = TrainConfig(epochs=4, batch_size=32, lr=0.01, precision=precision)
        return train_on_cpu(setup, tiny_dvs, cfg, generator)[1]["val_accuracy"].max()

    fp32, bf16 = fit("fp32"), fit("bf16")
    assert fp32 > 0.6
    assert abs(bf16 - fp32) < 0.05


def test_fp16_trains_through_its_gradient_scaler(small, tmp_path):
    from spikecut.training import Checkpointer

    generator = seed_everything(0)
    setup = setup_for("bptt", small)
    checkpoint = Checkpointer(tmp_path / "resume.pt", "fp16")
    cfg = TrainConfig(epochs=2, batch_size=32, lr=0.01, precision="fp16")
    _, metrics = train_on_cpu(setup, small, cfg, generator, checkpoint=checkpoint)
    assert metrics["val_accuracy"].max() > 0.5
    # the scaler's own state: each skipped step (a gradient overflowed) halved its scale
    # from 2^16 and restarted its count of good steps
    scaler = checkpoint.load()["precision"]
    steps = 2 * -(-len(small.y["train"]) // 32)
    skipped = round(math.log2(65536.0 / scaler["scale"]))
    assert 0 <= skipped < steps and scaler["_growth_tracker"] <= steps - skipped
    if not skipped:
        assert scaler["_growth_tracker"] == steps


def test_bad_precision():
    from spikecut.training.precision import Precision

    with pytest.raises(ValueError, match="unknown precision 'fp8'"):
        Precision("fp8", torch.device("cpu"))
