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

    Each year it gathers its own values, calls the shared rules and keeps the result; decisions
    use only last year's state and this year's context, never another authority's new state."""

    def __init__(self, model, index: int, kind: int, region: int, group: int, slots: np.ndarray,
                 deprivation: float, risk_aversion: float, capacity: float, reserves: float,
                 alpha: float, beta: float):
        super().__init__(model)
        self.index = index
        self.kind = KINDS[kind]
        self.region = REGIONS[region]
        self.group = group
        self.slots = slots  # indices of its services in the model's slot arrays (a contiguous block)
        self.deprivation = deprivation
        self.risk_aversion = risk_aversion
        self.odds = dyn.rules.risk_odds(risk_aversion)  # weight of its risk premium
        self.capacity0 = capacity
        self.reserves0 = reserves
        self.capacity = capacity  # after cuts
        self.reserves = reserves
        self.spending_power = np.float64(1.0)
        self.pressure = np.float64(0.0)
        self.alpha = alpha
        self.beta = beta
        self.belief = dyn.rules.belief_mean(alpha, beta)
        self.own = dyn.Outcomes(good=0.0, bad=0.0, news=0.0)  # last year's, of its own mutuals
        self.preparing = 0.0  # its projects in preparation (none at t=0)
        self.drawn = 0.0  # GBP m its spin-outs drew from its reserves
        self.mutuals: dict[int, Mutual] = {}

    def service_name(self, slot: int) -> str:
        code = self.model.structure.slot_service[slot]
        return SERVICES[code] if code >= 0 else "service"

    @property
    def has_live_mutual(self) -> bool:
        return any(m.status is MutualStatus.LIVE for m in self.mutuals.values())

    def service_states(self) -> dict[str, ServiceState]:
        return {self.service_name(j): ServiceState(int(self.model.slot_state[j])) for j in self.slots}

    def step_year(self, year: dyn.Year, u_fiscal: float, pools: dict, u_a: np.ndarray,
                  u_b: np.ndarray) -> dyn.Events:
        """One year for this authority and its services; returns its events for the model.

        The year itself is :func:`sim.dynamics.authority_and_services_year`, the step the
        ensemble engine calls: this agent passes its values and its slice of the model's slot
        arrays (which it updates), keeps its new values, and acts on what happened to each of
        its services (the model's ``slot_happened``): a launch creates a :class:`Mutual`, a live
        mutual's year is recorded on it."""
        m = self.model
        group, national = pools["group"][:, self.group], pools["national"]
        res = dyn.authority_and_services_year(
            m.params, year, dyn.Authority(
                spending_power=self.spending_power, alpha=self.alpha, beta=self.beta,
                deprivation=self.deprivation, capacity0=self.capacity0, reserves0=self.reserves0,
                odds=self.odds, drawn=self.drawn, preparing=self.preparing, own=self.own),
            u_fiscal, dyn.Outcomes(group[0], group[1], group[2]),
            dyn.Outcomes(national[0], national[1], national[2]), m.slot_state, m.slot_viability,
            m.structure.slot_cost, self.slots[0], self.slots[-1] + 1, u_a, u_b, m.slot_happened,
        )
        it = res.authority
        self.spending_power, self.pressure = it.spending_power, it.pressure
        self.alpha, self.beta, self.capacity, self.reserves = it.alpha, it.beta, it.capacity, it.reserves
        self.belief = dyn.rules.belief_mean(self.alpha, self.beta)
        self.drawn, self.preparing, self.own = res.drawn, res.tally.preparing, res.own
        for j in self.slots:
            happened = int(m.slot_happened[j])
            if happened & (dyn.GOOD | dyn.BAD):
                self.mutuals[j].record(bool(happened & dyn.GOOD), bool(happened & dyn.FAILED),
                                       bool(happened & dyn.LOST))
            if happened & dyn.LAUNCHED:
                self.mutuals[j] = Mutual(m, self, j, float(m.slot_viability[j]))
        return res.events
