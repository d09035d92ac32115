"""The docs cannot drift: the CLI reference is regenerated and compared, examples are run.

- docs/cli.md must equal a fresh render of every command's --help
  (regenerate with `python scripts/gen_cli_docs.py`).
- ```python blocks in the plugin docs run, in order, in one namespace per page.
- Blocks whose first line is `# file: PATH` must equal that file of the repository.
- Every command block of README.md and docs/*.md runs (tests/docs_runner.py explains the
  markers that skip a block with a reason, or make a training example small).
"""

from __future__ import annotations

import importlib.util
import re
import shlex
from pathlib import Path

import pytest

from tests import docs_runner

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
OWN_PAGES = ["index.md", "install.md", "tutorial.md", "plugins.md", "plugin-tutorial.md"]
PYTHON_PAGES = ["plugins.md", "plugin-tutorial.md"]
# Pages other areas write; links to them may dangle until those areas are merged.
PAGES_OF_OTHER_AREAS = {"data.md", "training.md", "runs.md"}
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)
FILE_MARK = re.compile(r"^# file: (\S+)\n")


def blocks(page: str, language: str | None = None) -> list[tuple[str, str]]:
    text = (DOCS / page).read_text(encoding="utf-8")
    found = [(m.group(1), m.group(2)) for m in FENCE.finditer(text)]
    return [(lang, body) for lang, body in found if language is None or lang == language]


def _generator():
    spec = importlib.util.spec_from_file_location("gen_cli_docs", ROOT / "scripts" / "gen_cli_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_reference_is_current():
    generator = _generator()
    fresh = generator.render_reference()
    committed = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert committed == fresh, "docs/cli.md is out of date: run `python scripts/gen_cli_docs.py`"


def test_cli_reference_covers_every_command():
    import typer

    from digitkit.cli.app import app

    generator = _generator()
    paths = generator.command_paths(typer.main.get_command(app))
    assert ("plugins", "check") in paths and ("plugins", "new") in paths and ("fit",) in paths
    assert ("plugin",) not in paths  # the old spelling still works, unlisted
    committed = (DOCS / "cli.md").read_text(encoding="utf-8")
    for path in paths:
        assert f"## digitkit {' '.join(path)}\n" in committed


@pytest.mark.parametrize("page", OWN_PAGES)
def test_copied_files_match_the_repository(page):
    for _, body in blocks(page):
        mark = FILE_MARK.match(body)
        if mark:
            source = (ROOT / mark.group(1)).read_text(encoding="utf-8")
            assert body[mark.end():].rstrip() == source.rstrip(), (
                f"{page}: the block copied from {mark.group(1)} differs from the file; copy it again")


@pytest.mark.parametrize("page", PYTHON_PAGES)
def test_python_examples_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": f"docs_{page.replace('-', '_').removesuffix('.md')}"}
    python_blocks = blocks(page, "python")
    assert python_blocks, f"{page} has no python examples"
    for index, (_, body) in enumerate(python_blocks, start=1):
        try:
            exec(compile(body, f"{page} python block {index}", "exec"), namespace)
        except Exception as exc:
            pytest.fail(f"{page}, python block {index} raised {type(exc).__name__}: {exc}")


@pytest.mark.parametrize("page", docs_runner.page_params())
def test_command_blocks_run(page, tmp_path):
    docs_runner.run_page(page, tmp_path)


def test_every_command_block_is_labelled():
    """A bare ``` fence holding commands would silently escape the runner."""
    for page in docs_runner.all_pages():
        for block in docs_runner.page_blocks(page):
            if block.language == "" and block.looks_like_commands():
                pytest.fail(f"{page.name} line {block.line}: label the block ```bash (it runs) or ```text")


def test_the_runner_refuses_unmarked_shell():
    bad = docs_runner.Block(language="bash", body="pip install digitkit\n", line=1, markers={})
    with pytest.raises(AssertionError, match="not-run"):
        docs_runner.commands_of(bad, Path("x.md"))


@pytest.mark.parametrize("page", OWN_PAGES)
def test_relative_links_resolve(page):
    text = (DOCS / page).read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)#:\s]+)(?:#[^)]*)?\)", text):
        if target in PAGES_OF_OTHER_AREAS:
            continue
        assert (DOCS / target).exists(), f"{page} links to {target}, which does not exist"
