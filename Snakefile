# spikecut: anytime SNNs with the RCS regulariser and the Top-K cutoff.
# data -> train (dataset x method x alpha x seed) -> record per-step logits
#      -> cutoff sweeps and real early exits -> figures, summary and report
import os
import sys

from snakemake.utils import min_version

# The library of this checkout, for this process and for every job's script (Snakemake
# hands its path to them): no install needed under --sdm conda.
sys.path.insert(0, workflow.basedir)

from spikecut.recovery import ENV, remake_prefix
from spikecut.regularisers import is_baseline
from spikecut.settings import Settings
from spikecut.settings.files import read_config

min_version("9.0")


# A --configfile replaces the default rather than being merged over it, so that a
# config lists exactly the data sets and runs it wants. The default is found beside
# this file, so that --directory can point anywhere.
if not workflow.overwrite_configfiles:
    # read once first, so that a broken file is named with its line
    read_config(f"{workflow.basedir}/config/config.yaml")

    configfile: f"{workflow.basedir}/config/config.yaml"


# Every key is checked here, before any job: an error names its key path.
settings = Settings.load(config)
# how this run was started, so that a job's advice for a broken file names a command
# that makes it again (spikecut.recovery)
os.environ[ENV] = remake_prefix(
    workflow.main_snakefile,
    os.getcwd(),
    workflow.configfiles if workflow.overwrite_configfiles else [],
    workflow.config_settings.config,
)


# Run keys are path segments; keep neighbouring wildcards from matching each other.
wildcard_constraints:
    dataset="[a-z0-9-]+",
    method="[a-z0-9-]+",
    alpha="[0-9.]+",
    seed="[0-9]+",
    key="[0-9a-f]{12}",


# the report's landing page: the headline table, the method in brief, how to read the
# figures
report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/train.smk"
include: "rules/record.smk"
include: "rules/cutoff.smk"
include: "rules/report.smk"


rule all:
    default_target: True
    input:
        rules.summarise.output,
        rules.plot_accuracy_vs_timestep.output,
        rules.plot_pareto.output,
        rules.plot_policy_comparison.output,
        rules.plot_accuracy_vs_energy.output,
        rules.plot_exit_histograms.output,
        rules.render_headline.output,
        rules.plot_models.output,
        # the regulariser's effects, where the config weighs it against α = 0
        (
            rules.plot_dose_response.output
            if any(map(is_baseline, settings.alphas))
            and not all(map(is_baseline, settings.alphas))
            else []
        ),
