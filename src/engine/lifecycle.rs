//! The fan lifecycle at the end of each day (dynamics on): promotions and
//! demotions, decay, unfollows, fan groups, membership perks and new follows,
//! applied in creator order and, within a creator, in fan order; then the
//! follow graph is rebuilt. See [`crate::engine`] for where this sits in a run.

use std::borrow::Cow;

use rayon::prelude::*;

use super::state::{BuyerMap, Customers, buyer_key, insert_sorted};
use crate::rng::{tag, unit};
use crate::scenario::{ChurnParams, CohortParams, DynamicsParams, FanGroupParams};
use crate::world::{FollowGraph, World};

/// A cohort's lifecycle rules.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CohortRules {
    pub(crate) fan_group: Option<FanGroupParams>,
    pub(crate) churn: Option<ChurnParams>,
    pub(crate) member_perk_rate: f64,
}

impl From<&CohortParams> for CohortRules {
    fn from(c: &CohortParams) -> Self {
        CohortRules {
            fan_group: c.fan_group,
            churn: c.churn,
            member_perk_rate: c.member_perk_rate,
        }
    }
}

/// Lifecycle and funnel events counted per cohort over the run.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct CohortCounts {
    pub(crate) promotions: u64,
    pub(crate) demotions: u64,
    pub(crate) unfollows: u64,
    /// First orders of a (creator, user) pair.
    pub(crate) buyers: u64,
    /// Second orders of a (creator, user) pair.
    pub(crate) repeat_buyers: u64,
}

/// The lifecycle's inputs for a whole run.
#[derive(Clone, Copy)]
pub(crate) struct Lifecycle<'a> {
    pub(crate) world: &'a World,
    pub(crate) d: &'a DynamicsParams,
    /// Per cohort.
    pub(crate) rules: &'a [CohortRules],
    pub(crate) seed: u64,
}

/// What a night changes besides the graph: the day's follows (consumed),
/// buyers and members given a perk, and the cohorts' lifecycle counts.
pub(crate) struct Night<'a> {
    pub(crate) follows: &'a mut Vec<u64>,
    pub(crate) buyers: &'a mut BuyerMap,
    pub(crate) customers: &'a mut Customers,
    pub(crate) counts: &'a mut [CohortCounts],
}

/// What the first pass decides for one creator's row.
struct Plan {
    /// The rebuilt row's length and its iron fans.
    len: usize,
    iron: usize,
    promotions: u64,
    demotions: u64,
    unfollows: u64,
    /// Iron fans given e-commerce membership, in fan order.
    perks: Vec<u32>,
}

/// Where each edge of the rebuilt graph comes from: an old edge, or one of
/// the day's follows.
#[derive(Clone, Copy, Default)]
enum Source {
    #[default]
    Old,
    New,
}

/// The day's rules as they read the old graph.
#[derive(Clone, Copy)]
struct DayRules<'a> {
    d: &'a DynamicsParams,
    /// Points per edge not yet in the scores (empty if none).
    points: &'a [u32],
}

#[derive(Clone, Copy)]
struct OnGraph<'a> {
    rules: DayRules<'a>,
    g: &'a FollowGraph,
}

impl<'a> DayRules<'a> {
    fn on(self, g: &'a FollowGraph) -> OnGraph<'a> {
        OnGraph { rules: self, g }
    }
}

impl OnGraph<'_> {
    /// The day's score of edge `e`.
    fn score(&self, e: usize) -> u32 {
        match self.rules.points.get(e) {
            Some(&p) => self.g.score[e].saturating_add(p),
            None => self.g.score[e],
        }
    }

    /// Tiers are judged on the day's score, with hysteresis ...
    fn iron(&self, e: usize, was_iron: bool) -> bool {
        let (score, d) = (self.score(e), self.rules.d);
        if was_iron {
            score >= d.iron_fan_below
        } else {
            score >= d.iron_fan_above
        }
    }

    /// ... then the score decays overnight (rounded down: the product is
    /// never negative, so the cast's truncation is the floor, without a
    /// call to `floor` per edge and night).
    #[inline]
    fn decayed(&self, e: usize) -> u32 {
        (f64::from(self.score(e)) * (1.0 - self.rules.d.daily_decay)) as u32
    }

    /// Days in a row below the unfollow level, tonight included.
    fn low_days(&self, e: usize) -> u16 {
        if self.decayed(e) < self.rules.d.unfollow_below {
            self.g.low_days[e].saturating_add(1)
        } else {
            0
        }
    }

    /// Whether the fan on edge `e` still follows after tonight.
    fn stays(&self, e: usize) -> bool {
        u32::from(self.low_days(e)) < self.rules.d.unfollow_after_days
    }
}

/// Splits `col` into one slice per row of `offsets` (disjoint, so rows can
/// be written in parallel).
fn rows_of<'a, T>(mut col: &'a mut [T], offsets: &[usize]) -> Vec<&'a mut [T]> {
    let mut out = Vec::with_capacity(offsets.len().saturating_sub(1));
    for w in offsets.windows(2) {
        let (row, rest) = col.split_at_mut(w[1] - w[0]);
        out.push(row);
        col = rest;
    }
    out
}

/// Applies the end-of-day rules of `day` to `graph` (see the module docs),
/// given the day's engagement points per edge not yet in the graph's
/// scores (`points`; empty when they were added as they came).
///
/// The graph is rebuilt column by column, without a per-edge temporary of
/// all columns: a first pass decides each row (which fans stay, in which
/// section, which follows join) into one index per new edge; then each new
/// column is written from the old one, and, when the run owns the old
/// graph, the old column is freed before the next is built. Peak memory:
/// the old graph, 4 bytes per new edge of indices, and one new column
/// (plus, on the day the old graph is the world's, the new graph whole).
/// An edge's fate (its day's score, decay, low days) is recomputed by each
/// pass that needs it rather than stored: a few arithmetic operations
/// against 4 or more bytes per edge kept for the night.
pub(crate) fn end_of_day(
    lifecycle: &Lifecycle,
    day: u32,
    graph: &mut Cow<'_, FollowGraph>,
    points: &[u32],
    night: Night,
) {
    let Lifecycle { world, d, rules, seed } = *lifecycle;
    let Night {
        follows: pending_follows,
        buyers,
        customers,
        counts,
    } = night;
    // The day's follows, by creator then user; a user follows once.
    pending_follows.sort_unstable();
    pending_follows.dedup();
    let follows = std::mem::take(pending_follows);
    let creators = world.creators();
    let n = creators.len();
    let mut starts = vec![0usize; n + 1];
    for &k in &follows {
        starts[(k >> 32) as usize + 1] += 1;
    }
    for c in 0..n {
        starts[c + 1] += starts[c];
    }
    let mut old = std::mem::replace(graph, Cow::Owned(FollowGraph::default()));
    let day_rules = DayRules { d, points };
    let new_is_iron = d.follow_score >= d.iron_fan_above;
    let g: &FollowGraph = &old;
    let r = day_rules.on(g);
    // A follower already in the row (or unfollowed today) stays as is.
    let joins = |c: usize, k: usize| g.relation(c as u32, follows[k] as u32).1.is_none();

    // 1. Each row's plan, then the source of every new edge.
    let plans: Vec<Plan> = (0..n)
        .into_par_iter()
        .map(|c| {
            let rule = rules[creators.cohort[c] as usize];
            let (iron_range, _) = g.sections(c as u32);
            let mut p = Plan {
                len: 0,
                iron: 0,
                promotions: 0,
                demotions: 0,
                unfollows: 0,
                perks: Vec::new(),
            };
            for e in g.offsets[c] as usize..g.offsets[c + 1] as usize {
                let was_iron = (e as u32) < iron_range.end;
                let iron = r.iron(e, was_iron);
                p.promotions += u64::from(iron && !was_iron);
                p.demotions += u64::from(was_iron && !iron);
                if !r.stays(e) {
                    p.unfollows += 1;
                    continue;
                }
                p.len += 1;
                p.iron += usize::from(iron);
                let user = g.fans[e];
                if iron
                    && rule.member_perk_rate > 0.0
                    && unit(seed, tag::PERK, day.into(), buyer_key(c as u32, user)) < rule.member_perk_rate
                {
                    p.perks.push(user);
                }
            }
            let joined = (starts[c]..starts[c + 1]).filter(|&k| joins(c, k)).count();
            p.len += joined;
            p.iron += if new_is_iron { joined } else { 0 };
            p
        })
        .collect();
    let mut offsets = Vec::with_capacity(n + 1);
    offsets.push(0usize);
    for p in &plans {
        offsets.push(offsets.last().unwrap() + p.len);
    }
    let total = offsets[n];
    // Index of the old edge or of the follow, and which, per new edge, in
    // the row's order: iron fans, then the others, each by user id.
    let mut src = vec![0u32; total];
    let mut kind = vec![Source::Old; total];
    rows_of(&mut src, &offsets)
        .into_par_iter()
        .zip(rows_of(&mut kind, &offsets))
        .enumerate()
        .for_each(|(c, (src, kind))| {
            let (iron_range, _) = g.sections(c as u32);
            let mut row: Vec<(bool, u32, u32, Source)> = Vec::with_capacity(src.len());
            for e in g.offsets[c] as usize..g.offsets[c + 1] as usize {
                if r.stays(e) {
                    let iron = r.iron(e, (e as u32) < iron_range.end);
                    row.push((!iron, g.fans[e], e as u32, Source::Old));
                }
            }
            for k in (starts[c]..starts[c + 1]).filter(|&k| joins(c, k)) {
                row.push((!new_is_iron, follows[k] as u32, k as u32, Source::New));
            }
            row.sort_unstable_by_key(|r| (r.0, r.1));
            for (j, r) in row.into_iter().enumerate() {
                src[j] = r.2;
                kind[j] = r.3;
            }
        });

    // 2. The new columns, each from the old ones; an owned old column is
    // freed as soon as no later column needs it.
    fn column<T: Copy + Default + Send>(
        offsets: &[usize],
        src: &[u32],
        kind: &[Source],
        f: impl Fn(usize, u32, Source) -> T + Sync,
    ) -> Vec<T> {
        let mut col = vec![T::default(); src.len()];
        rows_of(&mut col, offsets)
            .into_par_iter()
            .enumerate()
            .for_each(|(c, row)| {
                let at = offsets[c];
                for (j, x) in row.iter_mut().enumerate() {
                    *x = f(c, src[at + j], kind[at + j]);
                }
            });
        col
    }
    let free = |old: &mut Cow<'_, FollowGraph>, drop: fn(&mut FollowGraph)| {
        if let Cow::Owned(o) = old {
            drop(o);
        }
    };
    let mut next = FollowGraph::default();
    {
        let (g, r) = (&*old, day_rules.on(&old));
        next.group = column(&offsets, &src, &kind, |c, s, k| match k {
            Source::New => false,
            Source::Old => {
                let e = s as usize;
                g.group[e]
                    || rules[creators.cohort[c] as usize].fan_group.is_some_and(|fg| {
                        i64::from(day) - i64::from(g.since_day[e]) >= i64::from(fg.min_days)
                            && r.decayed(e) >= fg.min_score
                    })
            }
        });
    }
    free(&mut old, |o| o.group = Vec::new());
    {
        let r = day_rules.on(&old);
        next.low_days = column(&offsets, &src, &kind, |_, s, k| match k {
            Source::New => 0,
            Source::Old => r.low_days(s as usize),
        });
    }
    free(&mut old, |o| o.low_days = Vec::new());
    {
        let g: &FollowGraph = &old;
        next.since_day = column(&offsets, &src, &kind, |_, s, k| match k {
            Source::New => day as i32,
            Source::Old => g.since_day[s as usize],
        });
    }
    free(&mut old, |o| o.since_day = Vec::new());
    {
        let g: &FollowGraph = &old;
        next.verticality = column(&offsets, &src, &kind, |c, s, k| match k {
            Source::New => world.users().interest(follows[s as usize] as u32, creators.category[c]),
            Source::Old => g.verticality[s as usize],
        });
    }
    free(&mut old, |o| o.verticality = Vec::new());
    {
        let r = day_rules.on(&old);
        next.score = column(&offsets, &src, &kind, |_, s, k| match k {
            Source::New => d.follow_score,
            Source::Old => r.decayed(s as usize),
        });
    }
    free(&mut old, |o| o.score = Vec::new());
    {
        let g: &FollowGraph = &old;
        next.fans = column(&offsets, &src, &kind, |_, s, k| match k {
            Source::New => follows[s as usize] as u32,
            Source::Old => g.fans[s as usize],
        });
    }
    drop(old);
    drop((src, kind));
    next.offsets = offsets.iter().map(|&o| o as u32).collect();
    next.iron_end = plans
        .iter()
        .zip(&offsets)
        .map(|(p, &at)| (at + p.iron) as u32)
        .collect();
    for (c, p) in plans.into_iter().enumerate() {
        let cohort = creators.cohort[c] as usize;
        counts[cohort].promotions += p.promotions;
        counts[cohort].demotions += p.demotions;
        counts[cohort].unfollows += p.unfollows;
        for user in p.perks {
            let b = buyers.entry(buyer_key(c as u32, user)).or_default();
            if !b.member {
                b.member = true;
                insert_sorted(&mut customers.members[c], user);
            }
        }
    }
    next.index_big_rows(world.users().len());
    *graph = Cow::Owned(next);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Scenario;

    /// One creator with a few fans at chosen scores, through one day end.
    #[test]
    fn tiers_change_only_across_the_thresholds() {
        let mut s = Scenario::default_scenario();
        s.users.count = 100;
        s.cohorts.truncate(1);
        s.cohorts[0].creators = 1;
        s.cohorts[0].followers = crate::scenario::FollowerRange::fixed(8);
        s.cohorts[0].iron_fan_ratio = 0.5;
        s.dynamics.enabled = true;
        let d = s.dynamics.clone();
        let world = World::generate(&s).unwrap();
        let mut owned = world.graph().clone();
        assert_eq!((owned.iron_fans(0), owned.followers(0)), (4, 8));
        // Iron fans at: just below the demotion level, at it, between, above.
        // Other fans at: just below promotion, at it, between, zero.
        let scores = [
            d.iron_fan_below - 1,
            d.iron_fan_below,
            d.iron_fan_above - 1,
            d.iron_fan_above + 5,
            d.iron_fan_above - 1,
            d.iron_fan_above,
            d.iron_fan_below,
            0,
        ];
        owned.score.copy_from_slice(&scores);
        let users: Vec<u32> = owned.fans.clone();
        let mut g = Cow::Owned(owned);
        let rules = [CohortRules::from(&s.cohorts[0])];
        let mut counts = [CohortCounts::default()];
        let (mut buyers, mut customers) = (
            BuyerMap::default(),
            Customers {
                buyers: vec![Vec::new()],
                members: vec![Vec::new()],
            },
        );
        end_of_day(
            &Lifecycle {
                world: &world,
                d: &d,
                rules: &rules,
                seed: 1,
            },
            0,
            &mut g,
            &[],
            Night {
                follows: &mut Vec::new(),
                buyers: &mut buyers,
                customers: &mut customers,
                counts: &mut counts,
            },
        );
        let iron: Vec<u32> = g.iron_fans_of(0).to_vec();
        let expect_iron = [users[1], users[2], users[3], users[5]];
        let mut want = expect_iron.to_vec();
        want.sort_unstable();
        assert_eq!(iron, want);
        assert_eq!(
            (counts[0].promotions, counts[0].demotions, counts[0].unfollows),
            (1, 1, 0)
        );
        // Scores decayed overnight.
        let decayed = |x: u32| (f64::from(x) * (1.0 - d.daily_decay)).floor() as u32;
        assert_eq!(g.score(0, users[3]), Some(decayed(d.iron_fan_above + 5)));
    }

    /// The fan-group rule: a fan joins at the end of a day iff it has
    /// followed for at least `min_days` days and its (decayed) score is at
    /// least `min_score`; members stay members.
    #[test]
    fn fans_join_the_group_only_past_both_thresholds() {
        let mut s = Scenario::default_scenario();
        s.users.count = 100;
        s.cohorts.truncate(1);
        s.cohorts[0].creators = 1;
        s.cohorts[0].followers = crate::scenario::FollowerRange::fixed(6);
        s.cohorts[0].iron_fan_ratio = 0.0;
        s.cohorts[0].fan_group = Some(FanGroupParams {
            min_days: 30,
            min_score: 40,
        });
        s.dynamics.enabled = true;
        s.dynamics.daily_decay = 0.0;
        s.dynamics.iron_fan_above = 1_000;
        s.dynamics.iron_fan_below = 1_000;
        let d = s.dynamics.clone();
        let world = World::generate(&s).unwrap();
        let mut owned = world.graph().clone();
        let day = 40;
        // (followed on day, score): long enough and high enough; long enough
        // but one point short; high enough but one day short; exactly at both
        // thresholds; neither; a member already, now below both.
        let fans = [(0, 50), (0, 39), (11, 50), (10, 40), (39, 0), (39, 0)];
        for (e, &(since, score)) in fans.iter().enumerate() {
            owned.since_day[e] = since;
            owned.score[e] = score;
        }
        owned.group[5] = true;
        let users: Vec<u32> = owned.fans.clone();
        let mut g = Cow::Owned(owned);
        let rules = [CohortRules::from(&s.cohorts[0])];
        let mut counts = [CohortCounts::default()];
        let mut customers = Customers {
            buyers: vec![Vec::new()],
            members: vec![Vec::new()],
        };
        end_of_day(
            &Lifecycle {
                world: &world,
                d: &d,
                rules: &rules,
                seed: 1,
            },
            day,
            &mut g,
            &[],
            Night {
                follows: &mut Vec::new(),
                buyers: &mut BuyerMap::default(),
                customers: &mut customers,
                counts: &mut counts,
            },
        );
        let member = |u: u32| g.relation(0, u).1.is_some_and(|e| g.group[e as usize]);
        let joined: Vec<bool> = users.iter().map(|&u| member(u)).collect();
        assert_eq!(joined, [true, false, false, true, false, true]);
        assert_eq!(g.group_members(0), 3);
    }

    /// The first day's points (kept apart while the graph is the world's)
    /// give the graph that scores raised as the points came give.
    #[test]
    fn points_kept_apart_end_the_day_as_points_added_in_place() {
        let s = crate::Scenario::default_scenario().scaled(20_000);
        let mut s = s;
        s.dynamics.enabled = true;
        let world = World::generate(&s).unwrap();
        let mut d = s.dynamics.clone();
        // Low scores unfollow tonight, so the rebuild drops fans too.
        d.unfollow_after_days = 1;
        let rules: Vec<CohortRules> = s.cohorts.iter().map(CohortRules::from).collect();
        let edges = world.graph().edges();
        let points: Vec<u32> = (0..edges as u64).map(|e| (crate::rng::mix(e) % 40) as u32).collect();
        let follows: Vec<u64> = (0..500u64)
            .map(|k| {
                buyer_key(
                    (k % world.creators().len() as u64) as u32,
                    (crate::rng::mix(k) % 20_000) as u32,
                )
            })
            .collect();
        let end = |mut g: Cow<'_, FollowGraph>, points: &[u32]| {
            let n = world.creators().len();
            let mut customers = Customers {
                buyers: vec![Vec::new(); n],
                members: vec![Vec::new(); n],
            };
            let mut counts = vec![CohortCounts::default(); world.cohorts().len()];
            let mut buyers = BuyerMap::default();
            end_of_day(
                &Lifecycle {
                    world: &world,
                    d: &d,
                    rules: &rules,
                    seed: 7,
                },
                3,
                &mut g,
                points,
                Night {
                    follows: &mut follows.clone(),
                    buyers: &mut buyers,
                    customers: &mut customers,
                    counts: &mut counts,
                },
            );
            let c: Vec<(u64, u64, u64)> = counts
                .iter()
                .map(|c| (c.promotions, c.demotions, c.unfollows))
                .collect();
            (g.into_owned(), customers.members, c)
        };
        let (a, members_a, counts_a) = end(Cow::Borrowed(world.graph()), &points);
        let mut raised = world.graph().clone();
        for (s, p) in raised.score.iter_mut().zip(&points) {
            *s = s.saturating_add(*p);
        }
        let (b, members_b, counts_b) = end(Cow::Owned(raised), &[]);
        assert_eq!(
            (
                &a.offsets,
                &a.iron_end,
                &a.fans,
                &a.score,
                &a.since_day,
                &a.group,
                &a.low_days
            ),
            (
                &b.offsets,
                &b.iron_end,
                &b.fans,
                &b.score,
                &b.since_day,
                &b.group,
                &b.low_days
            )
        );
        assert!(
            a.verticality
                .iter()
                .zip(&b.verticality)
                .all(|(x, y)| x.to_bits() == y.to_bits())
        );
        assert_eq!((members_a, counts_a.clone()), (members_b, counts_b));
        assert!(counts_a.iter().any(|c| c.0 > 0 && c.2 > 0), "{counts_a:?}");
        assert!(a.edges() != world.graph().edges() || a.fans != world.graph().fans);
    }
}
