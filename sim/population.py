"""The population of English principal authorities and the services each could spin out.

The structure (kinds, regions, services, peer groups) is fixed by the scenario; the attributes that
vary between authorities (deprivation, risk aversion, capacity, reserves) are drawn per replicate
by :func:`draw_attributes` from the replicate's own generator.

Authorities are ordered by peer group (region, then tier) so that a group is a contiguous block,
and service slots are ordered by authority, so that an authority's services are the contiguous
block ``first_slot[a]`` to ``first_slot[a + 1] - 1`` of every slot array (see
:attr:`Structure.first_slot`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import IntEnum

import numpy as np
from scipy.special import ndtri

from .scenario import Scenario

REGIONS = (
    "North East", "North West", "Yorkshire and the Humber", "East Midlands", "West Midlands",
    "East of England", "London", "South East", "South West",
)
KINDS = ("county", "district", "unitary", "metropolitan", "london", "scilly")

# Authorities by region and kind. 2012: the 353 principal councils of 2009-12 [@DCLG2009],
# reconstructed from the county/district map after the 2009 reorganisation. Today: the 317 of
# gov.uk's local government structure [@GovUKStructure], after the unitary reorganisations of 2019-2023.
# Columns follow KINDS; rows follow REGIONS.
COMPOSITION = {
    "2012": np.array([
        [0, 0, 7, 5, 0, 0],
        [2, 18, 6, 15, 0, 0],
        [1, 7, 5, 9, 0, 0],
        [5, 36, 4, 0, 0, 0],
        [3, 19, 4, 7, 0, 0],
        [5, 41, 6, 0, 0, 0],
        [0, 0, 0, 0, 33, 0],
        [7, 55, 12, 0, 0, 0],
        [4, 25, 11, 0, 0, 1],
    ]),
    "today": np.array([
        [0, 0, 7, 5, 0, 0],
        [1, 12, 8, 15, 0, 0],
        [0, 0, 6, 9, 0, 0],
        [4, 29, 6, 0, 0, 0],
        [3, 19, 4, 7, 0, 0],
        [5, 39, 6, 0, 0, 0],
        [0, 0, 0, 0, 33, 0],
        [6, 51, 13, 0, 0, 0],
        [2, 14, 12, 0, 0, 1],
    ]),
}

# Mean deprivation score (0 least, 1 most deprived) by region: an assumption ordered as the
# regions rank on the English Indices of Deprivation [@IoD]; metropolitan boroughs sit above their
# region, districts below it.
REGION_DEPRIVATION = np.array([0.65, 0.62, 0.58, 0.48, 0.56, 0.38, 0.60, 0.32, 0.40])
KIND_DEPRIVATION = np.array([-0.05, -0.10, 0.0, 0.10, 0.0, 0.0])

# Services an authority could spin out, with the yearly cost of the part that would be spun out
# (GBP m; assumption, range half to double). Districts run leisure, housing and parks; counties
# adult social care, libraries and youth services; the single-tier kinds run all six.
SERVICES = ("leisure", "housing", "parks", "adult_social_care", "libraries", "youth")
SERVICE_COST = np.array([4.0, 8.0, 2.0, 12.0, 3.0, 2.0])
KIND_SERVICES = {
    "county": (3, 4, 5),
    "district": (0, 1, 2),
    "unitary": (0, 1, 2, 3, 4, 5),
    "metropolitan": (0, 1, 2, 3, 4, 5),
    "london": (0, 1, 2, 3, 4, 5),
    "scilly": (0, 1, 2, 3, 4, 5),
}
GENERIC_COST = 5.0  # GBP m, the one generic service of the `single` (Bass) population


class ServiceState(IntEnum):
    """State of one service slot; the reporters count these."""

    IN_HOUSE = 0
    PREPARING = 1
    SPUN_OUT = 2
    RETURNED = 3
    ALTERNATIVE = 4  # delivered another way (company, outsourcing, shared service) for a contract
    NOT_READY = 5  # in house, with no staff team ready to lead a spin-out


@dataclass(frozen=True)
class Structure:
    """The fixed structure of a population: who the authorities are and what they run."""

    kind: np.ndarray  # (A,) index into KINDS
    region: np.ndarray  # (A,) index into REGIONS
    group: np.ndarray  # (A,) peer group index (region x tier)
    slot_authority: np.ndarray  # (N,) authority owning each slot
    slot_service: np.ndarray  # (N,) index into SERVICES (-1: generic)
    slot_cost: np.ndarray  # (N,) GBP m a year
    authority_starts: np.ndarray  # (A,) first slot of each authority

    @property
    def n_authorities(self) -> int:
        return len(self.kind)

    @property
    def n_slots(self) -> int:
        return len(self.slot_authority)

    @property
    def first_slot(self) -> np.ndarray:
        """(A + 1,) authority ``a`` owns slots ``first_slot[a]`` to ``first_slot[a + 1] - 1``."""
        return np.append(self.authority_starts, self.n_slots)


def build_structure(scenario: Scenario) -> Structure:
    """Authorities ordered by region then tier (districts, then upper and single tier). The
    structure depends only on ``population.structure`` and ``population.services``; it is built
    once for each and shared (its arrays are read-only)."""
    return _structure(scenario.population.structure, scenario.population.services)


@functools.lru_cache(maxsize=None)
def _structure(which: str, services: str) -> Structure:
    comp = COMPOSITION[which]
    kinds, regions, groups = [], [], []
    for r in range(len(REGIONS)):
        for tier, tier_kinds in enumerate(((1,), (0, 2, 3, 4, 5))):
            for k in tier_kinds:
                n = int(comp[r, k])
                kinds += [k] * n
                regions += [r] * n
                groups += [2 * r + tier] * n
    kind = np.array(kinds)
    region = np.array(regions)
    _, group = np.unique(np.array(groups), return_inverse=True)
    if services == "single":
        slot_authority = np.arange(len(kind))
        slot_service = np.full(len(kind), -1)
        slot_cost = np.full(len(kind), GENERIC_COST)
    else:
        per = [KIND_SERVICES[KINDS[k]] for k in kind]
        slot_authority = np.repeat(np.arange(len(kind)), [len(s) for s in per])
        slot_service = np.concatenate([np.array(s) for s in per])
        slot_cost = SERVICE_COST[slot_service]
    authority_starts = np.flatnonzero(np.r_[True, slot_authority[1:] != slot_authority[:-1]])
    for array in (kind, region, group, slot_authority, slot_service, slot_cost, authority_starts):
        array.flags.writeable = False
    return Structure(kind=kind, region=region, group=group, slot_authority=slot_authority,
                     slot_service=slot_service, slot_cost=slot_cost,
                     authority_starts=authority_starts)


POPULATION_DRAWS = 5  # uniforms per authority drawn at set-up, before the yearly draws


def uniform_spread(u: np.ndarray, mean: float, half_width: float, low: float = 0.0,
                   high: float = 1.0) -> np.ndarray:
    """Map uniforms on [0, 1) to mean +/- half_width, clipped to [low, high]."""
    return np.clip(mean + half_width * (2.0 * u - 1.0), low, high)


def draw_attributes(structure: Structure, scenario: Scenario, u: np.ndarray) -> dict[str, np.ndarray]:
    """Authority attributes from uniforms ``u`` of shape (..., POPULATION_DRAWS, A).

    Returns deprivation, risk aversion, capacity and reserves (each (..., A)) and the initial
    adopters (bool, (..., A)): the round(share x A) authorities with the smallest draw."""
    pop = scenario.population
    base = REGION_DEPRIVATION[structure.region] + KIND_DEPRIVATION[structure.kind]
    deprivation = np.clip(base + pop.deprivation_spread * ndtri(u[..., 0, :]), 0.0, 1.0)
    risk_aversion = uniform_spread(u[..., 1, :], pop.risk_aversion, pop.risk_aversion_spread)
    capacity = uniform_spread(u[..., 2, :], pop.capacity, pop.capacity_spread)
    reserves = pop.reserves * uniform_spread(u[..., 3, :], 1.0, pop.reserves_spread, 0.0, np.inf)
    n_initial = int(round(pop.initial_adopters * structure.n_authorities))
    initial = np.zeros(u.shape[:-2] + u.shape[-1:], dtype=bool)
    if n_initial > 0:  # the n_initial smallest draws (ties have probability zero)
        chosen = np.argpartition(u[..., 4, :], n_initial - 1, axis=-1)[..., :n_initial]
        np.put_along_axis(initial, chosen, True, axis=-1)
    return {"deprivation": deprivation, "risk_aversion": risk_aversion, "capacity": capacity,
            "reserves": reserves, "initial_adopter": initial}

