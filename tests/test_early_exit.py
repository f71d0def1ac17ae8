"""Real early exit: step by step, finished samples leaving the batch, it gives exactly
the simulated cutoff's exit steps and predictions."""

import numpy as np
import pytest
import torch

from spikecut import stages
from spikecut.cutoff import StepOutputs, make_policy
from spikecut.data import load_prepared
from spikecut.early_exit import run_early_exit
from spikecut.io import load_torch
from spikecut.models import build_model
from spikecut.training import per_step_logits
from spikecut.training.methods import inference_snn, rebuild
from tests.test_stages import RUN, TRAIN


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    # a model good enough for the calibrated policies to stop samples early
    d = tmp_path_factory.mktemp("early-exit")
    stages.prepare_dataset(d / "frames.npz", d / "params.json", "digits",
                           {"T": 4, "seed": 0, "test_fraction": 0.25, "val_fraction": 0.1,
                            "limit": 500, "options": {}})
    params = TRAIN | {"model": {"name": "convsnn", "channels": [8]},
                      "training": TRAIN["training"] | {"epochs": 6, "optimizer": "adam",
                                                       "lr": 0.01}}
    stages.train(d / "frames.npz", d / "model.pt", d / "metrics.csv", RUN, params,
                 progress=False)
    ckpt = load_torch(d / "model.pt")
    model = rebuild(ckpt["model_spec"])
    model.load_state_dict(ckpt["state_dict"])
    data = load_prepared(d / "frames.npz")
    snn, encode, _ = inference_snn("bptt", model, data, ckpt["params"])
    snn.eval()
    cpu = torch.device("cpu")
    test = StepOutputs(per_step_logits(snn, data.x["test"], encode, 64, cpu).numpy(),
                       data.y["test"])
    cal = StepOutputs(per_step_logits(snn, data.x["train"], encode, 64, cpu).numpy(),
                      data.y["train"])
    return snn, encode(data.x["test"]), test, cal


@pytest.mark.parametrize("name, knob", [("timestep", 2), ("topk", 0.01), ("topk", 0.03),
                                        ("confidence", 0.02), ("entropy", 0.02),
                                        ("spikecp", 0.5)])
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


def test_model_is_left_as_it_was(recorded):
    snn, x, test, cal = recorded
    run_early_exit(snn, x, make_policy("topk").stopping_rule(cal, 0.1))
    again = per_step_logits(snn, x.transpose(0, 1).numpy(), lambda b: torch.as_tensor(b)
                            .transpose(0, 1), 64, torch.device("cpu"))
    np.testing.assert_array_equal(again.numpy(), test.logits)


def test_oracle_and_tebn_refuse():
    with pytest.raises(ValueError, match="cannot decide online"):
        make_policy("oct").stopping_rule(None, 0.0)
    model = build_model("convsnn", (1, 8, 8), 3, {"kind": "snn", "neuron": {}}, norm="tebn",
                        n_steps=2, channels=[2])
    with pytest.raises(ValueError, match="TEBN"):
        run_early_exit(model, torch.zeros(2, 1, 1, 8, 8), lambda acc, t: acc[:, 0] > 0)
