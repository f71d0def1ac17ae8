"""The typed settings: shipped configs load, every bad input fails before any job with
its key path, defaults live in one place, and the registries and the settings agree."""

import copy
import json
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from spikecut.data import DATASETS
from spikecut.methods import METHODS
from spikecut.models import MODELS
from spikecut.neurons import BACKENDS
from spikecut.neurons.surrogates import SURROGATES
from spikecut.regularisers import RCSSettings
from spikecut.regularisers.rcs import AGGREGATIONS
from spikecut.settings import ARCHITECTURES, ConfigError, NeuronConfig, Settings
from spikecut.settings.blocks import BASE_METHODS
from spikecut.settings.parts import EarlyExitConfig, TrainConfig
from spikecut.settings.reference import json_schema, markdown
from spikecut.training import LOSSES
from spikecut.training.loop import OPTIMIZERS

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted((ROOT / "config").rglob("*.yaml")) + sorted(
    (ROOT / ".test" / "config").glob("*.yaml")
)
DEFAULT = ROOT / "config" / "config.yaml"
PAPER = ROOT / "config" / "paper.yaml"


def load(path):
    return yaml.safe_load(Path(path).read_text())


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_configs_are_valid(path):
    settings = Settings.load(load(path))
    assert settings.runs()


def set_key(cfg, dotted, value):
    *parents, last = dotted.split(".")
    node = cfg
    for key in parents:
        node = node.setdefault(key, {})
    node[last] = value
    return cfg


def problems(cfg) -> list[str]:
    with pytest.raises(ConfigError) as err:
        Settings.load(cfg)
    return err.value.lines


@pytest.mark.parametrize(
    "base, key, value, expect",
    [
        # values the types and ranges refuse
        (
            DEFAULT,
            "training.optimizer",
            "adamw",
            "training.optimizer: must be one of 'adam' or 'sgd' (got 'adamw')",
        ),
        (DEFAULT, "datasets.digits-dvs.T", 0, "datasets.digits-dvs.T: must be at least 1 (got 0)"),
        (
            DEFAULT,
            "datasets.digits.T",
            4,
            "datasets.digits.T: no run reads it: on static data, qcfs runs qcfs.T steps",
        ),
        (DEFAULT, "datasets.digits-dvs.T", None, "datasets.digits-dvs.T: is required"),
        (DEFAULT, "neuron.backend", "loihi", "neuron.backend: must be one of 'auto'"),
        (DEFAULT, "cutoff.policies", ["magic"], "cutoff.policies: unknown policies ['magic']"),
        (
            DEFAULT,
            "early_exit.policies",
            ["topk", "oct"],
            "early_exit.policies: ['oct'] cannot stop a running network",
        ),
        (
            DEFAULT,
            "cutoff.options",
            {"topk": {"grid": 1}, "spikecp": {"size": 2}},
            "cutoff.options: topk.grid: must be at least 2 (got 1); spikecp.size: unknown key",
        ),
        (DEFAULT, "cutoff.options", {"magic": {}}, "cutoff.options: unknown policies ['magic']"),
        (
            DEFAULT,
            "training.regulariser",
            "l1",
            "training.regulariser: unknown regulariser 'l1'; choose from ['rcs', 'none']",
        ),
        (
            DEFAULT,
            "regularisers",
            {"rcs": {"tail_fraction": 0}},
            "regularisers: rcs.tail_fraction: must be more than 0.0 (got 0)",
        ),
        (
            DEFAULT,
            "training.regulariser",
            "none",
            "training.regulariser: none weighs nothing, so every alpha would train the "
            "baseline again",
        ),
        (DEFAULT, "trainig", {}, "trainig: unknown key (a typo?)"),
        (
            DEFAULT,
            "record.calibration_dropout",
            1.5,
            "record.calibration_dropout: must be less than 1.0 (got 1.5)",
        ),
        (DEFAULT, "seeds", [], "seeds: must not be empty"),
        (DEFAULT, "training.lr", -1, "training.lr: must be more than 0.0 (got -1)"),
        (DEFAULT, "model.channels", [16, 0], "model.channels.1: must be more than 0 (got 0)"),
        # values that once passed silently
        (PAPER, "variants.qcfs-l4.qcfs.levelz", 3, "variants.qcfs-l4.qcfs.levelz: unknown key"),
        (
            DEFAULT,
            "datasets.digits.options",
            {"sise": 2},
            "datasets.digits.options.sise: unknown key (a typo?); allowed keys: ['upsample']",
        ),
        (
            DEFAULT,
            "datasets.digits-dvs.options",
            {"size": [16, 16]},
            "datasets.digits-dvs.options.size: unknown key",
        ),
        (DEFAULT, "alphas", ["0.05", "0.050"], "alphas: alphas ['0.05'] appear more than once"),
        (
            DEFAULT,
            "cutoff.epsilons",
            ["0.01", "1e-2"],
            "cutoff.epsilons: epsilons ['0.01'] appear more than once",
        ),
        (
            DEFAULT,
            "cutoff.policies",
            ["timestep", "topk", "oct", "topk"],
            "cutoff.policies: policies ['topk'] appear more than once",
        ),
        (
            DEFAULT,
            "summary.histogram_epsilon",
            "0.5",
            "summary.histogram_epsilon: 0.5 is not among cutoff.epsilons",
        ),
        (
            DEFAULT,
            "training.device",
            "cuda",
            "resources.train.gpu: training.device is cuda (for digits-dvs/bptt), but these jobs "
            "ask their scheduler for no GPU",
        ),
        (DEFAULT, "model", {"name": "vgg16", "channels": [16]}, "model.channels: unknown key"),
        (
            DEFAULT,
            "datasets.digits-dvs.model.input_pool",
            64,
            "datasets.digits-dvs.model: convsnn halves its input 0 times after pooling it by "
            "64; a 34x34 input leaves nothing",
        ),
        (DEFAULT, "datasets.digits.limit", 25, "datasets.digits.limit: 25 sources of 10 classes"),
        (DEFAULT, "data.val_fraction", 0.001, "data.val_fraction: 1797 sources of 10 classes"),
        (DEFAULT, "cutoff.epsilons", ["0", "1.0"], "cutoff.epsilons: epsilon 1 is not below 1"),
        (DEFAULT, "early_exit.epsilon", "1", "early_exit.epsilon: epsilon 1 is not below 1"),
        (
            DEFAULT,
            "datasets.digits.methods",
            ["bpt"],
            "datasets.digits.methods: 'bpt' is neither bptt nor qcfs nor a key of variants",
        ),
        (DEFAULT, "datasets.mnist", {"T": 4}, "datasets.mnist: unknown data set"),
        (PAPER, "variants.tet.training.lrr", 1, "variants.tet.training.lrr: unknown key"),
        (PAPER, "variants.tet.model.channels", [4], "variants.tet.model.channels: unknown key"),
        (
            DEFAULT,
            "datasets.gestures-dvs.augment",
            {"flip": True},
            "datasets.gestures-dvs.augment: augmentation is for frame data",
        ),
        # found on review: variants, methods, zero, policies the summary needs, empties
        (
            PAPER,
            "variants.spare",
            {"method": "bptt", "neuron": {"tauu": 3}},
            "variants.spare.neuron.tauu: unknown key",
        ),
        (
            PAPER,
            "variants.spare",
            {"method": "qcfs", "model": {"widths": [4]}},
            "variants.spare.model.widths: unknown key",
        ),
        (
            PAPER,
            "variants.qcfs-l4.neuron",
            {"tau": 3.0},
            "variants.qcfs-l4.neuron: a qcfs variant does not read this block",
        ),
        (
            PAPER,
            "variants.tet.neuron",
            {"backend": "torch"},
            "variants.tet.neuron.backend: the backend changes speed only",
        ),
        (
            PAPER,
            "variants.bptt",
            {"method": "qcfs"},
            "variants.bptt: a variant cannot be named like the method bptt",
        ),
        (
            PAPER,
            "variants.qcfs-l4.model",
            {"norm": "tebn"},
            "variants.qcfs-l4.model.norm: qcfs models take norm bn",
        ),
        (
            PAPER,
            "variants.tet.training",
            {"epochs": 3},
            "variants.tet.training.epochs: datasets.cifar10-dvs.epochs is set too",
        ),
        (
            PAPER,
            "variants.tet.training",
            {"regulariser": "none"},
            "variants.tet.training.regulariser: every run trains with one regulariser",
        ),
        (
            DEFAULT,
            "datasets.digits.methods",
            ["qcfs", "qcfs"],
            "datasets.digits.methods: methods ['qcfs'] appear more than once",
        ),
        (DEFAULT, "methods", ["bpt"], "methods: 'bpt' is neither bptt nor qcfs"),
        (DEFAULT, "alphas", ["0", "-0"], "alphas: alphas ['0'] appear more than once"),
        (
            DEFAULT,
            "alphas",
            ["0", "-0.1"],
            "alphas.1: '-0.1' must be a finite number >= 0",
        ),
        (
            DEFAULT,
            "cutoff.policies",
            ["topk", "oct"],
            "cutoff.policies: add ['timestep']: the summary",
        ),
        (
            DEFAULT,
            "early_exit.policies",
            [],
            "early_exit.policies: must not be empty",
        ),
        (DEFAULT, "results", "", "results: must not be empty"),
        (
            DEFAULT,
            "datasets.gestures-dvs.options",
            {"samples": 40},
            "datasets.gestures-dvs.options.samples: 40 sources of 10 classes",
        ),
        (
            DEFAULT,
            "data.test_fraction",
            0.995,
            "data.val_fraction and data.test_fraction: 1797 sources",
        ),
    ],
)
def test_bad_input_fails_naming_the_key(base, key, value, expect):
    cfg = set_key(copy.deepcopy(load(base)), key, value)
    found = problems(cfg)
    assert any(line.startswith(f"config key {expect}") for line in found), found


def test_a_variant_on_cuda_needs_a_gpu_request_too():
    cfg = set_key(copy.deepcopy(load(PAPER)), "variants.tet.training.device", "cuda")
    Settings.load(cfg)  # the paper config asks for a GPU per training and recording job
    cfg["resources"]["record"]["gpu"] = 0
    (line,) = problems(cfg)
    assert line.startswith("config key resources.record.gpu: training.device is cuda (for ")
    assert "/tet)" in line


def test_every_problem_is_reported_at_once():
    cfg = copy.deepcopy(load(DEFAULT))
    cfg["datasets"]["digits"]["options"] = {"sise": 2}
    cfg["summary"] = {"histogram_epsilon": "0.5"}
    found = problems(cfg)
    assert len(found) == 2
    assert str(ConfigError(found)).startswith("invalid configuration:\n  config key")


def test_numbers_are_read_as_numbers():
    cfg = copy.deepcopy(load(DEFAULT))
    cfg["seeds"] = ["0", "2"]  # as `--config seeds=[0,2]` delivers them
    cfg["alphas"] = [0, "5e-2", "0.050"]
    with pytest.raises(ConfigError, match="alphas"):
        Settings.load(cfg)
    cfg["alphas"] = [0, "5e-2"]
    settings = Settings.load(cfg)
    assert settings.seeds == (0, 2) and settings.alphas == ("0", "0.05")


def test_defaults_have_one_home():
    """The default config states only its choices; every default is the settings'."""
    settings = Settings.load({"datasets": {"digits": {"T": 4}}, "alphas": ["0"], "seeds": [0]})
    assert settings.neuron == NeuronConfig()
    plan = settings.train_plan("digits", "bptt")
    assert plan.regulariser == RCSSettings() and plan.training.regulariser == "rcs"
    assert plan.training == TrainConfig() and plan.model.channels == (16, 32)
    shipped = load(DEFAULT)
    assert set(shipped) == {"datasets", "alphas", "seeds", "early_exit"}
    assert shipped["early_exit"] == {"samples": 1000}  # a choice: the default is all
    assert EarlyExitConfig().samples is None


def test_each_stage_reads_only_its_settings():
    settings = Settings.load(load(DEFAULT))
    bptt = settings.train_params("digits-dvs", "bptt")
    qcfs = settings.train_params("digits", "qcfs")
    assert "backend" not in bptt["neuron"]  # speed only
    assert "qcfs" not in bptt and "neuron" not in qcfs
    # each form of RCS reads only its own settings
    assert set(bptt["regulariser"]) == {"aggregation", "tail_fraction"}
    assert set(qcfs["regulariser"]) == {"aggregation", "ann_peak"}
    assert "T" not in qcfs["qcfs"]  # the recording's, not training's
    assert settings.record_params("digits", "qcfs")["static_steps"] == 16
    assert settings.record_params("digits-dvs", "bptt")["static_steps"] is None
    assert "batch_size" not in settings.record_params("digits", "qcfs")


def test_registries_and_settings_agree():
    assert set(ARCHITECTURES) == set(MODELS)
    assert set(BASE_METHODS) == set(METHODS)
    literal = NeuronConfig.model_fields
    assert set(literal["backend"].annotation.__args__) == set(BACKENDS)
    assert set(literal["surrogate"].annotation.__args__) == set(SURROGATES)
    assert set(TrainConfig.model_fields["loss"].annotation.__args__) == set(LOSSES)
    assert set(TrainConfig.model_fields["optimizer"].annotation.__args__) == set(OPTIMIZERS)
    assert set(RCSSettings.model_fields["aggregation"].annotation.__args__) == set(AGGREGATIONS)
    assert all(spec.options is not None for spec in DATASETS.values())


def test_the_reference_states_every_range():
    """A cap a config can run into is in docs/config.md: a data set's T stops at 64,
    qcfs.T at 256."""
    text = markdown()
    assert "| `T` | integer or null (≥ 1, ≤ 64) | `null` | timesteps:" in text
    assert "| `T` | integer (≥ 1, ≤ 256) | `16` |" in text
    assert "| `epochs` | integer or null (> 0) |" in text  # inside an optional type
    assert "| `seeds` | list of integer (at least 1 entry, ≥ 0) |" in text  # and a list's


def test_configuration_reference_is_current():
    assert (ROOT / "docs" / "config.md").read_text() == markdown(), (
        "docs/config.md is stale: python -m spikecut.settings.reference > docs/config.md"
    )


def test_the_json_schema_is_current_and_accepts_the_shipped_configs():
    assert (ROOT / "config" / "schema.json").read_text() == json_schema(), (
        "config/schema.json is stale: "
        "python -m spikecut.settings.reference --schema > config/schema.json"
    )
    schema = json.loads(json_schema())
    for path in SHIPPED:
        jsonschema.validate(load(path), schema)
    with pytest.raises(jsonschema.ValidationError, match="'seedz' was unexpected"):
        jsonschema.validate(load(DEFAULT) | {"seedz": [1]}, schema)


def test_the_config_readme_describes_every_file_and_block():
    text = (ROOT / "config" / "README.md").read_text()
    for path in SHIPPED:
        assert f"`{path.relative_to(ROOT)}`" in text, path
    for block in Settings.model_fields:
        assert f"`{block}`" in text, block


def test_settings_import_no_torch():
    import subprocess

    code = "import sys, spikecut.settings, spikecut.data; assert 'torch' not in sys.modules"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
