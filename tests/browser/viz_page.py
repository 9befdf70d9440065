"""The loaded page the browser tests work with (shared by conftest and the tests)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Where the tests save screenshots of the main states (and the server log).
SCREENSHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "viz-screenshots"


@dataclass
class ViewPage:
    """A loaded teaching view and what its console reported."""

    page: Any
    errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def shot(self, name: str) -> Path:
        """Save a screenshot to the screenshots folder."""
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path
