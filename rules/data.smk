# {dataset} is the data set whose raw folder this is: one fetch serves every data set
# that reads it (raw_data_marker)
rule fetch_dataset:
    output:
        marker=f"{RAW_ROOT}/{{dataset}}/fetched.json",
    log:
        f"{RESULTS}/logs/fetch_dataset/{{dataset}}.log",
    retries: 2
    localrule: True
    conda:
        "../envs/spikecut.yaml"
    params:
        root=lambda w: f"{RAW_ROOT}/{w.dataset}",
    script:
        "../workflow_scripts/fetch_dataset.py"


rule prepare_dataset:
    input:
        raw=raw_data_marker,
    output:
        frames=f"{RESULTS}/data/{{dataset}}/{{key}}/frames.npz",
        params=f"{RESULTS}/data/{{dataset}}/{{key}}/params.json",
    log:
        f"{RESULTS}/logs/prepare_dataset/{{dataset}}/{{key}}.log",
    conda:
        "../envs/spikecut.yaml"
    threads: 1
    resources:
        mem_mb=job_resources("prepare").mem_mb,
        runtime=job_resources("prepare").runtime,
    params:
        cfg=lambda wildcards: settings.data_params(wildcards.dataset),
    script:
        "../workflow_scripts/prepare_dataset.py"
