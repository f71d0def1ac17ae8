rule record_outputs:
    input:
        model=rules.train.output.model,
        frames=rules.prepare_dataset.output.frames,
    output:
        logits=f"{RUN_DIR}/logits.npz",
    params:
        cfg=config["record"],
    log:
        "results/logs/record_outputs/{dataset}/{method}/alpha{alpha}/seed{seed}.log",
    benchmark:
        "results/benchmarks/record_outputs/{dataset}/{method}/alpha{alpha}/seed{seed}.tsv"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    conda:
        "../envs/spikecut.yaml"
    script:
        "../workflow_scripts/record_outputs.py"
