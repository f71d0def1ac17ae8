"""One module per data set, each with its ``DATASET`` (or, for a family that shares a
loader, its ``DATASETS``): options, frame shape, sources, and for a downloaded one its
archives, file lister and reader. A new module here is a new data set; the registry
(:mod:`spikecut.data.registry`) finds it by itself. Each module imports its heavy
sources (scikit-learn, torchvision, tonic) only when it builds its samples, since the
settings read the specs before any job runs."""
