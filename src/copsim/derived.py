"""Derived values: what follows from the state and is asked for many times a period.

Home spaces, power weights and receptiveness, power ranks, unit purposes and
purpose fit are functions of the state (:mod:`copsim.state`).  Recomputing
them at every use would cost a few hundred numpy calls a period, so each is
cached under the *versions* of the state it depends on, and recomputed only
when one of those versions has moved.  That is the one invalidation rule:

| value | depends on |
|---|---|
| home membership / space / participation | ``members.version``, ``members.home_round`` |
| power weights, receptiveness | ``people.version`` (power is fixed while present); receptiveness is 1 with ``power_in_receptiveness`` off |
| power rank | ``people.version`` (one batched sort of each run's block) |
| unit purposes | ``people.purpose_version`` |
| purpose fit | ``members.version``, ``people.purpose_version``, ``spaces.agenda_version`` |

Only the state's own methods bump versions, so a submodel can never forget to
invalidate a value it changed.
"""

from __future__ import annotations

import numpy as np

from copsim import population as pop
from copsim.layout import Layout
from copsim.memberships import Memberships
from copsim.state import People, Spaces


def at_home(values: np.ndarray, pair: np.ndarray, outside: float) -> np.ndarray:
    """Per slot: a per-membership quantity at the slot's home membership ``pair``
    (``outside`` for slots with no membership, pair -1; also when nobody is a member)."""
    if values.size == 0:
        return np.full(pair.shape, outside, dtype=np.result_type(values, outside))
    return np.where(pair >= 0, values[np.maximum(pair, 0)], outside)


class Derived:
    """Cached values derived from the state, each recomputed when its versions move."""

    def __init__(
        self, people: People, spaces: Spaces, asymmetry: float | np.ndarray, layout: Layout
    ) -> None:
        self.people, self.spaces = people, spaces
        self.asymmetry = asymmetry  # a scalar, or one value per slot (runs differ)
        self.layout = layout
        self._home_key = self._power_key = self._rank_key = self._fit_key = None
        self._purpose_key: int | None = None
        self._home_space_of: np.ndarray | None = None

    @property
    def members(self) -> Memberships:
        return self.spaces.members

    # -------------------------------------------------------------- home spaces
    def home_pairs(self) -> np.ndarray:
        """Per slot, the index of its home membership (highest participation), -1 for none."""
        mb = self.members
        key = (mb.version, mb.home_round)
        if self._home_key != key:
            fresh = mb.home()
            if self._home_key is not None and self._home_key[1] == mb.home_round:
                fresh = self._keep_undisturbed_homes(fresh)
            mb.touched = []
            self._home = fresh
            self._home_spaces = at_home(mb.space, fresh, -1)  # survives re-indexing
            self._home_key = key
        return self._home

    def _keep_undisturbed_homes(self, fresh: np.ndarray) -> np.ndarray:
        """Memberships changed but homes were not re-decided: only the runs whose
        memberships changed take new homes; every other run keeps the homes it had
        (a run's home must not depend on what other runs of the ensemble did)."""
        lay, mb = self.layout, self.members
        touched = np.zeros(lay.runs, dtype=bool)
        if mb.touched:
            touched[np.concatenate(mb.touched) // lay.spaces] = True
        old_space = self._home_spaces
        keep = ~touched[lay.slot_run] & (old_space >= 0)
        slots = np.flatnonzero(keep)
        fresh = fresh.copy()
        fresh[slots] = mb.pair_of(slots, old_space[slots])
        return fresh

    def carry_homes(self, home_space: np.ndarray, has_home: np.ndarray) -> None:
        """Start from these homes (after compaction) instead of re-deciding them."""
        mb = self.members
        slots = np.flatnonzero(has_home)
        home = np.full(self.layout.n_slots, -1, dtype=np.int64)
        home[slots] = mb.pair_of(slots, home_space[slots])
        mb.touched = []
        self._home, self._home_key = home, (mb.version, mb.home_round)
        self._home_spaces = at_home(mb.space, home, -1)

    def home_space(self) -> np.ndarray:
        """Each practitioner's home space, 0 if it has none (pair with ``home_pairs``
        to tell the two apart)."""
        current = self.home_pairs()
        if self._home_space_of is not current:
            self._home_space = at_home(self.members.space, current, 0)
            self._home_space_of = current
        return self._home_space

    def home_participation(self, pair: np.ndarray | None = None) -> np.ndarray:
        """Participation in the home space per slot (0 for non-members)."""
        pair = self.home_pairs() if pair is None else pair
        return at_home(self.members.participation, pair, 0.0)

    def centrality(self) -> np.ndarray:
        """Participation x legitimacy in the home space (-1 for empty slots)."""
        pair = self.home_pairs()
        legit = at_home(self.members.legitimacy, pair, 0.0)
        return np.where(self.people.present, self.home_participation(pair) * legit, -1.0)

    # -------------------------------------------------------------- power
    def _refresh_power(self) -> None:
        if self._power_key == self.people.version:
            return
        self._power_w = pop.power_weights(
            self.layout, self.people.power, self.people.present, self.asymmetry
        )
        self._receptiveness = np.minimum(1.0, 1.0 / np.maximum(self._power_w, 1e-12))
        self._power_key = self.people.version

    def power_weights(self) -> np.ndarray:
        """Per slot: (power / mean power of those present) ** asymmetry, 0 if absent."""
        self._refresh_power()
        return self._power_w

    def receptiveness(self, power_matters: bool = True) -> np.ndarray:
        """How open each practitioner is to learning: min(1, 1 / power weight).

        Chambers (quoted in Johnson 2007): "for learning, power is a disability";
        at asymmetry 0 everyone learns at the full rate.  With ``power_matters``
        False (the channel ``power_in_receptiveness`` switched off) everyone is
        fully receptive, whatever its power.
        """
        self._refresh_power()
        if not power_matters:
            return np.ones_like(self._receptiveness)
        return self._receptiveness

    def power_rank(self) -> np.ndarray:
        """Per slot: power rank among those present in its run, -1 (least) to +1
        (most), 0 if absent."""
        people = self.people
        if self._rank_key != people.version:
            self._power_rank = pop.power_rank(self.layout, people.power, people.present)
            self._rank_key = people.version
        return self._power_rank

    # -------------------------------------------------------------- purposes
    def unit_purpose(self) -> np.ndarray:
        """Purpose profiles scaled to unit length."""
        if self._purpose_key != self.people.purpose_version:
            self._unit_purpose = pop.unit_rows(self.people.purpose)
            self._purpose_key = self.people.purpose_version
        return self._unit_purpose

    def fit(self) -> np.ndarray:
        """Per membership: cosine similarity of the member's purpose with the agenda."""
        mb = self.members
        key = (mb.version, self.people.purpose_version, self.spaces.agenda_version)
        if self._fit_key != key:
            purpose = np.take(self.unit_purpose(), mb.slot, axis=0)
            agenda = np.take(pop.unit_rows(self.spaces.agenda), mb.space, axis=0)
            self._fit = np.einsum("ij,ij->i", purpose, agenda)
            self._fit_key = key
        return self._fit
