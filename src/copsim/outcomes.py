"""Expansive vs defensive learning: the two headline indices and the run label.

Harris & Shelswell (quoted in Johnson 2007) ask whether learning is
*expansive* (genuinely new ways of thinking and acting open up) or
*defensive* (what is learned mostly reinforces existing attitudes and
strategies).  Both indices are *geometric* means of three components in
[0, 1], so that each needs all three of its conditions: a community that
learns nothing keeps its diversity, but that is not expansive.

expansiveness = gmean(novelty, diversity kept, peripheral contribution)
  novelty: how far the repertoires now exceed the best belief vector any
    member held at the start (scored against today's reality), as a share of
    the headroom that member left: (K_code - K_best0) / (1 - K_best0), >= 0;
  diversity kept: final belief diversity / initial diversity (capped at 1);
  peripheral contribution: the share of the vote weight behind repertoire
    changes that came from members who started at the periphery (initially
    peripheral or low-power founders, and newcomers), plus accepted challenges.

defensiveness = gmean(alignment with the powerful, diversity lost, no improvement)
  alignment with the powerful: how much more the repertoires agree with the
    initial (power-weighted) belief of each space's most powerful tenth than chance (1/2) does;
  diversity lost: 1 - diversity kept;
  no improvement: 1 - novelty.

Label (documented thresholds, in this order): *dissolved* when fewer than two
members remain or no space is alive; *expansive* when expansiveness >=
EXPANSIVE_AT and exceeds defensiveness; *defensive* when defensiveness >=
DEFENSIVE_AT and is at least expansiveness; otherwise *stagnant*.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from copsim import knowledge as kn

EXPANSIVE_AT = 0.4
DEFENSIVE_AT = 0.4
LABELS = ("expansive", "defensive", "stagnant", "dissolved")


@dataclass(frozen=True)
class Baseline:
    """What the community knew and believed at the start (for the indices)."""

    beliefs: np.ndarray  # (N, m) initial beliefs of the founding members
    diversity: float  # initial belief diversity
    powerful_view: np.ndarray  # (S, m) initial view of each space's most powerful tenth
    codified: np.ndarray  # (m,) bool: dimensions a repertoire can hold (not tacit)
    _best: dict[bytes, float] = field(default_factory=dict, repr=False, compare=False)

    def best_founder(self, reality: np.ndarray) -> float:
        """Knowledge of the best founding member on the codified dimensions.

        Remembered until reality changes (it is asked for every period).
        """
        key = reality.tobytes()
        if key not in self._best:
            keep = self.codified
            self._best.clear()  # only the current reality is worth remembering
            self._best[key] = float(kn.knowledge(self.beliefs[:, keep], reality[keep]).max())
        return self._best[key]


def powerful_view(beliefs: np.ndarray, power: np.ndarray, membership: np.ndarray) -> np.ndarray:
    """Per space: the sign of the power-weighted initial beliefs of its most
    powerful tenth of members (at least one).  Returns (S, m) int8."""
    views = np.zeros((membership.shape[0], beliefs.shape[1]), dtype=np.int8)
    for s, members in enumerate(membership):  # one pass per space, not per agent
        slots = np.flatnonzero(members)
        if slots.size == 0:
            continue
        k = max(1, round(0.1 * slots.size))
        top = slots[np.argsort(-power[slots], kind="stable")[:k]]
        views[s] = np.sign((beliefs[top] * power[top, None]).sum(axis=0))
    return views


def novelty(codes: np.ndarray, reality: np.ndarray, baseline: Baseline, alive: np.ndarray) -> float:
    """Share of the headroom above the best founding member that the repertoires closed.

    Judged on the codified dimensions only: a repertoire cannot hold tacit ones.
    """
    keep = baseline.codified
    if not alive.any() or not keep.any():
        return 0.0
    code_k = float(kn.knowledge(codes[alive][:, keep], reality[keep]).mean())
    best = baseline.best_founder(reality)
    if best >= 1.0:
        return 0.0
    return float(np.clip((code_k - best) / (1.0 - best), 0.0, 1.0))


def alignment_with_powerful(codes: np.ndarray, baseline: Baseline, alive: np.ndarray) -> float:
    """Agreement of each repertoire with its space's powerful founders, beyond chance."""
    judged = (baseline.powerful_view != 0) & alive[:, None] & baseline.codified
    if not judged.any():
        return 0.0
    agree = (codes == baseline.powerful_view)[judged].mean()
    return float(np.clip((agree - 0.5) / 0.5, 0.0, 1.0))


def diversity_kept(diversity: float, baseline: Baseline) -> float:
    """Final over initial belief diversity, capped at 1."""
    if baseline.diversity <= 0:
        return 1.0
    return float(min(diversity / baseline.diversity, 1.0))


def indices(
    codes: np.ndarray,
    reality: np.ndarray,
    diversity: float,
    peripheral_contribution: float,
    baseline: Baseline,
    alive: np.ndarray,
) -> dict[str, float]:
    """Both headline indices and their components."""
    new = novelty(codes, reality, baseline, alive)
    kept = diversity_kept(diversity, baseline)
    aligned = alignment_with_powerful(codes, baseline, alive)
    return {
        "novelty": new,
        "diversity_kept": kept,
        "peripheral_contribution": peripheral_contribution,
        "alignment_with_powerful": aligned,
        "expansiveness": gmean(new, kept, peripheral_contribution),
        "defensiveness": gmean(aligned, 1.0 - kept, 1.0 - new),
    }


def gmean(*parts: float) -> float:
    """Geometric mean of values in [0, 1] (0 if any is 0)."""
    values = np.clip(np.asarray(parts, dtype=np.float64), 0.0, 1.0)
    return float(np.prod(values) ** (1.0 / values.size))


def classify(expansiveness: float, defensiveness: float, members: int, spaces_alive: int) -> str:
    """The run's label by the thresholds in the module note."""
    if members < 2 or spaces_alive == 0:
        return "dissolved"
    if expansiveness >= EXPANSIVE_AT and expansiveness > defensiveness:
        return "expansive"
    if defensiveness >= DEFENSIVE_AT and defensiveness >= expansiveness:
        return "defensive"
    return "stagnant"


def explain(label: str, values: dict[str, float]) -> str:
    """One plain-language line saying why the run got its label."""
    e, d = values.get("expansiveness", 0.0), values.get("defensiveness", 0.0)
    if label == "dissolved":
        return "The community dissolved: too few members or no space still meeting."
    if label == "expansive":
        return (
            f"Expansive (E={e:.2f} > D={d:.2f}): the repertoire knows more than any founder did "
            f"(novelty {values.get('novelty', 0):.2f}) and diversity survives."
        )
    if label == "defensive":
        return (
            f"Defensive (D={d:.2f} >= E={e:.2f}): the repertoire echoes the powerful "
            f"(alignment {values.get('alignment_with_powerful', 0):.2f}) and diversity "
            f"fell to {values.get('diversity_kept', 0):.0%} of its start."
        )
    return f"Stagnant (E={e:.2f}, D={d:.2f}): neither index passes its threshold."
