"""Real early exit: step by step, finished samples leaving the batch, it gives exactly
the simulated cutoff's exit steps and predictions."""

import numpy as np
import pytest
import torch
from conftest import RECORD, RUN, TRAIN, train_into, with_training
from spikingjelly.activation_based import functional, layer

from spikecut import stages
from spikecut.cutoff import StepOutputs, make_policy
from spikecut.data import load_prepared
from spikecut.inference.early_exit import measure_early_exit, run_early_exit
from spikecut.inference.run import per_step_logits
from spikecut.io import load_torch
from spikecut.methods import METHODS, rebuild
from spikecut.models import SteppedTEBN2d
from spikecut.settings import DataPlan


@pytest.fixture(scope="module", params=["bn", "tebn"])
def recorded(request, tmp_path_factory):
    # a model good enough for the calibrated policies to stop samples early; with TEBN,
    # each step scales its eval-mode batch norm by its own learned factor
    d = tmp_path_factory.mktemp("early-exit")
    stages.prepare_dataset(
        d / "frames.npz",
        d / "params.json",
        "digits",
        DataPlan(
            T=4,
            seed=0,
            test_fraction=0.25,
            val_fraction=0.1,
            limit=500,
            options={},
        ),
    )
    plan = with_training(TRAIN, epochs=6, optimizer="adam", lr=0.01)
    plan = plan.model_copy(
        update={"model": plan.model.model_copy(update={"channels": (8,), "norm": request.param})}
    )
    train_into(d / "frames.npz", d, RUN, plan)
    ckpt = load_torch(d / "model.pt")
    model = rebuild(ckpt["model_spec"])
    model.load_state_dict(ckpt["state_dict"])
    data = load_prepared(d / "frames.npz")
    snn, encode, _ = METHODS["bptt"].inference(model, data, RECORD)
    snn.eval()
    cpu = torch.device("cpu")
    test = StepOutputs(
        per_step_logits(snn, data.x["test"], encode, 64, cpu).numpy(), data.y["test"]
    )
    cal = StepOutputs(
        per_step_logits(snn, data.x["train"], encode, 64, cpu).numpy(), data.y["train"]
    )
    return snn, encode(data.x["test"]), test, cal


@pytest.mark.parametrize(
    "name, knob",
    [
        ("timestep", 2),
        ("topk", 0.01),
        ("topk", 0.03),
        ("confidence", 0.02),
        ("entropy", 0.02),
        ("spikecp", 0.5),
    ],
)
def test_real_exit_equals_the_simulated_one(recorded, name, knob):
    snn, x, test, cal = recorded
    policy = make_policy(name)
    if name == "timestep":
        simulated = np.full(len(test.labels), knob)
    else:
        (point,) = policy.operating_points(test, cal, [knob])
        simulated = point.exit_steps
    real = run_early_exit(snn, x, policy.stopping_rule(cal, knob))
    np.testing.assert_array_equal(real.exit_steps, simulated)
    rows = np.arange(len(simulated))
    np.testing.assert_array_equal(real.predictions, test.predictions[rows, simulated - 1])
    assert real.seconds > 0
    assert len(np.unique(simulated)) > 1 or name == "timestep"  # exits really vary


def test_measured_timings_report_the_step_ratio_and_the_noise(recorded):
    snn, x, test, cal = recorded
    table = measure_early_exit(
        snn,
        x.transpose(0, 1).numpy(),
        lambda b: torch.as_tensor(b).transpose(0, 1),
        test,
        cal,
        ["topk", "confidence"],
        0.02,
        37,  # batches of unequal size
        torch.device("cpu"),
    )
    assert table["matches_simulation"].all()
    np.testing.assert_allclose(table["step_ratio"], table["n_steps"] / table["mean_timesteps"])
    np.testing.assert_allclose(table["wall_speedup"], table["wall_full_T_s"] / table["wall_s"])
    assert (table["timing_noise"] >= 0).all() and table["timing_noise"].nunique() == 1
    (topk,) = table[table["policy"] == "topk"].itertuples()
    assert topk.step_ratio > 1.2 and topk.wall_s > 0  # it stops early, and is timed


def test_model_is_left_as_it_was(recorded):
    snn, x, test, cal = recorded
    run_early_exit(snn, x, make_policy("topk").stopping_rule(cal, 0.1))
    again = per_step_logits(
        snn,
        x.transpose(0, 1).numpy(),
        lambda b: torch.as_tensor(b).transpose(0, 1),
        64,
        torch.device("cpu"),
    )
    np.testing.assert_array_equal(again.numpy(), test.logits)


def test_tebn_scales_are_learned_per_step(recorded, request):
    scales = [m.scale for m in recorded[0].modules() if isinstance(m, SteppedTEBN2d)]
    if request.node.callspec.params["recorded"] == "bn":
        assert not scales
        return
    assert scales and all(len(s) == 4 for s in scales)
    # the per-step path is exercised only if the steps really differ
    assert all(len(torch.unique(s.detach())) == 4 for s in scales)


def test_oracle_and_multi_step_only_layers_refuse():
    with pytest.raises(ValueError, match="cannot decide online"):
        make_policy("oct").stopping_rule(None, 0.0)
    # SpikingJelly's own TEBN runs multi-step only
    model = torch.nn.Sequential(
        layer.Conv2d(1, 2, 3, step_mode="m"),
        layer.TemporalEffectiveBatchNorm2d(2, 2),
        layer.Flatten(),
        layer.Linear(72, 3, step_mode="m"),
    ).eval()
    with pytest.raises(ValueError, match=r"\['1'\] run multi-step only.*SteppedTEBN2d"):
        run_early_exit(model, torch.zeros(2, 1, 1, 8, 8), lambda acc, t: acc[:, 0] > 0)


def test_stepped_tebn_equals_multi_step_tebn_in_eval():
    gen = torch.Generator().manual_seed(0)
    tebn = SteppedTEBN2d(3, 4)
    x = torch.randn(3, 5, 4, 6, 6, generator=gen)
    tebn(x)  # a training step, so that running statistics and output differ from 1 and 0
    with torch.no_grad():
        tebn.scale.copy_(torch.tensor([0.5, 1.0, 2.0]))
    tebn.eval()
    whole = tebn(x)
    functional.set_step_mode(tebn, "s")
    steps = torch.stack([tebn(x[t]) for t in range(3)])
    assert torch.equal(whole, steps)
    with pytest.raises(RuntimeError, match="reset_net"):
        tebn(x[0])
    functional.reset_net(tebn)
    assert torch.equal(tebn(x[0]), whole[0])
    tebn.train()
    with pytest.raises(RuntimeError, match="model.eval"):
        tebn(x[0])
