//! Generation from a scenario: the world (users, creators, follow graph)
//! and the posts creators publish.
//!
//! Every random choice is drawn from a stream keyed by what it is for (a
//! chunk of users, a creator), so the world is the same at any thread count.

use rand::RngExt;
use rand_distr::{Beta, Distribution, Normal, Poisson};
use rayon::prelude::*;

use crate::content::Post;
use crate::error::{Error, Result};
use crate::rng::{Permutation, key, stream, tag, unit};
use crate::scenario::Scenario;
use crate::world::{Cohort, Creators, FollowGraph, MAX_INTERESTS, NO_CATEGORY, Users, World};

/// Users are generated in fixed chunks of this many, one stream per chunk.
const USER_CHUNK: usize = 8192;

impl World {
    /// Generates the world a scenario describes (validating it first).
    ///
    /// Users get `interests_per_user` distinct categories chosen uniformly, a
    /// daily activity from a Beta distribution and a normal purchase
    /// propensity. Each creator gets a uniform category, a follower count
    /// (log-uniform, or log-normal; see
    /// [`FollowerRange`](crate::scenario::FollowerRange)), and fans drawn
    /// without replacement: a `verticality`
    /// share from users interested in the category, the rest from users who
    /// are not. Iron fans are taken from the vertical fans first (frequent
    /// interaction follows interest), then from the others.
    ///
    /// Cost: O(users + edges), parallel over user chunks and creators.
    ///
    /// ```
    /// use feedsim::{Scenario, World};
    /// let mut s = Scenario::default_scenario();
    /// s.users.count = 20_000;
    /// for c in &mut s.cohorts { c.followers.max = c.followers.max.min(5_000); c.followers.min = c.followers.min.min(c.followers.max); }
    /// let w = World::generate(&s)?;
    /// assert_eq!(w.users().len(), 20_000);
    /// let kol = w.cohorts()[0].first_creator;
    /// assert!(w.graph().iron_fans(kol) <= w.graph().followers(kol));
    /// # Ok::<(), feedsim::Error>(())
    /// ```
    pub fn generate(scenario: &Scenario) -> Result<World> {
        scenario.validate()?;
        // Before any allocation: the world alone (a run's own memory is
        // checked when it starts).
        crate::memory::MemoryEstimate::world(scenario).check_budget()?;
        let seed = scenario.seed;
        let users = generate_users(scenario)?;
        let (category_offsets, category_users) = index_categories(&users, scenario.feed.categories);
        let (creators, cohorts, followers) = generate_creators(scenario)?;
        let edges: u64 = followers.iter().map(|&f| u64::from(f)).sum();
        if edges > crate::scenario::MAX_EDGES {
            return Err(Error::invalid(
                "cohorts",
                edges,
                format!(
                    "the drawn follower counts sum to this many follow edges; at most {} fit the follow graph's u32 edge index",
                    crate::scenario::MAX_EDGES
                ),
            ));
        }

        let n = users.len() as u64;
        // Users by region, for matrix accounts' local fans (generation only).
        let (region_offsets, region_users) = if users.region.is_empty() {
            (Vec::new(), Vec::new())
        } else {
            csr_by_key(users.region.iter().map(|&r| u32::from(r)), scenario.users.regions.len())
        };
        let (creator_offsets, category_creators) = csr_by_key(
            creators.category.iter().map(|&k| u32::from(k)),
            scenario.feed.categories as usize,
        );
        // Creators are drawn one category at a time, against a bitset of
        // the users interested in it (n/8 bytes, reused): a fan draw tests
        // a random user's interest per candidate, and the bitset stays in
        // a core's cache where the users' records do not (at 10M users the
        // test was a cache miss and the larger part of generation). Each
        // creator's draw is keyed by the creator, so the order changes
        // nothing drawn.
        let mut rows: Vec<(Vec<u32>, Vec<u32>)> = vec![(Vec::new(), Vec::new()); creators.len()];
        let mut interest_bits = vec![0u64; users.len().div_ceil(64)];
        for k in 0..scenario.feed.categories as usize {
            let ids = &category_creators[creator_offsets[k] as usize..creator_offsets[k + 1] as usize];
            if ids.is_empty() {
                continue;
            }
            let interested = &category_users[category_offsets[k] as usize..category_offsets[k + 1] as usize];
            interest_bits.fill(0);
            for &u in interested {
                interest_bits[u as usize / 64] |= 1 << (u % 64);
            }
            let bits = &interest_bits;
            let drawn: Vec<(Vec<u32>, Vec<u32>)> = ids
                .par_iter()
                .map(|&c| {
                    let c = c as usize;
                    let cohort = &scenario.cohorts[creators.cohort[c] as usize];
                    let fans = Fans {
                        seed,
                        creator: c as u32,
                        followers: followers[c],
                        iron_fan_ratio: cohort.iron_fan_ratio,
                        verticality: cohort.verticality,
                        interested,
                        population: n,
                        interested_bits: bits,
                    };
                    match cohort.matrix {
                        Some(m) => {
                            let r = usize::from(creators.region[c]);
                            let local = &region_users[region_offsets[r] as usize..region_offsets[r + 1] as usize];
                            fans.draw(m.local_fans, local, &|u| users.region[u as usize] == r as u8)
                        }
                        None => fans.draw(0.0, &[], &|_| false),
                    }
                })
                .collect();
            for (&c, row) in ids.iter().zip(drawn) {
                rows[c as usize] = row;
            }
        }
        drop(interest_bits);
        drop((region_offsets, region_users));
        let mut graph = FollowGraph {
            offsets: Vec::with_capacity(rows.len() + 1),
            iron_end: Vec::with_capacity(rows.len()),
            fans: Vec::with_capacity(followers.iter().map(|&f| f as usize).sum()),
            ..FollowGraph::default()
        };
        graph.offsets.push(0);
        for (iron, other) in &rows {
            graph.fans.extend_from_slice(iron);
            graph.iron_end.push(graph.fans.len() as u32);
            graph.fans.extend_from_slice(other);
            graph.offsets.push(graph.fans.len() as u32);
        }
        drop(rows);
        // Per edge, in one pass: the lifecycle state. Each fan followed on
        // a day drawn uniformly from the year before the run; iron fans
        // start with a score uniform in [iron_fan_below, 2·iron_fan_above),
        // other fans uniform in [0, iron_fan_above), so the population does
        // not move in lockstep.
        let d = &scenario.dynamics;
        // Filled in place, in chunks of edges (each chunk finds its first
        // creator by binary search): no per-edge temporary.
        const EDGE_CHUNK: usize = 1 << 16;
        let e_total = graph.fans.len();
        let (mut since_day, mut score) = (vec![0i16; e_total], vec![0u32; e_total]);
        let graph_ref = &graph;
        since_day
            .par_chunks_mut(EDGE_CHUNK)
            .zip(score.par_chunks_mut(EDGE_CHUNK))
            .enumerate()
            .for_each(|(k, (since, score))| {
                let first = k * EDGE_CHUNK;
                let mut c = graph_ref.offsets.partition_point(|&o| o as usize <= first) - 1;
                for (i, (since, score)) in since.iter_mut().zip(score).enumerate() {
                    let e = first + i;
                    while e >= graph_ref.offsets[c + 1] as usize {
                        c += 1;
                    }
                    let u = graph_ref.fans[e];
                    // In [-366, -1]: fits 16 bits.
                    *since = -1 - (unit(seed, tag::SINCE, c as u64, u.into()) * 365.0) as i16;
                    let x = unit(seed, tag::SINCE, c as u64, u64::from(u) | 1 << 32);
                    let (lo, hi) = if e < graph_ref.iron_end[c] as usize {
                        (d.iron_fan_below, d.iron_fan_above.saturating_mul(2))
                    } else {
                        (0, d.iron_fan_above)
                    };
                    *score = lo + (x * f64::from(hi.saturating_sub(lo))) as u32;
                }
            });
        graph.since_day = since_day;
        graph.score = score;
        graph.index_big_rows(users.len());
        graph.group = vec![false; graph.fans.len()];
        graph.low_days = vec![0; graph.fans.len()];
        let friends = match &scenario.friends {
            Some(f) => Some(f.build(users.len() as u32, seed)?),
            None => None,
        };
        // Generation's scratch is freed; give it back.
        crate::trim::release_free_memory();

        Ok(World {
            seed,
            categories: scenario.feed.categories,
            users,
            creators,
            graph,
            cohorts,
            category_offsets,
            category_users,
            creator_offsets,
            category_creators,
            friends,
        })
    }
}

fn generate_users(s: &Scenario) -> Result<Users> {
    let p = &s.users;
    let n = p.count as usize;
    let k = p.interests_per_user as usize;
    let categories = s.feed.categories;
    let activity_dist = if p.daily_activity > 0.0 && p.daily_activity < 1.0 {
        let a = p.daily_activity * p.activity_concentration;
        let b = (1.0 - p.daily_activity) * p.activity_concentration;
        Some(
            Beta::new(a, b)
                .map_err(|e| Error::invalid("users.activity_concentration", p.activity_concentration, e.to_string()))?,
        )
    } else {
        None
    };
    let propensity = Normal::new(0.0, p.purchase_propensity_sd)
        .map_err(|e| Error::invalid("users.purchase_propensity_sd", p.purchase_propensity_sd, e.to_string()))?;
    let weights: [f32; MAX_INTERESTS] = std::array::from_fn(|i| {
        if i >= k {
            0.0
        } else if k == 1 {
            1.0
        } else if i == 0 {
            p.primary_interest as f32
        } else {
            ((1.0 - p.primary_interest) / (k - 1) as f64) as f32
        }
    });

    let mut users = Users {
        interest_categories: vec![[NO_CATEGORY; MAX_INTERESTS]; n],
        interest_weights: weights,
        activity: vec![0.0; n],
        purchase_propensity: vec![0.0; n],
        attention: vec![0; n],
        region: Vec::new(),
    };
    // Regions from their own streams too ([`crate::matrix`]): one byte a
    // user, only in a world with regions.
    if !p.regions.is_empty() {
        users.region = vec![0; n];
        users
            .region
            .par_chunks_mut(USER_CHUNK)
            .enumerate()
            .for_each(|(chunk, reg)| {
                let mut rng = stream(s.seed, tag::REGION, chunk as u64, 0);
                for r in reg {
                    *r = crate::matrix::region_at(rng.random::<f64>(), &p.regions);
                }
            });
    }
    // Attention budgets from their own streams, so they leave every other
    // user draw as it was: log-normal with the scenario's median and mean.
    let a = &s.attention;
    let sigma = (2.0 * (a.daily_mean / a.daily_median).ln()).sqrt();
    let budget = rand_distr::LogNormal::new(a.daily_median.ln(), sigma)
        .map_err(|e| Error::invalid("attention.daily_mean", a.daily_mean, e.to_string()))?;
    users
        .attention
        .par_chunks_mut(USER_CHUNK)
        .enumerate()
        .for_each(|(chunk, att)| {
            let mut rng = stream(s.seed, tag::ATTENTION, chunk as u64, 0);
            for x in att {
                *x = budget.sample(&mut rng).round().clamp(1.0, f64::from(u16::MAX)) as u16;
            }
        });
    users
        .interest_categories
        .par_chunks_mut(USER_CHUNK)
        .zip(users.activity.par_chunks_mut(USER_CHUNK))
        .zip(users.purchase_propensity.par_chunks_mut(USER_CHUNK))
        .enumerate()
        .for_each(|(chunk, ((cats, act), prop))| {
            let mut rng = stream(s.seed, tag::USERS, chunk as u64, 0);
            for i in 0..cats.len() {
                let mut chosen = [NO_CATEGORY; MAX_INTERESTS];
                let mut have = 0;
                while have < k {
                    let c = rng.random_range(0..categories) as u8;
                    if !chosen[..have].contains(&c) {
                        chosen[have] = c;
                        have += 1;
                    }
                }
                cats[i] = chosen;
                act[i] = match &activity_dist {
                    Some(d) => d.sample(&mut rng) as f32,
                    None => p.daily_activity as f32,
                };
                prop[i] = propensity.sample(&mut rng) as f32;
            }
        });
    Ok(users)
}

fn index_categories(users: &Users, categories: u32) -> (Vec<u32>, Vec<u32>) {
    let mut offsets = vec![0u32; categories as usize + 1];
    for cats in &users.interest_categories {
        for &c in cats.iter().filter(|&&c| c != NO_CATEGORY) {
            offsets[c as usize + 1] += 1;
        }
    }
    for k in 0..categories as usize {
        offsets[k + 1] += offsets[k];
    }
    let mut fill = offsets.clone();
    let mut list = vec![0u32; offsets[categories as usize] as usize];
    for (u, cats) in users.interest_categories.iter().enumerate() {
        for &c in cats.iter().filter(|&&c| c != NO_CATEGORY) {
            list[fill[c as usize] as usize] = u as u32;
            fill[c as usize] += 1;
        }
    }
    (offsets, list)
}

/// Ids `0..n` grouped by a key below `keys`, as CSR (offsets, ids ascending
/// within a key).
fn csr_by_key(key_of: impl Iterator<Item = u32> + Clone, keys: usize) -> (Vec<u32>, Vec<u32>) {
    let mut offsets = vec![0u32; keys + 1];
    for k in key_of.clone() {
        offsets[k as usize + 1] += 1;
    }
    for k in 0..keys {
        offsets[k + 1] += offsets[k];
    }
    let mut fill = offsets.clone();
    let mut ids = vec![0u32; offsets[keys] as usize];
    for (i, k) in key_of.enumerate() {
        ids[fill[k as usize] as usize] = i as u32;
        fill[k as usize] += 1;
    }
    (offsets, ids)
}

fn generate_creators(s: &Scenario) -> Result<(Creators, Vec<Cohort>, Vec<u32>)> {
    let total: usize = s.cohorts.iter().map(|c| c.creators as usize).sum();
    let mut cr = Creators {
        category: Vec::with_capacity(total),
        cohort: Vec::with_capacity(total),
        quality_mean: Vec::with_capacity(total),
        quality_sd: Vec::with_capacity(total),
        posts_per_day: Vec::with_capacity(total),
        price_fen: Vec::with_capacity(total),
        product_share: Vec::with_capacity(total),
        trust: Vec::with_capacity(total),
        region: Vec::with_capacity(total),
    };
    let mut cohorts = Vec::with_capacity(s.cohorts.len());
    let mut followers = Vec::with_capacity(total);
    if s.cohorts.len() > usize::from(u16::MAX) {
        return Err(Error::invalid("cohorts", s.cohorts.len(), "at most 65535 cohorts"));
    }
    for (ci, c) in s.cohorts.iter().enumerate() {
        cohorts.push(Cohort {
            name: c.name.clone(),
            archetype: c.archetype,
            first_creator: cr.category.len() as u32,
            creators: c.creators,
            matrix: c.matrix,
        });
        let spread = Normal::new(0.0, c.quality.creator_sd).map_err(|e| {
            Error::invalid(
                format!("cohorts[{ci}].quality.creator_sd"),
                c.quality.creator_sd,
                e.to_string(),
            )
        })?;
        let (lo, hi) = (f64::from(c.followers.min) + 1.0, f64::from(c.followers.max) + 1.0);
        let log_normal = match (c.followers.median, c.followers.p90) {
            (Some(m), Some(p)) => Some(
                rand_distr::LogNormal::new(m.ln(), (p / m).ln() / 1.281_551_565_545)
                    .map_err(|e| Error::invalid(format!("cohorts[{ci}].followers.p90"), p, e.to_string()))?,
            ),
            _ => None,
        };
        for j in 0..c.creators {
            cr.region.push(match c.matrix {
                Some(_) => crate::matrix::account_region(j, c.creators, &s.users.regions),
                None => crate::matrix::NO_REGION,
            });
            let id = cr.category.len() as u64;
            let mut rng = stream(s.seed, tag::CREATORS, id, 0);
            cr.category.push(rng.random_range(0..s.feed.categories) as u8);
            cr.cohort.push(ci as u16);
            let f = match &log_normal {
                Some(d) => d.sample(&mut rng),
                None => (lo.ln() + rng.random::<f64>() * (hi.ln() - lo.ln())).exp() - 1.0,
            };
            followers.push((f.round() as u32).clamp(c.followers.min, c.followers.max));
            cr.quality_mean.push((c.quality.mean + spread.sample(&mut rng)) as f32);
            cr.quality_sd.push(c.quality.sd as f32);
            cr.posts_per_day.push(c.posts_per_day as f32);
            let (price, share) = c.product.map_or((0, 0.0), |p| {
                ((p.price_yuan * 100.0).round().max(1.0) as u32, p.share_of_posts)
            });
            cr.price_fen.push(price);
            cr.product_share.push(share as f32);
            cr.trust.push(c.trust as f32);
        }
    }
    Ok((cr, cohorts, followers))
}

/// What drawing one creator's fans needs.
struct Fans<'a> {
    seed: u64,
    creator: u32,
    followers: u32,
    iron_fan_ratio: f64,
    verticality: f64,
    /// Users interested in the creator's category, ascending.
    interested: &'a [u32],
    population: u64,
    /// The same users as a bitset over all users (bit `u` of word `u / 64`).
    interested_bits: &'a [u64],
}

impl Fans<'_> {
    /// Whether user `u` is interested in the creator's category.
    #[inline]
    fn is_interested(&self, u: u32) -> bool {
        self.interested_bits[u as usize / 64] >> (u % 64) & 1 == 1
    }

    /// Draws the creator's fans: returns (iron fans, other fans), each
    /// sorted. A `local_share` of them come from `local` (a matrix
    /// account's region's users, ascending; [`crate::matrix`]); the rest,
    /// among the users for whom `is_local` is false, a `verticality` share
    /// from the users interested in the category and the others from the
    /// users who are not. Iron fans come from the interested fans first,
    /// local or not. Any other creator has no local users (`local` empty).
    fn draw(&self, local_share: f64, local: &[u32], is_local: &(dyn Fn(u32) -> bool + Sync)) -> (Vec<u32>, Vec<u32>) {
        let (f, c) = (u64::from(self.followers), u64::from(self.creator));
        let lr = local.len() as u64;
        // Without local users every interested user is away (no O(users)
        // count per creator).
        let interested_away = if local.is_empty() {
            self.interested.len() as u64
        } else {
            self.interested.iter().filter(|&&u| !is_local(u)).count() as u64
        };
        let other_away = self.population - lr - interested_away;
        let mut n_local = ((f as f64 * local_share).round() as u64).min(lr);
        let rest = f - n_local;
        let mut n_vert = ((rest as f64 * self.verticality).round() as u64).min(interested_away);
        let n_other = (rest - n_vert).min(other_away);
        if n_vert + n_other < rest {
            n_vert = (rest - n_other).min(interested_away);
        }
        if n_local + n_vert + n_other < f {
            n_local = (f - n_vert - n_other).min(lr);
        }

        let near = Permutation::new(lr.max(1), key(self.seed, tag::FANS, c, 2));
        let (mut local_interested, mut local_other): (Vec<u32>, Vec<u32>) = (0..n_local)
            .map(|i| local[near.at(i) as usize])
            .partition(|&u| self.is_interested(u));
        let mut picks: Vec<u32> = Vec::with_capacity(f as usize);
        picks.append(&mut local_interested);
        let vert = Permutation::new((self.interested.len() as u64).max(1), key(self.seed, tag::FANS, c, 0));
        let (mut taken, mut i) = (0, 0);
        while taken < n_vert && i < self.interested.len() as u64 {
            let u = self.interested[vert.at(i) as usize];
            i += 1;
            if !is_local(u) {
                picks.push(u);
                taken += 1;
            }
        }
        picks.append(&mut local_other);
        let all = Permutation::new(self.population, key(self.seed, tag::FANS, c, 1));
        let (mut taken, mut i) = (0, 0);
        while taken < n_other && i < self.population {
            let u = all.at(i) as u32;
            i += 1;
            if !self.is_interested(u) && !is_local(u) {
                picks.push(u);
                taken += 1;
            }
        }
        self.split_iron(picks)
    }

    /// Iron fans: the first `iron_fan_ratio` of the picks (the interested
    /// ones come first), then the others; each sorted.
    fn split_iron(&self, mut picks: Vec<u32>) -> (Vec<u32>, Vec<u32>) {
        let total = picks.len();
        let n_iron = ((total as f64 * self.iron_fan_ratio).round() as usize).min(total);
        let mut other = picks.split_off(n_iron);
        let mut iron = picks;
        iron.shrink_to_fit();
        sort_ids(&mut iron);
        sort_ids(&mut other);
        (iron, other)
    }
}

/// Sorts user ids ascending: a least-significant-digit radix sort (11-bit
/// digits, as many passes as the largest id needs) for long rows, where it
/// is several times faster than a comparison sort; `sort_unstable` for
/// short ones. The result is the same either way (ids are plain integers).
fn sort_ids(v: &mut Vec<u32>) {
    const DIGIT: u32 = 11;
    const LONG: usize = 4096;
    if v.len() < LONG {
        v.sort_unstable();
        return;
    }
    let max = v.iter().copied().max().unwrap_or(0);
    let passes = (32 - max.leading_zeros()).div_ceil(DIGIT);
    let mut from = std::mem::take(v);
    let mut to = vec![0u32; from.len()];
    let mut counts = vec![0usize; 1 << DIGIT];
    for p in 0..passes {
        let shift = p * DIGIT;
        let digit = |x: u32| ((x >> shift) & ((1 << DIGIT) - 1)) as usize;
        counts.fill(0);
        for &x in &from {
            counts[digit(x)] += 1;
        }
        let mut sum = 0;
        for c in counts.iter_mut() {
            (*c, sum) = (sum, sum + *c);
        }
        for &x in &from {
            let d = digit(x);
            to[counts[d]] = x;
            counts[d] += 1;
        }
        std::mem::swap(&mut from, &mut to);
    }
    *v = from;
}

/// Generates the posts of a scenario's days (warm-up included:
/// [`Scenario::total_days`]) from the creators' posting
/// rates: per creator and day a Poisson number of posts, each in a uniform
/// slot of the day, with quality `N(creator mean, sd)` and the creator's
/// product with probability `share_of_posts`. Parallel over creators;
/// the result is sorted by (slot, creator) and ids are assigned in that order.
pub fn generate_posts(world: &World, scenario: &Scenario) -> Result<Vec<Post>> {
    let spd = scenario.feed.slots_per_day;
    let days = scenario.total_days();
    let cr = world.creators();
    let mut posts: Vec<Post> = (0..cr.len() as u32)
        .into_par_iter()
        .map(|c| -> Result<Vec<Post>> {
            let ci = c as usize;
            let rate = f64::from(cr.posts_per_day[ci]);
            let quality = Normal::new(f64::from(cr.quality_mean[ci]), f64::from(cr.quality_sd[ci]))
                .map_err(|e| Error::invalid("cohorts.quality.sd", cr.quality_sd[ci], e.to_string()))?;
            let mut out = Vec::new();
            if rate > 0.0 {
                let count =
                    Poisson::new(rate).map_err(|e| Error::invalid("cohorts.posts_per_day", rate, e.to_string()))?;
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
                            kind: Default::default(),
                            duration_s: 0.0,
                        });
                    }
                }
            }
            // Live sessions, from a stream of their own (a cohort without
            // them draws the same posts as before).
            if let Some(l) = scenario.cohorts[usize::from(cr.cohort[ci])].live {
                for day in 0..days {
                    let mut rng = stream(world.seed(), tag::LIVE, c.into(), day.into());
                    if rng.random::<f64>() < l.sessions_per_day {
                        out.push(Post {
                            id: 0,
                            creator: c,
                            slot: day * spd + l.start_slot,
                            quality: quality.sample(&mut rng) as f32,
                            category: cr.category[ci],
                            price_fen: cr.price_fen[ci],
                            kind: crate::content::PostKind::Live,
                            duration_s: (l.duration_min * 60) as f32,
                        });
                    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The radix sort of long rows gives what a comparison sort gives, for
    /// ids that need one, two and three 11-bit digits (and the largest).
    #[test]
    fn sort_ids_matches_sort_unstable() {
        let mut rng = stream(7, tag::FANS, 1, 2);
        for (len, max) in [
            (10, 1_000u32),
            (4_096, 2_000),
            (5_000, 1 << 20),
            (70_000, 30_000_000),
            (9_000, u32::MAX),
        ] {
            let mut v: Vec<u32> = (0..len).map(|_| rng.random_range(0..=max)).collect();
            let mut want = v.clone();
            want.sort_unstable();
            sort_ids(&mut v);
            assert_eq!(v, want, "{len} ids below {max}");
        }
    }
}
