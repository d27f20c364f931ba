//! The legacy push: a ladder of growing public pools.

use serde::{Deserialize, Serialize};

use super::{Audience, Gate, PushPolicy, Stage};
use crate::error::{Error, Result};

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
/// batch of public users, then to ever larger public pools while the
/// engagement of the pool just shown passes its gate. Follower count plays
/// no part; fans see the post only if the public draw happens to pick them.
///
/// Default pools follow the ladder practitioners describe (DOMAIN.md, "public
/// figures"): 300 (of "200–500"), 4,000 ("3k–5k"), 15,000 ("10k–20k"),
/// 120,000 ("100k–150k") and 500,000 ("300k–700k"); the larger pools are
/// left out because the default world has 3 million users. Every gate is
/// [`Gate::default`] with thresholds rising 1.0, 1.3, 1.6, 1.9 (and 2.2
/// after the last pool, never evaluated), so each pool is harder to leave
/// than the last. The thresholds are ours: under the default response model
/// an ordinary post scores about 0.67 in a public pool and one a standard
/// deviation better about 1.2, so roughly a quarter of posts leave the first
/// pool and a few percent reach the largest.
///
/// ```
/// use feedsim::policy::{PublicPoolLadder, PushPolicy, Audience};
/// let ladder = PublicPoolLadder::default();
/// let stages = ladder.stages();
/// assert!(stages.iter().all(|s| s.audience == Audience::Public));
/// assert_eq!(stages[0].size, Some(300));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicPoolLadder {
    /// The pools, smallest first.
    pub pools: Vec<Pool>,
}

pub(crate) fn default_pools() -> Vec<Pool> {
    [(300, 1.0), (4_000, 1.3), (15_000, 1.6), (120_000, 1.9), (500_000, 2.2)]
        .map(|(size, threshold)| Pool {
            size,
            gate: Gate {
                threshold,
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
    for (i, p) in pools.iter().enumerate() {
        if p.size == 0 {
            return Err(Error::invalid(format!("{field}[{i}].size"), 0, "must be at least 1"));
        }
        p.gate.validate(&format!("{field}[{i}].gate"))?;
    }
    Ok(())
}

pub(crate) fn pool_stages(pools: &[Pool]) -> impl Iterator<Item = Stage> + '_ {
    pools.iter().map(|p| Stage {
        audience: Audience::Public,
        size: Some(p.size),
        gate: Some(p.gate),
        boost_next: None,
    })
}

impl PublicPoolLadder {
    /// Checks the pools; errors name `public_pool_ladder.pools[i]...`.
    pub fn validate(&self) -> Result<()> {
        validate_pools(&self.pools, "public_pool_ladder.pools")?;
        if self.pools.len() > super::MAX_STAGES {
            return Err(Error::invalid(
                "public_pool_ladder.pools",
                self.pools.len(),
                format!("at most {} pools", super::MAX_STAGES),
            ));
        }
        Ok(())
    }
}

impl PushPolicy for PublicPoolLadder {
    fn name(&self) -> &str {
        "public-pool ladder"
    }

    fn stages(&self) -> Vec<Stage> {
        pool_stages(&self.pools).collect()
    }
}
