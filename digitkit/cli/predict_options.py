"""`digitkit predict`'s options, declared once and without Typer.

:mod:`digitkit.cli.predict` makes the Typer command's options from this table, and
:mod:`digitkit.cli.entry` parses a plain ``digitkit predict`` with it before Typer is even
imported; there is no second table to keep in agreement.
"""

from __future__ import annotations

from digitkit._internal.declared import Declared

OPTIONS: list[Declared] = [
    Declared(("--model", "-m"), "Run id, .keras/.tflite path, run folder, model name (its latest run), or "
             "NAME@pretrained.", name="model", default="cnn", complete="complete_model_ref"),
    Declared(("--top-k", "-k"), "Digits to rank per image.", int, name="top_k", default=3, min=1, max=10,
             metavar="K"),
    Declared(("--json",), "Print machine-readable JSON on stdout.", bool, name="json_output", default=False),
    Declared(("--jsonl",), "Print one JSON object per image on stdout, as each is done.", bool,
             name="jsonl_output", default=False),
    Declared(("--csv",), "Print CSV on stdout (one row per image, as each is done).", bool, name="csv_output",
             default=False),
    Declared(("--show",), "Draw each digit as the model received it, beside the picture as found (paper, "
             "ink, crop).", bool, name="show", default=False),
    Declared(("--min-confidence",), "Answer '?' (status unsure) when the calibrated top probability is below "
             "this (default for the status: 0.999).", float,
             name="min_confidence", default=None, min=0.0, max=1.0, metavar="P", show_default=False),
    Declared(("--no-preprocess",), "Only resize to 28x28 (for images already in MNIST form: white on black, "
             "centred).", bool, name="no_preprocess", default=False),
    Declared(("--backend",), "auto (LiteRT when the run has model.tflite, else Keras), litert or keras.",
             name="backend", default="auto", choices=("auto", "litert", "keras")),
    Declared(("--tta",), "Test-time augmentation: average the answers for the digit shifted a pixel each way and "
             "scaled by 0.9 and 1.1 (7 model calls per digit).", bool, name="tta", default=False),
    Declared(("--strict",), "Exit with code 8 when an answer is unsure or not a digit.", bool, name="strict",
             default=False),
]
