"""The labels given so far: ``DIR/<digit>/<picture>`` and ``DIR/labels.csv``, kept on disk.

Every decision is written at once: the picture is hard-linked (copied where links cannot be
made, e.g. across file systems) into its digit's folder under a temporary name and renamed
into place, then ``labels.csv`` is rewritten atomically. Quitting, a kill or a crash loses
at most the key being handled, and opening the store again knows which pictures are done,
so ``digitkit label`` resumes where it stopped. ``DIR`` is a dataset folder as
``fit --dataset`` reads it (``labels.csv`` and the ``skipped`` rows are ignored there).
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from digitkit._internal import atomic
from digitkit.errors import InputError, UsageError

LABELS_CSV = "labels.csv"
COLUMNS = ("file", "label", "source", "answer", "confidence", "how")
HOW = ("typed", "accepted", "auto", "skipped", "collected")  # ...; the last: `serve --collect`
MAX_CSV_BYTES = 64 * 1024 * 1024
FLUSH_SECONDS = 0.5
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Row:
    """One decision: ``label`` is ``None`` for a skipped picture."""

    file: str
    label: int | None
    source: str
    answer: int
    confidence: float
    how: str

    def to_csv(self) -> list[str]:
        return [self.file, "" if self.label is None else str(self.label), self.source, str(self.answer),
                f"{self.confidence:.4f}", self.how]


class LabelStore:
    """The labels under ``out``; refuses a folder it cannot write before any work is done.

    Raises:
        UsageError: ``out`` is a file, or cannot be created or written.
        InputError: a ``labels.csv`` that is not one this store wrote.
    """

    def __init__(self, out: str | os.PathLike[str]) -> None:
        self.out = Path(out).expanduser()
        if self.out.exists() and not self.out.is_dir():
            raise UsageError(f"--out {self.out} is a file; expected a folder (created when missing)")
        try:
            self.out.mkdir(parents=True, exist_ok=True)
            probe = self.out / f".digitkit-probe-{os.getpid()}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise UsageError(f"--out {self.out} is not writable ({exc.strerror or exc})",
                             hint="choose a folder you can write to") from None
        self.rows: list[Row] = self._read()
        self._by_source = {row.source: row for row in self.rows}
        self._unwritten = 0
        self._written_at = 0.0

    @property
    def csv_path(self) -> Path:
        return self.out / LABELS_CSV

    def _read(self) -> list[Row]:
        path = self.csv_path
        if not path.is_file():
            return []
        with open(path, "rb") as handle:
            data = handle.read(MAX_CSV_BYTES + 1)
        if len(data) > MAX_CSV_BYTES:
            raise InputError(f"{path} is larger than {MAX_CSV_BYTES // 2**20} MiB: not a labels file")
        try:
            reader = csv.reader(io.StringIO(data.decode("utf-8")))
            header = next(reader, None)
            if header is None:
                return []
            if tuple(header) != COLUMNS:
                raise ValueError(f"header {','.join(header)[:80]!r}")
            return [_row(fields) for fields in reader if fields]
        except (ValueError, UnicodeDecodeError) as exc:
            raise InputError(f"{path} is not a digitkit labels file ({exc})",
                             hint="move it away or label into another --out folder") from None

    def decided(self, source: str | os.PathLike[str]) -> bool:
        """Whether the picture was labelled or skipped before."""
        return os.path.abspath(os.fspath(source)) in self._by_source

    def counts(self) -> list[int]:
        """Labelled pictures per digit."""
        counts = [0] * 10
        for row in self.rows:
            if row.label is not None:
                counts[row.label] += 1
        return counts

    @property
    def skipped(self) -> int:
        return sum(row.label is None for row in self.rows)

    def put(self, source: str | os.PathLike[str], label: int | None, answer: int, confidence: float,
            how: str, *, now: bool = True) -> Row:
        """Record a decision (``label=None``: skipped) and place the picture in ``DIR/<label>/``.

        ``now=False`` (decisions made without a person, thousands a second) rewrites
        ``labels.csv`` at most every :data:`FLUSH_SECONDS`; call :meth:`flush` at the end. A
        crash in between loses only those rows: their pictures are placed again on resume.
        """
        source = os.path.abspath(os.fspath(source))
        if label is not None and not 0 <= label <= 9:
            raise UsageError(f"expected a label 0-9. Received: label={label}")
        if source in self._by_source:
            self.undo(source)
        file = ""
        if label is not None:
            target = self.out / str(label) / _file_name(source)
            _place(Path(source), target)
            file = target.relative_to(self.out).as_posix()
        row = Row(file, label, source, int(answer), float(confidence), how)
        self.rows.append(row)
        self._by_source[source] = row
        self._unwritten += 1
        if now or time.monotonic() - self._written_at >= FLUSH_SECONDS:
            self._write()
        return row

    def flush(self) -> None:
        """Write ``labels.csv`` if decisions (or undos) are waiting."""
        if self._unwritten:
            self._write()

    def put_bytes(self, data: bytes, name: str, label: int, answer: int | None = None,
                  confidence: float = 0.0) -> Row:
        """Save a picture sent to ``serve --collect`` (already checked to be a picture) as ``label``."""
        if not 0 <= label <= 9:
            raise UsageError(f"expected a digit 0-9. Received: digit={label}")
        digest = hashlib.sha256(data).hexdigest()
        stem = _UNSAFE.sub("_", Path(name).stem)[:40] or "picture"
        target = self.out / str(label) / f"{stem}-{digest[:12]}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic.write_bytes(target, data)
        if f"upload:{digest[:16]}" in self._by_source:  # sent again, maybe as another digit
            self.undo(f"upload:{digest[:16]}")
        row = Row(target.relative_to(self.out).as_posix(), label, f"upload:{digest[:16]}",
                  label if answer is None else int(answer), float(confidence), "collected")
        self.rows.append(row)
        self._by_source[row.source] = row
        self._write()
        return row

    def undo(self, source: str | os.PathLike[str] | None = None, *, now: bool = True) -> Row | None:
        """Forget the decision about ``source`` (default: the last one); its file is removed."""
        if not self.rows:
            return None
        if source is None:
            row = self.rows[-1]
        else:
            key = os.fspath(source)
            row = self._by_source.get(key if key.startswith("upload:") else os.path.abspath(key))
            if row is None:
                return None
        self.rows.remove(row)
        del self._by_source[row.source]
        if row.file:
            try:
                (self.out / row.file).unlink()
            except FileNotFoundError:
                pass
        self._unwritten += 1
        if now:
            self._write()
        return row

    def _write(self) -> None:
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(row.to_csv() for row in self.rows)
        atomic.write_text(self.csv_path, text.getvalue())
        self._unwritten, self._written_at = 0, time.monotonic()


def _row(fields: list[str]) -> Row:
    if len(fields) != len(COLUMNS):
        raise ValueError(f"a row with {len(fields)} fields")
    file, label, source, answer, confidence, how = fields
    if how not in HOW or (label and label not in "0123456789") or len(label) > 1:
        raise ValueError(f"a bad row for {source[:60]!r}")
    return Row(file, int(label) if label else None, source, int(answer), float(confidence), how)


def _file_name(source: str) -> str:
    """A name unique to the source path: pictures from different folders never collide."""
    path = Path(source)
    digest = hashlib.sha256(source.encode("utf-8", "surrogateescape")).hexdigest()[:8]
    stem = _UNSAFE.sub("_", path.stem)[:60] or "picture"
    suffix = _UNSAFE.sub("", path.suffix)[:8]
    return f"{stem}-{digest}{suffix}"


def _place(source: Path, target: Path) -> None:
    """Hard-link (else copy) ``source`` to ``target`` atomically."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        try:
            os.link(source, temporary)
        except OSError:  # another file system, or links not allowed: a copy does the job
            shutil.copyfile(source, temporary)
        os.replace(temporary, target)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise InputError(f"cannot place {source.name} in {target.parent}: {exc.strerror or exc}") from None
