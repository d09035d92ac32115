"""`digitkit plugin new`: the scaffolded project installs with pip and passes its own tests."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from digitkit.errors import UsageError
from digitkit.plugins.scaffold import new_plugin, plugin_names, render_files


def test_names_follow_the_model_name():
    assert plugin_names("lenet5") == ("digitkit-lenet5", "digitkit_lenet5")
    assert plugin_names("bn-cnn.v2") == ("digitkit-bn-cnn.v2", "digitkit_bn_cnn_v2")
    with pytest.raises(UsageError, match="expected a lower-case model name"):
        plugin_names("LeNet")


def test_templates_carry_the_names():
    files = render_files("lenet5")
    assert '"lenet5" = "digitkit_lenet5.model:SPEC"' in files["pyproject.toml"]
    assert 'name="lenet5"' in files["src/digitkit_lenet5/model.py"]
    assert "from digitkit_lenet5.model import SPEC" in files["tests/test_model.py"]
    assert "$" not in files["src/digitkit_lenet5/model.py"]


def test_cli_creates_the_project_and_says_what_next(cli, tmp_path):
    target = tmp_path / "my-plugin"
    result = cli("plugin", "new", "lenet5", "--dir", str(target))
    assert result.exit_code == 0, result.stderr
    assert str(target / "pyproject.toml") in result.stdout
    assert "created digitkit-lenet5" in result.stderr
    assert "digitkit plugins check lenet5" in result.stderr
    assert sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file()) == [
        ".gitignore", "README.md", "pyproject.toml", "src/digitkit_lenet5/__init__.py",
        "src/digitkit_lenet5/model.py", "tests/test_model.py"]


def test_cli_defaults_to_a_folder_named_after_the_distribution(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli("plugin", "new", "lenet5").exit_code == 0
    assert (tmp_path / "digitkit-lenet5" / "pyproject.toml").is_file()


def test_cli_refuses_a_folder_that_is_not_empty(cli, tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    result = cli("plugin", "new", "lenet5", "--dir", str(tmp_path))
    assert result.exit_code == 2
    assert "already exists and is not empty" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


def test_cli_refuses_a_bad_name(cli, tmp_path):
    result = cli("plugin", "new", "Bad Name", "--dir", str(tmp_path / "x"))
    assert result.exit_code == 2
    assert "expected a lower-case model name" in result.stderr
    assert not (tmp_path / "x").exists()


def test_new_plugin_fills_an_empty_folder(tmp_path):
    result = new_plugin("lenet5", tmp_path)
    assert result.path == tmp_path and (tmp_path / "README.md").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".lenet5") or p.name.startswith(f".{tmp_path.name}")]


def _venv_on_top_of_this_one(folder: Path) -> Path:
    """A fresh venv that sees this environment's packages (digitkit, keras, pytest)."""
    venv.EnvBuilder(with_pip=False).create(folder)
    python = folder / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    site_packages = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                   capture_output=True, text=True, check=True).stdout.strip()
    parent = sysconfig.get_paths()["purelib"]
    # An `import` line in a .pth file runs at start-up; addsitedir also runs the parent's
    # .pth files (digitkit's editable install).
    (Path(site_packages) / "digitkit-parent.pth").write_text(f"import site; site.addsitedir({parent!r})\n")
    return python


@pytest.mark.slow  # a venv, a pip install and a pytest run that imports TensorFlow: 15-40 s
def test_scaffolded_plugin_installs_and_passes_its_own_tests(tmp_path):
    if importlib.util.find_spec("setuptools") is None:  # venvs of Python 3.12+ come without it
        pytest.skip("setuptools is not installed: pip cannot build the project offline")
    project = new_plugin("scaffolded", tmp_path / "digitkit-scaffolded").path
    python = _venv_on_top_of_this_one(tmp_path / "venv")
    env = {k: v for k, v in os.environ.items() if k not in ("DIGITKIT_PLUGINS", "PYTHONPATH")}
    install = subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                              "--no-index", str(project)], capture_output=True, text=True, env=env, timeout=300)
    assert install.returncode == 0, install.stderr[-3000:]

    listed = subprocess.run([python, "-m", "digitkit", "list-models", "scaffolded", "--json"],
                            capture_output=True, text=True, env=env, timeout=120)
    assert listed.returncode == 0, listed.stderr[-2000:]
    [model] = json.loads(listed.stdout)
    assert (model["name"], model["provider"]["distribution"]) == ("scaffolded", "digitkit-scaffolded")

    tests = subprocess.run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project,
                           capture_output=True, text=True, env=env, timeout=300)
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-2000:]
    assert "2 passed" in tests.stdout


def test_plugins_new_warns_about_a_name_an_installed_model_uses(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    taken = cli("plugins", "new", "cnn")
    assert taken.exit_code == 0, taken.stderr
    warning = " ".join(line for line in taken.stderr.splitlines() if not line.startswith(("created", "next", "  ")))
    assert "warning: a model called 'cnn' is already installed (digitkit" in " ".join(warning.split())
    assert "pick another name" in taken.stderr
    fresh = cli("plugins", "new", "lenet5x")
    assert fresh.exit_code == 0 and "warning" not in fresh.stderr
    # Each next step on its own line, relative to here: nothing folds mid-command at 80 columns.
    assert "  pip install -e digitkit-lenet5x" in fresh.stderr.splitlines()
    assert all(len(line) <= 80 for line in fresh.stderr.splitlines())
