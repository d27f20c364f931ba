//! Posts: what creators publish, and when.

use rand::RngExt;
use rand_distr::{Distribution, Normal, Poisson};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::rng::{stream, tag};
use crate::scenario::Scenario;
use crate::world::World;

/// One post.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Post {
    /// Post id: the index in the run's post list, ordered by publish slot,
    /// then creator, then the creator's own order.
    pub id: u32,
    /// The creator.
    pub creator: u32,
    /// The slot in which the post is published (`day × slots_per_day + slot`).
    pub slot: u32,
    /// Standardized quality.
    pub quality: f32,
    /// Content category (the creator's).
    pub category: u8,
    /// Price of the product the post carries, in fen (0.01 yuan); 0 for none.
    pub price_fen: u32,
}

impl Post {
    /// The product price in yuan, if the post carries a product.
    pub fn price_yuan(&self) -> Option<f64> {
        (self.price_fen > 0).then(|| f64::from(self.price_fen) / 100.0)
    }
}

/// Generates the posts of a scenario's `days` from the creators' posting
/// rates: per creator and day a Poisson number of posts, each in a uniform
/// slot of the day, with quality `N(creator mean, sd)` and the creator's
/// product with probability `share_of_posts`. Parallel over creators;
/// the result is sorted by (slot, creator) and ids are assigned in that order.
pub fn generate_posts(world: &World, scenario: &Scenario) -> Result<Vec<Post>> {
    let spd = scenario.feed.slots_per_day;
    let days = scenario.feed.days;
    let cr = world.creators();
    let mut posts: Vec<Post> = (0..cr.len() as u32)
        .into_par_iter()
        .map(|c| -> Result<Vec<Post>> {
            let ci = c as usize;
            let rate = f64::from(cr.posts_per_day[ci]);
            let quality = Normal::new(f64::from(cr.quality_mean[ci]), f64::from(cr.quality_sd[ci]))
                .map_err(|e| Error::invalid("cohorts.quality.sd", cr.quality_sd[ci], e.to_string()))?;
            let mut out = Vec::new();
            if rate <= 0.0 {
                return Ok(out);
            }
            let count = Poisson::new(rate).map_err(|e| Error::invalid("cohorts.posts_per_day", rate, e.to_string()))?;
            for day in 0..days {
                let mut rng = stream(world.seed(), tag::POSTS, c.into(), day.into());
                let n = count.sample(&mut rng) as u32;
                for _ in 0..n {
                    let slot = day * spd + rng.random_range(0..spd);
                    let q = quality.sample(&mut rng) as f32;
                    let has_product = rng.random::<f32>() < cr.product_share[ci];
                    out.push(Post {
                        id: 0,
                        creator: c,
                        slot,
                        quality: q,
                        category: cr.category[ci],
                        price_fen: if has_product { cr.price_fen[ci] } else { 0 },
                    });
                }
            }
            Ok(out)
        })
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .flatten()
        .collect();
    // Stable: equal (slot, creator) keep the creator's own order.
    posts.sort_by_key(|p| (p.slot, p.creator));
    if posts.len() >= u32::MAX as usize {
        return Err(Error::invalid(
            "cohorts.posts_per_day",
            posts.len(),
            "more posts than u32 ids",
        ));
    }
    for (i, p) in posts.iter_mut().enumerate() {
        p.id = i as u32;
    }
    Ok(posts)
}
