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


def community(c: Community, base: dict) -> dict[str, np.ndarray]:
    """Measures of each community as a whole, and the two headline indices: (K,) each."""
    p, people, mb, spaces, lay = c.params, c.people, c.members, c.spaces, c.layout
    present, part_home, core = base["present"], base["part_home"], base["core"]
    m = lay.dims
    # one batched pass over the beliefs: each run's column sums of b and |b| over
    # those present (float32 products are exact for these integer counts)
    weights = lay.by_run(present.astype(np.float32))[:, None, :]  # (K, 1, N)
    held = lay.by_run(people.beliefs.astype(np.float32))  # (K, N, m)
    total = np.matmul(weights, held)[:, 0, :]  # (K, m)
    decided = np.matmul(weights, np.abs(held, out=held))[:, 0, :]
    n_present = lay.count(present)
    diversity = metrics.diversity_by_run(total, decided, n_present)
    power_w = c.derived.power_weights()
    voice = mb.per_slot(mb.participation * power_w[mb.slot])
    members = np.maximum(n_present, 1)
    mass = lay.pair_total(mb.space, mb.participation)
    aligned = lay.pair_total(mb.space, c.derived.fit() * mb.participation)
    reality = c.world.reality
    knowing = np.einsum("km,km->k", total, reality.astype(np.float32))
    cohort = people.cohort_size
    values = {
        "code_knowledge": outcomes.knowledge_of_codes(
            spaces.codes, reality, c.world.codified, spaces.alive, lay
        ),
        "mean_individual_knowledge": np.where(
            n_present > 0, knowing / np.maximum(n_present * m, 1), 0.0
        ),
        "belief_diversity": diversity,
        "members": n_present.astype(np.float64),
        "exits": c.records.exits.astype(np.float64),
        "retention": lay.count(people.founder) / lay.slots,
        "participation_mean": lay.mean(part_home, present),
        "core_share": lay.count(core) / members,
        "periphery_share": lay.count(present & (part_home < p.periphery_threshold)) / members,
        "voice_gini": metrics.gini_by_run(lay.by_run(voice), lay.by_run(present)),
        "cohort_inclusion": np.where(
            cohort > 0, lay.count(people.cohort & core) / np.maximum(cohort, 1), 0.0
        ),
        "purpose_alignment": np.where(mass > 0, aligned / np.where(mass > 0, mass, 1.0), 0.0),
    }
    values.update(headline(c))
    return values


def headline(c: Community) -> dict[str, np.ndarray]:
    """Expansiveness, defensiveness and their components (:mod:`copsim.outcomes`),
    from what the present participants learned since they entered: (K,) each."""
    people, spaces, records, lay = c.people, c.spaces, c.records, c.layout
    pair = c.derived.home_pairs()
    taking_part = np.flatnonzero(people.present & (pair >= 0))
    home = c.derived.home_space()[taking_part]
    run = lay.run_of_slots(taking_part)
    book = learning.ledger(c)
    moves = learning.transitions(
        np.take(book.entry_beliefs, taking_part, axis=0),
        np.take(people.beliefs, taking_part, axis=0),
        np.take(c.baseline.powerful_view, home, axis=0),
        np.take(c.world.reality, run, axis=0),
        run,
        c.runs,
    )
    novelty = outcomes.repertoire_novelty(
        spaces.codes, c.world.reality, c.baseline, spaces.alive, lay
    )
    peripheral, judged = outcomes.share(records.peripheral_weight, records.change_weight)
    if c.social and c.world.codified.any():
        judged = np.ones_like(judged)  # the repertoire could have changed (0 if it did not)
    if not c.social:  # March's anonymous individuals: no periphery to credit
        judged = np.zeros_like(judged)
    participants = np.bincount(run, minlength=c.runs)
    values = outcomes.indices(moves, novelty, (peripheral, judged), participants, lay.dims)
    values["expert_share"] = outcomes.share(records.expert_changes, records.change_weight)[0]
    values["alignment_with_powerful"] = outcomes.alignment_with_powerful(
        spaces.codes, c.baseline, spaces.alive, lay
    )
    return values


def observe(c: Community) -> tuple[dict, np.ndarray]:
    """What must be seen every period even when no record is taken: who of those who
    started at the edge is core now (inclusion counts first arrivals at the core).
    Returns the shared basis and the (K,) number of members (for the stop rule)."""
    base = shared_basis(c)
    learning.record_core(c, base["core"])
    return base, c.layout.count(base["present"])


def measure(
    c: Community, reporters: Iterable[Reporter], base: dict | None = None
) -> dict[str, np.ndarray]:
    """The full record, (K,) per name: community measures and every submodel's, in
    ``COLUMNS`` order.  ``base`` is this period's :func:`observe` when it was
    already taken (it must be taken exactly once a period)."""
    if base is None:
        base, _ = observe(c)
    values = community(c, base)
    for report in reporters:
        values.update(report(c, base))
    ordered = {name: values[name] for name in COLUMNS if name in values}
    ordered.update({k: v for k, v in values.items() if k not in ordered})
    return {k: np.asarray(v, dtype=np.float64) for k, v in ordered.items()}
