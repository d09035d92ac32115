"""The loaded models of one server: the default, loaded at startup, and a few more on demand."""

from __future__ import annotations

import threading
from collections import OrderedDict

from digitkit.errors import UnknownModelError
from digitkit.serve.engine import Engine, is_listed_reference


class ModelCache:
    """Engines by reference; the default is always kept, others least-recently-used.

    Args:
        default: the reference loaded now (startup fails if it cannot be loaded).
        keep: how many other models may stay loaded.
    """

    def __init__(self, default: str, keep: int) -> None:
        self.default = Engine(default)
        self._keep = keep
        self._others: OrderedDict[str, Engine] = OrderedDict()
        self._lock = threading.Lock()  # loads happen in worker threads

    def get(self, reference: str | None) -> Engine:
        """The engine for ``reference`` (``None`` or the default reference: the default).

        Raises:
            UnknownModelError: the reference looks like a path (a client may not make the
                server open files) or nothing answers to it.
            DigitkitError: the model exists but cannot be loaded.
        """
        if not reference or reference == self.default.reference:
            return self.default
        if not is_listed_reference(reference):
            raise UnknownModelError(f"unknown model {reference!r}: give a run id or a model name "
                                    "from GET /api/models")
        with self._lock:
            engine = self._others.get(reference)
            if engine is None:
                engine = Engine(reference)
                self._others[reference] = engine
                while len(self._others) > self._keep:
                    self._others.popitem(last=False)
            self._others.move_to_end(reference)
            return engine
