rule train:
    input:
        # a frame cache made again (same parameters, same frames) keeps the model
        frames=lambda wildcards: ancient(frames_path(wildcards)),
    output:
        model=f"{RUN_DIR}/model.pt",
        metrics=f"{RUN_DIR}/metrics.csv",
        settings=f"{RUN_DIR}/settings.json",
    log:
        f"{RESULTS}/logs/train/{{dataset}}/{{method}}/alpha{{alpha}}/seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/train/{{dataset}}/{{method}}/alpha{{alpha}}/seed{{seed}}.tsv"
    conda:
        "../envs/spikecut.yaml"
    threads: 1
    resources:
        mem_mb=job_resources("train").mem_mb,
        # a retry resumes from the last finished epoch: it needs no more time
        runtime=job_resources("train").runtime,
        gpu=job_resources("train").gpu,
    params:
        run=run_key,
        plan=lambda wildcards: settings.train_params(
            wildcards.dataset, wildcards.method
        ),
        resume=resume_path,
    script:
        "../workflow_scripts/train.py"
