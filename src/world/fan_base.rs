//! What a cohort's fans are like: the measures that tell a generated fan
//! base from one a policy has shaped over weeks.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{FollowGraph, World};

/// One cohort's fan base in a follow graph: its size and spread, and who
/// its fans are. Shares and means over fans are per follow edge (a user
/// who follows two of the cohort's creators counts twice).
///
/// The generator draws fans at random within the cohort's `verticality`
/// ([`World::generate`]), so in a generated world `attention`, `activity`
/// and `followings` are those of any user (ratios near 1, `followings`
/// near the users' mean plus one) and `primary_interest` is about a third
/// of `verticality` (each interested user holds the category as one of
/// three interests). A world that has lived under a policy with the fan
/// lifecycle on is shaped by who follows and who unfollows: `examples/
/// fan_bases.rs` prints both side by side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FanBase {
    /// The cohort's name.
    pub cohort: String,
    /// Its creators.
    pub creators: u32,
    /// Its follow edges.
    pub followers: u64,
    /// Its iron-fan edges.
    pub iron_fans: u64,
    /// The creators' median followers (the order statistic at
    /// `round((n − 1) / 2)`).
    pub median_followers: u32,
    /// The creators' 90th-percentile followers (at `round(0.9 (n − 1))`).
    pub p90_followers: u32,
    /// The share of fans interested in the creator's category (the
    /// generator's `verticality`).
    pub verticality: f64,
    /// The share of iron fans interested in the creator's category.
    pub iron_fan_verticality: f64,
    /// The share of fans whose first (primary) interest is the creator's
    /// category.
    pub primary_interest: f64,
    /// The fans' mean interest in the creator's category.
    pub interest: f64,
    /// The fans' mean daily attention budget over all users' mean.
    pub attention: f64,
    /// The fans' mean daily activity over all users' mean.
    pub activity: f64,
    /// The fans' mean number of accounts followed (among all creators).
    pub followings: f64,
}

/// One creator's sums, integers where the inputs are (so the cohort's
/// totals do not depend on the order of summing).
#[derive(Default, Clone, Copy)]
struct Sums {
    edges: u64,
    iron: u64,
    interested: u64,
    iron_interested: u64,
    primary: u64,
    attention: u64,
    followings: u64,
    interest: f64,
    activity: f64,
}

impl World {
    /// Every cohort's [`FanBase`] in `graph` (the world's own, or a
    /// [`Checkpoint`](crate::Checkpoint)'s after a warm-up), in scenario
    /// order. O(users + edges), parallel over creators; the same result at
    /// any thread count.
    ///
    /// ```
    /// use feedsim::{Scenario, World};
    /// let s = Scenario::default_scenario().scaled(20_000);
    /// let w = World::generate(&s)?;
    /// let kol = &w.fan_bases(w.graph())[0];
    /// assert_eq!(kol.cohort, "KOL");
    /// // The generator's verticality, up to rounding per creator.
    /// assert!((kol.verticality - s.cohorts[0].verticality).abs() < 1e-3);
    /// # Ok::<(), feedsim::Error>(())
    /// ```
    pub fn fan_bases(&self, graph: &FollowGraph) -> Vec<FanBase> {
        let users = &self.users;
        let n = users.len();
        let mut followings = vec![0u32; n];
        for &u in graph.fans.iter() {
            followings[u as usize] += 1;
        }
        let mean = |total: f64| if n == 0 { 0.0 } else { total / n as f64 };
        let mean_attention = mean(users.attention.iter().map(|&a| a as f64).sum());
        let mean_activity = mean(users.activity.iter().map(|&a| f64::from(a)).sum());
        let per_creator: Vec<Sums> = (0..graph.creators() as u32)
            .into_par_iter()
            .map(|c| {
                let k = self.creators.category[c as usize];
                let mut s = Sums::default();
                let (iron, _) = graph.sections(c);
                for e in graph.fan_edges(c) {
                    let u = graph.edge_user(e);
                    let interest = users.interest(u, k);
                    let interested = users.is_interested(u, k);
                    s.edges += 1;
                    s.interested += u64::from(interested);
                    if iron.contains(&e) {
                        s.iron += 1;
                        s.iron_interested += u64::from(interested);
                    }
                    s.primary += u64::from(users.interest_categories[u as usize][0] == k);
                    s.attention += u64::from(users.attention[u as usize]);
                    s.followings += u64::from(followings[u as usize]);
                    s.interest += f64::from(interest);
                    s.activity += f64::from(users.activity[u as usize]);
                }
                s
            })
            .collect();
        self.cohorts
            .iter()
            .map(|cohort| {
                let ids = cohort.first_creator as usize..(cohort.first_creator + cohort.creators) as usize;
                let mut t = Sums::default();
                for s in &per_creator[ids.clone()] {
                    t.edges += s.edges;
                    t.iron += s.iron;
                    t.interested += s.interested;
                    t.iron_interested += s.iron_interested;
                    t.primary += s.primary;
                    t.attention += s.attention;
                    t.followings += s.followings;
                    t.interest += s.interest;
                    t.activity += s.activity;
                }
                let mut counts: Vec<u32> = per_creator[ids].iter().map(|s| s.edges as u32).collect();
                counts.sort_unstable();
                let q = |p: f64| {
                    if counts.is_empty() {
                        0
                    } else {
                        counts[((counts.len() - 1) as f64 * p).round() as usize]
                    }
                };
                let share = |x: f64, of: u64| if of == 0 { 0.0 } else { x / of as f64 };
                let ratio = |x: f64, to: f64| if to > 0.0 { x / to } else { 0.0 };
                FanBase {
                    cohort: cohort.name.clone(),
                    creators: cohort.creators,
                    followers: t.edges,
                    iron_fans: t.iron,
                    median_followers: q(0.5),
                    p90_followers: q(0.9),
                    verticality: share(t.interested as f64, t.edges),
                    iron_fan_verticality: share(t.iron_interested as f64, t.iron),
                    primary_interest: share(t.primary as f64, t.edges),
                    interest: share(t.interest, t.edges),
                    attention: ratio(share(t.attention as f64, t.edges), mean_attention),
                    activity: ratio(share(t.activity, t.edges), mean_activity),
                    followings: share(t.followings as f64, t.edges),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::{Scenario, World};

    /// In a generated world the fans are drawn at random within each
    /// cohort's verticality: the interested share is the scenario's (up to
    /// rounding per creator), about a third of it holds the category as
    /// primary interest, and the fans' attention and activity are any
    /// user's, within a tolerance of five standard errors.
    #[test]
    fn a_generated_fan_base_is_the_generators() {
        let s = Scenario::default_scenario().scaled(50_000);
        let w = World::generate(&s).unwrap();
        let bases = w.fan_bases(w.graph());
        assert_eq!(bases.len(), s.cohorts.len());
        let users = w.users();
        let n = users.len() as f64;
        let sd = |xs: &dyn Fn(u32) -> f64| {
            let m = (0..users.len() as u32).map(xs).sum::<f64>() / n;
            ((0..users.len() as u32).map(|u| (xs(u) - m).powi(2)).sum::<f64>() / n).sqrt() / m
        };
        let (sd_att, sd_act) = (
            sd(&|u| f64::from(users.attention(u))),
            sd(&|u| f64::from(users.activity(u))),
        );
        for (b, c) in bases.iter().zip(&s.cohorts) {
            assert_eq!(b.cohort, c.name);
            let g = w.graph();
            let first = w.cohorts().iter().find(|k| k.name == c.name).unwrap().first_creator;
            let edges: u64 = (first..first + c.creators).map(|k| u64::from(g.followers(k))).sum();
            let iron: u64 = (first..first + c.creators).map(|k| u64::from(g.iron_fans(k))).sum();
            assert_eq!((b.followers, b.iron_fans), (edges, iron), "{}", c.name);
            assert!(b.median_followers <= b.p90_followers);
            if b.followers < 2_000 {
                continue;
            }
            // The generator's own count per creator: a `verticality`
            // share of the fans, rounded, at most the interested users.
            let vertical: u64 = (first..first + c.creators)
                .map(|k| {
                    let f = g.followers(k);
                    let interested = w.users_interested_in(w.creators().category(k)).len() as u64;
                    ((f64::from(f) * c.verticality).round() as u64).min(interested)
                })
                .sum();
            assert_eq!(b.verticality, vertical as f64 / edges as f64, "{}", c.name);
            // Iron fans come from the interested fans first.
            assert!(b.iron_fan_verticality >= b.verticality - 1e-3, "{}", c.name);
            let se = |sd: f64| 5.0 * sd / (b.followers as f64).sqrt();
            assert!(
                (b.attention - 1.0).abs() < se(sd_att),
                "{}: attention {}",
                c.name,
                b.attention
            );
            assert!(
                (b.activity - 1.0).abs() < se(sd_act),
                "{}: activity {}",
                c.name,
                b.activity
            );
            // A third of the interested fans hold the category first: a
            // binomial share, five standard errors.
            let p = b.verticality / 3.0;
            let tol = 5.0 * (p * (1.0 - p) / b.followers as f64).sqrt();
            assert!(
                (b.primary_interest - p).abs() < tol,
                "{}: primary {}",
                c.name,
                b.primary_interest
            );
            assert!(b.interest > 0.0 && b.interest <= b.verticality);
        }
    }
}
