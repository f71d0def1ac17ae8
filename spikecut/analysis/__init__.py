"""Summaries of cutoff curves in the paper's terms."""

from spikecut.analysis.summary import operating_points, summarise, summary_markdown

__all__ = ["operating_points", "summarise", "summary_markdown"]
