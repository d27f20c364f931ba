//! The fan lifecycle at the end of each day (dynamics on): promotions and
//! demotions, decay, unfollows, fan groups, membership perks and new follows,
//! applied in creator order and, within a creator, in fan order; then the
//! follow graph is rebuilt. See [`crate::engine`] for where this sits in a run.

use rayon::prelude::*;

use super::buyers::{Buyers, buyer_key, product_key};
use super::state::{Customers, insert_sorted};
use crate::rng::{tag, unit};
use crate::scenario::{ChurnParams, CohortParams, DynamicsParams, FanGroupParams};
use crate::world::{FollowGraph, World};

/// A cohort's lifecycle rules.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CohortRules {
    pub(crate) fan_group: Option<FanGroupParams>,
    pub(crate) churn: Option<ChurnParams>,
    pub(crate) member_perk_rate: f64,
    /// For a cohort whose product sells offline: a lead's chance of a store
    /// visit (see [`Sale::Offline`](crate::scenario::Sale::Offline)).
    pub(crate) offline: Option<f64>,
    /// The product's purchase interval in days (0: none).
    pub(crate) purchase_interval: u32,
    /// The cohort's account matrix, if it is one: its accounts share their
    /// buyers' purchase histories ([`crate::matrix`]).
    pub(crate) matrix: Option<crate::matrix::MatrixParams>,
}

impl From<&CohortParams> for CohortRules {
    fn from(c: &CohortParams) -> Self {
        CohortRules {
            fan_group: c.fan_group,
            churn: c.churn,
            member_perk_rate: c.member_perk_rate,
            offline: c
                .product
                .filter(|p| p.sale == crate::scenario::Sale::Offline)
                .map(|p| p.store_visit_rate),
            purchase_interval: c.product.map_or(0, |p| p.purchase_interval_days),
            matrix: c.matrix,
        }
    }
}

/// Lifecycle and funnel events counted per cohort over the run.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct CohortCounts {
    pub(crate) promotions: u64,
    pub(crate) demotions: u64,
    pub(crate) unfollows: u64,
    /// Unfollows by fans who were iron fans at the night's judgement (a
    /// fan promoted and unfollowing the same night counts in both): the
    /// iron tier's exits besides demotions.
    pub(crate) iron_unfollows: u64,
    /// Follow edges added (the day's distinct follows by users who did not
    /// already follow).
    pub(crate) follows_added: u64,
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
    pub(crate) buyers: &'a mut Buyers,
    pub(crate) customers: &'a mut Customers,
    pub(crate) counts: &'a mut [CohortCounts],
}

/// What the night decides for one creator's row.
#[derive(Default)]
struct Plan {
    /// Fans who stay, and how many of them are iron fans.
    stay: usize,
    iron: usize,
    promotions: u64,
    demotions: u64,
    unfollows: u64,
    iron_unfollows: u64,
    /// Iron fans given e-commerce membership, in fan order.
    perks: Vec<u32>,
}

/// One edge's columns, as a fan who changes section or joins a row waits in
/// a scratch buffer.
#[derive(Clone, Copy)]
struct Edge {
    /// The fan (each section of a row is by user id).
    user: u32,
    score: u32,
    since_day: i16,
    group: bool,
    low_days: u8,
}

/// The day's rules as they read the old graph.
#[derive(Clone, Copy)]
struct DayRules<'a> {
    d: &'a DynamicsParams,
    /// Points per edge not yet in the scores (empty if none).
    points: &'a [u32],
}

impl DayRules<'_> {
    /// The day's score of edge `e`, whose score column reads `score`.
    fn score(&self, e: usize, score: u32) -> u32 {
        match self.points.get(e) {
            Some(&p) => score.saturating_add(p),
            None => score,
        }
    }

    /// Tiers are judged on the day's score, with hysteresis ...
    fn iron(&self, score: u32, was_iron: bool) -> bool {
        if was_iron {
            score >= self.d.iron_fan_below
        } else {
            score >= self.d.iron_fan_above
        }
    }

    /// ... then the score decays overnight (rounded down: the product is
    /// never negative, so the cast's truncation is the floor, without a
    /// call to `floor` per edge and night).
    #[inline]
    fn decayed(&self, score: u32) -> u32 {
        (f64::from(score) * (1.0 - self.d.daily_decay)) as u32
    }

    /// Days in a row below the unfollow level, tonight included
    /// (`unfollow_after_days` is at most 255, so saturating is exact).
    fn low_days(&self, decayed: u32, low_days: u8) -> u8 {
        if decayed < self.d.unfollow_below {
            low_days.saturating_add(1)
        } else {
            0
        }
    }
}

/// Splits `col` into one slice per row of `offsets` (disjoint, so rows can
/// be written in parallel).
fn rows_of<T>(mut col: &mut [T], offsets: impl Iterator<Item = (usize, usize)>) -> Vec<&mut [T]> {
    let mut out = Vec::new();
    let mut at = 0;
    for (start, end) in offsets {
        let (_, rest) = col.split_at_mut(start - at);
        let (row, rest) = rest.split_at_mut(end - start);
        out.push(row);
        col = rest;
        at = end;
    }
    out
}

/// The graph's five edge columns, row by row, for a parallel pass.
struct Rows<'a> {
    fans: Vec<&'a mut [u32]>,
    score: Vec<&'a mut [u32]>,
    since_day: Vec<&'a mut [i16]>,
    group: Vec<&'a mut [bool]>,
    low_days: Vec<&'a mut [u8]>,
}

impl<'a> Rows<'a> {
    /// Row `c` is `ranges[c]` of every column (ascending, disjoint).
    fn of(g: &'a mut FollowGraph, ranges: &[(usize, usize)]) -> Self {
        let r = || ranges.iter().copied();
        Rows {
            fans: rows_of(&mut g.fans, r()),
            score: rows_of(&mut g.score, r()),
            since_day: rows_of(&mut g.since_day, r()),
            group: rows_of(&mut g.group, r()),
            low_days: rows_of(&mut g.low_days, r()),
        }
    }

    /// Row by row, in parallel: `f(scratch, c, row)` for each row `c`, in
    /// row order, with a scratch buffer per task (cleared by `f`).
    fn map<R: Send>(self, f: impl Fn(&mut Vec<Edge>, usize, RowMut) -> R + Sync + Send) -> Vec<R> {
        self.fans
            .into_par_iter()
            .zip(self.score)
            .zip(self.since_day)
            .zip(self.group)
            .zip(self.low_days)
            .enumerate()
            // Rows differ in length by five orders of magnitude and the
            // big accounts' rows are neighbours (cohorts hold contiguous
            // ids): split finely, so the big rows do not all fall in one
            // thread's run. Eight rows a split keeps the scratch buffers
            // (one per split) few.
            .with_max_len(8)
            .map_init(
                Vec::new,
                |scratch, (c, ((((fans, score), since_day), group), low_days))| {
                    f(
                        scratch,
                        c,
                        RowMut {
                            fans,
                            score,
                            since_day,
                            group,
                            low_days,
                        },
                    )
                },
            )
            .collect()
    }
}

/// One row's slice of every edge column.
struct RowMut<'a> {
    fans: &'a mut [u32],
    score: &'a mut [u32],
    since_day: &'a mut [i16],
    group: &'a mut [bool],
    low_days: &'a mut [u8],
}

impl RowMut<'_> {
    /// Writes `x` to place `j`.
    #[inline]
    fn set(&mut self, j: usize, x: &Edge) {
        self.fans[j] = x.user;
        self.score[j] = x.score;
        self.since_day[j] = x.since_day;
        self.group[j] = x.group;
        self.low_days[j] = x.low_days;
    }

    /// Copies place `from` to place `to`.
    #[inline]
    fn copy(&mut self, from: usize, to: usize) {
        self.fans[to] = self.fans[from];
        self.score[to] = self.score[from];
        self.since_day[to] = self.since_day[from];
        self.group[to] = self.group[from];
        self.low_days[to] = self.low_days[from];
    }

    /// Merges the places `from` (by user id) with `joined` (by user id, none
    /// of them in the row) into the places that end at `end`
    /// (`end = from.end + joined.len()` or more), from the back and in
    /// place: a place is read before anything is written over it.
    /// O(from.len() + joined.len()), no scratch.
    fn merge_back(&mut self, from: std::ops::Range<usize>, end: usize, joined: &[Edge]) {
        let (mut i, mut k) = (from.end, end);
        debug_assert!(k >= i + joined.len());
        for x in joined.iter().rev() {
            while i > from.start && self.fans[i - 1] > x.user {
                self.copy(i - 1, k - 1);
                i -= 1;
                k -= 1;
            }
            self.set(k - 1, x);
            k -= 1;
        }
        while i > from.start && k != i {
            self.copy(i - 1, k - 1);
            i -= 1;
            k -= 1;
        }
    }

    /// Merges `joined` (by user id, none in the row) into the section
    /// `section` of the row's front `len` places, from the back and in
    /// place; places past `section.end` move right by `joined.len()`.
    /// O(row), no sort, no scratch.
    fn merge_in(&mut self, section: std::ops::Range<usize>, len: usize, joined: &[Edge]) {
        let n = joined.len();
        for j in (section.end..len).rev() {
            self.copy(j, j + n);
        }
        self.merge_back(section.clone(), section.end + n, joined);
    }
}

/// Moves `len[c]` edges of every row from `from[c]` to `to[c]` in each
/// column, in place: rows moving left first, in row order, then rows moving
/// right, in reverse order. Neither pass overwrites a row not yet moved: a
/// row moving left lands before its own old place and after the old place
/// of every earlier row still to move right; a row moving right lands past
/// the old places of all earlier rows and before the new places of all
/// later ones (the new places do not overlap).
fn move_rows<T: Copy>(col: &mut [T], from: &[usize], to: &[usize], len: &[usize]) {
    for c in 0..len.len() {
        if to[c] < from[c] && len[c] > 0 {
            col.copy_within(from[c]..from[c] + len[c], to[c]);
        }
    }
    for c in (0..len.len()).rev() {
        if to[c] > from[c] && len[c] > 0 {
            col.copy_within(from[c]..from[c] + len[c], to[c]);
        }
    }
}

/// One column through the night's move: grown (exactly: a doubling would
/// keep up to twice the column's bytes for the rest of the run) to hold
/// both the old and the new rows, each row's `len[c]` stayers moved from
/// `from[c]` to `to[c]`, then cut to the new length.
fn relocate<T: Copy + Default>(col: &mut Vec<T>, from: &[usize], to: &[usize], len: &[usize]) {
    let (old_len, new_len) = (from[len.len()], to[len.len()]);
    let grow = old_len.max(new_len);
    col.reserve_exact(grow.saturating_sub(col.len()));
    col.resize(grow, T::default());
    move_rows(col, from, to, len);
    col.truncate(new_len);
}

/// Applies the end-of-day rules of `day` to `graph` (see the module docs),
/// given the day's engagement points per edge not yet in the graph's
/// scores (`points`; empty when they were added as they came).
///
/// The graph is rebuilt in place, so a night needs no second graph: each
/// row first decides its fans (who stays, in which section, with which
/// score), compacts those who stay in their section to its own front as it
/// reads them and merges in, from the back, the few promoted or demoted
/// tonight, in parallel (O(row), no copy of the row); then the
/// rows move to their new offsets, a `memmove` per row and column; then
/// the rows that gain the day's follows merge them in, in parallel. Peak
/// memory: the graph, grown by the day's new edges, and scratch buffers of
/// 16 bytes per fan who changes section or joins a row tonight.
pub(crate) fn end_of_day(
    lifecycle: &Lifecycle,
    day: u32,
    graph: &mut FollowGraph,
    points: &[u32],
    unfollowed: &[u32],
    night: Night,
) {
    let Lifecycle { world, d, rules, seed } = *lifecycle;
    let Night {
        follows: pending_follows,
        buyers,
        customers,
        counts,
    } = night;
    let creators = world.creators();
    let n = creators.len();
    let r = DayRules { d, points };
    let new_is_iron = d.follow_score >= d.iron_fan_above;
    // `feed.days` is at most 30,000; a push past day 32,767 would keep it.
    let day16 = i16::try_from(day).unwrap_or(i16::MAX);

    // The day's follows, by creator then user; a user follows once. A
    // follower already in the row (or unfollowed tonight) stays as is.
    pending_follows.sort_unstable();
    pending_follows.dedup();
    let mut follows = std::mem::take(pending_follows);
    {
        let g: &FollowGraph = graph;
        let joins: Vec<bool> = follows
            .par_iter()
            .map(|&k| g.relation((k >> 32) as u32, k as u32).1.is_none())
            .collect();
        let mut it = joins.iter();
        follows.retain(|_| *it.next().unwrap());
    }
    let mut joins = vec![0usize; n + 1];
    for &k in &follows {
        joins[(k >> 32) as usize + 1] += 1;
    }
    for c in 0..n {
        joins[c + 1] += joins[c];
    }
    let old: Vec<usize> = graph.offsets.iter().map(|&o| o as usize).collect();
    let old_iron: Vec<usize> = graph.iron_end.iter().map(|&o| o as usize).collect();

    // 1. Each row decides its fans and writes the stayers to its front:
    // iron fans, then the others, each by user id.
    let plans: Vec<Plan> = {
        let ranges: Vec<(usize, usize)> = old.windows(2).map(|w| (w[0], w[1])).collect();
        Rows::of(graph, &ranges).map(|movers, c, mut row| {
            let rule = rules[creators.cohort[c] as usize];
            let fan_group = rule.fan_group;
            let mut p = Plan::default();
            movers.clear();
            // Stayers in their section are written at `w`, iron ones first:
            // the row is compacted in place, as it is read (`w <= j`).
            let (mut w, mut iron_kept, mut demoted) = (0, 0, 0);
            // The row's edges unfollowed after a skip today, ascending.
            let from = unfollowed.partition_point(|&e| (e as usize) < old[c]);
            let to = unfollowed.partition_point(|&e| (e as usize) < old[c + 1]);
            let mut skips = unfollowed[from..to].iter().peekable();
            for j in 0..row.fans.len() {
                let e = old[c] + j;
                let skipped = skips.next_if(|&&x| x as usize == e).is_some();
                let was_iron = e < old_iron[c];
                let score = r.score(e, row.score[j]);
                let iron = r.iron(score, was_iron);
                p.promotions += u64::from(iron && !was_iron);
                p.demotions += u64::from(was_iron && !iron);
                let decayed = r.decayed(score);
                let low_days = r.low_days(decayed, row.low_days[j]);
                if skipped || (d.unfollow_after_days > 0 && u32::from(low_days) >= d.unfollow_after_days) {
                    p.unfollows += 1;
                    p.iron_unfollows += u64::from(iron);
                    continue;
                }
                let user = row.fans[j];
                if iron
                    && rule.member_perk_rate > 0.0
                    && unit(seed, tag::PERK, day.into(), buyer_key(c as u32, user)) < rule.member_perk_rate
                {
                    p.perks.push(user);
                }
                let since_day = row.since_day[j];
                let group = row.group[j]
                    || fan_group.is_some_and(|fg| {
                        i64::from(day) - i64::from(since_day) >= i64::from(fg.min_days) && decayed >= fg.min_score
                    });
                p.iron += usize::from(iron);
                let x = Edge {
                    user,
                    score: decayed,
                    since_day,
                    group,
                    low_days,
                };
                if iron == was_iron {
                    row.set(w, &x);
                    w += 1;
                    iron_kept += usize::from(iron);
                } else {
                    // Promoted or demoted: merged into its new section
                    // below. The old iron fans come first in the row, so
                    // the demoted come first here, each part by user id.
                    demoted += usize::from(was_iron);
                    movers.push(x);
                }
            }
            // The row's front is now the iron stayers, then the other
            // stayers; the movers join their new sections, the others'
            // first (it moves right over the place the iron section
            // grows into).
            let (demoted, promoted) = movers.split_at(demoted);
            p.stay = w + movers.len();
            row.merge_back(iron_kept..w, p.stay, demoted);
            row.merge_back(0..iron_kept, iron_kept + promoted.len(), promoted);
            p
        })
    };

    // 2. The rows move to their new offsets.
    let mut new = Vec::with_capacity(n + 1);
    new.push(0usize);
    for (c, p) in plans.iter().enumerate() {
        new.push(new[c] + p.stay + joins[c + 1] - joins[c]);
    }
    let stay: Vec<usize> = plans.iter().map(|p| p.stay).collect();
    // The columns move independently: two by two in parallel (each thread
    // about six bytes an edge).
    {
        let (old, new, stay) = (&old, &new, &stay);
        let g = &mut *graph;
        rayon::join(
            || {
                relocate(&mut g.fans, old, new, stay);
                relocate(&mut g.group, old, new, stay);
                relocate(&mut g.low_days, old, new, stay);
            },
            || {
                relocate(&mut g.score, old, new, stay);
                relocate(&mut g.since_day, old, new, stay);
            },
        );
    }

    // 3. Rows with follows merge them in.
    {
        let ranges: Vec<(usize, usize)> = new.windows(2).map(|w| (w[0], w[1])).collect();
        Rows::of(graph, &ranges).map(|joined, c, mut row| {
            let follows = &follows[joins[c]..joins[c + 1]];
            if follows.is_empty() {
                return;
            }
            joined.clear();
            joined.extend(follows.iter().map(|&k| Edge {
                user: k as u32,
                score: d.follow_score,
                since_day: day16,
                group: false,
                low_days: 0,
            }));
            let (stay, iron) = (stay[c], plans[c].iron);
            let section = if new_is_iron { 0..iron } else { iron..stay };
            row.merge_in(section, stay, joined);
        });
    }
    graph.offsets = new.iter().map(|&o| o as u32).collect();
    graph.iron_end = plans
        .iter()
        .enumerate()
        .map(|(c, p)| {
            let joined = if new_is_iron { joins[c + 1] - joins[c] } else { 0 };
            (new[c] + p.iron + joined) as u32
        })
        .collect();
    for (c, p) in plans.into_iter().enumerate() {
        let cohort = creators.cohort[c] as usize;
        counts[cohort].promotions += p.promotions;
        counts[cohort].demotions += p.demotions;
        counts[cohort].unfollows += p.unfollows;
        counts[cohort].iron_unfollows += p.iron_unfollows;
        counts[cohort].follows_added += (joins[c + 1] - joins[c]) as u64;
        for user in p.perks {
            let b = buyers.entry(product_key(world, rules, c as u32, user));
            if !b.member {
                b.member = true;
                insert_sorted(&mut customers.members[c], user);
            }
        }
    }
    graph.index_big_rows(world.users().len());
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
        let mut g = owned;
        let rules = [CohortRules::from(&s.cohorts[0])];
        let mut counts = [CohortCounts::default()];
        let (mut buyers, mut customers) = (
            Buyers::default(),
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
        let mut g = owned;
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
            &[],
            Night {
                follows: &mut Vec::new(),
                buyers: &mut Buyers::default(),
                customers: &mut customers,
                counts: &mut counts,
            },
        );
        let member = |u: u32| g.relation(0, u).1.is_some_and(|e| g.group[e as usize]);
        let joined: Vec<bool> = users.iter().map(|&u| member(u)).collect();
        assert_eq!(joined, [true, false, false, true, false, true]);
        assert_eq!(g.group_members(0), 3);
    }

    /// The night's rules, row by row, out of place: the reference the
    /// in-place rebuild must equal.
    fn reference(
        l: &Lifecycle,
        day: u32,
        g: &FollowGraph,
        points: &[u32],
        unfollowed: &[u32],
        follows: &[u64],
    ) -> FollowGraph {
        let (d, r) = (l.d, DayRules { d: l.d, points });
        let mut out = FollowGraph {
            offsets: vec![0],
            ..Default::default()
        };
        for c in 0..g.creators() {
            let mut row: Vec<(bool, u32, u32, i16, bool, u8)> = Vec::new();
            for e in g.fan_edges(c as u32) {
                let e = e as usize;
                let score = r.score(e, g.score[e]);
                let iron = r.iron(score, e < g.iron_end[c] as usize);
                let decayed = r.decayed(score);
                let low = r.low_days(decayed, g.low_days[e]);
                let by_rule = d.unfollow_after_days > 0 && u32::from(low) >= d.unfollow_after_days;
                if by_rule || unfollowed.contains(&(e as u32)) {
                    continue;
                }
                let fg = l.rules[l.world.creators().cohort(c as u32) as usize].fan_group;
                let group = g.group[e]
                    || fg.is_some_and(|fg| {
                        i64::from(day) - i64::from(g.since_day[e]) >= i64::from(fg.min_days) && decayed >= fg.min_score
                    });
                row.push((!iron, g.fans[e], decayed, g.since_day[e], group, low));
            }
            let mut mine: Vec<u32> = follows
                .iter()
                .filter(|&&k| (k >> 32) as usize == c)
                .map(|&k| k as u32)
                .collect();
            mine.sort_unstable();
            mine.dedup();
            for u in mine {
                if g.relation(c as u32, u).1.is_none() {
                    let new_iron = d.follow_score >= d.iron_fan_above;
                    row.push((!new_iron, u, d.follow_score, day as i16, false, 0));
                }
            }
            row.sort_unstable_by_key(|x| (x.0, x.1));
            let at = out.fans.len();
            out.iron_end.push((at + row.iter().filter(|x| !x.0).count()) as u32);
            for x in row {
                out.fans.push(x.1);
                out.score.push(x.2);
                out.since_day.push(x.3);
                out.group.push(x.4);
                out.low_days.push(x.5);
            }
            out.offsets.push(out.fans.len() as u32);
        }
        out
    }

    fn columns(g: &FollowGraph) -> impl PartialEq + std::fmt::Debug + '_ {
        (
            &g.offsets,
            &g.iron_end,
            &g.fans,
            &g.score,
            &g.since_day,
            &g.group,
            &g.low_days,
        )
    }

    /// A night on a graph where rows shrink (unfollows), grow (follows,
    /// some of them of existing fans) and keep their length, with new
    /// followers joining either section: the in-place rebuild gives the
    /// reference's graph, and the points kept apart give the graph that
    /// scores raised as the points came give.
    #[test]
    fn the_in_place_night_is_the_reference_night() {
        let mut s = crate::Scenario::default_scenario().scaled(20_000);
        s.dynamics.enabled = true;
        s.cohorts[0].fan_group = Some(FanGroupParams {
            min_days: 10,
            min_score: 5,
        });
        let world = World::generate(&s).unwrap();
        let rules: Vec<CohortRules> = s.cohorts.iter().map(CohortRules::from).collect();
        let edges = world.graph().edges();
        let points: Vec<u32> = (0..edges as u64).map(|e| (crate::rng::mix(e) % 40) as u32).collect();
        // Many follows on a few creators (rows that grow), some on all.
        let n = world.creators().len() as u64;
        let follows: Vec<u64> = (0..20_000u64)
            .map(|k| {
                let c = if k % 2 == 0 { k % 7 } else { crate::rng::mix(k ^ 5) % n };
                buyer_key(c as u32, (crate::rng::mix(k) % 20_000) as u32)
            })
            .collect();
        // Edges whose fan unfollowed after a skip: every 13th.
        let unfollowed: Vec<u32> = (0..edges as u32).filter(|e| e % 13 == 5).collect();
        for (unfollow_after_days, follow_score, skips) in
            [(1, 20, false), (1, 500, false), (21, 20, false), (0, 20, true)]
        {
            let unfollowed: &[u32] = if skips { &unfollowed } else { &[] };
            let mut d = s.dynamics.clone();
            // 1 day: low scores unfollow tonight, so rows shrink too.
            d.unfollow_after_days = unfollow_after_days;
            d.follow_score = follow_score;
            let l = Lifecycle {
                world: &world,
                d: &d,
                rules: &rules,
                seed: 7,
            };
            let end = |mut g: FollowGraph, points: &[u32]| {
                let n = world.creators().len();
                let mut customers = Customers {
                    buyers: vec![Vec::new(); n],
                    members: vec![Vec::new(); n],
                };
                let mut counts = vec![CohortCounts::default(); world.cohorts().len()];
                let mut buyers = Buyers::default();
                end_of_day(
                    &l,
                    3,
                    &mut g,
                    points,
                    unfollowed,
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
                (g, customers.members, c)
            };
            let want = reference(&l, 3, world.graph(), &points, unfollowed, &follows);
            let (a, members_a, counts_a) = end(world.graph().clone(), &points);
            assert_eq!(columns(&a), columns(&want));
            let mut raised = world.graph().clone();
            for (s, p) in raised.score.iter_mut().zip(&points) {
                *s = s.saturating_add(*p);
            }
            let (b, members_b, counts_b) = end(raised, &[]);
            assert_eq!(columns(&a), columns(&b));
            assert_eq!((members_a, counts_a.clone()), (members_b, counts_b));
            // The night did all three: promotions, unfollows, growth.
            assert!(counts_a.iter().any(|c| c.0 > 0), "{counts_a:?}");
            if unfollow_after_days == 1 || skips {
                assert!(counts_a.iter().any(|c| c.2 > 0), "{counts_a:?}");
            }
            if skips {
                // Exactly the skipped edges left (no low-day rule).
                let removed: u64 = counts_a.iter().map(|c| c.2).sum();
                assert_eq!(removed, unfollowed.len() as u64);
            }
            let g0 = world.graph();
            assert!((0..7).any(|c| a.followers(c) > g0.followers(c)));
            assert!(
                (0..a.creators() as u32).any(|c| a.followers(c) < g0.followers(c))
                    || (unfollow_after_days > 1 && !skips)
            );
            assert!(a.group.iter().any(|&g| g));
        }
    }
}
