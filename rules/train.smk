rule train:
    input:
        frames=rules.prepare_dataset.output.frames,
    output:
        model=f"{RUN_DIR}/model.pt",
        metrics=f"{RUN_DIR}/metrics.csv",
    params:
        run=run_key,
        cfg=train_params,
    log:
        "results/logs/train/{dataset}/{method}/alpha{alpha}/seed{seed}.log",
    benchmark:
        "results/benchmarks/train/{dataset}/{method}/alpha{alpha}/seed{seed}.tsv"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
        gpu=0,
    conda:
        "../envs/spikecut.yaml"
    script:
        "../workflow_scripts/train.py"
