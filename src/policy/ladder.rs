//! The legacy push: a ladder of growing public pools.

use serde::{Deserialize, Serialize};

use super::{Gate, Order, PushContext, PushEnd, PushPolicy, Size, Stage, Step};
use crate::audience::InterestTargetedPublic;
use crate::error::{Error, Result};

/// The most pools a ladder may have.
pub const MAX_POOLS: usize = 32;

/// One public traffic pool and the gate that decides whether the post goes
/// on to the next pool.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pool {
    /// Public users offered the post in this pool.
    pub size: u32,
    /// The gate after this pool (ignored after the last pool).
    #[serde(default)]
    pub gate: Gate,
}

/// The legacy public-pool push (DOMAIN.md, \[000\]): a post goes to a small
/// batch of public users ([`InterestTargetedPublic`]), then to ever larger
/// public pools while the engagement of the pool just shown passes its
/// gate. Follower count plays no part; fans see the post only if the public
/// draw happens to pick them.
///
/// Default pools follow the ladder practitioners describe (DOMAIN.md, "public
/// figures"): 300 (of "200–500"), 4,000 ("3k–5k") and 15,000 ("10k–20k");
/// the larger pools ("100k–150k" and up) are left out because the default
/// world has 1M users, of whom about 620,000 are active on a day: a 120,000
/// pool would be a fifth of them in one slot. Stopping at 15,000 also keeps
/// the ladder the same in the default world scaled down to 60,000 users
/// ([`Scenario::scaled`](crate::Scenario::scaled) drops pools above a
/// quarter of the users), so a small world has the default's offers per
/// user and its calibration.
/// Every gate scores the practitioners' blend ([`Gate::default`]'s
/// weights: "60% completion or 10% like rate") and is **relative**: a post
/// leaves a pool only if it scores at least the 0.6 or 0.7 quantile of
/// recent posts in the same pool (0.8 after the last, never evaluated), so
/// about 60% of posts end in the first pool and each pool is harder to
/// leave than the last ("a post is compared with the other posts of its
/// pool", DOMAIN.md). The absolute rule as quoted passes almost nothing at
/// KuaiRand's rates (a 1.85% like rate), so the absolute threshold is 0. The
/// quantiles are ours.
///
/// ```
/// use feedsim::policy::PublicPoolLadder;
/// let ladder = PublicPoolLadder::default();
/// assert_eq!(ladder.pools[0].size, 300);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicPoolLadder {
    /// The pools, smallest first.
    pub pools: Vec<Pool>,
}

pub(crate) fn default_pools() -> Vec<Pool> {
    [(300, 0.6), (4_000, 0.7), (15_000, 0.8)]
        .map(|(size, quantile)| Pool {
            size,
            gate: Gate {
                threshold: 0.0,
                quantile: Some(quantile),
                ..Gate::default()
            },
        })
        .to_vec()
}

impl Default for PublicPoolLadder {
    fn default() -> Self {
        PublicPoolLadder { pools: default_pools() }
    }
}

pub(crate) fn validate_pools(pools: &[Pool], field: &str) -> Result<()> {
    if pools.is_empty() {
        return Err(Error::invalid(field, "[]", "needs at least one pool"));
    }
    if pools.len() > MAX_POOLS {
        return Err(Error::invalid(field, pools.len(), format!("at most {MAX_POOLS} pools")));
    }
    for (i, p) in pools.iter().enumerate() {
        if p.size == 0 {
            return Err(Error::invalid(format!("{field}[{i}].size"), 0, "must be at least 1"));
        }
        p.gate.validate(&format!("{field}[{i}].gate"))?;
    }
    Ok(())
}

/// The public part of a push: after `done` pools have been shown (the last
/// of them is `ctx.last()`), the next pool, its size multiplied by `weight`
/// and rounded (at least 1), or the end: the last pool's gate failed, the
/// public ran out, or every pool has been shown.
pub(crate) fn next_pool<'p>(pools: &[Pool], done: usize, ctx: &PushContext, weight: f64) -> Step<'p> {
    if done > 0
        && let Some(last) = ctx.last()
    {
        if done >= pools.len() {
            return Step::End(PushEnd::Completed);
        }
        if !ctx.judge_last(&pools[done - 1].gate).advances() {
            return Step::End(PushEnd::Gate {
                stage: (ctx.history.len() - 1) as u8,
            });
        }
        if last.exhausted {
            return Step::End(PushEnd::Exhausted);
        }
    }
    let size = (f64::from(pools[done].size) * weight).round().max(1.0);
    Step::Stage(Stage {
        audience: &InterestTargetedPublic,
        size: Size::Users(size.min(u64::MAX as f64) as u64),
        order: Order::Random,
        label: "public pool",
        source: None,
    })
}

impl PublicPoolLadder {
    /// Checks the pools; errors name `public_pool_ladder.pools[i]...`.
    pub fn validate(&self) -> Result<()> {
        validate_pools(&self.pools, "public_pool_ladder.pools")
    }
}

impl PushPolicy for PublicPoolLadder {
    fn name(&self) -> &str {
        "public-pool ladder"
    }

    fn validate(&self) -> Result<()> {
        PublicPoolLadder::validate(self)
    }

    fn next_stage<'p>(&'p self, ctx: &PushContext) -> Step<'p> {
        next_pool(&self.pools, ctx.history.len(), ctx, 1.0)
    }
}
