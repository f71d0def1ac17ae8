rule record_outputs:
    input:
        model=rules.train.output.model,
        frames=lambda wildcards: ancient(frames_path(wildcards)),
    output:
        logits=f"{RUN_DIR}/logits.npz",
    log:
        f"{RESULTS}/logs/record_outputs/{{dataset}}/{{method}}/alpha{{alpha}}/seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/record_outputs/{{dataset}}/{{method}}/alpha{{alpha}}/seed{{seed}}.tsv"
    conda:
        "../envs/spikecut.yaml"
    threads: 1
    resources:
        mem_mb=job_resources("record").mem_mb,
        runtime=job_resources("record").runtime,
        gpu=job_resources("record").gpu,
    params:
        plan=lambda wildcards: settings.record_params(
            wildcards.dataset, wildcards.method
        ),
        resume=resume_path,
    script:
        "../workflow_scripts/record_outputs.py"


rule early_exit:
    input:
        model=rules.train.output.model,
        frames=lambda wildcards: ancient(frames_path(wildcards)),
        logits=rules.record_outputs.output.logits,
    output:
        table=f"{RUN_DIR}/early_exit.csv",
    log:
        f"{RESULTS}/logs/early_exit/{{dataset}}/{{method}}/alpha{{alpha}}/seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/early_exit/{{dataset}}/{{method}}/alpha{{alpha}}/seed{{seed}}.tsv"
    conda:
        "../envs/spikecut.yaml"
    threads: alone
    resources:
        mem_mb=job_resources("record").mem_mb,
        runtime=job_resources("record").runtime,
        gpu=job_resources("record").gpu,
    params:
        plan=lambda wildcards: settings.early_exit_params(
            wildcards.dataset, wildcards.method
        ),
    script:
        "../workflow_scripts/early_exit.py"


# its own table, so that a change to early_exit.* reruns only the summary after it
rule collect_early_exit:
    input:
        early_exit=run_paths(rules.early_exit.output.table),
    output:
        early_exit=f"{RESULTS}/cutoff/early_exit.csv",
    log:
        f"{RESULTS}/logs/collect_early_exit.log",
    localrule: True
    conda:
        "../envs/spikecut.yaml"
    script:
        "../workflow_scripts/collect_csv.py"
