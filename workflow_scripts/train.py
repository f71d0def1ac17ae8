from spikecut.logs import log_to_file
from spikecut.settings import Settings, TrainPlan
from spikecut.stages import train

log_to_file(snakemake.log[0])
settings = Settings.load(snakemake.config)
# the settings that change no number are read here, not from params: they rerun nothing
train(
    snakemake.input.frames,
    snakemake.output.model,
    snakemake.output.metrics,
    snakemake.output.settings,
    snakemake.params.run,
    settings.with_job_options(
        TrainPlan.model_validate(snakemake.params.plan),
        snakemake.wildcards.dataset,
        snakemake.wildcards.method,
    ),
    threads=snakemake.threads,
    resume=snakemake.params.resume,
    backend=settings.speed().neuron_backend,
)
