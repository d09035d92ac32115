"""The plugin system: everything between an entry point and a usable :class:`~digitkit.spec.ModelSpec`.

- :mod:`~digitkit.plugins.registry`: discovery of the ``digitkit.models`` entry points,
  isolation of each plugin's import (time limit, captured output, ``BaseException`` caught),
  and lookup (``list_models``, ``get_model``, natural sort, wildcards);
- :mod:`~digitkit.plugins.checks`: the quick checks every plugin passes before it is used;
- :mod:`~digitkit.plugins.building`: building a spec's model under checks, and its layer table;
- :mod:`~digitkit.plugins.testing`: the conformance kit plugin authors run in their own tests;
- :mod:`~digitkit.plugins.scaffold`: ``digitkit plugins new``.

The plugin contract is versioned: :data:`API_VERSION` is the version of the ``ModelSpec``
contract this digitkit speaks; a spec declares the one it was written for
(``ModelSpec.api_version``) and a plugin written for another major version is refused.
"""

from __future__ import annotations

from digitkit.spec import API_VERSION

__all__ = ["API_VERSION"]
