rule fetch_dataset:
    output:
        marker=f"{RAW_ROOT}/{{dataset}}/fetched.json",
    params:
        root=lambda w: f"{RAW_ROOT}/{w.dataset}",
    log:
        "results/logs/fetch_dataset/{dataset}.log",
    localrule: True
    retries: 2
    conda:
        "../envs/spikecut.yaml"
    script:
        "../workflow_scripts/fetch_dataset.py"


rule prepare_dataset:
    input:
        raw=raw_data_marker,
    output:
        frames="results/data/{dataset}/frames.npz",
        params="results/data/{dataset}/params.json",
    params:
        cfg=dataset_params,
    log:
        "results/logs/prepare_dataset/{dataset}.log",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    conda:
        "../envs/spikecut.yaml"
    script:
        "../workflow_scripts/prepare_dataset.py"
