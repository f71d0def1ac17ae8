# Helpers shared by all rules: run keys, paths and per-rule parameters.
import copy

from spikecut.data import DATASETS

for _name in config["datasets"]:
    if _name not in DATASETS:
        raise ValueError(
            f"config key datasets.{_name}: unknown data set; registered: {sorted(DATASETS)}"
        )

RUN_DIR = "results/runs/{dataset}/{method}/alpha{alpha}/seed{seed}"


def run_paths(pattern):
    """``pattern`` expanded over every run of the sweep."""
    return expand(
        pattern,
        dataset=list(config["datasets"]),
        method=config["methods"],
        alpha=config["alphas"],
        seed=config["seeds"],
    )


def dataset_params(wildcards):
    ds = config["datasets"][wildcards.dataset]
    return {
        "T": ds["T"],
        "limit": ds.get("limit"),
        "options": ds.get("options", {}),
        **config["data"],
    }


def train_params(wildcards):
    ds = config["datasets"][wildcards.dataset]
    training = copy.deepcopy(config["training"])
    device = training.pop("device")
    training["epochs"] = ds.get("epochs", training["epochs"])
    return {
        "model": config["model"] | ds.get("model", {}),
        "neuron": config["neuron"],
        "training": training,
        "device": device,
    }


def run_key(wildcards):
    return {
        "dataset": wildcards.dataset,
        "method": wildcards.method,
        "alpha": wildcards.alpha,
        "seed": int(wildcards.seed),
    }
