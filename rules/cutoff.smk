rule sweep_cutoff:
    input:
        logits=rules.record_outputs.output.logits,
    output:
        curve=f"{RUN_DIR}/cutoff.csv",
        exits=f"{RUN_DIR}/exits.csv",
        points=f"{RUN_DIR}/operating_points.npz",
    params:
        cfg=config["cutoff"],
        max_loss_pp=config["summary"]["max_accuracy_loss_pp"],
    log:
        "results/logs/sweep_cutoff/{dataset}/{method}/alpha{alpha}/seed{seed}.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../envs/spikecut.yaml"
    script:
        "../workflow_scripts/sweep_cutoff.py"


rule collect_sweeps:
    input:
        curves=run_paths(rules.sweep_cutoff.output.curve),
        exits=run_paths(rules.sweep_cutoff.output.exits),
        metrics=run_paths(rules.train.output.metrics),
        early_exit=run_paths(rules.record_outputs.output.early_exit),
    output:
        curves="results/cutoff/curves.csv",
        exits="results/cutoff/exits.csv",
        metrics="results/cutoff/training_metrics.csv",
        early_exit="results/cutoff/early_exit.csv",
    log:
        "results/logs/collect_sweeps.log",
    localrule: True
    conda:
        "../envs/spikecut.yaml"
    script:
        "../workflow_scripts/collect_sweeps.py"
