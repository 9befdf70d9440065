"""copsim: agent-based simulation of community-of-practice dynamics.

The top-level import stays light: the model classes load on first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "Params": "copsim.params",
    "ParamsError": "copsim.params",
    "CoPModel": "copsim.model",
    "Practitioner": "copsim.agents",
    "sweep": "copsim.sweep",
    "load": "copsim.sweep",
}

__all__ = [*_LAZY, "__version__"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'copsim' has no attribute {name!r}")
