"""Every test gets its own digitkit home, a fixed terminal width, and only the built-in zoo."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest

from digitkit.plugins import registry
from plugin_fixtures import write_fake_plugin


def pytest_configure(config):
    """Give SIGINT and SIGTERM their usual dispositions, whoever started pytest.

    A shell without job control starts a background job (``pytest &``, some CI runners) with
    SIGINT ignored; Python then keeps it ignored, and so does every child it starts, so the
    Ctrl-C tests (an ``os.kill(SIGINT)`` in-process or in a subprocess) saw nothing happen.
    A Python handler here is reset to the default in every child at exec.
    """
    if signal.getsignal(signal.SIGINT) in (signal.SIG_IGN, None):
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if signal.getsignal(signal.SIGTERM) in (signal.SIG_IGN, None):
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path_factory, monkeypatch):
    home = tmp_path_factory.mktemp("digitkit-home")
    monkeypatch.setenv("DIGITKIT_HOME", str(home))
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("TERM", "dumb")
    monkeypatch.delenv("DIGITKIT_DEBUG", raising=False)
    monkeypatch.delenv("DIGITKIT_STRICT_PLUGINS", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)  # a developer's MLflow must not get test fits
    # Plugins installed in the test environment (e.g. the example plugin) must not leak in.
    monkeypatch.setenv("DIGITKIT_PLUGINS", "none")
    # Tests never touch the network: the default dataset falls back to the bundled sample.
    monkeypatch.setenv("DIGITKIT_OFFLINE", "1")
    registry.reset()
    yield home
    registry.reset()


@pytest.fixture
def home(isolated_environment) -> Path:
    return isolated_environment


@pytest.fixture
def cli():
    """Invoke the digitkit CLI in-process; returns the click Result."""
    from typer.testing import CliRunner

    from digitkit.cli.app import app

    runner = CliRunner()

    def invoke(*args: str, **kwargs):
        return runner.invoke(app, [str(a) for a in args], **kwargs)

    return invoke


@pytest.fixture
def fake_plugins(tmp_path, monkeypatch):
    """Install fake plugin distributions as dist-info folders on sys.path.

    Call ``fake_plugins(dist_name, {entry_name: "module:attr"}, module_source)``.
    """
    monkeypatch.setenv("DIGITKIT_PLUGINS", "all")
    monkeypatch.syspath_prepend(str(tmp_path))

    def install(dist: str, entry_points: dict[str, str], modules: dict[str, str], version: str = "1.0") -> None:
        write_fake_plugin(tmp_path, dist, entry_points, modules, version)
        for name in modules:
            sys.modules.pop(name, None)
        registry.reset()

    yield install
    registry.reset()


@pytest.fixture(scope="session")
def fitted_run_template(tmp_path_factory):
    """One real run: `fit 25-15-10` for one epoch on 300 digits of the bundled sample.

    Trained once per session (offline, so the default dataset falls back to the bundled
    sample exactly as on a user's offline machine); tests copy it with :func:`make_run`.
    """
    from digitkit.training import fit

    root = tmp_path_factory.mktemp("fitted-runs")
    saved = {key: os.environ.get(key) for key in ("DIGITKIT_OFFLINE", "DIGITKIT_PLUGINS", "DIGITKIT_HOME",
                                                  "MLFLOW_TRACKING_URI")}
    os.environ.update(DIGITKIT_OFFLINE="1", DIGITKIT_PLUGINS="none", DIGITKIT_HOME=str(root / "home"))
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    registry.reset()
    try:
        result = fit("25-15-10", epochs=1, train_size=300, test_size=100, seed=1, out=root / "runs")
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        registry.reset()
    return Path(result.run_path)


@pytest.fixture
def make_run(home, fitted_run_template):
    """Copy the session's real run into this test's home under a new id; returns the Run.

    ``make_run(stamp="20200101-000000", model=None, **manifest_fields)``: ``stamp`` backdates
    the id (ids sort by time); other keyword arguments change manifest fields (``status``,
    ``name``...). ``model`` relabels the run as another model (the files stay 25-15-10's).
    """
    import secrets
    import shutil
    from datetime import datetime

    from digitkit import runs

    def make(stamp: str | None = None, model: str | None = None, **fields) -> runs.Run:
        stamp = stamp or datetime.now().strftime("%Y%m%d-%H%M%S")
        name = model or "25-15-10"
        run_id = f"{stamp}-{name}-{secrets.token_hex(2)}"
        target = home / "runs" / run_id
        shutil.copytree(fitted_run_template, target)
        run = runs.Run(target)
        run.update_manifest(id=run_id, model=name, **fields)
        return run

    return make
