"""Optional parts of daofed: what a member does not need is an extra of its install.

``pip install daofed`` is what running a member needs (training, the chain, the blob
stores, the CLI). The demo's datasets and embedded chain, the audit's plot, the explorer,
the compiler wrapper and the privacy accountant are extras (see ``pyproject.toml``).
:func:`require` imports one of them where it is used, so a missing extra is a one-line
error that names the ``pip install`` to run, not an ``ImportError`` traceback.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from daofed.errors import ConfigError


def require(module: str, extra: str, purpose: str) -> ModuleType:
    """Import ``module``, which ``daofed[extra]`` installs, for ``purpose``.

    Raises :class:`ConfigError` naming the extra when the module's package is missing.
    An ``ImportError`` from inside an installed package is not hidden: it is a real bug.
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as error:
        top = module.partition(".")[0]
        if error.name is None or error.name.partition(".")[0] != top:
            raise
        raise ConfigError(
            f"{purpose} needs the optional package {top!r}: pip install 'daofed[{extra}]'"
        ) from None
