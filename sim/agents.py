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
        self.slots = slots  # indices of its services in the model's slot arrays
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
        self.last_good = 0
        self.last_bad = 0
        self.last_news = 0  # abandoned projects, failures and lost contracts
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
                  u_b: np.ndarray) -> dict:
        """One year for this authority and its services; returns its events for the model."""
        m = self.model
        p = m.params
        group, national = pools["group"][:, self.group], pools["national"]
        n_preparing = float(np.sum(m.slot_state[self.slots] == dyn.PREPARING))
        after = dyn.authority_year(
            p, year, self.spending_power, self.alpha, self.beta, self.deprivation, u_fiscal,
            self.capacity0, self.reserves0,
            dyn.Outcomes(float(self.last_good), float(self.last_bad), float(self.last_news)),
            dyn.Outcomes(group[0], group[1], group[2]),
            dyn.Outcomes(national[0], national[1], national[2]), n_preparing, self.drawn,
        )
        self.spending_power, self.pressure = after.spending_power, after.pressure
        self.alpha, self.beta = after.alpha, after.beta
        self.capacity, self.reserves = after.capacity, after.reserves
        self.belief = dyn.rules.belief_mean(self.alpha, self.beta)
        events = dict.fromkeys(dyn.EVENTS, 0)
        good = bad = news = 0
        up_front = p.reserves_drawdown * dyn.net_cost(p, year)
        for j in self.slots:
            res = dyn.slot_year(
                p, year, m.slot_state[j], m.slot_viability[j], m.structure.slot_cost[j], u_a[j],
                u_b[j], after.p_review, self.pressure, self.capacity, self.reserves, self.alpha,
                self.beta, self.odds,
            )
            for key in events:
                events[key] += int(getattr(res, key))
            good += int(res.good)
            bad += int(res.bad)
            news += int(res.abandoned) + int(res.failed) + int(res.lost)
            if res.accepted:
                self.drawn += up_front
            if res.good or res.bad:
                self.mutuals[j].record(res.good, res.failed, res.lost)
            m.slot_state[j] = res.state
            m.slot_viability[j] = res.viability
            if res.launched:
                self.mutuals[j] = Mutual(m, self, j, float(res.viability))
        self.last_good, self.last_bad, self.last_news = good, bad, news
        return events
