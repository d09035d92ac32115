"""Markdown: a ``.md`` file and a sibling folder of PNG images it links to."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

from digitkit._internal import atomic
from digitkit.report.document import Block, Card, Columns, Document, Figure, Heading, Paragraph, Table

# Only what Markdown would read as syntax: emphasis, code, links, HTML, table pipes. Colons,
# plus signs, dots and parentheses in times and numbers stay as they are ("07:54:40+00:00").
_SPECIAL = re.compile(r"([\\`*\[\]<>|])")
_EDGE_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_LINE_START = re.compile(r"^(\s*)([#>+-]|\d+\.)(?=\s|$)")


def md_escape(text: str) -> str:
    """Escape what Markdown would otherwise format; nothing else (no over-escaping)."""
    text = _SPECIAL.sub(r"\\\1", str(text)).replace("\n", " ")
    text = _EDGE_UNDERSCORE.sub(r"\\_", text)  # snake_case names are safe; _emphasis_ is not
    if text.count("~") >= 2:
        text = text.replace("~", "\\~")  # ~strike~ in GitHub Markdown
    # A leading '#', '>', '-', '+' or '1.' would start a heading, quote or list.
    return _LINE_START.sub(lambda m: m.group(1) + (m.group(2)[:-1] + "\\." if m.group(2).endswith(".")
                                                   else "\\" + m.group(2)), text)


def _table(table: Table) -> str:
    numeric = table.numeric or [False] * len(table.headers)
    lines = []
    if table.caption:
        lines.append(f"**{md_escape(table.caption)}**\n")
    lines.append("| " + " | ".join(md_escape(h) for h in table.headers) + " |")
    lines.append("|" + "|".join("---:" if n else "---" for n in numeric) + "|")
    lines += ["| " + " | ".join(md_escape(cell) for cell in row) + " |" for row in table.rows]
    return "\n".join(lines)


def _card(card: Card) -> str:
    lines = [f"**{md_escape(card.title)}**" + (f" ({md_escape(card.subtitle)})" if card.subtitle else ""), ""]
    lines += [f"- {md_escape(label)}: **{md_escape(value)}**" if i == 0 else f"- {md_escape(label)}: {md_escape(value)}"
              for i, (label, value) in enumerate(card.items)]
    return "\n".join(lines)


def _blocks(block: Block, folder: Path, images: list[Path]) -> list[str]:
    """Markdown for one block; Columns simply follow each other."""
    if isinstance(block, Columns):
        return [text for inner in block.blocks for text in _blocks(inner, folder, images)]
    if isinstance(block, Card):
        return [_card(block)]
    if isinstance(block, Heading):
        return [f"{'#' * block.level} {md_escape(block.text)}"]
    if isinstance(block, Paragraph):
        return [f"> **Note:** {md_escape(block.text)}" if block.note else md_escape(block.text)]
    if isinstance(block, Table):
        return [_table(block)]
    if isinstance(block, Figure):
        path = folder / f"{block.name}.png"
        atomic.write_bytes(path, block.png)
        images.append(path)
        link = quote(f"{folder.name}/{path.name}")
        caption = f"\n\n_{md_escape(block.caption)}_" if block.caption else ""
        return [f"![{md_escape(block.alt)}]({link}){caption}"]
    raise TypeError(f"unknown report block {type(block).__name__}")


def write_markdown(document: Document, target: Path) -> list[Path]:
    """Write the images first and the ``.md`` last, so a finished ``.md`` has all its images.

    Returns:
        The image files written.
    """
    folder = target.with_name(f"{target.stem}_files")
    images: list[Path] = []
    parts = [f"# {md_escape(document.title)}", f"_{md_escape(document.subtitle)}_"]
    for block in document.blocks:
        parts.extend(_blocks(block, folder, images))
    atomic.write_text(target, "\n\n".join(parts) + "\n")
    return images
