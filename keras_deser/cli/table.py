"""The one table renderer of the command: fixed-width columns, two spaces apart."""

from __future__ import annotations

from typing import Any, Sequence

__all__ = ["render_table"]


def _cell(value: Any) -> str:
    return "-" if value is None or value == "" else str(value)


def render_table(
    rows: Sequence[Sequence[Any]],
    header: Sequence[str] | None = None,
    indent: str = "",
    min_widths: Sequence[int] = (),
) -> str:
    """``rows`` as left-aligned columns two spaces apart, one line each.

    With ``header``, it is the first line, underlined with dashes.  Empty
    cells (None or '') are shown as ``-``; trailing spaces are dropped;
    ``min_widths`` are the least widths of the first columns.
    Returns the text, ending with a newline ('' for no rows and no header).
    """
    table = [[str(title) for title in header]] if header is not None else []
    table += [[_cell(value) for value in row] for row in rows]
    if not table:
        return ""
    columns = max(len(row) for row in table)
    widths = [max(len(row[i]) for row in table if i < len(row)) for i in range(columns)]
    widths = [max(width, least) for width, least in zip(widths, min_widths)] + widths[len(min_widths):]
    lines = []
    for index, row in enumerate(table):
        lines.append(indent + "  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
        if header is not None and index == 0:
            lines.append(indent + "  ".join("-" * width for width in widths))
    return "\n".join(lines) + "\n"
