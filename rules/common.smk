# Helpers shared by all rules: run keys, paths and per-rule parameters.
import copy

from spikecut.data import DATASETS

for _name in config["datasets"]:
    if _name not in DATASETS:
        raise ValueError(
            f"config key datasets.{_name}: unknown data set; registered: {sorted(DATASETS)}"
        )

RUN_DIR = "results/runs/{dataset}/{method}/alpha{alpha}/seed{seed}"
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
    # only the settings the run's method reads, so that editing the others reruns nothing
    role = {"neuron": config["neuron"]} if wildcards.method == "bptt" else {"qcfs": config["qcfs"]}
    return {
        "model": config["model"] | ds.get("model", {}),
        **role,
        "rcs": config["rcs"],
        "augment": ds.get("augment", {}),
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
