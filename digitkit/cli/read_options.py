"""`digitkit read`'s options, declared once and without Typer.

:mod:`digitkit.cli.read` makes the Typer command's options from this table, and
:mod:`digitkit.cli.entry` parses a plain ``digitkit read`` with it before Typer is imported.
"""

from __future__ import annotations

from digitkit._internal.declared import Declared

OPTIONS: list[Declared] = [
    Declared(("--model", "-m"), "Run id, .keras/.tflite path, run folder, model name (its latest run), or "
             "NAME@pretrained.", name="model", default="cnn-best", complete="complete_model_ref"),
    Declared(("--top-k", "-k"), "Digits to rank for each digit found.", int, name="top_k", default=3, min=1, max=10,
             metavar="K"),
    Declared(("--digits",), "Read exactly N digits (when the count is known, e.g. a zip code).", int, name="digits",
             default=None, min=1, max=200, metavar="N", show_default=False),
    Declared(("--reader",), "auto (with cnn-best: the sequence reader for lines whose digits run together or that "
             "the readers count differently, the likelier of the two readings elsewhere; with other models: classic), "
             "classic (cut and classify) or sequence (every line).",
             name="reader", default="auto", choices=("auto", "classic", "sequence"), metavar="READER"),
    Declared(("--keep-marks",), "Keep dots, commas and dashes between digits in the text.", bool, name="keep_marks",
             default=False),
    Declared(("--json",), "Print machine-readable JSON on stdout.", bool, name="json_output", default=False),
    Declared(("--jsonl",), "Print one JSON object per picture on stdout, as each is done.", bool,
             name="jsonl_output", default=False),
    Declared(("--csv",), "Print CSV on stdout (one row per picture, as each is done).", bool, name="csv_output",
             default=False),
    Declared(("--backend",), "auto (LiteRT when the run has model.tflite, else Keras), litert or keras.",
             name="backend", default="auto", choices=("auto", "litert", "keras")),
    Declared(("--strict",), "Exit with code 8 when a digit is unsure or not a digit.", bool, name="strict",
             default=False),
]
