"""Where each community's rows live in the ensemble's arrays (docs/engine.md).

An ensemble holds K independent communities of the same shape: N practitioner
slots, S learning spaces and m dimensions each.  Community k owns slot rows
``k*N .. k*N+N-1`` and space rows ``k*S .. k*S+S-1`` of every per-slot and
per-space array; memberships are (space, slot) pairs with these global
indices, so a pair's community is ``space // S``.  Every community-level
quantity (a mean power, a count, a measure) is a reduction over a community's
own block: a reshape to (K, N) and a reduction along the last axis, or a
``bincount`` over the run of each pair.  Both give a community the same bits
whether it is alone (K = 1) or one of thousands.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True, eq=False)
class Layout:
    """The shape of an ensemble: K runs of N slots, S spaces and m dimensions."""

    runs: int
    slots: int
    spaces: int
    dims: int
    slot_run: np.ndarray = field(init=False, repr=False)  # (K*N,) the run of each slot
    space_run: np.ndarray = field(init=False, repr=False)  # (K*S,) the run of each space

    def __post_init__(self) -> None:
        object.__setattr__(self, "slot_run", np.repeat(np.arange(self.runs), self.slots))
        object.__setattr__(self, "space_run", np.repeat(np.arange(self.runs), self.spaces))

    @property
    def n_slots(self) -> int:
        """All slots of all runs, K*N."""
        return self.runs * self.slots

    @property
    def n_spaces(self) -> int:
        """All spaces of all runs, K*S."""
        return self.runs * self.spaces

    def with_runs(self, runs: int) -> Layout:
        """The same shape for another number of runs (after compaction)."""
        return Layout(runs, self.slots, self.spaces, self.dims)

    # ------------------------------------------------------------------ indices
    def run_of_slots(self, slots: np.ndarray) -> np.ndarray:
        return np.asarray(slots) // self.slots

    def local_slots(self, slots: np.ndarray) -> np.ndarray:
        return np.asarray(slots) % self.slots

    def run_of_spaces(self, spaces: np.ndarray) -> np.ndarray:
        return np.asarray(spaces) // self.spaces

    def local_spaces(self, spaces: np.ndarray) -> np.ndarray:
        return np.asarray(spaces) % self.spaces

    def pair_element(self, space: np.ndarray, slot: np.ndarray) -> np.ndarray:
        """A membership's local index within its run: local space x N + local slot."""
        return (np.asarray(space) % self.spaces) * self.slots + np.asarray(slot) % self.slots

    def first_slot(self, run: np.ndarray) -> np.ndarray:
        """The global index of each run's slot 0."""
        return np.asarray(run) * self.slots

    def first_space(self, run: np.ndarray) -> np.ndarray:
        return np.asarray(run) * self.spaces

    # ------------------------------------------------------------------ reductions
    def by_run(self, per_slot: np.ndarray) -> np.ndarray:
        """A per-slot array viewed as (K, N, ...)."""
        return per_slot.reshape(self.runs, self.slots, *per_slot.shape[1:])

    def spaces_by_run(self, per_space: np.ndarray) -> np.ndarray:
        """A per-space array viewed as (K, S, ...)."""
        return per_space.reshape(self.runs, self.spaces, *per_space.shape[1:])

    def count(self, mask: np.ndarray) -> np.ndarray:
        """(K,) how many slots of each run are True."""
        return np.count_nonzero(self.by_run(mask), axis=1)

    def count_spaces(self, mask: np.ndarray) -> np.ndarray:
        return np.count_nonzero(self.spaces_by_run(mask), axis=1)

    def total(self, values: np.ndarray, where: np.ndarray | None = None) -> np.ndarray:
        """(K,) per-run sum of a per-slot quantity (over ``where`` only, if given)."""
        if where is not None:
            values = np.where(where, values, 0)
        return row_total(self.by_run(values))

    def total_spaces(self, values: np.ndarray, where: np.ndarray | None = None) -> np.ndarray:
        if where is not None:
            values = np.where(where, values, 0)
        return row_total(self.spaces_by_run(values))

    def mean(self, values: np.ndarray, where: np.ndarray, empty: float = 0.0) -> np.ndarray:
        """(K,) per-run mean of a per-slot quantity over ``where`` (``empty`` if none)."""
        n = self.count(where)
        return np.where(n > 0, self.total(values, where) / np.maximum(n, 1), empty)

    def mean_spaces(self, values: np.ndarray, where: np.ndarray, empty: float = 0.0):
        n = self.count_spaces(where)
        return np.where(n > 0, self.total_spaces(values, where) / np.maximum(n, 1), empty)

    def maximum(self, values: np.ndarray, where: np.ndarray, initial: float) -> np.ndarray:
        """(K,) per-run maximum over ``where`` (``initial`` if none, or if larger)."""
        return np.where(where, values, initial).reshape(self.runs, -1).max(axis=1, initial=initial)

    def pair_total(self, space: np.ndarray, values: np.ndarray) -> np.ndarray:
        """(K,) per-run sum of a per-membership quantity (pairs in their stored order)."""
        return np.bincount(space // self.spaces, weights=values, minlength=self.runs)

    def to_slots(self, per_run: np.ndarray | float) -> np.ndarray | float:
        """A per-run value at every slot (a scalar stays a scalar)."""
        if np.ndim(per_run) == 0:
            return per_run
        return np.repeat(np.asarray(per_run), self.slots)

    def to_spaces(self, per_run: np.ndarray | float) -> np.ndarray | float:
        if np.ndim(per_run) == 0:
            return per_run
        return np.repeat(np.asarray(per_run), self.spaces)


def row_total(x: np.ndarray) -> np.ndarray:
    """Sum of each row of a 2-D array, in the same order whatever the number of rows.

    numpy's ``sum(axis=1)`` may add a row pairwise (one row) or column by column
    (many short rows), which rounds differently; a run's total must not depend on
    how many runs share the array.  Floats are added left to right within each row
    (a ``bincount`` over row labels); integers are exact in any order.
    """
    x = np.asarray(x)
    if x.dtype.kind in "iub":
        return x.sum(axis=1)
    rows, cols = x.shape
    labels = np.repeat(np.arange(rows), cols)
    return np.bincount(labels, weights=x.reshape(-1), minlength=rows)
