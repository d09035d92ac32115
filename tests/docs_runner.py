"""Run the command blocks of README.md and docs/*.md, the way a newcomer would type them.

Every ```bash, ```sh and ```console block runs, page by page, in order, each command in a
subprocess (`python -m digitkit ...`) with its own temporary home, offline, at 80 columns.
In ```console blocks, commands start with `$ ` and the lines after one must appear in its
output. A block may be preceded by HTML comments (invisible on GitHub) that change this:

    <!-- not-run: REASON -->        skip the block; the reason is required
    <!-- test-with: fit --epochs 1 --train-size 500 -->
                                    append these options to that command's lines in the
                                    block (keeps training examples small; repeatable)
    <!-- test-files: my-digit.png digits/ number-4071.png -->
                                    create these inputs first: a handwritten digit image
                                    (dark ink on light paper), a folder of three, or a
                                    handwritten number (number-DIGITS.png, or NAME_DIGITS.png
                                    as scripts/make_numbers.py names them)
    <!-- expect-exit: 2 -->         the block's commands must exit with this code

A page whose commands train or load TensorFlow is marked slow (CI runs slow tests too).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)
MARKER = re.compile(r"<!--\s*(not-run|test-with|test-files|expect-exit):\s*(.*?)\s*-->")
COMMAND_LANGUAGES = {"bash", "sh", "shell", "console"}
SHELL_SYNTAX = re.compile(r"[|<>;&`]|\$\(")
# Commands that train or import TensorFlow: a page running one of them is slow.
HEAVY = {"fit", "evaluate", "predict", "export", "report", "bench", "show-model", "info", "plugins", "plugin"}
TIMEOUT_S = 900


@dataclass
class Block:
    language: str
    body: str
    line: int
    markers: dict[str, list[str]] = field(default_factory=dict)

    def looks_like_commands(self) -> bool:
        first = next((line.strip() for line in self.body.splitlines() if line.strip()), "")
        return first.startswith(("digitkit ", "$ "))


@dataclass
class Command:
    argv: list[str]
    expected: list[str]
    text: str


def all_pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def page_blocks(page: Path) -> list[Block]:
    text = page.read_text(encoding="utf-8")
    blocks = []
    for match in FENCE.finditer(text):
        # Markers are the HTML comments on the lines right above the fence.
        above = text[:match.start()].rstrip("\n").splitlines()
        markers: dict[str, list[str]] = {}
        while above and MARKER.fullmatch(above[-1].strip()):
            kind, value = MARKER.fullmatch(above.pop().strip()).groups()
            markers.setdefault(kind, []).append(value)
        blocks.append(Block(match.group(1), match.group(2), text[:match.start()].count("\n") + 1, markers))
    return blocks


def _logical_lines(body: str) -> list[str]:
    return body.replace("\\\n", " ").splitlines()


def commands_of(block: Block, page: Path) -> list[Command]:
    """The commands a block runs, with test-with options added; fails on what cannot run."""
    where = f"{page.name} line {block.line}"
    console = block.language == "console"
    commands: list[Command] = []
    for line in _logical_lines(block.body):
        if console and not line.startswith("$ "):
            if line.strip():
                assert commands, f"{where}: output before any `$ ` command"
                commands[-1].expected.append(line.strip())
            continue
        text = line[2:] if console else line
        argv = shlex.split(text, comments=True)
        if not argv:
            continue
        assert argv[0] == "digitkit" and not SHELL_SYNTAX.search(text.split("#")[0]), (
            f"{where}: `{text.strip()}` is not a plain digitkit command; put <!-- not-run: REASON --> "
            "above the block (or make it one)")
        for extra in block.markers.get("test-with", []):
            subcommand, *options = shlex.split(extra)
            if len(argv) > 1 and argv[1] == subcommand:
                argv += options
        commands.append(Command(argv, [], text.strip()))
    return commands


def runnable_blocks(page: Path) -> list[Block]:
    blocks = []
    for block in page_blocks(page):
        if block.language not in COMMAND_LANGUAGES:
            continue
        reasons = block.markers.get("not-run", [])
        assert all(reasons), f"{page.name} line {block.line}: not-run needs a reason"
        if not reasons:
            blocks.append(block)
    return blocks


def page_params() -> list:
    params = []
    for page in all_pages():
        blocks = runnable_blocks(page)
        if not blocks:
            continue
        heavy = any(len(c.argv) > 1 and c.argv[1] in HEAVY for b in blocks for c in commands_of(b, page))
        params.append(pytest.param(page, id=page.name, marks=[pytest.mark.slow] if heavy else []))
    return params


def _digit_image(path: Path, index: int = 0) -> None:
    """A test digit as a phone photo would show it: dark ink on light paper, larger than 28 px."""
    from PIL import Image

    from digitkit.data import load_digits

    digits = load_digits("sample", "test")
    ink = 255 - digits.images[index].astype("uint8")
    image = Image.fromarray(ink, mode="L").resize((112, 112), Image.Resampling.BILINEAR).convert("RGB")
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)


def _number_image(path: Path, text: str) -> None:
    """A handwritten number (``number-4071.png``): sample test digits side by side, dark on light."""
    import numpy as np
    from PIL import Image

    from digitkit.data import load_digits

    digits = load_digits("sample", "test")
    inks = [digits.images[int(np.flatnonzero(digits.labels == int(c))[0])][:, 4:24] for c in text]
    row = np.hstack([np.pad(ink, ((8, 8), (2, 2))) for ink in inks])
    image = Image.fromarray(255 - row, mode="L")
    path.parent.mkdir(parents=True, exist_ok=True)
    image.resize((row.shape[1] * 3, row.shape[0] * 3), Image.Resampling.BILINEAR).save(path)


def make_files(names: list[str], cwd: Path) -> None:
    for name in (n for value in names for n in value.split()):
        number = re.fullmatch(r"(?:.*/)?(?:number-|\w*_)(\d+)\.png", name)
        if number:
            _number_image(cwd / name, number.group(1))
        elif name.endswith("/"):
            for i in range(3):
                _digit_image(cwd / name / f"digit-{i}.png", i)
        else:
            _digit_image(cwd / name)


def run_page(page: Path, tmp_path: Path) -> None:
    cwd = tmp_path / "work"
    cwd.mkdir()
    env = {**os.environ, "DIGITKIT_HOME": str(tmp_path / "home"), "DIGITKIT_OFFLINE": "1",
           "DIGITKIT_PLUGINS": "none", "COLUMNS": "80", "NO_COLOR": "1", "TERM": "dumb"}
    env.pop("DIGITKIT_DEBUG", None)
    for block in runnable_blocks(page):
        make_files(block.markers.get("test-files", []), cwd)
        expected_exit = int(block.markers.get("expect-exit", ["0"])[0])
        for command in commands_of(block, page):
            proc = subprocess.run([sys.executable, "-m", "digitkit", *command.argv[1:]], cwd=cwd, env=env,
                                  capture_output=True, text=True, timeout=TIMEOUT_S, stdin=subprocess.DEVNULL)
            where = f"{page.name} line {block.line}: `{command.text}`"
            assert proc.returncode == expected_exit, (
                f"{where} exited {proc.returncode} (expected {expected_exit}):\n{proc.stderr[-3000:]}")
            output = proc.stdout + proc.stderr
            for line in command.expected:
                if line in ("...", "…"):
                    continue
                assert line in output, f"{where} no longer prints {line!r}:\n{output[-3000:]}"
