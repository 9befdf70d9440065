"""Expansive and defensive learning, measured on the participants, and the run label (ODD II.8).

Harris & Shelswell, as Johnson (2007) quotes them: learning is *expansive*
when "genuinely new ways of thinking and acting are opened up for
participants", and *defensive* when "what is being learned is mostly
supporting or reinforcing existing attitudes and strategies".  Both indices
therefore look at what each present participant learned during its own tenure
(its beliefs now against its beliefs on entry, :mod:`copsim.learning`),
against the *initial dominant view*: the power-weighted view of the most
powerful tenth of the founders of the participant's home space (the initial
repertoires hold no view: March's code starts undecided).

expansiveness = geometric mean of
  new ways: of the dimensions on which neither the participant (on entry) nor
    the dominant view was right, the share the participant now has right;
  repertoire novelty: of the (space, codified dimension) pairs on which the
    dominant view was not right, the share the repertoire now has right (what
    the community did not know as a community: with 50 founders of random
    beliefs almost every single dimension was known to *some* founder, so
    "what no founder knew" is read as "what the founding view did not hold");
  own views kept: of the dimensions on which a participant's entry belief
    differed from the dominant view, the share on which the dominant view has
    not replaced it (learning the truth where the view was wrong keeps it);
  peripheral contribution: the share of the repertoire changes that brought
    knowledge (a non-zero belief) that came from members of peripheral origin
    (by their share of the vote weight) or from accepted challenges; changes
    forced by the outside expert are credited to the expert, and reopening a
    dimension (setting it to 0) is no contribution of knowledge.
  A component with nothing to judge (no codified dimension, no distinct view)
  is left out of the mean rather than set to 0 or 1.

defensiveness = max(0, conformity), where conformity (in [-1, 1]) is the net
  share of participants' belief changes that moved them to the dominant view:
  (changes onto the view - changes away from a view held on entry) / all
  changes.  Learning away from the dominant view counts against it; a
  community that learns nothing has conformity 0.

Labels: *dissolved* (fewer than two members or no space alive); otherwise a
run is *expansive* when expansiveness >= EXPANSIVE_AT, *defensive* when
defensiveness >= DEFENSIVE_AT, the larger margin deciding if both hold;
otherwise *stagnant*.  The thresholds come from a reference: the distribution
of the indices in a community whose social layer is neutral (equal power, one
identity, safe spaces, money enough, no contestation or reification;
``experiments/label_reference.py``): EXPANSIVE_AT is that distribution's 10th
percentile of expansiveness (expansive = opens new ways at least as well as
nine in ten neutral communities do) and DEFENSIVE_AT its 90th percentile of
defensiveness (defensive = conforms more than nine in ten neutral
communities).  The margin is the distance from the deciding threshold in
units of the reference's spread (its interquartile range) of that index.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from copsim import knowledge as kn
from copsim.learning import Transitions
from copsim.memberships import Memberships

#: Thresholds and spreads from the neutral reference (experiments/label_reference.py,
#: 2,000 seeds on the ensemble engine; docs/label_reference.csv): the 10th percentile of expansiveness, the 90th
#: percentile of defensiveness, and each index's interquartile range.
EXPANSIVE_AT = 0.312
DEFENSIVE_AT = 0.286
EXPANSIVE_SPREAD = 0.114
DEFENSIVE_SPREAD = 0.123
LABELS = ("expansive", "defensive", "stagnant", "dissolved")

#: The neutral reference the thresholds come from: the default community with its
#: social forces switched off (equal power, one identity, fully safe spaces, no money
#: constraints, no contestation, no reification, no purpose drift).
NEUTRAL_REFERENCE: dict[str, object] = dict(
    power_asymmetry=0.0,
    identity_diversity=0.0,
    safety=1.0,
    funding=False,
    contestation=False,
    reification=False,
    purpose_drift=0.0,
)
#: Percentiles of the reference that set the thresholds.
EXPANSIVE_PERCENTILE = 10
DEFENSIVE_PERCENTILE = 90


@dataclass(frozen=True)
class Baseline:
    """What the community knew and believed at the start (for the indices)."""

    beliefs: np.ndarray  # (N, m) initial beliefs of the founding members
    diversity: float  # initial belief diversity
    powerful_view: np.ndarray  # (S, m) initial view of each space's most powerful tenth
    codified: np.ndarray  # (m,) bool: dimensions a repertoire can hold (not tacit)


def powerful_view(beliefs: np.ndarray, power: np.ndarray, members: Memberships) -> np.ndarray:
    """Per space: the sign of the power-weighted initial beliefs of its most
    powerful tenth of members (at least one; equal power: lower slot first).
    Returns (S, m) int8 (every space of every run)."""
    views = np.zeros((members.n_spaces, beliefs.shape[1]), dtype=np.int8)
    if len(members) == 0:
        return views
    space, slot = members.space, members.slot
    order = np.lexsort((slot, -power[slot], space))  # by space, most powerful first
    space, slot = space[order], slot[order]
    count = np.bincount(space, minlength=members.n_spaces)
    first = np.concatenate([[0], np.cumsum(count)[:-1]])
    position = np.arange(space.size) - first[space]
    top = position < np.maximum(1, np.round(0.1 * count))[space]
    weighted = beliefs[slot[top]] * power[slot[top], None]
    sums = np.zeros((members.n_spaces, beliefs.shape[1]))
    np.add.at(sums, space[top], weighted)
    return np.sign(sums).astype(np.int8)


def repertoire_novelty(
    codes: np.ndarray, reality: np.ndarray, baseline: Baseline, alive: np.ndarray, layout
) -> tuple[np.ndarray, np.ndarray]:
    """(K,) of the (alive space, codified dimension) pairs where the dominant view was
    not right, the share the repertoire now has right; and (K,) whether there was any
    such pair (a run with none has nothing to judge)."""
    at_space = np.repeat(reality, layout.spaces, axis=0)
    judged = alive[:, None] & baseline.codified[None, :] & (baseline.powerful_view != at_space)
    right = judged & (codes == at_space)
    n = layout.total_spaces(np.count_nonzero(judged, axis=1))
    hit = layout.total_spaces(np.count_nonzero(right, axis=1))
    return np.where(n > 0, hit / np.maximum(n, 1), 0.0), n > 0


def alignment_with_powerful(
    codes: np.ndarray, baseline: Baseline, alive: np.ndarray, layout
) -> np.ndarray:
    """(K,) agreement of the alive repertoires with their space's dominant view where
    it is decided (reported beside the indices; 0 if nothing can be judged)."""
    judged = (baseline.powerful_view != 0) & alive[:, None] & baseline.codified
    agree = judged & (codes == baseline.powerful_view)
    n = layout.total_spaces(np.count_nonzero(judged, axis=1))
    hit = layout.total_spaces(np.count_nonzero(agree, axis=1))
    return np.where(n > 0, hit / np.maximum(n, 1), 0.0)


def share(part: np.ndarray, whole: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(part / whole, whether there was anything to judge) per run (0 where not)."""
    part, whole = np.asarray(part, dtype=np.float64), np.asarray(whole, dtype=np.float64)
    judged = whole > 0
    return np.where(judged, part / np.where(judged, whole, 1.0), 0.0), judged


def indices(
    moves: Transitions,
    novelty: tuple[np.ndarray, np.ndarray],
    peripheral_contribution: tuple[np.ndarray, np.ndarray],
    participants: np.ndarray,
    dimensions: int,
) -> dict[str, np.ndarray]:
    """Both headline indices and their components per run, all in [0, 1] (conformity
    in [-1, 1]).  ``novelty`` and ``peripheral_contribution`` are (values, judged)
    pairs; a component with nothing to judge is reported as 0 and left out of the
    geometric mean (new ways always counts)."""
    new_ways, _ = share(moves.opened, moves.headroom)
    kept, kept_judged = share(moves.kept, moves.distinct)
    changed = moves.changed
    conformity = np.where(
        changed > 0, (moves.conformed - moves.departed) / np.maximum(changed, 1), 0.0
    )
    novelty_value, novelty_judged = novelty
    peripheral, peripheral_judged = peripheral_contribution
    parts = np.stack([new_ways, novelty_value, kept, peripheral])
    used = np.stack([np.ones_like(novelty_judged), novelty_judged, kept_judged, peripheral_judged])
    cells = participants * dimensions
    volume = np.where(cells > 0, changed / np.maximum(cells, 1), 0.0)
    return {
        "new_ways": new_ways,
        "repertoire_novelty": novelty_value,
        "own_views_kept": kept,
        "peripheral_contribution": peripheral,
        "conformity": conformity,
        "learning_volume": volume,
        "expansiveness": gmean(parts, used),
        "defensiveness": np.maximum(0.0, conformity),
    }


def gmean(parts: np.ndarray, used: np.ndarray) -> np.ndarray:
    """Per run (columns), the geometric mean of the used values (rows) in [0, 1]
    (0 if any used value is 0 or none is used)."""
    values = np.where(used, np.clip(parts, 0.0, 1.0), 1.0)
    count = used.sum(axis=0)
    product = (
        values[0] * values[1] * values[2] * values[3]
        if values.shape[0] == 4
        else (np.prod(values, axis=0))
    )
    return np.where(count > 0, product ** (1.0 / np.maximum(count, 1)), 0.0)


def classify(
    expansiveness: float,
    defensiveness: float,
    members: int,
    spaces_alive: int,
    thresholds: tuple[float, float] | None = None,
) -> str:
    """The run's label by the rule in the module note (``thresholds`` replaces
    (EXPANSIVE_AT, DEFENSIVE_AT), to show how the shares move with them)."""
    return classify_with_margin(expansiveness, defensiveness, members, spaces_alive, thresholds)[0]


def classify_with_margin(
    expansiveness: float,
    defensiveness: float,
    members: int,
    spaces_alive: int,
    thresholds: tuple[float, float] | None = None,
) -> tuple[str, float]:
    """The label and its margin: how far (in reference spreads) the run is from the
    line it would cross to change label (positive inside its label; 0 if dissolved)."""
    if members < 2 or spaces_alive == 0:
        return "dissolved", 0.0
    e_at, d_at = thresholds or (EXPANSIVE_AT, DEFENSIVE_AT)
    e = (expansiveness - e_at) / EXPANSIVE_SPREAD
    d = (defensiveness - d_at) / DEFENSIVE_SPREAD
    if e >= 0 and e >= d:
        return "expansive", float(min(e, e - d))
    if d >= 0:
        return "defensive", float(min(d, d - e))
    return "stagnant", float(min(-e, -d))


def explain(label: str, values: dict[str, float]) -> str:
    """One plain-language line saying why the run got its label."""
    e, d = values.get("expansiveness", 0.0), values.get("defensiveness", 0.0)
    if label == "dissolved":
        return "The community dissolved: too few members or no space still meeting."
    if label == "expansive":
        return (
            f"Expansive (E={e:.2f}, D={d:.2f}): participants now hold "
            f"{values.get('new_ways', 0):.0%} of what neither they nor the powerful knew, and "
            f"the repertoire {values.get('repertoire_novelty', 0):.0%} of it."
        )
    if label == "defensive":
        return (
            f"Defensive (D={d:.2f}, E={e:.2f}): on balance {values.get('conformity', 0):.0%} of "
            "what participants learned moved them to the powerful founders' view."
        )
    return (
        f"Stagnant (E={e:.2f}, D={d:.2f}): neither new ways nor conformity beyond "
        "what a neutral community shows."
    )


def knowledge_of_codes(
    codes: np.ndarray, reality: np.ndarray, codified: np.ndarray, alive: np.ndarray, layout
) -> np.ndarray:
    """(K,) mean knowledge of each run's alive repertoires on the dimensions a
    repertoire can hold (0 with none alive or nothing codified)."""
    if not codified.any():
        return np.zeros(layout.runs)
    held = layout.spaces_by_run(codes[:, codified]).astype(np.float32)
    scores = kn.score(held, reality[:, codified]).reshape(-1) / int(codified.sum())
    return layout.mean_spaces(scores, alive)
