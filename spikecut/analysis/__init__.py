"""Summaries of cutoff curves in the paper's terms, with bootstrap intervals."""

from spikecut.analysis.evidence import RunSweep, Split, evaluate
from spikecut.analysis.summary import Summary, headline_markdown, summarise, summary_markdown

__all__ = [
    "RunSweep",
    "Split",
    "Summary",
    "evaluate",
    "headline_markdown",
    "summarise",
    "summary_markdown",
]
