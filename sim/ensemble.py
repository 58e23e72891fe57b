"""The ensemble engine: every replicate and authority of a scenario stepped at once as arrays.

It calls exactly the functions the Mesa agents call (:mod:`sim.dynamics`, built from
:mod:`sim.rules`), on arrays of shape (replicates, authorities), and, for services, on the flat
list of services in each state (a proposal's decision is computed only where a proposal arrived).
Each replicate draws its random numbers from its own generator in the same layout as the Mesa
model, so that the two engines give identical tables.
"""

from __future__ import annotations

import numpy as np

from . import dynamics as dyn
from .population import POPULATION_DRAWS, build_structure, draw_attributes
from .scenario import Scenario


def _per_replicate(value, n: int) -> np.ndarray:
    """A scalar or an (n,) array as an (n,) float array."""
    return np.broadcast_to(np.asarray(value, dtype=float), (n,)).copy()


def run_ensemble(scenario: Scenario, seeds: list[int]) -> np.ndarray:
    """Measures for each replicate seed and year: an array (R, years, len(MEASURES))."""
    s = scenario
    st = build_structure(s)
    A, N = st.n_authorities, st.n_slots
    R = len(seeds)
    years = range(s.run.start_year, s.run.end_year + 1)
    out = np.empty((R, len(years), len(dyn.MEASURES)))
    generators = [np.random.default_rng(seed) for seed in seeds]

    u_pop = np.stack([g.random((POPULATION_DRAWS, A)) for g in generators])
    attrs = draw_attributes(st, s, u_pop)
    state, viability = dyn.initial_state(st, s, attrs["initial_adopter"])
    # C order, so that reshape(-1) below is a view that the updates write through
    state = np.ascontiguousarray(state, dtype=np.int8)
    viability = np.ascontiguousarray(viability, dtype=float)
    prior_alpha, prior_beta = dyn.prior(s)
    alpha, beta = np.full((R, A), prior_alpha), np.full((R, A), prior_beta)
    spending_power = np.ones((R, A))
    mean = dyn.rules.belief_mean(alpha, beta)
    own_good, own_bad = np.zeros((R, A)), np.zeros((R, A))
    grant_share = np.ones(R)
    counters = dyn.first_tally(attrs["initial_adopter"].sum(axis=-1).astype(float))
    risk_aversion = attrs["risk_aversion"]

    def record(t: int, counters: dict, busy: np.ndarray) -> dict:
        obs = dyn.observe(st, s, state, spending_power, mean, counters, busy)
        for m, name in enumerate(dyn.MEASURES):
            out[:, t, m] = obs[name]
        return obs

    W = dyn.tape_width(st)
    tape = np.empty((R, W))
    flat_tape = tape.reshape(-1)
    flat_state, flat_viability = state.reshape(-1), viability.reshape(-1)
    capacity0, reserves0 = attrs["capacity"].reshape(-1), attrs["reserves"].reshape(-1)
    risk_aversion = risk_aversion.reshape(-1)

    busy = np.flatnonzero(flat_state != dyn.IN_HOUSE)  # services not in house
    obs = record(0, counters, busy)
    for t, year in enumerate(years[1:], start=1):
        for i, g in enumerate(generators):
            g.random(out=tape[i])
        z = dyn.split_tape(tape, st)[0]
        ctx = dyn.year_context(s, year, obs["share_with_mutual"],
                               obs["in_preparation"].astype(float), grant_share)
        group_good, national_good = dyn.pooled(st, own_good)
        group_bad, national_bad = dyn.pooled(st, own_bad)
        auth = dyn.authority_year(s, ctx, spending_power, alpha, beta, attrs["deprivation"], z,
                                  (own_good, own_bad), (group_good, group_bad),
                                  (national_good, national_bad))
        p_review = dyn.review_probability(s, auth["pressure"])
        flat_p_review = p_review.reshape(-1)

        # in-house services: proposals (sifted first against the largest chance of one, which
        # changes nothing but the work), then decisions where a proposal arrived
        sifted = np.flatnonzero(tape[:, A:A + N] < p_review.max() + ctx.p_challenge)
        sifted = sifted[flat_state[sifted] == dyn.IN_HOUSE]
        rep, slot = np.divmod(sifted, N)
        key = rep * A + st.slot_authority[slot]  # flat (replicate, authority)
        at = rep * W + A + slot  # u_a in the tape; u_b is N further on
        ua = flat_tape[at]
        arrival, challenged = dyn.proposal(ctx, ua, flat_p_review[key])  # p_challenge: one number
        flat, rep, slot, key, at = sifted[arrival], rep[arrival], slot[arrival], key[arrival], at[arrival]
        challenged = challenged[arrival]
        ub = flat_tape[at + N]
        sub = ctx.take(rep)
        pressure = auth["pressure"].reshape(-1)[key]
        capacity, reserves = dyn.capacity_and_reserves(s, capacity0[key], reserves0[key], pressure)
        p_adopt = dyn.approval_probability(
            s, sub, st.slot_cost[slot], challenged, pressure, capacity, reserves,
            auth["alpha"].reshape(-1)[key], auth["beta"].reshape(-1)[key], risk_aversion[key])
        accepted = ub < p_adopt
        acc_flat, acc_rep = flat[accepted], rep[accepted]
        new_viability = dyn.new_viability(s, ub[accepted], p_adopt[accepted])
        instant = np.broadcast_to(sub.preparation_years <= 0.0, accepted.shape)[accepted]

        # services not in house, in one pass: those in preparation are abandoned or launched;
        # live mutuals have a good or bad year, and maybe fail
        busy_state = flat_state[busy]
        p_flat = busy[busy_state == dyn.PREPARING]
        p_rep, p_slot = np.divmod(p_flat, N)
        psub = ctx.take(p_rep)
        abandoned, launched = dyn.rules.pipeline_outcome(flat_tape[p_rep * W + A + p_slot],
                                                         psub.abandon, psub.launch)
        l_flat = busy[busy_state == dyn.SPUN_OUT]
        l_rep, l_slot = np.divmod(l_flat, N)
        l_at = l_rep * W + A + l_slot
        good, bad, failed = dyn.rules.operation_outcome(flat_tape[l_at], flat_tape[l_at + N],
                                                        flat_viability[l_flat],
                                                        s.mutuals.failure_given_struggle)

        # apply (all decisions above used last year's state)
        flat_state[p_flat[abandoned]] = dyn.IN_HOUSE
        flat_state[p_flat[launched]] = dyn.SPUN_OUT
        flat_state[l_flat[failed]] = dyn.RETURNED
        flat_state[acc_flat] = np.where(instant, dyn.SPUN_OUT, dyn.PREPARING)
        flat_viability[acc_flat] = new_viability

        def count(rep_index) -> np.ndarray:
            return np.bincount(rep_index, minlength=R).astype(float)

        n_accepted = count(acc_rep)
        paid, grant_share = dyn.grants_paid(s, ctx, n_accepted)
        spend = {k: _per_replicate(v, R) for k, v in dyn.spending(ctx, paid).items()}
        counters = dyn.tally(counters, count(p_rep[launched]) + count(acc_rep[instant]),
                             count(p_rep[abandoned]), count(l_rep[failed]),
                             count(acc_rep[challenged[accepted]]), spend)
        spending_power, alpha, beta = auth["spending_power"], auth["alpha"], auth["beta"]
        mean = dyn.rules.belief_mean(alpha, beta)
        key = l_rep * A + st.slot_authority[l_slot]
        own_good = np.bincount(key[good], minlength=R * A).reshape(R, A).astype(float)
        own_bad = np.bincount(key[bad], minlength=R * A).reshape(R, A).astype(float)
        busy = np.flatnonzero(flat_state != dyn.IN_HOUSE)  # one scan serves this and next year
        obs = record(t, counters, busy)
    return out
