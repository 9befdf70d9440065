"""Memberships of practitioners in learning spaces, stored as (space, slot) pairs.

A practitioner belongs to one or a few of many spaces (Wenger's
constellations), so a dense spaces x practitioners matrix is mostly zeros.
Each membership is one *pair* with its own participation (periphery -> core)
and legitimacy; per-space totals are ``bincount`` sums over pairs and
per-space weighted sums of practitioner rows are one sparse product, so every
operation costs O(memberships), not O(spaces x practitioners).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse


class Memberships:
    """All (space, practitioner slot) memberships and their participation/legitimacy."""

    def __init__(self, n_spaces: int, n_slots: int) -> None:
        self.n_spaces, self.n_slots = n_spaces, n_slots
        self.space = np.zeros(0, dtype=np.int64)
        self.slot = np.zeros(0, dtype=np.int64)
        self.participation = np.zeros(0)
        self.legitimacy = np.zeros(0)
        self.version = 0  # bumped whenever memberships are added or dropped
        #: spaces whose memberships changed since homes were last computed (the
        #: runs they belong to re-decide their homes; the others keep theirs)
        self.touched: list[np.ndarray] = []
        self.home_round = 0  # bumped whenever home spaces are re-decided (decide_homes)
        self._layout_version = -1

    # -------------------------------------------------------------- changes
    def add(self, space: np.ndarray, slot: np.ndarray, participation, legitimacy) -> None:
        """Append memberships (scalars broadcast)."""
        k = np.size(space)
        self.touched.append(np.asarray(space, dtype=np.int64).reshape(-1))
        self.space = np.concatenate([self.space, np.asarray(space, dtype=np.int64)])
        self.slot = np.concatenate([self.slot, np.asarray(slot, dtype=np.int64)])
        self.participation = np.concatenate(
            [self.participation, np.broadcast_to(participation, (k,)).astype(np.float64)]
        )
        self.legitimacy = np.concatenate(
            [self.legitimacy, np.broadcast_to(legitimacy, (k,)).astype(np.float64)]
        )
        self.version += 1

    def keep(self, mask: np.ndarray) -> None:
        """Drop every membership where ``mask`` is False."""
        if mask.all():
            return
        self.touched.append(self.space[~mask])
        self.space, self.slot = self.space[mask], self.slot[mask]
        self.participation, self.legitimacy = self.participation[mask], self.legitimacy[mask]
        self.version += 1

    def drop_slots(self, slots: np.ndarray) -> None:
        """Practitioners in ``slots`` leave every space."""
        if np.size(slots):
            self.keep(~np.isin(self.slot, slots))

    def decide_homes(self) -> None:
        """Home spaces are to be re-decided from the current participation.

        A practitioner's home is a decision taken once a period, after
        participation is updated (and again whenever memberships change), not
        after every small change of participation: withdrawal after a conflict
        or a challenge's gain moves participation without moving the home.
        """
        self.home_round += 1

    def take(self, runs: np.ndarray, spaces_per_run: int, slots_per_run: int) -> None:
        """Keep the memberships of ``runs`` (sorted old run indices), renumbered to
        the compacted layout (compaction of an ensemble, :mod:`copsim.ensemble`)."""
        old_run = self.space // spaces_per_run
        new_of = np.full(self.n_spaces // spaces_per_run, -1, dtype=np.int64)
        new_of[runs] = np.arange(np.size(runs))
        keep = new_of[old_run] >= 0
        shift = (old_run - new_of[old_run])[keep]
        self.space = self.space[keep] - shift * spaces_per_run
        self.slot = self.slot[keep] - shift * slots_per_run
        self.participation, self.legitimacy = self.participation[keep], self.legitimacy[keep]
        self.n_spaces = np.size(runs) * spaces_per_run
        self.n_slots = np.size(runs) * slots_per_run
        self.touched = []
        self.version += 1
        self._layout_version = -1

    # -------------------------------------------------------------- queries
    def __len__(self) -> int:
        return self.space.size

    def per_space(self, values: np.ndarray) -> np.ndarray:
        """Sum of a per-membership quantity in each space, shape (S,)."""
        return np.bincount(self.space, weights=values, minlength=self.n_spaces)

    def per_slot(self, values: np.ndarray) -> np.ndarray:
        """Sum of a per-membership quantity for each practitioner slot, shape (N,)."""
        return np.bincount(self.slot, weights=values, minlength=self.n_slots)

    def matrix(self, weights: np.ndarray, dtype=np.float64) -> sparse.csr_matrix:
        """Sparse (S, N) matrix of per-membership weights, for space-wise sums of rows.

        The row layout (memberships grouped by space) is computed once per change
        of memberships, so building the matrix each period is one gather.
        """
        if self._layout_version != self.version:
            self._by_space = np.argsort(self.space, kind="stable")
            counts = np.bincount(self.space, minlength=self.n_spaces)
            self._indptr = np.concatenate([[0], np.cumsum(counts)])
            self._columns = self.slot[self._by_space]
            self._layout_version = self.version
        data = weights[self._by_space].astype(dtype, copy=False)
        return sparse.csr_matrix(
            (data, self._columns, self._indptr), shape=(self.n_spaces, self.n_slots)
        )

    def weighted_rows(self, weights: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """For each space: the sum over its members of weight x that member's row."""
        return np.asarray(self.matrix(weights, rows.dtype) @ rows)

    def home(self) -> np.ndarray:
        """Per slot, the index of its main membership (highest participation), or -1.

        Ties go to the membership listed last.
        """
        best = np.full(self.n_slots, -np.inf)
        np.maximum.at(best, self.slot, self.participation)
        top = np.flatnonzero(self.participation == best[self.slot])
        home = np.full(self.n_slots, -1, dtype=np.int64)
        home[self.slot[top]] = top
        return home

    def pair_of(self, slot: np.ndarray, space: np.ndarray) -> np.ndarray:
        """The index of each (slot, space) membership, -1 where there is none."""
        key = self.slot * self.n_spaces + self.space
        # stable: a pair listed twice resolves to its first listing.  It is also the fast
        # sort here: the pairs are listed almost in key order, which numpy's stable sort
        # (timsort) exploits; its default sort took 1.6-9x longer on the engine's own
        # states (docs/engine.md)
        order = np.argsort(key, kind="stable")
        ranked = key[order]
        want = np.asarray(slot) * self.n_spaces + np.asarray(space)
        at = np.minimum(np.searchsorted(ranked, want), max(key.size - 1, 0))
        found = key.size > 0
        hit = (ranked[at] == want) if found else np.zeros(want.shape, bool)
        return np.where(hit, order[at] if found else -1, -1)

    def mask(self) -> np.ndarray:
        """A (S, N) bool array: who belongs to which space (for views and the baseline)."""
        return self.dense(np.ones(len(self), dtype=bool), fill=False)

    def dense(self, values: np.ndarray, fill=0.0) -> np.ndarray:
        """A (S, N) array of a per-membership quantity (for views and tests)."""
        out = np.full((self.n_spaces, self.n_slots), fill, dtype=np.asarray(values).dtype)
        out[self.space, self.slot] = values
        return out
