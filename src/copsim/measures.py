"""The per-period outcome record (ODD II.8): community measures plus each submodel's own.

Every period the model computes one flat record of floats, which the
DataCollector stores (row t = after period t).  This module computes the
measures of the community as a whole (knowledge, diversity, membership,
participation, voice, inclusion, alignment) and the two headline indices
(:mod:`copsim.outcomes`); each submodel contributes its own measures through
its ``measures(c, base)`` function.  ``base`` holds what several measures
share (who is present, home participation, who is core), computed once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import numpy as np

from copsim import learning, metrics, outcomes

if TYPE_CHECKING:
    from copsim.state import Community

#: The order of the record's columns (measures not listed follow, in schedule order).
COLUMNS = (
    "code_knowledge",
    "mean_individual_knowledge",
    "belief_diversity",
    "members",
    "exits",
    "retention",
    "participation_mean",
    "core_share",
    "periphery_share",
    "voice_gini",
    "inclusion",
    "time_to_core",
    "edge_entrants",
    "cohort_inclusion",
    "purpose_alignment",
    "mutual_engagement",
    "cross_identity_exchange",
    "conflicts",
    "contests",
    "contests_won",
    "contester_core_share",
    "repertoire_changes",
    "spaces_alive",
    "funds_total",
    "meeting_intensity",
    "rigidity",
    "new_ways",
    "repertoire_novelty",
    "own_views_kept",
    "peripheral_contribution",
    "expert_share",
    "conformity",
    "learning_volume",
    "alignment_with_powerful",
    "expansiveness",
    "defensiveness",
)

Reporter = Callable[["Community", dict], dict[str, float]]


def shared_basis(c: Community) -> dict:
    """What several measures need: presence, home participation, the core."""
    present = c.people.present
    part_home = c.derived.home_participation()
    return {
        "present": present,
        "part_home": part_home,
        "core": present & (part_home >= c.params.core_threshold),
    }


def community(c: Community, base: dict) -> dict[str, float]:
    """Measures of the community as a whole, and the two headline indices."""
    p, people, mb, spaces = c.params, c.people, c.members, c.spaces
    present, part_home, core = base["present"], base["part_home"], base["core"]
    slots = np.flatnonzero(present)
    # one pass over the beliefs: column sums of b and |b| over those present
    # (float32 products are exact for these integer counts)
    weights = present.astype(np.float32)
    held = people.beliefs.astype(np.float32)
    total = weights @ held
    decided = weights @ np.abs(held, out=held)
    n_present = int(present.sum())
    diversity = metrics.diversity_from_sums(total, decided, n_present)
    m = people.beliefs.shape[1]
    power_w = c.derived.power_weights()
    voice = mb.per_slot(mb.participation * power_w[mb.slot])[present]
    members = max(n_present, 1)
    mass = mb.participation.sum()
    alignment = float((c.derived.fit() * mb.participation).sum() / mass) if mass > 0 else 0.0
    records = c.records
    reality = c.world.reality
    values = {
        "code_knowledge": outcomes.knowledge_of_codes(
            spaces.codes[spaces.alive], reality, c.world.codified
        ),
        "mean_individual_knowledge": float(total @ reality) / (n_present * m) if n_present else 0.0,
        "belief_diversity": diversity,
        "members": float(n_present),
        "exits": float(records.exits),
        "retention": float(people.founder.mean()),
        "participation_mean": float(part_home[slots].mean()) if slots.size else 0.0,
        "core_share": float(core.sum() / members),
        "periphery_share": float((present & (part_home < p.periphery_threshold)).sum() / members),
        "voice_gini": metrics.gini(voice),
        "cohort_inclusion": float((people.cohort & core).sum() / people.cohort_size)
        if people.cohort_size
        else 0.0,
        "purpose_alignment": alignment,
    }
    values.update(headline(c))
    return values


def headline(c: Community) -> dict[str, float]:
    """Expansiveness, defensiveness and their components (:mod:`copsim.outcomes`),
    from what the present participants learned since they entered."""
    people, spaces, records = c.people, c.spaces, c.records
    pair = c.derived.home_pairs()
    taking_part = np.flatnonzero(people.present & (pair >= 0))
    home = c.derived.home_space()[taking_part]
    book = learning.ledger(c)
    moves = learning.transitions(
        np.take(book.entry_beliefs, taking_part, axis=0),
        np.take(people.beliefs, taking_part, axis=0),
        np.take(c.baseline.powerful_view, home, axis=0),
        c.world.reality,
    )
    codified = c.world.codified.any()
    novelty = outcomes.repertoire_novelty(spaces.codes, c.world.reality, c.baseline, spaces.alive)
    peripheral = outcomes.share(records.peripheral_weight, records.change_weight)
    if peripheral is None and codified and c.social:
        peripheral = 0.0  # the repertoire could have changed and did not
    if not c.social:
        peripheral = None  # March's anonymous individuals: no periphery to credit
    values = outcomes.indices(moves, novelty, peripheral, taking_part.size, people.beliefs.shape[1])
    values["expert_share"] = outcomes.share(records.expert_changes, records.change_weight) or 0.0
    values["alignment_with_powerful"] = outcomes.alignment_with_powerful(
        spaces.codes, c.baseline, spaces.alive
    )
    return values


def measure(c: Community, reporters: Iterable[Reporter]) -> dict[str, float]:
    """The full record: community measures and every submodel's, in ``COLUMNS`` order."""
    base = shared_basis(c)
    values = community(c, base)
    for report in reporters:
        values.update(report(c, base))
    ordered = {name: values[name] for name in COLUMNS if name in values}
    ordered.update({k: v for k, v in values.items() if k not in ordered})
    return ordered
