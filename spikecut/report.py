"""What the Snakemake report needs beyond the figures and tables themselves.

The per-model figures' file name, which the report reads their labels from; and the
headline table as reStructuredText. Snakemake renders the report's texts with docutils,
which has no Markdown parser, and the headline is Markdown because the README shows it.
The headline uses paragraphs, flat bullet lists (the same in both), HTML comments and
pipe tables only, and those are what :func:`markdown_to_rst` converts.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from spikecut.io import write_text

# one figure per data set, method and alpha; the report parses the name back into labels
MODEL_FIGURE = "{dataset}_{method}_alpha{alpha}.png"
_SEPARATOR = re.compile(r"^\|(\s*:?-+:?\s*\|)+\s*$")


def _cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.strip().strip("|").split("|")]


def _list_table(rows: list[str]) -> list[str]:
    """A pipe table as a ``list-table``: unlike a grid table it needs no drawn columns,
    and with ``auto`` widths the browser sizes them to their cells. Its header is the
    row above the separator."""
    lines = [".. list-table::", "   :header-rows: 1", "   :widths: auto", ""]
    for row in rows:
        if _SEPARATOR.match(row):
            continue
        first, *rest = _cells(row)
        lines.append(f"   * - {first}".rstrip())
        lines += [f"     - {cell}".rstrip() for cell in rest]
    return lines + [""]


def markdown_to_rst(markdown: str) -> str:
    """The headline's Markdown as reStructuredText: tables become list tables, HTML
    comments go, and paragraphs pass as they are (``**bold**`` reads the same)."""
    lines: list[str] = []
    table: list[str] = []
    for line in [*markdown.splitlines(), ""]:
        if line.startswith("|"):
            table.append(line)
            continue
        if table:
            lines += _list_table(table)
            table = []
        if not line.startswith("<!--"):
            lines.append(line)
    return "\n".join(lines).strip() + "\n"


def headline_rst(markdown: str | os.PathLike, rst: str | os.PathLike) -> None:
    """Write the headline file ``markdown`` again, as reStructuredText, to ``rst``."""
    write_text(rst, markdown_to_rst(Path(markdown).read_text()))
