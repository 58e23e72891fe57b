"""The Committee's claim, part by part: the one definition of each answer, which the verdict
(under the posterior and at the defaults) and scenario discovery (at each point of the prior)
share.

The claim [@HC112, para 94]: "The necessary critical mass will be slow to build up without more
and better support ... Without additional assistance it seems likely little will happen." Each
part is answered from one probability (:func:`answer`); the claim holds if its first three parts
do (:func:`holds`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

COMMITTEE = "Communities and Local Government Committee"
"""The House of Commons select committee whose report [@HC112] makes the claim."""

REPORT = "HC 112, December 2012, para 94"
"""Where the claim is made."""

LIKELY = 0.5
"""A part's answer turns at this probability: "likely" is at least even odds, "unlikely" below
them. The claim's words ("slow to build", "seems likely") say no more than this."""

LITTLE = 0.5
"""*Little happens* in a draw: the share of authorities running a mutual rises by less than this
fraction of the critical-mass threshold from 2012 to the critical-mass year."""

PARTS = {
    "little_without": "little happens without additional support",
    "slow_without": "critical mass is unlikely without additional support",
    "built_with": "critical mass is likely with more and better support",
    "self_sustaining": "what more support built lasts once it ends",
    "barrier": "there is a critical-mass barrier",
}
"""Each part of the claim, and what a yes means."""

CLAIM = ("little_without", "slow_without", "built_with")
"""The parts the claim is made of: it holds if each of them is answered yes."""


def little(rise, threshold: float):
    """Whether little happens in each draw: ``rise`` (share of authorities, 2012 to the
    critical-mass year; an array or a Series, whose index is kept) below :data:`LITTLE` of
    ``threshold``."""
    return rise < LITTLE * threshold


def answer(part: str, probability):
    """The answer (yes: True) to ``part`` given its probability: for ``slow_without`` the
    probability of critical mass by the year without additional support, which must be below
    :data:`LIKELY`; for every other part the probability of what it says, which must be at
    least :data:`LIKELY`. Works on arrays of probabilities too."""
    if part not in PARTS:
        raise ValueError(f"part: allowed {', '.join(PARTS)}; given {part!r}")
    p = np.asarray(probability, dtype=float)
    return p < LIKELY if part == "slow_without" else p >= LIKELY


def holds(answers: Mapping[str, object]):
    """Whether the claim holds given the answers (booleans, or arrays of them) to its parts."""
    out = np.asarray(answers[CLAIM[0]], dtype=bool)
    for part in CLAIM[1:]:
        out = out & np.asarray(answers[part], dtype=bool)
    return out
