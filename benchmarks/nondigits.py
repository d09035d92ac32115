"""Answers you can act on: non-digits flagged, real digits flagged, ``ok`` answers right, ECE.

    python benchmarks/nondigits.py [--model cnn-best@pretrained] [--data MNIST_IDX_DIR]
                                   [--count 40] [--digits 1000] [--min-confidence P]
                                   [--nondigits DIR] [--realworld DIR]

Makes (or reuses) the project's non-digit set (``scripts/make_nondigits.py``: letters,
symbols, hand-like letters, scribbles, shapes, noise, pieces of digits, pairs of digits,
each drawn as every real-world kind) and the real-world digits
(``scripts/make_realworld_digits.py``), runs them through ``digitkit.predict`` exactly as
``digitkit predict`` does (intake, calibrated model, status), and prints:

- per non-digit content and per kind: the share flagged, i.e. answered ``unsure`` or
  ``not-a-digit`` or refused by the intake (a blank picture);
- per real-world kind: accuracy, the share of real digits flagged, the accuracy of the
  answers left ``ok``, and the ECE (15 bins) of the calibrated probabilities.

It then compares the candidate scores on the same pictures (AUROC of telling non-digits
from real digits: calibrated confidence, energy, confidence with the several-pieces check),
which is how the status rule in ``digitkit/inference/status.py`` was chosen.

Targets (issue 24, ``cnn-best``, default settings): >= 90 % of non-digits flagged; <= 2 %
of real digits flagged on kinds the model gets >= 99 % right; >= 99.5 % of ``ok`` answers
right on every kind; ECE <= 3 % on every kind.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))


def auroc(outlier: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve of ``score`` (higher = more likely an outlier); ties count half."""
    order = np.argsort(score, kind="stable")
    ranks = np.empty(len(score))
    ranks[order] = np.arange(1, len(score) + 1)
    for value in np.unique(score[np.r_[True, np.diff(score[order]) == 0][np.argsort(order)]]):
        tied = score == value
        if tied.sum() > 1:
            ranks[tied] = ranks[tied].mean()
    positives = outlier.sum()
    return float((ranks[outlier].sum() - positives * (positives + 1) / 2) / (positives * (~outlier).sum()))


def predict_folder(folder: Path, model: str, min_confidence: float | None):
    """Rows of labels.csv with each file's prediction (``None`` when the intake refused it)."""
    from digitkit.inference.batch import Failure, stream

    with open(folder / "labels.csv") as handle:
        rows = list(csv.DictReader(handle))
    answers = stream([str(folder / r["file"]) for r in rows], model, top_k=1, min_confidence=min_confidence,
                     keep_images=True)
    found = [None if isinstance(item, Failure) else item for item in answers]
    return rows, found, answers.predictor


# 0.90 to 0.995 by 0.005, then finer: a model trained to say "not a digit" (cnn-best's gate) keeps
# its wrong answers on blocky 8x8 digits under 0.5 % only above 0.995.
THRESHOLDS = (*np.round(np.arange(0.90, 0.9951, 0.005), 3), 0.996, 0.997, 0.998, 0.999)


def choose_threshold(model: str, data: str, target: float = 0.995, kinds: tuple[str, ...] | None = None) -> float:
    """The smallest threshold of :data:`THRESHOLDS` at which ``target`` of the ``ok`` answers
    are right on every real-world kind, measured on the model's *validation* digits (the ones
    fit held out, per its card) drawn as each kind: the test digits stay for the figures above."""
    import make_realworld_digits
    from calibrate_pretrained import validation_digits

    from digitkit import pretrained
    from digitkit.inference.batch import Failure, stream

    name = model.split("@")[0]
    card = pretrained.card(name)
    held = validation_digits(Path(data), float(card["recipe"]["validation_split"]), int(card["seed"]))
    folder = Path(tempfile.mkdtemp(prefix="digitkit-validation-kinds-"))
    chosen = kinds or make_realworld_digits.KINDS
    files, labels, kinds = [], [], []
    for k, kind in enumerate(chosen):
        rng = np.random.default_rng([99, k])
        for i, (image, label) in enumerate(zip(held.images, held.labels)):
            files.append(folder / make_realworld_digits._render(kind, image, rng, folder, f"{kind}-{i:05d}"))
            labels.append(int(label))
            kinds.append(kind)
    found = list(stream([str(f) for f in files], model, top_k=1))
    labels, kinds = np.array(labels), np.array(kinds)
    confidence = np.array([-1.0 if isinstance(p, Failure) else p.confidence for p in found])
    right = np.array([not isinstance(p, Failure) and p.best == y for p, y in zip(found, labels)])
    for threshold in THRESHOLDS:
        shares = [right[(kinds == k) & (confidence >= threshold)].mean() for k in chosen]
        if min(shares) >= target:
            print(f"validation digits ({len(held):,} per kind): at {threshold}, the ok answers are "
                  f"{min(shares):.2%} right or more on every kind")
            return float(threshold)
    return 0.999


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="cnn-best@pretrained")
    parser.add_argument("--data", help="MNIST IDX folder for the real digits (default: the bundled sample)")
    parser.add_argument("--count", type=int, default=40, help="non-digits of each content and kind")
    parser.add_argument("--digits", type=int, default=1000, help="real digits of each kind")
    parser.add_argument("--min-confidence", type=float, help="the unsure threshold (default: digitkit's)")
    parser.add_argument("--nondigits", type=Path, help="use (or fill) this folder made by make_nondigits.py")
    parser.add_argument("--realworld", type=Path, help="use (or fill) this folder made by make_realworld_digits.py")
    parser.add_argument("--choose", action="store_true",
                        help="only choose the threshold on the model's validation digits (needs --data)")
    parser.add_argument("--kinds", help="with --choose: comma-separated real-world kinds (default: all)")
    args = parser.parse_args()
    if args.choose:
        choose_threshold(args.model, args.data, kinds=tuple(args.kinds.split(",")) if args.kinds else None)
        return

    import make_nondigits
    import make_realworld_digits

    from digitkit.evaluation.calibration_error import expected_calibration_error
    from digitkit.inference.status import DEFAULT_MIN_CONFIDENCE, looks_like_several

    nondigits = args.nondigits or Path(tempfile.mkdtemp(prefix="digitkit-nondigits-"))
    if not (nondigits / "labels.csv").exists():
        make_nondigits.make(nondigits, args.count, 0, args.data)
    realworld = args.realworld or Path(tempfile.mkdtemp(prefix="digitkit-realworld-"))
    if not (realworld / "labels.csv").exists():
        make_realworld_digits.make(realworld, args.digits, 0, args.data, make_realworld_digits.KINDS)
    threshold = DEFAULT_MIN_CONFIDENCE if args.min_confidence is None else args.min_confidence
    non_rows, non_found, predictor = predict_folder(nondigits, args.model, args.min_confidence)
    real_rows, real_found, _ = predict_folder(realworld, args.model, args.min_confidence)
    who = predictor.answered_by()
    print(f"model {who['answered_by']} ({predictor.backend}, "
          f"T {predictor.calibration.temperature:.3f}); unsure below {threshold}")

    flagged = [p is None or p.status != "ok" for p in non_found]
    print(f"\nnon-digits flagged (unsure, not-a-digit or refused): {np.mean(flagged):.1%} of {len(flagged):,}")
    contents = sorted({r["content"] for r in non_rows})
    kinds = list(dict.fromkeys(r["kind"] for r in non_rows))
    print(f"{'content':<14}" + "".join(f"{k:>10}" for k in kinds) + f"{'all':>8}")
    for content in contents:
        cells = []
        for kind in kinds:
            picked = [f for r, f in zip(non_rows, flagged) if r["content"] == content and r["kind"] == kind]
            cells.append(f"{np.mean(picked):>10.0%}")
        share = np.mean([f for r, f in zip(non_rows, flagged) if r["content"] == content])
        print(f"{content:<14}" + "".join(cells) + f"{share:>8.0%}")

    print(f"\nreal digits{'':<4}{'count':>6} {'accuracy':>9} {'flagged':>8} {'ok right':>9} {'ECE':>6}")
    by_kind = defaultdict(list)
    for row, found in zip(real_rows, real_found):
        by_kind[row["kind"]].append((int(row["label"]), found))
    for kind, items in by_kind.items():
        labels = np.array([label for label, _ in items])
        answered = [(label, p) for label, p in items if p is not None]
        probabilities = np.stack([p.probabilities for _, p in answered])
        right = np.array([p.best == label for label, p in answered])
        ok = np.array([p.status == "ok" for _, p in answered])
        accuracy = right.sum() / len(labels)  # a refused digit counts wrong
        flagged_share = 1 - ok.sum() / len(labels)
        ece = expected_calibration_error(probabilities, np.array([label for label, _ in answered]))
        ok_right = right[ok].mean() if ok.any() else float("nan")
        print(f"{kind:<15}{len(labels):>6} {accuracy:>9.2%} {flagged_share:>8.1%} {ok_right:>9.2%} {ece:>6.2%}")

    print("\nAUROC, non-digits against real digits (1.0 = separates them all):")
    all_found = [(True, p) for p in non_found if p is not None] + [(False, p) for p in real_found if p is not None]
    outlier = np.array([o for o, _ in all_found])
    probabilities = np.stack([p.probabilities for _, p in all_found])
    confidence = probabilities.max(axis=1)
    logits = np.log(np.clip(probabilities, 1e-30, None)) * predictor.calibration.temperature
    energy = np.log(np.exp(logits - logits.max(axis=1, keepdims=True)).sum(axis=1)) + logits.max(axis=1)
    several = looks_like_several(np.stack([p.image for _, p in all_found]))
    print(f"  calibrated confidence              {auroc(outlier, -confidence):.3f}")
    print(f"  energy (log-sum-exp of the logits) {auroc(outlier, -energy):.3f}")
    print(f"  confidence + several-pieces check  {auroc(outlier, -confidence + 2.0 * several):.3f}")


if __name__ == "__main__":
    main()
