from spikecut.logs import log_to_file
from spikecut.settings import RecordPlan, Settings
from spikecut.stages import record

log_to_file(snakemake.log[0])
speed = Settings.load(snakemake.config).speed()
record(
    snakemake.input.model,
    snakemake.input.frames,
    snakemake.output.logits,
    RecordPlan.model_validate(snakemake.params.plan),
    batch_size=speed.record_batch_size,
    threads=snakemake.threads,
    resume=snakemake.params.resume,
    backend=speed.neuron_backend,
)
