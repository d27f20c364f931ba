//! The fan lifecycle at the end of each day (dynamics on): promotions and
//! demotions, decay, unfollows, fan groups, membership perks and new follows,
//! applied in creator order and, within a creator, in fan order; then the
//! follow graph is rebuilt. See [`crate::engine`] for where this sits in a run.

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

/// One fan edge while a row is rebuilt.
#[derive(Clone, Copy)]
struct Edge {
    user: u32,
    verticality: f32,
    score: u32,
    since_day: i32,
    group: bool,
    low_days: u16,
    iron: bool,
}

/// A creator's rebuilt row and what happened in it.
struct Row {
    edges: Vec<Edge>,
    iron: usize,
    promotions: u64,
    demotions: u64,
    unfollows: u64,
    perks: Vec<u32>,
}

/// Applies the end-of-day rules of `day` to `graph` (see the module docs).
#[allow(clippy::too_many_arguments)]
pub(crate) fn end_of_day(
    world: &World,
    graph: &mut FollowGraph,
    d: &DynamicsParams,
    rules: &[CohortRules],
    seed: u64,
    day: u32,
    pending_follows: &mut Vec<u64>,
    buyers: &mut BuyerMap,
    customers: &mut Customers,
    counts: &mut [CohortCounts],
) {
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
    let g: &FollowGraph = graph;
    let rows: Vec<Row> = (0..n)
        .into_par_iter()
        .map(|c| {
            let rule = rules[creators.cohort[c] as usize];
            let cat = creators.category[c];
            let (iron_range, _) = g.sections(c as u32);
            let row = g.offsets[c] as usize..g.offsets[c + 1] as usize;
            let mut out = Row {
                edges: Vec::with_capacity(row.len() + starts[c + 1] - starts[c]),
                iron: 0,
                promotions: 0,
                demotions: 0,
                unfollows: 0,
                perks: Vec::new(),
            };
            for e in row {
                let was_iron = (e as u32) < iron_range.end;
                let score = g.score[e];
                // Tiers are judged on the day's score, with hysteresis ...
                let iron = if was_iron {
                    score >= d.iron_fan_below
                } else {
                    score >= d.iron_fan_above
                };
                out.promotions += u64::from(iron && !was_iron);
                out.demotions += u64::from(was_iron && !iron);
                // ... then the score decays overnight.
                let score = (f64::from(score) * (1.0 - d.daily_decay)).floor() as u32;
                let low_days = if score < d.unfollow_below {
                    g.low_days[e].saturating_add(1)
                } else {
                    0
                };
                if u32::from(low_days) >= d.unfollow_after_days {
                    out.unfollows += 1;
                    continue;
                }
                let since_day = g.since_day[e];
                let group = g.group[e]
                    || rule.fan_group.is_some_and(|fg| {
                        i64::from(day) - i64::from(since_day) >= i64::from(fg.min_days) && score >= fg.min_score
                    });
                let user = g.fans[e];
                if iron
                    && rule.member_perk_rate > 0.0
                    && unit(seed, tag::PERK, day.into(), buyer_key(c as u32, user)) < rule.member_perk_rate
                {
                    out.perks.push(user);
                }
                out.edges.push(Edge {
                    user,
                    verticality: g.verticality[e],
                    score,
                    since_day,
                    group,
                    low_days,
                    iron,
                });
            }
            for &k in &follows[starts[c]..starts[c + 1]] {
                let user = k as u32;
                // A fan who is already in the row (or unfollowed today) stays as is.
                if g.relation(c as u32, user).1.is_some() {
                    continue;
                }
                out.edges.push(Edge {
                    user,
                    verticality: world.users().interest(user, cat),
                    score: d.follow_score,
                    since_day: day as i32,
                    group: false,
                    low_days: 0,
                    iron: d.follow_score >= d.iron_fan_above,
                });
            }
            out.edges.sort_unstable_by_key(|e| (!e.iron, e.user));
            out.iron = out.edges.iter().take_while(|e| e.iron).count();
            out
        })
        .collect();

    let total: usize = rows.iter().map(|r| r.edges.len()).sum();
    let mut next = FollowGraph {
        offsets: Vec::with_capacity(n + 1),
        iron_end: Vec::with_capacity(n),
        fans: Vec::with_capacity(total),
        verticality: Vec::with_capacity(total),
        score: Vec::with_capacity(total),
        since_day: Vec::with_capacity(total),
        group: Vec::with_capacity(total),
        low_days: Vec::with_capacity(total),
        big_rows: Vec::new(),
    };
    next.offsets.push(0);
    for (c, row) in rows.into_iter().enumerate() {
        let cohort = creators.cohort[c] as usize;
        counts[cohort].promotions += row.promotions;
        counts[cohort].demotions += row.demotions;
        counts[cohort].unfollows += row.unfollows;
        for user in row.perks {
            let b = buyers.entry(buyer_key(c as u32, user)).or_default();
            if !b.member {
                b.member = true;
                insert_sorted(&mut customers.members[c], user);
            }
        }
        let base = next.fans.len() as u32;
        next.iron_end.push(base + row.iron as u32);
        for e in &row.edges {
            next.fans.push(e.user);
            next.verticality.push(e.verticality);
            next.score.push(e.score);
            next.since_day.push(e.since_day);
            next.group.push(e.group);
            next.low_days.push(e.low_days);
        }
        next.offsets.push(next.fans.len() as u32);
    }
    next.index_big_rows(world.users().len());
    *graph = next;
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
        let mut g = world.graph().clone();
        assert_eq!((g.iron_fans(0), g.followers(0)), (4, 8));
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
        g.score.copy_from_slice(&scores);
        let users: Vec<u32> = g.fans.clone();
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
            &world,
            &mut g,
            &d,
            &rules,
            1,
            0,
            &mut Vec::new(),
            &mut buyers,
            &mut customers,
            &mut counts,
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
        let mut g = world.graph().clone();
        let day = 40;
        // (followed on day, score): long enough and high enough; long enough
        // but one point short; high enough but one day short; exactly at both
        // thresholds; neither; a member already, now below both.
        let fans = [(0, 50), (0, 39), (11, 50), (10, 40), (39, 0), (39, 0)];
        for (e, &(since, score)) in fans.iter().enumerate() {
            g.since_day[e] = since;
            g.score[e] = score;
        }
        g.group[5] = true;
        let users: Vec<u32> = g.fans.clone();
        let rules = [CohortRules::from(&s.cohorts[0])];
        let mut counts = [CohortCounts::default()];
        let mut customers = Customers {
            buyers: vec![Vec::new()],
            members: vec![Vec::new()],
        };
        end_of_day(
            &world,
            &mut g,
            &d,
            &rules,
            1,
            day,
            &mut Vec::new(),
            &mut BuyerMap::default(),
            &mut customers,
            &mut counts,
        );
        let member = |u: u32| g.relation(0, u).1.is_some_and(|e| g.group[e as usize]);
        let joined: Vec<bool> = users.iter().map(|&u| member(u)).collect();
        assert_eq!(joined, [true, false, false, true, false, true]);
        assert_eq!(g.group_members(0), 3);
    }
}
