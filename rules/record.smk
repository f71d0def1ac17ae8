rule record_outputs:
    input:
        model=rules.train.output.model,
        frames=frames_path,
    output:
        logits=f"{RUN_DIR}/logits.npz",
        early_exit=f"{RUN_DIR}/early_exit.csv",
    params:
        cfg=config["record"],
        early_exit=early_exit_params(),
    log:
        "results/logs/record_outputs/{dataset}/{method}/alpha{alpha}/seed{seed}.log",
    benchmark:
        "results/benchmarks/record_outputs/{dataset}/{method}/alpha{alpha}/seed{seed}.tsv"
    threads: 1
    resources:
        mem_mb=job_resources("record")["mem_mb"],
        runtime=job_resources("record")["runtime"],
        gpu=job_resources("record")["gpu"],
    conda:
        "../envs/spikecut.yaml"
    script:
        "../workflow_scripts/record_outputs.py"
