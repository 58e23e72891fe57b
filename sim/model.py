"""The Mesa model: the world, its set-up and its yearly step.

One model is one replicate. Its random numbers come only from ``self.rng``, seeded with the
replicate's seed, and are drawn in the same layout as the ensemble engine draws them (see
:mod:`sim.dynamics`), so that both engines give the same numbers for the same seed.
"""

from __future__ import annotations

import mesa
import numpy as np

from . import dynamics as dyn
from .agents import LocalAuthority, Mutual
from .population import POPULATION_DRAWS, build_structure, draw_attributes
from .scenario import Scenario


class MutualsModel(mesa.Model):
    """English local authorities deciding, year by year, whether to spin services out as mutuals."""

    def __init__(self, scenario: Scenario | None = None, rng: int | None = None):
        super().__init__(rng=rng)
        self.settings = scenario if scenario is not None else Scenario()
        s = self.settings
        self.structure = st = build_structure(s)
        self.params = dyn.params(s)
        self.year = s.run.start_year
        attrs = draw_attributes(st, s, self.rng.random((POPULATION_DRAWS, st.n_authorities)))
        ready = dyn.readiness_draws(st, s, self.rng.random)
        self.slot_state, self.slot_viability = dyn.initial_state(st, s, attrs["initial_adopter"], ready)
        self.slot_state = self.slot_state.copy()
        self.slot_viability = self.slot_viability.copy()
        alpha, beta = dyn.prior(s)
        A = st.n_authorities
        drawn = {k: np.ascontiguousarray(attrs[k], dtype=float) for k in ("deprivation", "capacity", "reserves")}
        self.authority = dyn.Authorities(
            deprivation=drawn["deprivation"], capacity0=drawn["capacity"], reserves0=drawn["reserves"],
            odds=np.array([dyn.rules.risk_odds(x) for x in attrs["risk_aversion"]], dtype=float),
            spending_power=np.ones(A), reference=np.ones(A), alpha=np.full(A, alpha), beta=np.full(A, beta),
            drawn=np.zeros(A),
            own=np.zeros((4, A)))
        """The authorities' values, arrays by authority index (the agents read theirs)."""
        self.happened = np.zeros(st.n_slots, dtype=np.int64)  # what happened to each service this year
        slots = np.split(np.arange(st.n_slots), st.authority_starts[1:])
        self.authorities = LocalAuthority.create_agents(
            self, A, np.arange(A), st.kind, st.region, st.group, slots)
        for a in self.authorities:
            for j in a.slots:
                if self.slot_state[j] == dyn.SPUN_OUT:
                    a.mutuals[j] = Mutual(self, a, j, float(self.slot_viability[j]))
        self.met: dict = {}  # share of each rationed instrument's requests met last year
        self.schedule = dyn.schedule([s]).row(0)  # support on offer, attention and cuts, by year
        self.counters = dyn.first_tally(float(attrs["initial_adopter"].sum()))
        self.measures = self._observe()
        reporters = {name: (lambda m, name=name: m.measures[name]) for name in dyn.MEASURES}
        reporters["year"] = "year"
        self.datacollector = mesa.DataCollector(model_reporters=reporters)
        self.datacollector.collect(self)

    @property
    def mutuals(self) -> mesa.agent.AgentSet:
        return self.agents_by_type.get(Mutual, mesa.agent.AgentSet([], random=self.random))

    def _observe(self) -> dict:
        st = self.structure
        values = dyn.state_measures(self.slot_state[None], st.first_slot, st.slot_cost,
                                    self.authority.spending_power[None],
                                    self.authority.alpha[None], self.authority.beta[None],
                                    self.settings.behaviour.savings_rate)
        obs = dyn.observe(st, values, self.counters)
        return {k: float(np.asarray(v).reshape(-1)[0]) for k, v in obs.items()}

    def step(self) -> None:
        """One year: context from last year's state, every authority's year, then the books."""
        if self.year >= self.settings.run.end_year:
            return
        s, st = self.settings, self.structure
        self.year += 1
        self.running = self.year < s.run.end_year
        u = self.rng.random(dyn.tape_width(st))
        ctx = dyn.year_context(s, self.schedule, self.year - s.run.start_year - 1, self.measures["share_with_mutual"],
                               self.met)
        year = dyn.year_of(ctx.table(1), 0)
        group, national = dyn.pooled(st.group, self.authority.own[:3])
        nation = dyn.Outcomes(national[0], national[1], national[2])
        self.happened[:] = 0
        counts = np.zeros(len(dyn.EVENTS))
        for authority in self.authorities:
            counts += authority.step_year(year, u, group, nation)
        events = dict(zip(dyn.EVENTS, counts, strict=True))
        spend, self.met = dyn.books(s, ctx, self.measures["in_preparation"], events["accepted"])
        self.counters = dyn.tally(self.counters, launched=events["launched"],
                                  abandoned=events["abandoned"], failed=events["failed"],
                                  challenged=events["challenged"], lost=events["lost"],
                                  spend=spend)
        self.measures = self._observe()
        self.datacollector.collect(self)
