"""Mesa agents: local authorities and the mutuals they spin out. Behaviour only; the rules they
follow are the functions of :mod:`sim.dynamics` and :mod:`sim.rules`."""

from __future__ import annotations

from enum import Enum

import mesa
import numpy as np

from . import dynamics as dyn
from .population import KINDS, REGIONS, SERVICES, ServiceState


class MutualStatus(Enum):
    LIVE = "live"
    FAILED = "failed and returned in house"
    LOST = "lost its contract at re-procurement"


class Mutual(mesa.Agent):
    """A spun-out service: its parent, service, start year, latent viability and status."""

    def __init__(self, model, parent: LocalAuthority, slot: int, viability: float):
        super().__init__(model)
        self.parent = parent
        self.slot = slot
        self.service = parent.service_name(slot)
        self.start_year = model.year
        self.viability = viability
        self.status = MutualStatus.LIVE
        self.good_years = 0
        self.bad_years = 0

    def record(self, good: bool, failed: bool, lost: bool) -> None:
        self.good_years += int(good)
        self.bad_years += int(not good)
        if failed:
            self.status = MutualStatus.FAILED
        elif lost:
            self.status = MutualStatus.LOST


class LocalAuthority(mesa.Agent):
    """An English principal authority: finances, capacity, beliefs and its services' states.

    Its changing values live in the model's arrays, at its ``index`` (the layout the compiled
    year reads); each year it calls that year (:func:`sim.dynamics.authorities_year`) for itself
    and its services, then acts on what happened: a launch creates a :class:`Mutual`, a live
    mutual's year is recorded on it. Decisions use only last year's state and this year's
    context, never another authority's new state."""

    def __init__(self, model, index: int, kind: int, region: int, group: int, slots: np.ndarray):
        super().__init__(model)
        self.index = index
        self.kind = KINDS[kind]
        self.region = REGIONS[region]
        self.group = group
        self.slots = slots  # indices of its services in the model's slot arrays (a contiguous block)
        self.mutuals: dict[int, Mutual] = {}

    def _value(self, name: str) -> float:
        return float(getattr(self.model.authority, name)[self.index])

    deprivation = property(lambda self: self._value("deprivation"))
    capacity0 = property(lambda self: self._value("capacity0"), doc="capacity before cuts")
    reserves0 = property(lambda self: self._value("reserves0"))
    odds = property(lambda self: self._value("odds"), doc="weight of its risk premium")
    spending_power = property(lambda self: self._value("spending_power"))
    alpha = property(lambda self: self._value("alpha"))
    beta = property(lambda self: self._value("beta"))
    drawn = property(lambda self: self._value("drawn"), doc="GBP m its spin-outs drew from its reserves")

    @property
    def belief(self) -> float:
        return float(dyn.rules.belief_mean(self.alpha, self.beta))

    def service_name(self, slot: int) -> str:
        code = self.model.structure.slot_service[slot]
        return SERVICES[code] if code >= 0 else "service"

    @property
    def has_live_mutual(self) -> bool:
        return any(m.status is MutualStatus.LIVE for m in self.mutuals.values())

    def service_states(self) -> dict[str, ServiceState]:
        return {self.service_name(j): ServiceState(int(self.model.slot_state[j])) for j in self.slots}

    def step_year(self, year: dyn.Year, u: np.ndarray, group: np.ndarray, national: dyn.Outcomes) -> dyn.Events:
        """One year for this authority and its services (``u``: the year's uniforms; ``group``
        and ``national``: last year's pooled outcomes); returns its services' events."""
        m, st = self.model, self.model.structure
        events, _ = dyn.authorities_year(
            m.params, year, self.index, self.index + 1, st.group, st.first_slot, st.slot_cost, u, m.slot_state,
            m.slot_viability, m.authority, group, national, m.settings.behaviour.savings_rate, m.happened)
        for j in self.slots:
            bits = m.happened[j]
            if bits & (dyn.GOOD | dyn.BAD):
                self.mutuals[j].record(bool(bits & dyn.GOOD), bool(bits & dyn.FAILED), bool(bits & dyn.LOST))
            if bits & dyn.LAUNCHED:
                self.mutuals[j] = Mutual(m, self, j, float(m.slot_viability[j]))
        return events
