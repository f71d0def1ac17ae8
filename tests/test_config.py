import copy
from pathlib import Path

import pytest
import yaml

from spikecut.config import ConfigError, check_config
from spikecut.cutoff import POLICIES
from spikecut.data import DATASETS
from spikecut.models import MODELS
from spikecut.neurons import BACKENDS
from spikecut.neurons.surrogates import SURROGATES
from spikecut.regularisers import AGGREGATIONS
from spikecut.training import LOSSES
from spikecut.training.methods import METHODS

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "config" / "schema.yaml"
SHIPPED = sorted((ROOT / "config").rglob("*.yaml"))


def load(path):
    return yaml.safe_load(Path(path).read_text())


@pytest.mark.parametrize("path", [p for p in SHIPPED if p.name != "schema.yaml"],
                         ids=lambda p: p.name)
def test_shipped_configs_are_valid(path):
    check_config(load(path), SCHEMA)


def set_key(cfg, dotted, value):
    *parents, last = dotted.split(".")
    node = cfg
    for key in parents:
        node = node.setdefault(key, {})
    node[last] = value
    return cfg


@pytest.mark.parametrize(
    "key, value, expect",
    [
        ("alphas", [0.1], "alphas.0: 0.1 is not of type 'string'"),
        ("training.optimizer", "adamw",
         "training.optimizer: 'adamw' is not allowed; choose one of ['adam', 'sgd']"),
        ("datasets.mnist", {"T": 4}, "datasets: 'mnist' is not allowed"),
        ("datasets.digits.T", 0, "datasets.digits.T: 0 is less than the minimum of 1"),
        ("neuron.backend", "loihi", "neuron.backend: 'loihi' is not allowed"),
        ("cutoff.policies", ["magic"], "cutoff.policies.0: 'magic' is not allowed"),
        ("trainig", {}, "(top level): Additional properties are not allowed ('trainig'"),
        ("record.calibration_dropout", 1.5,
         "record.calibration_dropout: 1.5 is greater than or equal to the maximum of 1"),
        ("seeds", [], "seeds: [] should be non-empty"),
        ("training.lr", -1, "training.lr: -1 is less than or equal to the minimum of 0"),
        ("cutoff.epsilons", ["1e-2"], "cutoff.epsilons.0: '1e-2' does not match"),
        ("model.channels", [16, 0], "model.channels.1: 0 is less than the minimum of 1"),
    ],
)
def test_bad_value_names_the_key(key, value, expect):
    cfg = set_key(copy.deepcopy(load(ROOT / "config" / "config.yaml")), key, value)
    with pytest.raises(ConfigError) as err:
        check_config(cfg, SCHEMA)
    assert f"config key {expect}" in str(err.value)


def test_schema_enums_match_the_registries():
    schema = load(SCHEMA)
    props = schema["properties"]
    assert set(props["datasets"]["propertyNames"]["enum"]) == set(DATASETS)
    assert set(schema["$defs"]["model"]["properties"]["name"]["enum"]) == set(MODELS)
    assert set(props["cutoff"]["properties"]["policies"]["items"]["enum"]) == set(POLICIES)
    assert set(props["neuron"]["properties"]["backend"]["enum"]) == set(BACKENDS)
    assert set(props["neuron"]["properties"]["surrogate"]["enum"]) == set(SURROGATES)
    assert set(props["training"]["properties"]["loss"]["enum"]) == set(LOSSES)
    assert set(props["rcs"]["properties"]["aggregation"]["enum"]) == set(AGGREGATIONS)
    variant = props["variants"]["additionalProperties"]["properties"]
    assert set(variant["method"]["enum"]) == set(METHODS)
