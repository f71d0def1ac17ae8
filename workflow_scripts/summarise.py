from spikecut.logs import log_to_file
from spikecut.settings import SummaryPlan
from spikecut.stages import summarise_runs

log_to_file(snakemake.log[0])
summarise_runs(
    snakemake.input.sweeps,
    dict(snakemake.output.items()),
    SummaryPlan.model_validate(snakemake.params.summary),
    snakemake.input.settings,
    early_exit=snakemake.input.early_exit,
)
