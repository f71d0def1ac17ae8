import numpy as np
import pytest
import torch


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def random_logits(rng, n=200, n_steps=6, n_classes=5, signal=1.0):
    """Per-step logits whose accumulated argmax drifts towards the label over time."""
    labels = rng.integers(0, n_classes, n)
    logits = rng.normal(size=(n, n_steps, n_classes))
    logits[np.arange(n), :, labels] += signal * rng.random((n, 1)) * 2
    return logits, labels
