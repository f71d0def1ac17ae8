rule summarise:
    input:
        points=run_paths(rules.sweep_cutoff.output.points),
        curves=rules.collect_sweeps.output.curves,
        early_exit=rules.collect_sweeps.output.early_exit,
    output:
        points=report(
            "results/summary/summary.csv",
            caption="../report/summary.rst",
            category="Summary",
        ),
        effects="results/summary/rcs_effect.csv",
        fixed="results/summary/fixed_T.csv",
        per_run="results/summary/operating_points.csv",
        markdown="results/summary/summary.md",
        headline="results/summary/headline.md",
    params:
        max_loss_pp=config["summary"]["max_accuracy_loss_pp"],
        n_boot=config["summary"]["bootstrap"]["replicates"],
        bootstrap_seed=config["summary"]["bootstrap"]["seed"],
        config=config,
    log:
        "results/logs/summarise.log",
    localrule: True
    conda:
        "../envs/spikecut.yaml"
    script:
        "../workflow_scripts/summarise.py"


rule plot_accuracy_vs_timestep:
    input:
        fixed=rules.summarise.output.fixed,
    output:
        report(
            "results/figures/accuracy_vs_timestep.png",
            caption="../report/accuracy_vs_timestep.rst",
            category="Figures",
        ),
    log:
        "results/logs/plot_accuracy_vs_timestep.log",
    localrule: True
    conda:
        "../envs/spikecut.yaml"
    script:
        "../workflow_scripts/plot_accuracy_vs_timestep.py"


rule plot_pareto:
    input:
        curves=rules.collect_sweeps.output.curves,
        points=rules.summarise.output.points,
    output:
        report(
            "results/figures/pareto.png",
            caption="../report/pareto.rst",
            category="Figures",
        ),
    log:
        "results/logs/plot_pareto.log",
    localrule: True
    conda:
        "../envs/spikecut.yaml"
    script:
        "../workflow_scripts/plot_pareto.py"


rule plot_policy_comparison:
    input:
        curves=rules.collect_sweeps.output.curves,
        points=rules.summarise.output.points,
    output:
        report(
            "results/figures/policy_comparison.png",
            caption="../report/policy_comparison.rst",
            category="Figures",
        ),
    params:
        cost="mean_timesteps",
    log:
        "results/logs/plot_policy_comparison.log",
    localrule: True
    conda:
        "../envs/spikecut.yaml"
    script:
        "../workflow_scripts/plot_policy_comparison.py"


rule plot_accuracy_vs_energy:
    input:
        curves=rules.collect_sweeps.output.curves,
        points=rules.summarise.output.points,
    output:
        report(
            "results/figures/accuracy_vs_energy.png",
            caption="../report/accuracy_vs_energy.rst",
            category="Figures",
        ),
    params:
        cost="mean_energy_uj",
    log:
        "results/logs/plot_accuracy_vs_energy.log",
    localrule: True
    conda:
        "../envs/spikecut.yaml"
    script:
        "../workflow_scripts/plot_policy_comparison.py"


rule plot_exit_histograms:
    input:
        exits=rules.collect_sweeps.output.exits,
    output:
        report(
            "results/figures/exit_histograms.png",
            caption="../report/exit_histograms.rst",
            category="Figures",
        ),
    params:
        epsilon=float(config["summary"]["histogram_epsilon"]),
    log:
        "results/logs/plot_exit_histograms.log",
    localrule: True
    conda:
        "../envs/spikecut.yaml"
    script:
        "../workflow_scripts/plot_exit_histograms.py"
