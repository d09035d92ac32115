"""`digitkit report`: HTML and Markdown reports of saved runs."""

from __future__ import annotations

import base64
import io
import json
import re

import pytest

from PIL import Image

from digitkit.report import build_report
from tests.evalreport_fixtures import (  # noqa: F401
    copy_run, no_validation_run, no_validation_run_template, tiny_run, tiny_run_template,
)

DATA_URI = re.compile(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"')


def decoded_images(html: str) -> list[Image.Image]:
    images = []
    for payload in DATA_URI.findall(html):
        image = Image.open(io.BytesIO(base64.b64decode(payload)))
        image.load()  # Pillow decodes lazily: force it
        images.append(image)
    return images


@pytest.mark.slow
def test_html_report_of_one_run_is_self_contained_and_complete(tiny_run):
    result = build_report(tiny_run.id)

    assert result.paths == [tiny_run.path / "report.html"]
    html = result.paths[0].read_text(encoding="utf-8")
    for heading in ("Manifest", "Layers", "Learning curves", "Test metrics", "Per-class scores", "Confusions",
                    "Most confused pairs", "Digits", "Per-class F1 and calibration", "Reliability diagram"):
        assert heading in html
    assert "dense-sigmoid" in html and "hidden" in html and "50,890" in html  # layer table and total
    # per-class F1, reliability diagram, confusion heatmap, learning curves, misclassified gallery,
    # ten samples per digit, class balance
    assert len(decoded_images(html)) == 7
    assert "Per-class F1 and calibration" in html and "Reliability diagram" in html and "ECE" in html
    assert all(image.format == "PNG" and image.width > 100 for image in decoded_images(html))
    # Nothing outside the file: no scripts, no links or sources other than data URIs.
    assert "<script" not in html.lower()
    assert not re.search(r'(src|href)="(?!data:)', html)
    assert "@media print" in html


@pytest.mark.slow
def test_report_evaluates_a_run_once_then_reuses_the_saved_evaluation(tiny_run):
    assert not tiny_run.file("evaluation.json").exists()

    first = build_report(tiny_run.id)
    assert first.evaluated == [tiny_run.id]
    assert tiny_run.file("evaluation.json").exists() and tiny_run.file("predictions.npz").exists()
    assert any("evaluated the model now" in note for note in first.notes)

    second = build_report(tiny_run.id)
    assert second.evaluated == []


@pytest.mark.slow
def test_markdown_report_links_resolve_to_png_files(tiny_run, tmp_path):
    result = build_report(tiny_run.id, fmt="md", out=tmp_path / "out" / "summary.md")

    md_path = tmp_path / "out" / "summary.md"
    assert result.paths == [md_path]
    text = md_path.read_text(encoding="utf-8")
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert len(links) == 7  # the same figures as the HTML report
    for link in links:
        target = md_path.parent / link
        assert target.is_file(), link
        assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(result.images) == sorted(md_path.parent / link for link in links)
    assert "| digit | precision | recall | F1 | support |" in text


def test_both_formats_share_one_stem(tiny_run, tmp_path):
    result = build_report(tiny_run.id, fmt="both", out=tmp_path)
    assert [p.name for p in result.paths] == ["report.html", "report.md"]
    assert (tmp_path / "report_files").is_dir()


@pytest.mark.slow
def test_several_runs_get_a_leaderboard_and_overlaid_curves(tiny_run, no_validation_run, home):
    result = build_report([tiny_run.id, no_validation_run.id])

    html = result.paths[0].read_text(encoding="utf-8")
    assert result.paths[0].parent == home / "reports"
    assert "Leaderboard (test split, best accuracy first)" in html
    assert 'alt="Learning curves of every run, overlaid"' in html
    assert 'alt="Test accuracy of every run, best first"' in html
    assert 'alt="F1 score of every digit, run beside run"' in html
    best, second = result.leaderboard
    assert best["accuracy"] >= second["accuracy"]
    assert {best["model"], second["model"]} == {"dense-sigmoid", "25-15-10"}
    for column in ("accuracy", "loss", "parameters", "training time", "prediction ms/digit"):
        assert f">{column}</th>" in html
    assert html.index("Leaderboard") < html.index(f"Run {tiny_run.id}")


@pytest.mark.slow
def test_run_without_validation_data_says_so(no_validation_run):
    html = build_report(no_validation_run.id).paths[0].read_text(encoding="utf-8")
    assert "trained without validation data: only training curves are shown" in html


def test_run_without_history_still_reports(tiny_run):
    tiny_run.file("history.json").unlink()
    html = build_report(tiny_run.id).paths[0].read_text(encoding="utf-8")
    assert "No training history was saved for this run." in html
    assert "Confusion matrix heatmap" in html


@pytest.mark.slow
def test_user_controlled_text_is_escaped(tiny_run_template, home):
    evil_folder = "run-<img src=x onerror=alert(1)>"
    run = copy_run(tiny_run_template, home, new_name=evil_folder)
    run.update_manifest(model="<script>alert('model')</script>")

    result = build_report(str(run.path), fmt="both")

    html = result.paths[0].read_text(encoding="utf-8")
    assert "<script" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#x27;model&#x27;)&lt;/script&gt;" in html
    assert "run-&lt;img src=x onerror=alert(1)&gt;" in html
    markdown = result.paths[1].read_text(encoding="utf-8")
    assert "<script>" not in markdown and "\\<script\\>" in markdown


@pytest.mark.slow
def test_report_cli_prints_the_paths(cli, tiny_run):
    result = cli("report", tiny_run.id, "--format", "both")

    assert result.exit_code == 0, result.output
    assert str(tiny_run.path / "report.html") in result.stdout
    assert str(tiny_run.path / "report.md") in result.stdout
    assert "evaluated the model now" in result.stderr


def test_report_cli_errors_are_one_line(cli, tiny_run, tmp_path):
    unknown = cli("report", "20990101-000000-nothing-0000")
    assert unknown.exit_code == 2 and "no run" in unknown.stderr

    bad_format = cli("report", tiny_run.id, "--format", "pdf")
    assert bad_format.exit_code == 2 and "'pdf' is not one of 'html', 'md', 'both'" in bad_format.stderr

    model_file = cli("report", str(tmp_path / "loose.keras"))
    assert model_file.exit_code == 2 and "is a model file, not a run" in model_file.stderr


def test_report_json_files_are_untouched(tiny_run):
    manifest_before = json.loads(tiny_run.file("manifest.json").read_text())
    build_report(tiny_run.id)
    assert json.loads(tiny_run.file("manifest.json").read_text()) == manifest_before


@pytest.mark.slow
def test_a_damaged_saved_evaluation_is_redone(tiny_run):
    build_report(tiny_run.id)
    tiny_run.file("evaluation.json").write_text("{ not json", encoding="utf-8")

    result = build_report(tiny_run.id)

    assert result.evaluated == [tiny_run.id]
    assert json.loads(tiny_run.file("evaluation.json").read_text())["schema"] == "digitkit.evaluation/1"


@pytest.mark.slow
def test_summary_card_comes_first_times_carry_their_zone_and_markdown_is_clean(tiny_run):
    result = build_report(tiny_run.id, fmt="both")
    html = result.paths[0].read_text(encoding="utf-8")
    markdown = result.paths[1].read_text(encoding="utf-8")

    saved = json.loads(tiny_run.file("evaluation.json").read_text())
    accuracy = f"{saved['metrics']['accuracy']:.2%}"
    card = html.index('class="card"')
    assert card < html.index(accuracy) < html.index("Test metrics") < html.index("Manifest")
    for label in ("test accuracy", "top-3 accuracy", "macro F1", "errors", "training time", "trained on"):
        assert label in html[card:html.index("Test metrics")], label
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", html)  # manifest times, converted
    assert f"- test accuracy: **{accuracy}**" in markdown
    # Only Markdown syntax is escaped: times, parentheses and plus signs read as written.
    assert "\\+" not in markdown and "\\(" not in markdown and "\\:" not in markdown and "\\-" not in markdown


@pytest.mark.slow
def test_a_fine_tuned_run_shows_its_parent_and_before_after(tiny_run):
    tiny_run.update_manifest(
        parent={"ref": "dense-sigmoid@pretrained", "label": "dense-sigmoid@pretrained", "sha256": "sha256:ab12"},
        finetune={"held_out": {"before": 0.9, "after": 0.95, "size": 40},
                  "mnist_test": {"before": 0.99, "after": 0.988, "size": 1000}})
    html = build_report(tiny_run.id).paths[0].read_text(encoding="utf-8")
    assert "Fine-tuning" in html and "Fine-tuned from dense-sigmoid@pretrained" in html
    assert "90.00%" in html and "95.00%" in html and "+5.00%" in html and "-0.20%" in html


@pytest.mark.slow
def test_a_run_that_was_not_fine_tuned_has_no_such_section(tiny_run):
    assert "Fine-tuning" not in build_report(tiny_run.id).paths[0].read_text(encoding="utf-8")
