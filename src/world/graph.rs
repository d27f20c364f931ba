//! The follow graph, creator → fans, in compressed sparse rows.

use crate::response::Relation;

/// Creator → fans in compressed sparse rows.
///
/// Creator `c`'s row is `offsets[c]..offsets[c + 1]` of the edge arrays. The
/// row holds its iron fans first (`offsets[c]..iron_end[c]`), then its other
/// fans (`iron_end[c]..offsets[c + 1]`); each section is sorted by user id,
/// so a membership test is a binary search. Per edge, 12 bytes: the fan's
/// user id (4), its engagement score (4), the day the fan followed (2;
/// negative: before the run, so a run has at most 32,767 days), whether the
/// fan is in the creator's fan group (1), and how many days in a row the
/// score has been below the unfollow level (1, so `unfollow_after_days` is
/// at most 255). A fan's verticality (its interest in the creator's
/// category) is not stored: interests never change, so
/// [`World::verticality`](crate::World::verticality) reads it from the
/// user's interests.
#[derive(Debug, Clone, Default)]
pub struct FollowGraph {
    pub(crate) offsets: Vec<u32>,
    pub(crate) iron_end: Vec<u32>,
    pub(crate) fans: Vec<u32>,
    pub(crate) score: Vec<u32>,
    pub(crate) since_day: Vec<i16>,
    pub(crate) group: Vec<bool>,
    pub(crate) low_days: Vec<u8>,
    /// For creators with at least [`big_row`] fans, an index of the row
    /// over users ([`RowIndex`]): most public draws are strangers, and one
    /// bit test answers them; a fan's edge takes a search of the (smaller)
    /// iron section and a rank, not a second search through the row.
    pub(crate) big_rows: Vec<Option<Box<RowIndex>>>,
}

/// Rows at least this long get a [`RowIndex`]: 65,536 fans, and at least a
/// sixteenth of the users, so that the index (users × 17/128 bytes) costs
/// at most 2.1 bytes per fan of its row. (A fixed 65,536 gave about 800
/// indexed rows of 1.3 MB each, 1 GB, to `growth.toml` at 10M users.)
pub(crate) fn big_row(users: usize) -> u32 {
    (1u32 << 16).max(u32::try_from(users / 16).unwrap_or(u32::MAX))
}

/// A big row's fans as a bitset over users with a count per block of 512
/// users (the fans before the block): membership is one bit test, and the
/// number of fans below a user (its rank) one count plus at most eight
/// popcounts within the block. Per user 17/128 bytes: a bit, and 4 bytes
/// per 512 users.
#[derive(Debug, Clone)]
pub(crate) struct RowIndex {
    words: Box<[u64]>,
    blocks: Box<[u32]>,
}

impl RowIndex {
    /// Words per counted block.
    const BLOCK: usize = 8;

    /// The index of a row's fans (each below `users`).
    pub(crate) fn new(users: usize, fans: &[u32]) -> Self {
        let mut words = vec![0u64; users.div_ceil(64)].into_boxed_slice();
        for &u in fans {
            words[u as usize / 64] |= 1 << (u % 64);
        }
        let mut total = 0u32;
        let blocks = words
            .chunks(Self::BLOCK)
            .map(|block| {
                let before = total;
                total += block.iter().map(|w| w.count_ones()).sum::<u32>();
                before
            })
            .collect();
        RowIndex { words, blocks }
    }

    /// Whether `u` is a fan.
    #[inline]
    pub(crate) fn contains(&self, u: u32) -> bool {
        self.words[u as usize / 64] >> (u % 64) & 1 == 1
    }

    /// How many fans are below `u`.
    #[inline]
    pub(crate) fn rank(&self, u: u32) -> u32 {
        let w = u as usize / 64;
        let first = w - w % Self::BLOCK;
        let within: u32 = self.words[first..w].iter().map(|x| x.count_ones()).sum();
        let below = self.words[w] & ((1u64 << (u % 64)) - 1);
        self.blocks[w / Self::BLOCK] + within + below.count_ones()
    }
}

impl FollowGraph {
    /// Number of follow edges. O(1).
    pub fn edges(&self) -> usize {
        self.fans.len()
    }

    /// Number of creators (rows). O(1).
    pub fn creators(&self) -> usize {
        self.iron_end.len()
    }

    /// Creator `c`'s followers. O(1).
    pub fn followers(&self, c: u32) -> u32 {
        self.offsets[c as usize + 1] - self.offsets[c as usize]
    }

    /// Creator `c`'s iron fans. O(1).
    pub fn iron_fans(&self, c: u32) -> u32 {
        self.iron_end[c as usize] - self.offsets[c as usize]
    }

    /// Creator `c`'s iron fans, ascending user ids. O(1).
    pub fn iron_fans_of(&self, c: u32) -> &[u32] {
        &self.fans[self.offsets[c as usize] as usize..self.iron_end[c as usize] as usize]
    }

    /// Creator `c`'s fan-group members. O(followers).
    pub fn group_members(&self, c: u32) -> u32 {
        let r = self.offsets[c as usize] as usize..self.offsets[c as usize + 1] as usize;
        self.group[r].iter().filter(|&&g| g).count() as u32
    }

    /// Engagement score of creator `c`'s fan `u`, if `u` follows `c`.
    /// O(log followers).
    pub fn score(&self, c: u32, u: u32) -> Option<u32> {
        self.relation(c, u).1.map(|e| self.score[e as usize])
    }

    /// Creator `c`'s fans who are not iron fans, ascending user ids. O(1).
    pub fn other_fans_of(&self, c: u32) -> &[u32] {
        &self.fans[self.iron_end[c as usize] as usize..self.offsets[c as usize + 1] as usize]
    }

    /// The edge indices of creator `c`'s row: iron fans first, then the
    /// other fans. O(1).
    pub fn fan_edges(&self, c: u32) -> std::ops::Range<u32> {
        self.offsets[c as usize]..self.offsets[c as usize + 1]
    }

    /// The fan on edge `e`. O(1).
    #[inline]
    pub fn edge_user(&self, e: u32) -> u32 {
        self.fans[e as usize]
    }

    /// The engagement score of edge `e` (see the fan lifecycle). O(1).
    #[inline]
    pub fn edge_score(&self, e: u32) -> u32 {
        self.score[e as usize]
    }

    /// Whether the fan on edge `e` is in the creator's fan group. O(1).
    #[inline]
    pub fn edge_in_group(&self, e: u32) -> bool {
        self.group[e as usize]
    }

    /// The edge index ranges of creator `c`'s iron fans and of its other
    /// fans. O(1).
    #[inline]
    pub fn sections(&self, c: u32) -> (std::ops::Range<u32>, std::ops::Range<u32>) {
        let (start, iron, end) = (
            self.offsets[c as usize],
            self.iron_end[c as usize],
            self.offsets[c as usize + 1],
        );
        (start..iron, iron..end)
    }

    /// How user `u` stands to creator `c`, and the edge index if a fan.
    /// Two binary searches, O(log followers); for a row with an index (at
    /// least max(65,536, users / 16) fans) a stranger costs one bit test, and a fan
    /// a search of the iron section and a rank.
    #[inline]
    pub fn relation(&self, c: u32, u: u32) -> (Relation, Option<u32>) {
        match self.big_rows.get(c as usize) {
            Some(Some(ix)) => {
                if !ix.contains(u) {
                    return (Relation::Stranger, None);
                }
                // Each section is sorted: an iron fan is found in its
                // section; otherwise the search says how many iron fans are
                // below `u`, and the other fans below it are the rest of
                // its rank.
                let (iron, other) = self.sections(c);
                match self.fans[iron.start as usize..iron.end as usize].binary_search(&u) {
                    Ok(k) => (Relation::IronFan, Some(iron.start + k as u32)),
                    Err(k) => (Relation::Fan, Some(other.start + ix.rank(u) - k as u32)),
                }
            }
            _ => self.relation_among(c, u, None),
        }
    }

    /// [`relation`](Self::relation) by two binary searches, given (if
    /// any) a bitset over users that holds at least `c`'s fans (a task's
    /// marks): a user not in it is a stranger without a search.
    #[inline]
    fn relation_among(&self, c: u32, u: u32, members: Option<&[u64]>) -> (Relation, Option<u32>) {
        if let Some(bits) = members
            && bits[u as usize / 64] >> (u % 64) & 1 == 0
        {
            return (Relation::Stranger, None);
        }
        let (iron, other) = self.sections(c);
        if let Ok(k) = self.fans[iron.start as usize..iron.end as usize].binary_search(&u) {
            return (Relation::IronFan, Some(iron.start + k as u32));
        }
        if let Ok(k) = self.fans[other.start as usize..other.end as usize].binary_search(&u) {
            return (Relation::Fan, Some(other.start + k as u32));
        }
        (Relation::Stranger, None)
    }

    /// Whether looking up `n` users' relations to creator `c` is cheaper
    /// through [`mark_fans`](Self::mark_fans) (a pass over the row to set
    /// a bit per fan, one to clear them, and a bit test per look-up) than
    /// through two binary searches each: when `c`'s row has no index of
    /// its own and holds at most `MARK_PER_LOOKUP` fans per look-up.
    #[inline]
    pub(crate) fn worth_marking(&self, c: u32, n: usize) -> bool {
        const MARK_PER_LOOKUP: usize = 16;
        !matches!(self.big_rows.get(c as usize), Some(Some(_)))
            && self.followers(c) as usize <= n.saturating_mul(MARK_PER_LOOKUP)
    }

    /// Sets (`on`) or clears the bits of creator `c`'s fans in `marks`, a
    /// bitset over users (at least `users / 64` words) that is otherwise
    /// all zero: clearing zeroes each fan's whole word, so marks of one
    /// creator at a time. O(followers).
    pub(crate) fn mark_fans(&self, c: u32, marks: &mut [u64], on: bool) {
        let row = &self.fans[self.offsets[c as usize] as usize..self.offsets[c as usize + 1] as usize];
        if on {
            for &u in row {
                marks[u as usize / 64] |= 1 << (u % 64);
            }
        } else {
            for &u in row {
                marks[u as usize / 64] = 0;
            }
        }
    }

    /// [`relation`](Self::relation), with `c`'s fans set in `marks` (see
    /// [`mark_fans`](Self::mark_fans)): a stranger costs one bit test.
    #[inline]
    pub(crate) fn relation_marked(&self, c: u32, u: u32, marks: &[u64]) -> (Relation, Option<u32>) {
        self.relation_among(c, u, Some(marks))
    }

    /// Builds the indexes of the big rows (after the rows change).
    pub(crate) fn index_big_rows(&mut self, users: usize) {
        use rayon::prelude::*;
        // The old indexes go first: never two sets of them at once.
        self.big_rows = Vec::new();
        let big = big_row(users);
        let g: &FollowGraph = self;
        let rows: Vec<Option<Box<RowIndex>>> = (0..g.creators() as u32)
            .into_par_iter()
            .map(|c| {
                (g.followers(c) >= big).then(|| {
                    let row = g.offsets[c as usize] as usize..g.offsets[c as usize + 1] as usize;
                    Box::new(RowIndex::new(users, &g.fans[row]))
                })
            })
            .collect();
        self.big_rows = rows;
    }
}

#[cfg(test)]
mod tests {
    use crate::{Scenario, World};

    /// Looking a relation up through the marked fans gives the binary
    /// searches' answer for every user, and clearing leaves no mark.
    #[test]
    fn marked_relations_are_the_relations_and_clearing_leaves_no_mark() {
        let world = World::generate(&Scenario::default_scenario().scaled(20_000)).unwrap();
        let (g, users) = (world.graph(), world.users().len() as u32);
        let mut marks = vec![0u64; (users as usize).div_ceil(64)];
        let mut fans_seen = 0;
        for c in (0..g.creators() as u32).step_by(7) {
            g.mark_fans(c, &mut marks, true);
            for u in 0..users {
                let r = g.relation_marked(c, u, &marks);
                assert_eq!(r, g.relation(c, u), "creator {c}, user {u}");
                fans_seen += usize::from(r.1.is_some());
            }
            g.mark_fans(c, &mut marks, false);
            assert!(marks.iter().all(|&w| w == 0), "creator {c}");
        }
        assert!(fans_seen > 1000, "{fans_seen}");
        // Worth it only for many look-ups in a row without a bitset.
        let c = (0..g.creators() as u32).max_by_key(|&c| g.followers(c)).unwrap();
        assert!(g.worth_marking(c, g.followers(c) as usize));
        assert!(!g.worth_marking(c, 1));
    }

    /// A big row's index gives the binary searches' answer (relation and
    /// edge) for every user, iron fans, other fans and strangers alike.
    #[test]
    fn indexed_rows_give_the_searched_relations() {
        // 500,000 users: rows of at least 65,536 fans are indexed, the
        // KOLs' and the larger waist accounts'.
        let world = World::generate(&Scenario::default_scenario().scaled(500_000)).unwrap();
        let (g, users) = (world.graph(), world.users().len() as u32);
        let indexed: Vec<u32> = (0..g.creators() as u32)
            .filter(|&c| matches!(g.big_rows.get(c as usize), Some(Some(_))))
            .collect();
        assert!(indexed.len() >= 2, "{} indexed rows", indexed.len());
        let (mut iron, mut other) = (0, 0);
        for &c in &indexed {
            for u in 0..users {
                let r = g.relation(c, u);
                // The two binary searches alone, whatever index the row has.
                assert_eq!(r, g.relation_among(c, u, None), "creator {c}, user {u}");
                match r.0 {
                    crate::response::Relation::IronFan => iron += 1,
                    crate::response::Relation::Fan => other += 1,
                    _ => {}
                }
            }
        }
        assert!(iron > 1000 && other > 100_000, "{iron} iron fans, {other} other fans");
    }

    /// Ranks count the fans below a user across words and blocks.
    #[test]
    fn row_index_ranks_count_the_fans_below() {
        let users = 5 * 64 * super::RowIndex::BLOCK + 77;
        let members: Vec<u32> = (0..users as u32).filter(|u| u % 3 == 0 || u % 7 == 1).collect();
        let bits = super::RowIndex::new(users, &members);
        let mut below = 0;
        for u in 0..users as u32 {
            assert_eq!(bits.rank(u), below, "user {u}");
            let member = u % 3 == 0 || u % 7 == 1;
            assert_eq!(bits.contains(u), member, "user {u}");
            below += u32::from(member);
        }
    }
}
