"""Several machines for real: two worker processes on 127.0.0.1 with TF_CONFIG and
MultiWorkerMirroredStrategy train one epoch together (docs/training.md shows the commands)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap

import pytest

WORKER = textwrap.dedent("""
    import hashlib, json, sys
    import keras
    import numpy as np
    from digitkit.training import fit

    digests = []

    class Digest(keras.callbacks.Callback):
        def on_train_end(self, logs=None):
            blob = b"".join(np.asarray(w).tobytes() for w in self.model.get_weights())
            digests.append(hashlib.sha256(blob).hexdigest())

    result = fit("25-15-10", devices="all", epochs=1, seed=7, batch_size=32, train_size=256, test_size=64,
                 dataset="sample", out=sys.argv[1], callbacks=[Digest()])
    print("RESULT=" + json.dumps({"digest": digests[-1], "run": str(result.run_path),
                                  "placement": result.run.manifest["placement"] if result.run_path.exists() else None}))
""")


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@pytest.mark.slow
def test_two_workers_train_one_run_and_agree_on_the_weights(tmp_path):
    cluster = {"worker": [f"127.0.0.1:{port}" for port in free_ports(2)]}
    procs = []
    for index in range(2):
        env = {**os.environ, "DIGITKIT_HOME": str(tmp_path / f"home{index}"), "DIGITKIT_OFFLINE": "1",
               "TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})}
        out = tmp_path / f"out{index}"
        procs.append(subprocess.Popen([sys.executable, "-c", WORKER, str(out)], stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True, env=env))
    results = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=600)
        lines = [line for line in stdout.splitlines() if line.startswith("RESULT=")]
        assert proc.returncode == 0 and lines, stderr[-3000:]
        results.append(json.loads(lines[0][len("RESULT="):]))
    chief, worker = results
    assert chief["digest"] == worker["digest"]  # the workers agree on the trained weights
    assert chief["placement"]["strategy"] == "multi-worker" and chief["placement"]["replicas"] == 2
    (run,) = [p for p in (tmp_path / "out0").iterdir() if p.is_dir()]  # the chief wrote one complete run
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "completed" and (run / "model.keras").is_file() and not (run / "state").exists()
    assert not (tmp_path / "out1").exists() or not any((tmp_path / "out1").iterdir())  # the worker kept nothing
