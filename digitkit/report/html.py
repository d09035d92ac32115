"""One self-contained HTML file: inline CSS, images as base64 data URIs, no scripts.

Every piece of text goes through :func:`html.escape`; run ids, model names and notes come
from folders and files a user (or a plugin) controls.
"""

from __future__ import annotations

import base64
from html import escape

from digitkit.report.document import Block, Card, Columns, Document, Figure, Heading, Paragraph, Table

NUM = ' class="num"'
NOTE = ' class="note"'
CSS = """
:root { color-scheme: light; --blue: #0072B2; --orange: #D55E00; --muted: #555; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1a1a1a;
       margin: 0; padding: 1.25rem clamp(1rem, 3vw, 2.5rem); background: #fff; }
h1 { font-size: 1.5rem; margin: 0 0 0.15rem; }
h2 { font-size: 1.3rem; border-bottom: 2px solid var(--blue); padding-bottom: 0.2rem; margin-top: 2rem; }
h3 { font-size: 1.05rem; margin: 1.4rem 0 0.4rem; }
.subtitle { color: var(--muted); margin: 0 0 1rem; overflow-wrap: anywhere; font-size: 0.9rem; }
.columns { display: grid; gap: 0.5rem 2rem; align-items: start;
           grid-template-columns: repeat(auto-fit, minmax(min(100%, 26rem), 1fr)); }
.cards { display: grid; gap: 1rem; grid-template-columns: repeat(auto-fit, minmax(min(100%, 22rem), 1fr)); }
.card { border: 1px solid #cfd8e3; border-left: 6px solid var(--blue); border-radius: 6px;
        padding: 0.8rem 1.1rem; background: #f7fafd; margin: 0.6rem 0 1rem; }
.card h2, .card .card-title { font-size: 1.2rem; margin: 0; border: 0; padding: 0; }
.card .card-sub { color: var(--muted); font-size: 0.85rem; margin: 0.1rem 0 0.6rem; overflow-wrap: anywhere; }
.card dl { display: grid; grid-template-columns: repeat(auto-fill, minmax(10rem, 1fr)); gap: 0.5rem 1.2rem;
           margin: 0; }
.card dl div { min-width: 0; }
.card dl div.wide { grid-column: span 2; }
.card dt { color: var(--muted); font-size: 0.8rem; text-transform: uppercase; letter-spacing: 0.03em; }
.card dd { margin: 0; font-size: 1.05rem; font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
.card dd.headline { font-size: 2rem; font-weight: 700; color: var(--blue); line-height: 1.1; }
table { border-collapse: collapse; margin: 0.4rem 0 1rem; font-size: 0.9rem; max-width: 100%; }
caption { text-align: left; font-weight: 600; padding-bottom: 0.3rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.6rem; vertical-align: top; overflow-wrap: anywhere; }
th { background: #f1f4f8; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr:nth-child(even) td { background: #fafafa; }
figure { margin: 0.4rem 0 1.2rem; }
figure img { max-width: 100%; height: auto; display: block; }
figcaption { color: #444; font-size: 0.85rem; margin-top: 0.3rem; }
p.note { background: #fff6e0; border-left: 4px solid #E69F00; padding: 0.4rem 0.7rem; }
@media print {
  body { padding: 0; font-size: 11pt; }
  h2 { break-before: page; }
  h2:first-of-type { break-before: auto; }
  figure, table, .card { break-inside: avoid; }
  tr:nth-child(even) td, th, .card { background: none; }
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


def _card(card: Card) -> str:
    items = []
    for index, (label, value) in enumerate(card.items):
        kind = ' class="headline"' if index == 0 else ""
        wide = ' class="wide"' if len(value) > 22 else ""  # long texts get two grid cells
        items.append(f"<div{wide}><dt>{escape(label)}</dt><dd{kind}>{escape(value)}</dd></div>")
    sub = f'<p class="card-sub">{escape(card.subtitle)}</p>' if card.subtitle else ""
    return (f'<section class="card" aria-label="summary"><p class="card-title"><strong>{escape(card.title)}'
            f"</strong></p>{sub}<dl>{''.join(items)}</dl></section>")


def _block(block: Block) -> str:
    if isinstance(block, Heading):
        return f"<h{block.level}>{escape(block.text)}</h{block.level}>"
    if isinstance(block, Paragraph):
        return f"<p{NOTE if block.note else ''}>{escape(block.text)}</p>"
    if isinstance(block, Table):
        return _table(block)
    if isinstance(block, Figure):
        return _figure(block)
    if isinstance(block, Card):
        return _card(block)
    if isinstance(block, Columns):
        kind = "cards" if all(isinstance(b, Card) for b in block.blocks) else "columns"
        return f'<div class="{kind}">' + "\n".join(f"<div>{_block(b)}</div>" for b in block.blocks) + "</div>"
    raise TypeError(f"unknown report block {type(block).__name__}")


def render_html(document: Document) -> str:
    parts = [_block(block) for block in document.blocks]
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
