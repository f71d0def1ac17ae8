rule sweep_cutoff:
    input:
        logits=rules.record_outputs.output.logits,
    output:
        curve=f"{RUN_DIR}/cutoff.csv",
        exits=f"{RUN_DIR}/exits.csv",
        sweep=f"{RUN_DIR}/sweep.npz",
    log:
        f"{RESULTS}/logs/sweep_cutoff/{{dataset}}/{{method}}/alpha{{alpha}}/seed{{seed}}.log",
    conda:
        "../envs/spikecut.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        cutoff=settings.cutoff.model_dump(mode="json"),
    script:
        "../workflow_scripts/sweep_cutoff.py"


rule collect_sweeps:
    input:
        curves=run_paths(rules.sweep_cutoff.output.curve),
        exits=run_paths(rules.sweep_cutoff.output.exits),
        metrics=run_paths(rules.train.output.metrics),
    output:
        curves=f"{RESULTS}/cutoff/curves.csv",
        exits=f"{RESULTS}/cutoff/exits.csv",
        metrics=f"{RESULTS}/cutoff/training_metrics.csv",
    log:
        f"{RESULTS}/logs/collect_sweeps.log",
    localrule: True
    conda:
        "../envs/spikecut.yaml"
    script:
        "../workflow_scripts/collect_csv.py"
