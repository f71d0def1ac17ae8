"""Summaries of cutoff curves in the paper's terms, with bootstrap intervals."""

from spikecut.analysis.evidence import RunPoints, evaluate
from spikecut.analysis.summary import Summary, headline_markdown, summarise, summary_markdown

__all__ = ["RunPoints", "Summary", "evaluate", "headline_markdown", "summarise", "summary_markdown"]
