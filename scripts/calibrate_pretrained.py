"""Fit the calibration of the shipped weights and record it in their model cards.

    python scripts/calibrate_pretrained.py --dataset MNIST_IDX_DIR [--models cnn cnn-best]

The same computation as the end of ``digitkit fit``: a temperature fitted
(``digitkit.training.calibration``) on the run's own validation digits, which
``digitkit.fit`` held out with the recipe's ``validation_split`` and the card's seed from
the training IDX files, so the test set stays unseen. The scores are those of the shipped
``.tflite`` (float16 weights), what ``digitkit predict`` runs by default. The card gains
``calibration``: the temperature, the digits it was fitted on, and the NLL and ECE
(15 bins) before and after, on the validation digits and on the official test set. A model
trained with no validation split (dense-sigmoid) is calibrated on the even-numbered test
digits and measured on the odd-numbered ones, as the card's ``fitted_on`` says: the two
halves of the MNIST test file come from different writers (dense-sigmoid is right on 92.4 %
of the first 5,000 and 95.7 % of the last), so a first-half/second-half split fits on one
population and measures on another.
``scripts/train_pretrained.py`` calls :func:`calibrate_card` after packaging a model.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WEIGHTS = ROOT / "digitkit" / "pretrained" / "weights"


def validation_digits(dataset: Path, fraction: float, seed: int) -> Any:
    """The digits ``digitkit.fit(..., dataset=dataset, seed=seed)`` held out for validation."""
    from digitkit.data import load_digits
    from digitkit.training.data import split_validation

    return split_validation(load_digits(str(dataset), "train"), fraction, seed).validation


def calibrate_card(name: str, dataset: Path) -> dict[str, Any]:
    """Fit ``name``'s temperature on its validation digits and write it into its card."""
    import numpy as np

    from digitkit._internal import atomic
    from digitkit.data import load_digits
    from digitkit.evaluation.calibration_error import expected_calibration_error
    from digitkit.evaluation.metrics import cross_entropy
    from digitkit.inference import load
    from digitkit.inference.outputs import NO_CALIBRATION, Calibration, calibrate
    from digitkit.training.calibration import calibration_record

    card_path = WEIGHTS / f"{name}.json"
    card = json.loads(card_path.read_text())
    card.pop("calibration", None)
    atomic.write_text(card_path, json.dumps(card, indent=2) + "\n")  # load() must not apply an old one
    predictor = load(f"{name}@pretrained", backend="litert")
    held = validation_digits(dataset, float(card["recipe"]["validation_split"]), int(card["seed"]))
    test = load_digits(str(dataset), "test")
    test_images, labels = test.images, np.asarray(test.labels, np.int64)
    if held is not None:
        record = calibration_record(predictor.scores(held.images), held.labels, predictor.output,
                                    fitted_on=f"validation split ({len(held):,} digits)")
    else:  # trained on every training digit: half of the test set is the only unseen data
        fit, measured = slice(0, None, 2), slice(1, None, 2)  # interleaved: both halves mix both writer groups
        record = calibration_record(predictor.scores(test_images[fit]), labels[fit], predictor.output,
                                    fitted_on=f"the {len(labels[fit]):,} even-numbered MNIST test digits "
                                              "(no validation split); 'test' below is measured on the "
                                              f"{len(labels[measured]):,} odd-numbered ones")
        test_images, labels = test_images[measured], labels[measured]
    raw = predictor.scores(test_images)
    calibration = Calibration(record["temperature"], "pretrained")
    scored = {}
    for label, cal in (("before", NO_CALIBRATION), ("after", calibration)):
        probabilities = calibrate(raw, predictor.output, cal)
        scored[label] = (expected_calibration_error(probabilities, labels), cross_entropy(probabilities, labels))
    record["test"] = {"digits": int(len(labels)),
                      "ece": {k: round(v[0], 6) for k, v in scored.items()},
                      "nll": {k: round(v[1], 6) for k, v in scored.items()}}
    card["calibration"] = record
    atomic.write_text(card_path, json.dumps(card, indent=2) + "\n")
    print(f"[{name}] temperature {record['temperature']:.3f} (validation ECE {record['ece']['before']:.4f} -> "
          f"{record['ece']['after']:.4f}): test ECE {scored['before'][0]:.4f} -> "
          f"{scored['after'][0]:.4f}, NLL {scored['before'][1]:.4f} -> {scored['after'][1]:.4f}", flush=True)
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, required=True, help="folder of MNIST IDX files (train + t10k)")
    parser.add_argument("--models", nargs="+", help="default: every shipped model")
    args = parser.parse_args(argv)
    from digitkit import pretrained

    for name in args.models or pretrained.names():
        calibrate_card(name, args.dataset)
    return 0


if __name__ == "__main__":
    sys.exit(main())
