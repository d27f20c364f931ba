//! Category traffic bonuses: weights a platform gives to the categories it
//! promotes (DOMAIN.md \[003\]: platforms "add a weight coefficient to
//! categories they promote", a "traffic bonus").
//!
//! Two weights per category, each its own parameter, because the documents
//! do not say where the platform applies its coefficient and the two act
//! differently:
//! - **`ranking`**: the viewer feed multiplies a candidate's ranking score
//!   by its category's weight (every shipped feed reads
//!   [`Candidate::bonus`]), so a promoted category wins more of the
//!   sessions' room among the offers a viewer gets. In the double column it
//!   orders covers; the viewer's click is not weighted;
//! - **`pools`**: the push policy's public pools of a fixed size
//!   ([`Size::Users`] stages of a public audience) are multiplied by the
//!   post's category's weight (rounded to the nearest user), so a promoted
//!   category is offered to more strangers. Fan stages (all fans, or a
//!   share of them) are not scaled: the bonus is traffic from the public
//!   domain.
//!
//! A category not named keeps weight 1; with every weight 1 (or no
//! `[category_bonus]` table) nothing changes, bit for bit. The weights are
//! ours to choose: no document gives a value.
//!
//! ```
//! use feedsim::{Scenario, Simulation, World};
//! let text = format!(
//!     "{}\n[category_bonus]\nranking = {{ 3 = 2.0 }}\npools = {{ 3 = 1.5, 4 = 0.5 }}\n",
//!     include_str!("../scenarios/default.toml")
//! );
//! let s = Scenario::from_toml_str(&text)?.scaled(20_000);
//! let bonus = s.category_bonus.as_ref().unwrap();
//! assert_eq!(bonus.pool_weights(20)[3], 1.5);
//! assert_eq!(bonus.ranking_weights(20)[0], 1.0);
//! let world = World::generate(&s)?;
//! let r = Simulation::new(&s, &world)?.run(&s.public_pool_ladder, &s.response)?;
//! assert!(r.platform.tally.impressions > 0);
//! # Ok::<(), feedsim::Error>(())
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::feed::{Candidate, Feed, Reweighted};
use crate::policy::{PushContext, PushPolicy, Size, Step};

/// The largest weight a category may be given.
pub const MAX_WEIGHT: f64 = 1_000.0;

/// The scenario's `[category_bonus]`: per-category weights keyed by the
/// category's index (`ranking = { 3 = 2.0 }`); see the [module
/// docs](self).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CategoryBonus {
    /// The feed's ranking weight per category, in `[0, 1000]`.
    pub ranking: BTreeMap<String, f64>,
    /// The public pools' size weight per category, in `[0, 1000]`.
    pub pools: BTreeMap<String, f64>,
}

impl CategoryBonus {
    /// Checks every key (a category index below `categories`) and weight;
    /// errors name the field, e.g. `category_bonus.pools.3`.
    pub fn validate(&self, categories: u32) -> Result<()> {
        for (table, weights) in [("ranking", &self.ranking), ("pools", &self.pools)] {
            for (key, &w) in weights {
                let field = format!("category_bonus.{table}.{key}");
                match key.parse::<u32>() {
                    Ok(c) if c < categories => {}
                    _ => {
                        return Err(Error::invalid(
                            field,
                            key,
                            format!("a key is a category index, 0 to {}", categories.saturating_sub(1)),
                        ));
                    }
                }
                if !(w.is_finite() && (0.0..=MAX_WEIGHT).contains(&w)) {
                    return Err(Error::invalid(
                        field,
                        w,
                        format!("must be finite, in [0, {MAX_WEIGHT}]"),
                    ));
                }
            }
        }
        Ok(())
    }

    fn weights(map: &BTreeMap<String, f64>, categories: u32) -> Vec<f64> {
        let mut w = vec![1.0; categories as usize];
        for (key, &v) in map {
            if let Some(slot) = key.parse::<usize>().ok().and_then(|c| w.get_mut(c)) {
                *slot = v;
            }
        }
        w
    }

    /// The ranking weight of each of `categories` categories (1 if not
    /// named).
    pub fn ranking_weights(&self, categories: u32) -> Vec<f64> {
        Self::weights(&self.ranking, categories)
    }

    /// The pool weight of each of `categories` categories (1 if not named).
    pub fn pool_weights(&self, categories: u32) -> Vec<f64> {
        Self::weights(&self.pools, categories)
    }

    /// `feed`, ranking with this bonus's weights (itself if every ranking
    /// weight is 1).
    pub fn around(&self, feed: Arc<dyn Feed>, categories: u32) -> Arc<dyn Feed> {
        let weights = self.ranking_weights(categories);
        if weights.iter().all(|&w| w == 1.0) {
            return feed;
        }
        let weights: Vec<f32> = weights.iter().map(|&w| w as f32).collect();
        Arc::new(Reweighted {
            factor: move |c: &Candidate| weights.get(usize::from(c.category)).copied().unwrap_or(1.0),
            inner: feed,
        })
    }
}

/// A push policy whose fixed-size public pools are scaled by the post's
/// category's pool weight (see the [module docs](self)). Its name is the
/// wrapped policy's.
pub struct PoolBonus<'a> {
    inner: &'a dyn PushPolicy,
    weights: &'a [f64],
}

impl<'a> PoolBonus<'a> {
    /// `policy` with the pool weights `weights` (by category; see
    /// [`CategoryBonus::pool_weights`]).
    pub fn new(policy: &'a dyn PushPolicy, weights: &'a [f64]) -> Self {
        PoolBonus { inner: policy, weights }
    }
}

impl PushPolicy for PoolBonus<'_> {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn validate(&self) -> Result<()> {
        self.inner.validate()
    }

    fn next_stage<'p>(&'p self, ctx: &PushContext) -> Step<'p> {
        weigh(self.inner.next_stage(ctx), self.weights, ctx)
    }
}

/// A public stage's size times the weight of the post's category: what
/// [`PoolBonus`] does to its policy's steps, and what the engine does to
/// every policy's steps in a scenario with pool weights.
pub(crate) fn weigh<'p>(step: Step<'p>, weights: &[f64], ctx: &PushContext) -> Step<'p> {
    match step {
        Step::Stage(mut stage) if stage.audience.is_public() => {
            let w = weights.get(usize::from(ctx.post.category)).copied().unwrap_or(1.0);
            if let Size::Users(n) = stage.size
                && w != 1.0
            {
                stage.size = Size::Users((n as f64 * w).round().min(u64::MAX as f64) as u64);
            }
            Step::Stage(stage)
        }
        step => step,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_must_be_categories_and_weights_bounded() {
        let bonus = |table: &str, key: &str, w: f64| {
            let mut b = CategoryBonus::default();
            let map = if table == "ranking" {
                &mut b.ranking
            } else {
                &mut b.pools
            };
            map.insert(key.into(), w);
            b.validate(20)
        };
        assert!(bonus("ranking", "19", 2.0).is_ok());
        assert!(bonus("pools", "0", 0.0).is_ok());
        for (table, key, w) in [
            ("ranking", "20", 1.0),
            ("pools", "x", 1.0),
            ("pools", "-1", 1.0),
            ("ranking", "3", f64::NAN),
            ("pools", "3", -0.5),
            ("pools", "3", 1e4),
        ] {
            let e = bonus(table, key, w).unwrap_err();
            assert_eq!(e.field(), Some(format!("category_bonus.{table}.{key}").as_str()), "{e}");
        }
    }

    #[test]
    fn the_ranking_wrapper_with_weights_of_one_changes_nothing() {
        // `around` skips the wrapper when every weight is 1: the wrapper
        // itself must be neutral too.
        use crate::{Scenario, Simulation, World};
        let s = Scenario::default_scenario().scaled(20_000);
        let world = World::generate(&s).unwrap();
        let sim = Simulation::new(&s, &world).unwrap();
        let plain = sim.run(&s.public_pool_ladder, &s.response).unwrap();
        let wrapped = Simulation::new(&s, &world).unwrap().with_feed(Arc::new(Reweighted {
            factor: |_: &Candidate| 1.0,
            inner: Arc::new(s.viewer_feed.clone()),
        }));
        let r = wrapped.run(&s.public_pool_ladder, &s.response).unwrap();
        assert_eq!(r.to_json().unwrap(), plain.to_json().unwrap());
        // And with a weight, the promoted category's share of plays grows.
        let promoted = Simulation::new(&s, &world).unwrap().with_feed(Arc::new(Reweighted {
            factor: |c: &Candidate| if c.category == 0 { 4.0 } else { 1.0 },
            inner: Arc::new(s.viewer_feed.clone()),
        }));
        let r = promoted.run(&s.public_pool_ladder, &s.response).unwrap();
        assert!(r.by_category(20)[0].impressions > plain.by_category(20)[0].impressions);
    }

    #[test]
    fn unnamed_categories_weigh_one() {
        let mut b = CategoryBonus::default();
        b.pools.insert("2".into(), 3.0);
        assert_eq!(b.pool_weights(4), vec![1.0, 1.0, 3.0, 1.0]);
        assert_eq!(b.ranking_weights(4), vec![1.0; 4]);
    }
}
