"""spikecut: anytime spiking neural networks with the RCS regulariser and Top-K cutoff."""

__version__ = "0.2.0"  # also in CITATION.cff and CHANGELOG.md, which a test compares
