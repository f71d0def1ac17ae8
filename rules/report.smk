rule summarise:
    input:
        sweeps=run_paths(rules.sweep_cutoff.output.sweep),
        settings=run_paths(rules.train.output.settings),
        early_exit=rules.collect_early_exit.output.early_exit,
    output:
        points=report(
            f"{RESULTS}/summary/summary.csv",
            caption="../report/summary.rst",
            category="Summary",
            labels={"file": "summary.csv", "holds": "every estimate, tidy"},
        ),
        effects=f"{RESULTS}/summary/rcs_effect.csv",
        gaps=f"{RESULTS}/summary/protocol_gap.csv",
        fixed=f"{RESULTS}/summary/fixed_T.csv",
        per_run=f"{RESULTS}/summary/operating_points.csv",
        markdown=report(
            f"{RESULTS}/summary/summary.md",
            caption="../report/summary_md.rst",
            category="Summary",
            labels={"file": "summary.md", "holds": "every policy, α and protocol"},
        ),
        headline=report(
            f"{RESULTS}/summary/headline.md",
            caption="../report/headline_md.rst",
            category="Summary",
            labels={"file": "headline.md", "holds": "the headline table"},
        ),
    log:
        f"{RESULTS}/logs/summarise.log",
    localrule: True
    conda:
        "../envs/spikecut.yaml"
    params:
        summary=settings.summary_params(),
        # for the report's captions; the summary names it from the runs' settings
        regulariser=settings.regulariser.label,
    script:
        "../workflow_scripts/summarise.py"


rule render_headline:
    input:
        rules.summarise.output.headline,
    output:
        f"{RESULTS}/summary/headline.rst",
    log:
        f"{RESULTS}/logs/render_headline.log",
    localrule: True
    conda:
        "../envs/spikecut.yaml"
    script:
        "../workflow_scripts/render_headline.py"


rule plot_accuracy_vs_timestep:
    input:
        fixed=rules.summarise.output.fixed,
    output:
        report(
            f"{RESULTS}/figures/accuracy_vs_timestep.png",
            caption="../report/accuracy_vs_timestep.rst",
            category="Figures",
            subcategory="all runs",
            labels=aggregate_labels("accuracy vs timestep"),
        ),
    log:
        f"{RESULTS}/logs/plot_accuracy_vs_timestep.log",
    localrule: True
    conda:
        "../envs/spikecut.yaml"
    params:
        regulariser=settings.regulariser.label,
    script:
        "../workflow_scripts/plot_accuracy_vs_timestep.py"


rule plot_pareto:
    input:
        curves=rules.collect_sweeps.output.curves,
        points=rules.summarise.output.points,
    output:
        report(
            f"{RESULTS}/figures/pareto.png",
            caption="../report/pareto.rst",
            category="Figures",
            subcategory="all runs",
            labels=aggregate_labels("Pareto front"),
        ),
    log:
        f"{RESULTS}/logs/plot_pareto.log",
    localrule: True
    conda:
        "../envs/spikecut.yaml"
    params:
        regulariser=settings.regulariser.label,
    script:
        "../workflow_scripts/plot_pareto.py"


rule plot_policy_comparison:
    input:
        curves=rules.collect_sweeps.output.curves,
        points=rules.summarise.output.points,
    output:
        report(
            f"{RESULTS}/figures/policy_comparison.png",
            caption="../report/policy_comparison.rst",
            category="Figures",
            subcategory="all runs",
            labels=aggregate_labels("policy comparison"),
        ),
    log:
        f"{RESULTS}/logs/plot_policy_comparison.log",
    localrule: True
    conda:
        "../envs/spikecut.yaml"
    params:
        regulariser=settings.regulariser.label,
        cost="mean_timesteps",
    script:
        "../workflow_scripts/plot_policy_comparison.py"


rule plot_accuracy_vs_energy:
    input:
        curves=rules.collect_sweeps.output.curves,
        points=rules.summarise.output.points,
    output:
        report(
            f"{RESULTS}/figures/accuracy_vs_energy.png",
            caption="../report/accuracy_vs_energy.rst",
            category="Figures",
            subcategory="all runs",
            labels=aggregate_labels("accuracy vs energy"),
        ),
    log:
        f"{RESULTS}/logs/plot_accuracy_vs_energy.log",
    localrule: True
    conda:
        "../envs/spikecut.yaml"
    params:
        regulariser=settings.regulariser.label,
        cost="mean_energy_uj",
    script:
        "../workflow_scripts/plot_policy_comparison.py"


rule plot_dose_response:
    input:
        effects=rules.summarise.output.effects,
    output:
        report(
            f"{RESULTS}/figures/{settings.regulariser.name}_dose_response.png",
            caption="../report/dose_response.rst",
            category="Figures",
            subcategory="all runs",
            labels=aggregate_labels("dose response"),
        ),
    log:
        f"{RESULTS}/logs/plot_dose_response.log",
    localrule: True
    conda:
        "../envs/spikecut.yaml"
    params:
        regulariser=settings.regulariser.label,
    script:
        "../workflow_scripts/plot_dose_response.py"


rule plot_exit_histograms:
    input:
        exits=rules.collect_sweeps.output.exits,
    output:
        report(
            f"{RESULTS}/figures/exit_histograms.png",
            caption="../report/exit_histograms.rst",
            category="Figures",
            subcategory="all runs",
            labels=aggregate_labels("exit histograms"),
        ),
    log:
        f"{RESULTS}/logs/plot_exit_histograms.log",
    localrule: True
    conda:
        "../envs/spikecut.yaml"
    params:
        regulariser=settings.regulariser.label,
        epsilon=float(settings.summary.histogram_epsilon),
    script:
        "../workflow_scripts/plot_exit_histograms.py"


# one figure per model, so that the report's label toggle flips between the α of a
# data set and method; one job draws them all, since all read the same tables
rule plot_models:
    input:
        curves=rules.collect_sweeps.output.curves,
        exits=rules.collect_sweeps.output.exits,
        fixed=rules.summarise.output.fixed,
        points=rules.summarise.output.points,
    output:
        report(
            directory(f"{RESULTS}/figures/models"),
            patterns=[MODEL_FIGURE],
            caption="../report/model.rst",
            category="Figures",
            subcategory="{dataset} ({method})",
            labels={
                "figure": "accuracy vs latency, exits",
                "data set": "{dataset}",
                "method": "{method}",
                "alpha": "{alpha}",
            },
        ),
    log:
        f"{RESULTS}/logs/plot_models.log",
    localrule: True
    conda:
        "../envs/spikecut.yaml"
    params:
        regulariser=settings.regulariser.label,
        epsilon=float(settings.summary.histogram_epsilon),
    script:
        "../workflow_scripts/plot_models.py"
