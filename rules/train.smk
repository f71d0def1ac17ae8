rule train:
    input:
        frames=frames_path,
    output:
        model=f"{RUN_DIR}/model.pt",
        metrics=f"{RUN_DIR}/metrics.csv",
    params:
        run=run_key,
        cfg=train_params,
        resume=lambda wildcards: RESUME.format(**dict(wildcards.items())),
    log:
        "results/logs/train/{dataset}/{method}/alpha{alpha}/seed{seed}.log",
    benchmark:
        "results/benchmarks/train/{dataset}/{method}/alpha{alpha}/seed{seed}.tsv"
    threads: 1
    resources:
        mem_mb=job_resources("train")["mem_mb"],
        runtime=lambda wildcards, attempt: job_resources("train")["runtime"] * attempt,
        gpu=job_resources("train")["gpu"],
    conda:
        "../envs/spikecut.yaml"
    script:
        "../workflow_scripts/train.py"
