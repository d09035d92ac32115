"""The loaded models of one server: the default, loaded at startup, and a few more on demand."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable

from digitkit.serve.catalog import Catalog
from digitkit.serve.engine import Engine


class ModelCache:
    """Engines by listed name; the default is always kept, others least-recently-used.

    Args:
        default: the operator's reference, loaded now (startup fails if it cannot be loaded).
        keep: how many other models may stay loaded.
        debug: engines show absolute paths in their info.
        on_load: called with each engine loaded on demand (metrics count load times).
    """

    def __init__(self, default: str, keep: int, debug: bool = False,
                 on_load: Callable[[Engine], None] | None = None) -> None:
        self.default = Engine(default, debug)
        # The server's own model answers to its name and run id, even when that name's newest
        # run is another one (the operator chose this run).
        info = self.default.info
        self._default_names = {name for name in (info["name"], info["run"], self.default.label) if name}
        self.catalog = Catalog()
        self._keep = keep
        self._debug = debug
        self._on_load = on_load
        self._others: OrderedDict[str, Engine] = OrderedDict()
        self._lock = threading.Lock()  # loads happen in worker threads

    def get(self, reference: str | None) -> Engine:
        """The engine for ``reference``: ``None`` or empty for the default, else a name that
        ``GET /api/models`` lists.

        Raises:
            UnknownModelError: ``reference`` is not listed (paths, ``~user``, anything else:
                the same answer whether or not it exists).
            DigitkitError: the model is listed but cannot be loaded.
        """
        if not reference or reference in self._default_names:
            return self.default
        choice = self.catalog.choose(reference)
        default_run = self.default.info.get("run")
        if choice.run_folder is not None and os.path.basename(choice.run_folder) == default_run:
            return self.default
        with self._lock:
            engine = self._others.get(choice.key)
            if engine is None:
                engine = Engine(choice.load_ref(), self._debug)
                if self._on_load is not None:
                    self._on_load(engine)
                self._others[choice.key] = engine
                while len(self._others) > self._keep:
                    self._others.popitem(last=False)
            self._others.move_to_end(choice.key)
            return engine
