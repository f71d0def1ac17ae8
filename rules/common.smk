# Helpers shared by all rules: run keys, paths and per-rule parameters.
import copy

from spikecut.data import DATASETS
from spikecut.io import config_id

for _name in config["datasets"]:
    if _name not in DATASETS:
        raise ValueError(
            f"config key datasets.{_name}: unknown data set; registered: {sorted(DATASETS)}"
        )
for _name, _ds in config["datasets"].items():
    for _method in _ds.get("methods", config["methods"]):
        if _method not in ("bptt", "qcfs") and _method not in config.get("variants", {}):
            raise ValueError(
                f"config key datasets.{_name}.methods: {_method!r} is neither bptt, qcfs "
                f"nor a key of variants ({sorted(config.get('variants', {}))})"
            )

RUN_DIR = "results/runs/{dataset}/{method}/alpha{alpha}/seed{seed}"
# the epoch checkpoint of a training run: not an output, so a failed or killed job keeps
# it and its next attempt resumes; training deletes it once its outputs exist
RESUME = f"{RUN_DIR}/resume.pt"
RAW_ROOT = config["data"]["raw_root"]


def raw_data_marker(wildcards):
    """The fetched marker of a downloaded data set; nothing for embedded ones."""
    if DATASETS[wildcards.dataset].remote:
        return f"{RAW_ROOT}/{wildcards.dataset}/fetched.json"
    return []


def dataset_methods(dataset):
    return config["datasets"][dataset].get("methods", config["methods"])


def run_paths(pattern):
    """``pattern`` expanded over every run: data set x its methods x alpha x seed."""
    return [
        path
        for dataset in config["datasets"]
        for path in expand(
            pattern,
            dataset=dataset,
            method=dataset_methods(dataset),
            alpha=config["alphas"],
            seed=config["seeds"],
        )
    ]


def dataset_params(dataset):
    ds = config["datasets"][dataset]
    return {
        "T": ds["T"],
        "limit": ds.get("limit"),
        "options": ds.get("options", {}),
        **config["data"],
    }


def frames_path(wildcards):
    """The frame cache of a run's data set. Its folder is keyed by the parameters that
    made it, so caches for different T, sizes or splits live side by side."""
    key = config_id(dataset_params(wildcards.dataset))
    return f"results/data/{wildcards.dataset}/{key}/frames.npz"


def method_settings(name):
    """(base method, overrides) of a method name: bptt and qcfs themselves, or a
    variant from the config's ``variants`` block."""
    if name in ("bptt", "qcfs"):
        return name, {}
    variant = config["variants"][name]
    return variant["method"], {k: v for k, v in variant.items() if k != "method"}


def train_params(wildcards):
    ds = config["datasets"][wildcards.dataset]
    method, overrides = method_settings(wildcards.method)
    training = copy.deepcopy(config["training"]) | overrides.get("training", {})
    device = training.pop("device")
    training["epochs"] = ds.get("epochs", training["epochs"])
    # only the settings the run's method reads, so that editing the others reruns nothing
    if method == "bptt":
        role = {"neuron": config["neuron"] | overrides.get("neuron", {})}
    else:
        role = {"qcfs": config["qcfs"] | overrides.get("qcfs", {})}
    return {
        "method": method,
        "model": config["model"] | ds.get("model", {}) | overrides.get("model", {}),
        **role,
        "rcs": config["rcs"],
        "augment": ds.get("augment", {}),
        "training": training,
        "device": device,
    }


def job_resources(stage):
    """A stage's resource request from the config's ``resources`` block."""
    return config["resources"][stage]


def run_key(wildcards):
    return {
        "dataset": wildcards.dataset,
        "method": wildcards.method,
        "alpha": wildcards.alpha,
        "seed": int(wildcards.seed),
    }


def early_exit_params():
    """The calibrated policies to run for real after recording, at the histogram's ε."""
    return {
        "policies": [p for p in config["cutoff"]["policies"] if p not in ("timestep", "oct")],
        "epsilon": config["summary"]["histogram_epsilon"],
        "max_set_size": config["cutoff"]["max_set_size"],
    }
