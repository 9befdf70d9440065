"""Reification: stable repertoires congeal (ODD II.7.8).

Johnson (2007): Wenger's "congealed form", "forms can take a life of their
own" (Wenger 1998, p. 62), and "standardized processes of reporting to donors
which exclude deep reflection ... or conforming to certain types of
conditionality".  A repertoire's rigidity grows with its stability (how little
it changed this period) and faster under the funder's conditionality; rigidity
slows repertoire learning and presses newcomers; accepted challenges halve it.
Each space follows its own run's ``reification_rate`` and ``conditionality``.

Reads: ``period.changed``, ``reification_rate`` and ``conditionality`` (per run).
Writes: ``spaces.rigidity``.
Measures: ``rigidity`` (each run's mean over its spaces).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from copsim.layout import row_total

if TYPE_CHECKING:
    from copsim.state import Community

#: How much faster repertoires congeal per unit of conditionality.
CONDITIONALITY_SPEEDUP = 3.0
#: Rigidity never reaches 1: a repertoire can always still change a little.
MAX_RIGIDITY = 0.99


def applies(params) -> bool:
    return params.reification


def step(c: Community) -> None:
    """rigidity += rate x stability x (1 + 3 conditionality) x (1 - rigidity)."""
    spaces = c.spaces
    stability = 1.0 - c.period.changed / spaces.codes.shape[1]
    speedup = 1.0 + CONDITIONALITY_SPEEDUP * c.at_spaces("conditionality")
    growth = c.at_spaces("reification_rate") * stability * speedup
    spaces.rigidity += growth * (1.0 - spaces.rigidity)
    np.clip(spaces.rigidity, 0.0, MAX_RIGIDITY, out=spaces.rigidity)


def measures(c: Community, base: dict) -> dict[str, np.ndarray]:
    lay = c.layout
    return {"rigidity": row_total(lay.spaces_by_run(c.spaces.rigidity)) / lay.spaces}
