"""Import optional dependencies on first use, with an error that names the extra."""

from __future__ import annotations

import importlib
from types import ModuleType

from influxkit.errors import MissingDependency

__all__ = ["require"]


def require(module: str, extra: str) -> ModuleType:
    """Import ``module`` or raise :class:`MissingDependency` naming ``influxkit[extra]``."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependency(
            f"{module} is needed for this and is not installed: "
            f"run `pip install 'influxkit[{extra}]'`"
        ) from exc
