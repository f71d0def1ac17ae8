# Paths and per-stage settings, all from the validated settings (no torch here).
from spikecut.data import DATASETS
from spikecut.io import config_id
from spikecut.report import MODEL_FIGURE

RESULTS = settings.results
RUN_DIR = f"{RESULTS}/runs/{{dataset}}/{{method}}/alpha{{alpha}}/seed{{seed}}"
# the epoch checkpoint of a training run: not an output, so a failed or killed job keeps
# it and its next attempt resumes; the recording deletes it once the model is used
RESUME = f"{RUN_DIR}/resume.pt"
RAW_ROOT = settings.data.raw_root


def raw_data_marker(wildcards):
    """The fetched marker of a downloaded data set's raw folder, which data sets made
    from another's files share with it; nothing for embedded ones."""
    spec = DATASETS[wildcards.dataset]
    if spec.remote:
        return [f"{RAW_ROOT}/{spec.raw_folder}/fetched.json"]
    return []


def run_paths(pattern):
    """``pattern`` expanded over every run: data set x its methods x alpha x seed."""
    return [
        pattern.format(dataset=d, method=m, alpha=a, seed=s)
        for d, m, a, s in settings.runs()
    ]


def aggregate_labels(figure):
    """The report labels of a figure drawn from every run."""
    return {"figure": figure, "data set": "all", "method": "all", "alpha": "all"}


def frames_path(wildcards):
    """The frame cache of a run's data set. Its folder is keyed by the parameters that
    made it, so caches for different T, sizes or splits live side by side."""
    key = config_id(settings.data_params(wildcards.dataset))
    return f"{RESULTS}/data/{wildcards.dataset}/{key}/frames.npz"


def job_resources(stage):
    """A stage's resource request from the config's ``resources`` block."""
    return getattr(settings.resources, stage)


def alone(wildcards):
    """Threads that a job which times itself reserves: every core where Snakemake runs
    the jobs itself, so that no other job runs beside it; on a cluster, where a job's
    cores and GPU are its own, one."""
    return workflow.cores if workflow.local_exec else 1


def run_key(wildcards):
    return {
        "dataset": wildcards.dataset,
        "method": wildcards.method,
        "alpha": wildcards.alpha,
        "seed": int(wildcards.seed),
    }


def resume_path(wildcards):
    return RESUME.format(**dict(wildcards.items()))
