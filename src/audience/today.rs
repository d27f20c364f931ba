//! The day's population index: who is active today, in a keyed random order.

use rand::RngExt;

use crate::rng::{stream, tag};
use crate::world::{MAX_INTERESTS, NO_CATEGORY, World};

// An entry of the day's order packs a user's interests in three bytes.
const _: () = assert!(MAX_INTERESTS <= 3);

/// The users active today (the engine draws them at the day's start), in a
/// random order keyed by `(seed, day)`, and for each category the active
/// users interested in it, in the same order.
///
/// This is what a walk over the day's population reads: a public walk takes
/// a window of the day's order from a keyed start, so every user it looks at
/// is active (no draws are spent on users who did not open the app) and the
/// reads are sequential. Any window of a uniformly shuffled list is a
/// uniform sample without replacement, so each post's draw is what it was
/// with a permutation per post; what changes is that posts whose windows
/// overlap share those users (for each user, the number of posts offered is
/// distributed as before: every post's window covers a position with the
/// same probability, independently of the others' starts).
///
/// Cost: built once per day in O(active users) (a Fisher–Yates shuffle and
/// a counting sort by category); 8 bytes per active user plus 4 per active
/// user's interest (about 12 bytes per user at the default activity of 0.62
/// and three interests), reused from day to day; in a world with regions,
/// 4 more per active user for the lists by region.
#[derive(Debug, Clone, Default)]
pub struct Today {
    day: u32,
    /// Active users in the day's order: `user | categories << 32`, the
    /// user's interest categories one per byte (`NO_CATEGORY` where none).
    order: Vec<u64>,
    /// Per category `k`, `interested[offsets[k]..offsets[k + 1]]`.
    offsets: Vec<u32>,
    interested: Vec<u32>,
    /// Per region `r`, `in_region[region_offsets[r]..region_offsets[r + 1]]`
    /// (empty in a world without regions; [`crate::matrix`]).
    region_offsets: Vec<u32>,
    in_region: Vec<u32>,
}

impl Today {
    /// Rebuilds the index for `day` from the day's activity bitset (bit `u`
    /// set when user `u` is active), keeping the buffers.
    pub(crate) fn rebuild(&mut self, world: &World, seed: u64, day: u32, active: &[u64]) {
        let users = world.users();
        self.day = day;
        self.order.clear();
        for (w, &bits) in active.iter().enumerate() {
            let mut bits = bits;
            while bits != 0 {
                let u = (w * 64) as u32 + bits.trailing_zeros();
                bits &= bits - 1;
                let mut cats = [NO_CATEGORY; 3];
                cats[..MAX_INTERESTS].copy_from_slice(&users.interest_categories[u as usize]);
                let packed = u64::from(cats[0])
                    | u64::from(cats[1]) << 8
                    | u64::from(cats[2]) << 16
                    | u64::from(users.region(u)) << 24;
                self.order.push(u64::from(u) | packed << 32);
            }
        }
        // Fisher–Yates from the day's stream.
        let mut rng = stream(seed, tag::TODAY, day.into(), 0);
        for i in (1..self.order.len()).rev() {
            let j = rng.random_range(0..=i);
            self.order.swap(i, j);
        }
        let k = world.categories() as usize;
        self.offsets.clear();
        self.offsets.resize(k + 2, 0);
        for &e in &self.order {
            for c in categories(e) {
                self.offsets[c as usize + 2] += 1;
            }
        }
        for c in 2..self.offsets.len() {
            self.offsets[c] += self.offsets[c - 1];
        }
        self.interested.clear();
        self.interested.resize(self.offsets[k + 1] as usize, 0);
        for &e in &self.order {
            for c in categories(e) {
                let at = &mut self.offsets[c as usize + 1];
                self.interested[*at as usize] = e as u32;
                *at += 1;
            }
        }
        self.offsets.truncate(k + 1);
        // The same counting sort by region, in a world with regions.
        self.region_offsets.clear();
        self.in_region.clear();
        if !users.region.is_empty() {
            let regions = usize::from(users.region.iter().copied().max().unwrap_or(0)) + 1;
            self.region_offsets.resize(regions + 2, 0);
            for &e in &self.order {
                self.region_offsets[usize::from(region(e)) + 2] += 1;
            }
            for r in 2..self.region_offsets.len() {
                self.region_offsets[r] += self.region_offsets[r - 1];
            }
            self.in_region.resize(self.order.len(), 0);
            for &e in &self.order {
                let at = &mut self.region_offsets[usize::from(region(e)) + 1];
                self.in_region[*at as usize] = e as u32;
                *at += 1;
            }
            self.region_offsets.truncate(regions + 1);
        }
    }

    /// The day this index is for.
    pub fn day(&self) -> u32 {
        self.day
    }

    /// How many users are active today.
    pub fn active(&self) -> usize {
        self.order.len()
    }

    /// The `i`-th active user in the day's order (`i < active()`), and
    /// whether they are interested in `category`.
    #[inline]
    pub fn nth(&self, i: usize, category: u8) -> (u32, bool) {
        let e = self.order[i];
        (e as u32, categories(e).any(|c| c == category))
    }

    /// The `i`-th active user in the day's order (`i < active()`), whether
    /// they are interested in `category`, and their region
    /// ([`NO_REGION`](crate::matrix::NO_REGION) in a world without regions).
    #[inline]
    pub fn nth_with_region(&self, i: usize, category: u8) -> (u32, bool, u8) {
        let e = self.order[i];
        (e as u32, categories(e).any(|c| c == category), region(e))
    }

    /// Today's active users in `region`, in the day's order (empty in a
    /// world without regions, or for a region out of range).
    #[inline]
    pub fn in_region(&self, region: u8) -> &[u32] {
        let r = usize::from(region);
        if r + 1 >= self.region_offsets.len() {
            return &[];
        }
        &self.in_region[self.region_offsets[r] as usize..self.region_offsets[r + 1] as usize]
    }

    /// Today's active users interested in `category`, in the day's order
    /// (empty for a category out of range).
    #[inline]
    pub fn interested_in(&self, category: u8) -> &[u32] {
        let k = category as usize;
        if k + 1 >= self.offsets.len() {
            return &[];
        }
        &self.interested[self.offsets[k] as usize..self.offsets[k + 1] as usize]
    }

    /// Bytes held (for the memory accounts in SCALING.md).
    pub fn heap_bytes(&self) -> usize {
        self.order.capacity() * 8
            + (self.offsets.capacity() + self.interested.capacity()) * 4
            + (self.region_offsets.capacity() + self.in_region.capacity()) * 4
    }
}

/// The region packed in an entry of `order`.
#[inline]
fn region(e: u64) -> u8 {
    (e >> 56) as u8
}

/// The interest categories packed in an entry of `order`.
#[inline]
fn categories(e: u64) -> impl Iterator<Item = u8> {
    (0..3)
        .map(move |i| (e >> (32 + 8 * i)) as u8)
        .filter(|&c| c != NO_CATEGORY)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Scenario;

    #[test]
    fn the_index_holds_each_active_user_once_and_lists_them_by_interest() {
        let s = Scenario::default_scenario().scaled(5_000);
        let world = World::generate(&s).unwrap();
        let n = world.users().len();
        // Every third user active.
        let mut active = vec![0u64; n.div_ceil(64)];
        for u in (0..n).step_by(3) {
            active[u / 64] |= 1 << (u % 64);
        }
        let mut today = Today::default();
        today.rebuild(&world, 7, 4, &active);
        assert_eq!(today.day(), 4);
        let mut seen: Vec<u32> = (0..today.active()).map(|i| today.nth(i, 0).0).collect();
        let in_order = seen.clone();
        seen.sort_unstable();
        let expected: Vec<u32> = (0..n as u32).step_by(3).collect();
        assert_eq!(seen, expected, "each active user once");
        assert_ne!(in_order, expected, "in a shuffled order");
        for k in 0..world.categories() as u8 {
            let list = today.interested_in(k);
            let want: Vec<u32> = in_order
                .iter()
                .copied()
                .filter(|&u| world.users().is_interested(u, k))
                .collect();
            assert_eq!(list, &want[..], "category {k}: the day's order, filtered");
            for (i, &u) in in_order.iter().enumerate() {
                assert_eq!(today.nth(i, k).1, world.users().is_interested(u, k));
            }
        }
        assert!(today.interested_in(world.categories() as u8).is_empty());
        // Keyed by the day: another day, another order; the same day, the same.
        let mut again = Today::default();
        again.rebuild(&world, 7, 4, &active);
        assert_eq!(
            (0..again.active()).map(|i| again.nth(i, 0).0).collect::<Vec<_>>(),
            in_order
        );
        again.rebuild(&world, 7, 5, &active);
        assert_ne!(
            (0..again.active()).map(|i| again.nth(i, 0).0).collect::<Vec<_>>(),
            in_order
        );
    }
}
