"""One self-contained HTML file: inline CSS, images as base64 data URIs, no scripts.

Every piece of text goes through :func:`html.escape`; run ids, model names and notes come
from folders and files a user (or a plugin) controls.
"""

from __future__ import annotations

import base64
from html import escape

from digitkit.report.document import Document, Figure, Heading, Paragraph, Table

NUM = ' class="num"'
NOTE = ' class="note"'
CSS = """
:root { color-scheme: light; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1a1a1a;
       max-width: 1100px; margin: 0 auto; padding: 1.5rem; background: #fff; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.3rem; border-bottom: 2px solid #0072B2; padding-bottom: 0.2rem; margin-top: 2.2rem; }
h3 { font-size: 1.05rem; margin-top: 1.6rem; }
.subtitle { color: #555; margin-top: 0; overflow-wrap: anywhere; }
table { border-collapse: collapse; margin: 0.6rem 0 1rem; font-size: 0.9rem; max-width: 100%; }
caption { text-align: left; font-weight: 600; padding-bottom: 0.3rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.6rem; vertical-align: top; overflow-wrap: anywhere; }
th { background: #f1f4f8; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr:nth-child(even) td { background: #fafafa; }
figure { margin: 0.8rem 0 1.2rem; }
figure img { max-width: 100%; height: auto; display: block; }
figcaption { color: #444; font-size: 0.85rem; margin-top: 0.3rem; }
p.note { background: #fff6e0; border-left: 4px solid #E69F00; padding: 0.4rem 0.7rem; }
@media print {
  body { max-width: none; padding: 0; font-size: 11pt; }
  h2 { break-before: page; }
  h2:first-of-type { break-before: auto; }
  figure, table { break-inside: avoid; }
  tr:nth-child(even) td, th { background: none; }
  p.note { border: 1px solid #999; background: none; }
}
"""


def _table(table: Table) -> str:
    numeric = table.numeric or [False] * len(table.headers)
    head = "".join(f"<th scope=\"col\">{escape(h)}</th>" for h in table.headers)
    body = "\n".join(
        "<tr>" + "".join(f"<td{NUM if numeric[i] else ''}>{escape(cell)}</td>" for i, cell in enumerate(row))
        + "</tr>"
        for row in table.rows
    )
    caption = f"<caption>{escape(table.caption)}</caption>" if table.caption else ""
    return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table>"


def _figure(figure: Figure) -> str:
    data = base64.b64encode(figure.png).decode("ascii")
    caption = f"<figcaption>{escape(figure.caption)}</figcaption>" if figure.caption else ""
    return f'<figure><img src="data:image/png;base64,{data}" alt="{escape(figure.alt)}">{caption}</figure>'


def render_html(document: Document) -> str:
    parts = []
    for block in document.blocks:
        if isinstance(block, Heading):
            parts.append(f"<h{block.level}>{escape(block.text)}</h{block.level}>")
        elif isinstance(block, Paragraph):
            parts.append(f"<p{NOTE if block.note else ''}>{escape(block.text)}</p>")
        elif isinstance(block, Table):
            parts.append(_table(block))
        elif isinstance(block, Figure):
            parts.append(_figure(block))
    body = "\n".join(parts)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<title>{escape(document.title)}</title>
<style>{CSS}</style>
</head>
<body>
<h1>{escape(document.title)}</h1>
<p class="subtitle">{escape(document.subtitle)}</p>
{body}
</body>
</html>
"""
