rule prepare_dataset:
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
