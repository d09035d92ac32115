"""fit's options are checked before TensorFlow is imported; --dataset strings resolve one way."""

from __future__ import annotations

import subprocess
import sys

import pytest

from digitkit.data.resolve import resolve_dataset
from digitkit.errors import EXIT_USAGE, UsageError

PROBE = """
import sys
sys.argv = ["digitkit", *{args!r}]
from digitkit.cli.app import app
try:
    app()
except SystemExit as exc:
    code = exc.code
heavy = [m for m in ("tensorflow", "keras", "tensorflow_datasets") if m in sys.modules]
print("HEAVY=" + ",".join(heavy) + " CODE=" + str(code), file=sys.stderr)
"""

BAD = [
    (["fit", "cnn", "--epochs", "0"], "--epochs >= 1"),
    (["fit", "cnn", "--learning-rate", "-1"], "--learning-rate"),
    (["fit", "cnn", "--batch-size", "0"], "--batch-size"),
    (["fit", "cnn", "--validation-split", "1"], "--validation-split"),
    (["fit", "cnn", "--patience", "0"], "--patience"),
    (["fit", "cnn", "--train-size", "0"], "--train-size"),
    (["fit", "cnn", "--seed", "-1"], "--seed"),
    (["fit", "cnn", "--devices", "many"], "--devices"),
    (["fit", "cnn", "--dataset", ""], "expected a dataset"),
    (["fit", "cnn", "--dataset", "mnsit"], "did you mean mnist"),
    (["fit", "cnn", "--dataset", "mnist_corrupted/nope"], "no variant 'nope'"),
    (["fit", "cnn", "--name", "two words"], "--name"),
    (["fit", "no-such-model"], "unknown model"),
    (["fit", "--resume", "x", "--batch-size", "3"], "cannot change --batch-size"),
]


@pytest.mark.parametrize("args, message", BAD, ids=[" ".join(a[1:]) for a, _ in BAD])
def test_bad_option_fails_without_importing_tensorflow(args, message):
    proc = subprocess.run([sys.executable, "-c", PROBE.format(args=args)], capture_output=True, text=True,
                          timeout=120)
    (probe,) = [line for line in proc.stderr.splitlines() if line.startswith("HEAVY=")]
    assert probe == f"HEAVY= CODE={EXIT_USAGE}", proc.stderr[-2000:]
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert len([line for line in proc.stderr.splitlines() if line.startswith("error:")]) == 1


def test_resolve_dataset_rules(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mnist").mkdir()  # a folder named like a tfds dataset: the tfds name wins
    assert resolve_dataset("mnist").kind == "tfds"
    assert resolve_dataset("./mnist").kind == "folder"
    assert resolve_dataset(None).kind == "default" and resolve_dataset("sample").kind == "sample"
    assert resolve_dataset("emnist/digits").kind == "tfds"
    assert resolve_dataset("mnist_corrupted/shot_noise").name == "mnist_corrupted/shot_noise"
    with pytest.raises(UsageError, match="did you mean mnist_corrupted/shot_noise"):
        resolve_dataset("mnist_corrupted/shot_nosie")
    with pytest.raises(UsageError) as caught:
        resolve_dataset("smaple")
    assert "sample" in caught.value.hint
    with pytest.raises(UsageError, match="expected a dataset"):
        resolve_dataset("  ")


def test_load_digits_and_prepare_dataset_agree_on_a_folder_named_like_tfds(tmp_path, monkeypatch):
    from digitkit.data.catalog import prepare_dataset

    monkeypatch.chdir(tmp_path)
    (tmp_path / "sample").mkdir()
    with pytest.raises(UsageError, match="needs no preparing"):  # "sample" is the sample, not ./sample
        prepare_dataset("sample")
    with pytest.raises(UsageError, match="unknown dataset"):
        prepare_dataset("nonsense")


def test_image_folder_warns_about_one_class_and_lists_ignored_folders(tmp_path):
    from PIL import Image

    from digitkit.data import load_digits

    for name in ("7", "seven", "10", "-1"):
        (tmp_path / name).mkdir()
    for i in range(6):
        image = Image.new("L", (28, 28), 0)
        image.paste(255, (8 + i % 3, 6, 12 + i % 3, 22))  # a white stroke: some ink to find
        image.save(tmp_path / "7" / f"{i}.png")
    digits = load_digits(str(tmp_path), "train")
    notes = " | ".join(digits.notes)
    assert "all one digit (7)" in notes
    assert "not named 0-9: -1, 10, seven" in notes


@pytest.mark.slow
def test_a_spec_with_five_classes_is_refused_before_training(fake_plugins):
    fake_plugins("digitkit-five", {"five-classes": "five_classes:SPEC"}, {"five_classes": FIVE})
    from digitkit.training import fit

    with pytest.raises(UsageError, match="declares 5 classes"):
        fit("five-classes", epochs=1, train_size=50)


FIVE = """
from digitkit.spec import InputSpec, ModelSpec, Recipe

def build():
    import keras
    inputs = keras.Input(shape=(784,))
    return keras.Model(inputs, keras.layers.Dense(5, activation="softmax")(inputs))

SPEC = ModelSpec(name="five-classes", summary="Five outputs.", input=InputSpec(28, (784,)),
                 output="probabilities", params=3925, recipe=Recipe(), builder=build, num_classes=5)
"""
