"""The sequence reader inside `digitkit read`: which reader answers, its digits' fields, its file."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

import digitkit
from digitkit.errors import EXIT_MODEL_REFUSED, InputError, ModelRefusedError
from digitkit.reading import sequence
from reading_fixtures import MODEL, compose_text, number_picture

# Five touching digits (make_numbers' drawing of the sample's test digits, seed 3): the
# classic reader loses the "1" inside its neighbours ("5329"), the sequence reader reads it.
TOUCHING = ("touching", 5, 3)
TOUCHING_TEXT = "53129"


@pytest.fixture(scope="module")
def touching(tmp_path_factory):
    text, boxes, path = number_picture(tmp_path_factory.mktemp("touching") / "t", *TOUCHING)
    assert text == TOUCHING_TEXT
    return path


# Four digits with broken strokes (seed 3): the classic reader makes the "6" of its pieces and
# reads a "5"; the two readers count four digits, and the two models together find the
# sequence reader's "0647" likelier than the classic "0547".
BROKEN = ("broken", 4, 3)
BROKEN_TEXT = "0647"


def test_auto_chooses_the_reading_both_models_find_likelier_when_the_counts_agree(tmp_path, monkeypatch):
    from digitkit.reading import number

    text, _, path = number_picture(tmp_path / "b", *BROKEN)
    assert text == BROKEN_TEXT
    classic = digitkit.read(path, model=MODEL, reader="classic").readings[0]
    auto = digitkit.read(path, model=MODEL).readings[0]
    assert len(classic.text) == 4 and classic.text != BROKEN_TEXT  # the same count: only the joint score decides
    assert auto.text == BROKEN_TEXT and auto.line_readers == ["sequence"]
    monkeypatch.setattr(number, "_likelier", lambda *args: False)  # without it, auto keeps the classic reading
    assert digitkit.read(path, model=MODEL).readings[0].text == classic.text


def _alignments(frames: int, labels: list[int]):
    """Every frame-by-frame path CTC collapses to ``labels`` (by brute force)."""
    import itertools

    for path in itertools.product(range(sequence.BLANK + 1), repeat=frames):
        collapsed = [c for i, c in enumerate(path) if c != sequence.BLANK and (i == 0 or path[i - 1] != c)]
        if collapsed == labels:
            yield path


@pytest.mark.parametrize("labels", [[3], [3, 3], [1, 2], [4, 4, 4], []])
def test_ctc_log_likelihood_sums_every_alignment(labels):
    rng = np.random.default_rng(0)
    log_probs = sequence.log_softmax(rng.normal(size=(5, sequence.BLANK + 1)))
    total = sum(np.exp(sum(log_probs[t, c] for t, c in enumerate(path))) for path in _alignments(5, labels))
    found = sequence.ctc_log_likelihood(log_probs, labels)
    if total == 0:  # "444" needs two blanks between its digits: more than 5 frames
        assert found == -np.inf
    else:
        assert found == pytest.approx(np.log(total), rel=1e-9)


def test_a_line_scores_its_own_reading_above_a_different_one(touching):
    from digitkit.reading import number
    from digitkit.intake import read_picture

    p = number.plan("t", read_picture(touching)[1])
    found = sequence.read_lines(p.lines, [p.ink])[0]
    assert found.text == TOUCHING_TEXT
    assert found.log_likelihood(found.text) > max(found.log_likelihood(other) for other in ("5329", "53120", "531299"))
    assert found.log_likelihood(found.text) <= 0


def test_the_classic_score_of_its_own_text_is_its_path_score(tmp_path):
    from digitkit.intake import read_picture
    from digitkit.reading import number
    from digitkit.reading.reader import ReadingStream

    _, _, path = number_picture(tmp_path / "b", *BROKEN)
    p = number.plan("b", read_picture(path)[1])
    probabilities = ReadingStream([], digitkit.load(MODEL), top_k=3, digits=None, keep_marks=False,
                                  keep_pictures=False, chunk=1)._classify([p])[id(p)]
    choice = number.classic_choice(p, probabilities)
    text = choice.text(0, probabilities)
    assert choice.score(0, probabilities, text) == pytest.approx(choice.per_line[0][choice.counts[0]][0])
    other = ("1" if text[0] != "1" else "2") + text[1:]
    assert choice.score(0, probabilities, other) < choice.score(0, probabilities, text)


def test_the_model_moves_to_xnnpack_after_a_few_lines(fresh_model):
    frames = np.zeros((1, sequence.HEIGHT, sequence.WIDTH), np.float32)
    frames[0, 8:24, 10:30] = 1.0
    model = sequence.model()
    first = model.logits(frames)
    assert not model._fast  # a one-picture read pays no XNNPACK set-up
    more = model.logits(np.repeat(frames, sequence.FAST_AFTER, axis=0))
    assert model._fast
    np.testing.assert_allclose(more[0], first[0], atol=1e-3)  # the same model either way


@pytest.fixture
def fresh_model():
    """The sequence model loaded anew in the test (and forgotten after it)."""
    sequence.model.cache_clear()
    yield
    sequence.model.cache_clear()


def test_auto_reads_touching_digits_the_classic_reader_loses(touching):
    classic = digitkit.read(touching, model=MODEL, reader="classic").readings[0]
    auto = digitkit.read(touching, model=MODEL).readings[0]  # auto is the default
    assert classic.text != TOUCHING_TEXT and classic.reader == "classic"
    assert auto.text == TOUCHING_TEXT and auto.reader == "sequence" and auto.line_readers == ["sequence"]


def test_sequence_digits_have_every_field(touching):
    from digitkit.inference.status import status_of

    reading = digitkit.read(touching, model=MODEL, reader="sequence", top_k=3).readings[0]
    width, height = reading.size
    lefts = []
    for d in reading.digits:
        x0, y0, x1, y1 = d.box
        assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height
        lefts.append((x0 + x1) / 2)
        assert len(d.top_k) == 3 and d.top_k[0] == (d.digit, d.confidence)
        assert [p for _, p in d.top_k] == sorted((p for _, p in d.top_k), reverse=True)
        assert 0 < d.confidence <= 1 and d.image.shape == (28, 28) and d.line == 0
    assert lefts == sorted(lefts)
    # The status rule is status.py's, on the digits' probabilities and images.
    rows = np.zeros((len(reading.digits), 10))
    for row, d in zip(rows, reading.digits):
        for digit, p in d.top_k:
            row[digit] = p
    expected = status_of(rows, np.stack([d.image for d in reading.digits]))
    assert [d.status for d in reading.digits] == expected
    assert reading.confidence == pytest.approx(np.prod([d.confidence for d in reading.digits]))


def test_each_line_is_read_from_its_own_ink(tmp_path):
    path = compose_text(tmp_path / "two.png", "4071\n2589", gap=-2)  # digits touching, two lines
    reading = digitkit.read(path, model=MODEL, reader="sequence").readings[0]
    assert reading.text == "4071\n2589"
    assert reading.line_readers == ["sequence", "sequence"]
    assert [d.line for d in reading.digits] == [0] * 4 + [1] * 4
    first, second = reading.digits[:4], reading.digits[4:]
    assert max(d.box[3] for d in first) <= min(d.box[1] for d in second) + 2  # boxes on their own line


def test_reader_option_in_the_cli(cli, touching):
    for reader, text in (("classic", None), ("sequence", TOUCHING_TEXT), ("auto", TOUCHING_TEXT)):
        result = cli("read", touching, "-m", MODEL, "--json", "--reader", reader)
        assert result.exit_code == 0, result.stderr
        reading = json.loads(result.stdout)["readings"][0]
        assert reading["reader"] == ("classic" if reader == "classic" else "sequence")
        assert reading["line_readers"] == [reading["reader"]]
        assert text is None or reading["text"] == text
    result = cli("read", touching, "-m", MODEL, "--jsonl", "--reader", "sequence")
    assert json.loads(result.stdout.splitlines()[0])["reader"] == "sequence"
    bad = cli("read", touching, "-m", MODEL, "--reader", "neural")
    assert bad.exit_code != 0 and "neural" in bad.stderr


def test_unknown_reader_is_a_usage_error(touching):
    from digitkit.errors import UsageError

    with pytest.raises(UsageError, match="reader"):
        digitkit.read(touching, model=MODEL, reader="neural")


def test_digits_keeps_the_sequence_reading_only_when_it_has_that_many(touching):
    five = digitkit.read(touching, model=MODEL, digits=5, reader="sequence").readings[0]
    assert five.reader == "sequence" and five.text == TOUCHING_TEXT
    six = digitkit.read(touching, model=MODEL, digits=6, reader="sequence").readings[0]
    assert six.reader == "classic" and len(six.digits) == 6  # the classic path forces the count


def test_other_models_stay_classic_under_auto(touching, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the sequence model was loaded for another classifier")

    monkeypatch.setattr(sequence, "model", refuse)
    reading = digitkit.read(touching, model="cnn@pretrained").readings[0]
    assert reading.reader == "classic"
    # ... unless the user asks for it.
    monkeypatch.undo()
    assert digitkit.read(touching, model="cnn@pretrained", reader="sequence").readings[0].reader == "sequence"


def test_auto_never_loads_the_sequence_reader_for_whole_sure_digits(tmp_path, monkeypatch):
    """Separated digits, each one piece of ink read surely: the classic reading stands and the
    sequence model is not even loaded (a one-picture read starts as fast as the classic one)."""
    def refuse(*args, **kwargs):
        raise AssertionError("the sequence model was loaded for a clean number")

    path = compose_text(tmp_path / "clean.png", "4071", gap=12)
    classic = digitkit.read(path, model=MODEL, reader="classic").readings[0]
    monkeypatch.setattr(sequence, "model", refuse)
    auto = digitkit.read(path, model=MODEL).readings[0]
    assert auto.text == classic.text == "4071" and auto.line_readers == ["classic"]


@pytest.mark.parametrize("damage", ["truncated", "swapped"])
def test_a_damaged_sequence_reader_is_refused_in_one_line(cli, tmp_path, monkeypatch, fresh_model, touching, damage):
    broken = tmp_path / "sequence-reader.tflite"
    if damage == "truncated":
        broken.write_bytes(sequence.WEIGHTS.read_bytes()[:5000])
    else:  # another LiteRT file in its place
        from digitkit import pretrained

        shutil.copy(pretrained.path("cnn"), broken)
    monkeypatch.setattr(sequence, "WEIGHTS", broken)
    result = cli("read", touching, "-m", MODEL)
    assert result.exit_code == EXIT_MODEL_REFUSED, result.output
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("error: digitkit's sequence reader (sequence-reader.tflite) is damaged"), lines
    assert "reinstall digitkit" in result.stderr and "Traceback" not in result.stderr
    # The classic reader does not need the file.
    assert cli("read", touching, "-m", MODEL, "--reader", "classic").exit_code == 0


def test_a_file_that_is_not_the_sequence_reader_is_refused(tmp_path):
    from digitkit import pretrained

    with pytest.raises(ModelRefusedError, match="not a valid sequence reader"):
        sequence.SequenceModel(pretrained.path("cnn"), digest=None)  # a digit model: wrong shapes


def test_the_shipped_file_matches_its_digest():
    assert sequence.SequenceModel().logits(np.zeros((2, sequence.HEIGHT, sequence.WIDTH))).shape == \
        (2, sequence.FRAMES, sequence.BLANK + 1)


def test_a_sequence_read_does_not_import_tensorflow(touching):
    code = ("import sys, runpy; sys.argv = ['digitkit', 'read', %r, '-m', %r, '--json', '--reader', 'sequence']\n"
            "try:\n    runpy.run_module('digitkit', run_name='__main__')\nexcept SystemExit: pass\n"
            "print('TF' if 'tensorflow' in sys.modules else 'no TF', file=sys.stderr)") % (str(touching), MODEL)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert json.loads(done.stdout)["readings"][0]["text"] == TOUCHING_TEXT
    assert done.stderr.strip().endswith("no TF"), done.stderr


def test_decode_places_each_digit_between_its_neighbours_peaks():
    from digitkit.reading.components import Piece

    # Ink in deslanted columns 0..99; digits peaking at frames 5, 15 and 25.
    xs = np.arange(100)
    source = sequence.LineInput(np.zeros((sequence.HEIGHT, sequence.WIDTH), np.float32), np.full(100, 7), xs, xs,
                                np.zeros(100, np.int64), x0=0, scale=1.0)
    logits = np.full((sequence.FRAMES, 11), -10.0)
    logits[:, sequence.BLANK] = 10.0
    for frame, digit in ((5, 3), (15, 1), (25, 4)):
        logits[frame, sequence.BLANK], logits[frame, digit] = -10.0, 10.0
    found = sequence.decode_line(logits, source)
    assert [int(np.argmax(f.probabilities)) for f in found] == [3, 1, 4]
    centres = [4 * t + 2 - sequence.MARGIN for t in (5, 15, 25)]  # 20, 60, 100
    assert [(int(f.piece.sx.min()), int(f.piece.sx.max())) for f in found] == \
        [(0, (centres[0] + centres[1]) // 2 - 1), ((centres[0] + centres[1]) // 2, (centres[1] + centres[2]) // 2 - 1),
         ((centres[1] + centres[2]) // 2, 99)]
    assert isinstance(found[0].piece, Piece) and found[1].piece.cut_left and found[1].piece.cut_right
    # Nothing read, or two peaks in one column: the line is left to the classic reader.
    blank = np.full((sequence.FRAMES, 11), -10.0)
    blank[:, sequence.BLANK] = 10.0
    assert sequence.decode_line(blank, source) is None


@pytest.mark.filterwarnings("ignore:Using `httpx`")
def test_serve_passes_the_reader_option(home, tmp_path, touching):
    pytest.importorskip("starlette")
    pytest.importorskip("python_multipart")
    pytest.importorskip("httpx")
    from starlette.testclient import TestClient

    from digitkit.serve import create_app
    from digitkit.serve.limits import Limits

    files = [("file", ("t.png", touching.read_bytes(), "image/png"))]
    with TestClient(create_app(MODEL, Limits()), base_url="http://127.0.0.1") as client:
        for reader in ("classic", "sequence"):
            response = client.post(f"/api/read?reader={reader}", files=files)
            assert response.status_code == 200, response.text
            assert response.json()["readings"][0]["reader"] == reader
        assert client.post("/api/read?reader=neural", files=files).status_code == 400


def test_classic_and_digits_errors_are_unchanged(tmp_path):
    path = compose_text(tmp_path / "12.png", "12")
    with pytest.raises(InputError, match="exactly 5 digits"):
        digitkit.read(path, model=MODEL, digits=5, reader="sequence")


def test_a_doubled_digit_the_sequence_model_may_have_run_together_keeps_the_classic_count():
    from digitkit.reading import number

    def frame(**probabilities):
        row = np.full(sequence.BLANK + 1, 1e-6)
        for key, p in probabilities.items():
            row[sequence.BLANK if key == "blank" else int(key[1:])] = p
        return np.log(row / row.sum())

    # "1", a blank, "2", a frame as likely a blank as a "2" (tipping to "2"), "2", then blanks:
    # best path "12", but "122" (the middle frame a blank) is nearly as likely.
    frames = [frame(d1=1.0), frame(blank=1.0), frame(d2=1.0), frame(d2=0.55, blank=0.45), frame(d2=1.0)]
    frames += [frame(blank=1.0)] * (sequence.FRAMES - len(frames))
    digits = [sequence.SequenceDigit(None, np.eye(10)[d]) for d in (1, 2)]
    found = sequence.SequenceLine(digits, np.array(frames))
    assert found.text == "12"
    assert found.log_likelihood("122") > found.log_likelihood("12") - 1
    assert number._as_likely(found, "122")  # the classic reader's three digits stand
    assert not number._as_likely(found, "132")  # a text the model does not see there does not
