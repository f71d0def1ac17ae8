from spikecut.logs import log_to_file
from spikecut.settings import Settings, TrainPlan
from spikecut.stages import train

log_to_file(snakemake.log[0])
speed = Settings.load(snakemake.config).speed()
train(
    snakemake.input.frames,
    snakemake.output.model,
    snakemake.output.metrics,
    snakemake.output.settings,
    snakemake.params.run,
    TrainPlan.model_validate(snakemake.params.plan),
    threads=snakemake.threads,
    resume=snakemake.params.resume,
    backend=speed.neuron_backend,
)
