"""Markdown: a ``.md`` file and a sibling folder of PNG images it links to."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

from digitkit import atomic
from digitkit.report.document import Document, Figure, Heading, Paragraph, Table

_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def md_escape(text: str) -> str:
    """Backslash-escape Markdown syntax (and HTML brackets, which Markdown would pass through)."""
    return _SPECIAL.sub(r"\\\1", text).replace("\n", " ")


def _table(table: Table) -> str:
    numeric = table.numeric or [False] * len(table.headers)
    lines = []
    if table.caption:
        lines.append(f"**{md_escape(table.caption)}**\n")
    lines.append("| " + " | ".join(md_escape(h) for h in table.headers) + " |")
    lines.append("|" + "|".join("---:" if n else "---" for n in numeric) + "|")
    lines += ["| " + " | ".join(md_escape(cell) for cell in row) + " |" for row in table.rows]
    return "\n".join(lines)


def write_markdown(document: Document, target: Path) -> list[Path]:
    """Write the images first and the ``.md`` last, so a finished ``.md`` has all its images.

    Returns:
        The image files written.
    """
    folder = target.with_name(f"{target.stem}_files")
    images: list[Path] = []
    parts = [f"# {md_escape(document.title)}", f"_{md_escape(document.subtitle)}_"]
    for block in document.blocks:
        if isinstance(block, Heading):
            parts.append(f"{'#' * block.level} {md_escape(block.text)}")
        elif isinstance(block, Paragraph):
            parts.append(f"> **Note:** {md_escape(block.text)}" if block.note else md_escape(block.text))
        elif isinstance(block, Table):
            parts.append(_table(block))
        elif isinstance(block, Figure):
            path = folder / f"{block.name}.png"
            atomic.write_bytes(path, block.png)
            images.append(path)
            link = quote(f"{folder.name}/{path.name}")
            caption = f"\n\n_{md_escape(block.caption)}_" if block.caption else ""
            parts.append(f"![{md_escape(block.alt)}]({link}){caption}")
    atomic.write_text(target, "\n\n".join(parts) + "\n")
    return images
