"""The serve page's static files (no server, no extra needed): what shows before the first answer."""

from __future__ import annotations

from importlib import resources


def test_the_model_sees_box_is_hidden_until_an_answer_fills_it():
    static = resources.files("digitkit.serve") / "static"
    html = (static / "index.html").read_text(encoding="utf-8")
    script = (static / "app.js").read_text(encoding="utf-8")
    # The picture and its caption hide together: an empty box with a caption showed before.
    assert '<figure id="seen-figure" hidden>' in html
    assert '$("seen-figure").hidden = false;' in script and '$("seen-figure").hidden = true;' in script
