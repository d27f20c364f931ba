//! The public: users drawn from the whole population, without replacement.

use super::{Audience, AudienceView, Cursor, Order};
use crate::rng::{key, tag, unit_at};

/// Public-domain users, leaning towards those interested in the post's
/// category as far as the scenario's `feed.interest_targeting` (τ) says
/// (our assumption: 0.5 by default; the documents say the recommender
/// "pushes to whoever converts best" but give no figure).
///
/// Two disjoint walks over today's active users in the day's random order
/// ([`Today`](super::Today)), each from a start keyed by the post and the
/// day: one over the users interested in the category, one over everybody
/// else. Each draw takes the interested walk with probability
/// `τ + (1 − τ)·share` (`share`: the interested users' share of today's
/// active users), falling back to the other walk when one runs out, so
/// τ = 0 is a uniform draw without replacement from today's active users.
/// The walk is its own order (the stage's [`Order`] is ignored) and its
/// position is kept in the post's [`Cursor`]; a post still live the next
/// day starts new windows in the new day's order. Cost: O(1) per user
/// walked, read in sequence (no memory per post).
#[derive(Debug, Clone, Copy, Default)]
pub struct InterestTargetedPublic;

/// Public-domain users drawn uniformly without replacement (τ = 0 in
/// [`InterestTargetedPublic`]'s walk).
#[derive(Debug, Clone, Copy, Default)]
pub struct UniformPublic;

impl Audience for InterestTargetedPublic {
    fn name(&self) -> &str {
        "public (interest-targeted)"
    }
    fn draws_distinct(&self) -> bool {
        // A keyed permutation walked by a cursor: each position once.
        true
    }
    fn is_public(&self) -> bool {
        true
    }
    fn checks_eligibility(&self) -> bool {
        true
    }
    fn len(&self, v: &AudienceView) -> u64 {
        v.world.users().len() as u64
    }
    fn select(
        &self,
        v: &AudienceView,
        _: Order,
        want: u64,
        eligible: &dyn Fn(u32) -> bool,
        cursor: &mut Cursor,
        out: &mut Vec<u32>,
    ) {
        walk(v, v.interest_targeting, want, eligible, cursor, out);
    }
}

impl Audience for UniformPublic {
    fn name(&self) -> &str {
        "public (uniform)"
    }
    fn draws_distinct(&self) -> bool {
        true
    }
    fn is_public(&self) -> bool {
        true
    }
    fn checks_eligibility(&self) -> bool {
        true
    }
    fn len(&self, v: &AudienceView) -> u64 {
        v.world.users().len() as u64
    }
    fn select(
        &self,
        v: &AudienceView,
        _: Order,
        want: u64,
        eligible: &dyn Fn(u32) -> bool,
        cursor: &mut Cursor,
        out: &mut Vec<u32>,
    ) {
        walk(v, 0.0, want, eligible, cursor, out);
    }
}

fn walk(
    v: &AudienceView,
    tau: f64,
    want: u64,
    eligible: &dyn Fn(u32) -> bool,
    cursor: &mut Cursor,
    out: &mut Vec<u32>,
) {
    let today = v.today;
    let post = v.post;
    let k = post.category;
    let targeted = today.interested_in(k);
    let (l, n) = (targeted.len() as u64, today.active() as u64);
    if n == 0 {
        return;
    }
    let day = u64::from(today.day());
    // The cursor: positions taken in today's two windows, picks drawn, and
    // the day (plus one; zero for a fresh cursor) the windows belong to.
    let [mut tc, mut uc, mut picks, walk_day] = cursor.0;
    if walk_day != day + 1 {
        // A new day, a new order: new windows (the engine has put the earlier
        // days' offers in the post's set, which `eligible` tests).
        (tc, uc) = (0, 0);
    }
    let p_targeted = tau + (1.0 - tau) * (l as f64 / n as f64);
    let creators = v.world.creators();
    let region = creators.region(post.creator);
    if region != crate::matrix::NO_REGION {
        let lean = v.world.cohorts()[usize::from(creators.cohort(post.creator))]
            .matrix
            .map_or(0.0, |m| m.local_public);
        regional_walk(v, region, lean, p_targeted, want, eligible, cursor, out);
        return;
    }
    let t_start = key(v.seed, tag::PUBLIC_TARGETED, post.id.into(), day) % l.max(1);
    let u_start = key(v.seed, tag::PUBLIC_UNIFORM, post.id.into(), day) % n;
    let coin = key(v.seed, tag::PUBLIC_PICK, post.id.into(), 0);
    let mut taken = 0u64;
    while taken < want {
        let use_targeted = match (tc < l, uc < n) {
            (false, false) => break,
            (true, true) => {
                picks += 1;
                unit_at(coin, picks) < p_targeted
            }
            (t, _) => t,
        };
        let found = if use_targeted {
            next_in_window(t_start, &mut tc, l, |i| Some(targeted[i]))
        } else {
            // The next user of the window not interested in the category
            // (the other walk holds those), if any is left.
            next_in_window(u_start, &mut uc, n, |i| {
                let (u, interested) = today.nth(i, k);
                (!interested).then_some(u)
            })
        };
        let Some(u) = found else { continue };
        if eligible(u) {
            out.push(u);
            taken += 1;
        }
    }
    cursor.0 = [tc, uc, picks, day + 1];
}

/// [`walk`] for a matrix account's post ([`crate::matrix`]): three
/// disjoint walks over today's order, each from a start keyed by the post
/// and the day: the account's region's users (any interest), the other
/// regions' users interested in the category, and everybody else. A draw
/// takes the region's walk with probability `lean + (1 − lean)·s` (`s`:
/// the region's share of today's active users), else the interested walk
/// with probability `p_targeted`, falling back to whichever walk has users
/// left. The cursor keeps the region walk's position above the day's 16
/// bits.
#[allow(clippy::too_many_arguments)]
fn regional_walk(
    v: &AudienceView,
    region: u8,
    lean: f64,
    p_targeted: f64,
    want: u64,
    eligible: &dyn Fn(u32) -> bool,
    cursor: &mut Cursor,
    out: &mut Vec<u32>,
) {
    let (today, post, users) = (v.today, v.post, v.world.users());
    let k = post.category;
    let (local, targeted) = (today.in_region(region), today.interested_in(k));
    let (lr, l, n) = (local.len() as u64, targeted.len() as u64, today.active() as u64);
    let day = u64::from(today.day());
    let [mut tc, mut uc, mut picks, packed] = cursor.0;
    let mut rc = packed >> 16;
    if packed & 0xffff != day + 1 {
        (tc, uc, rc) = (0, 0, 0);
    }
    let p_local = lean + (1.0 - lean) * (lr as f64 / n as f64);
    let r_start = key(v.seed, tag::PUBLIC_REGION, post.id.into(), day) % lr.max(1);
    let t_start = key(v.seed, tag::PUBLIC_TARGETED, post.id.into(), day) % l.max(1);
    let u_start = key(v.seed, tag::PUBLIC_UNIFORM, post.id.into(), day) % n;
    let coin = key(v.seed, tag::PUBLIC_PICK, post.id.into(), 0);
    let coin_local = key(v.seed, tag::PUBLIC_REGION_PICK, post.id.into(), 0);
    let mut taken = 0u64;
    while taken < want {
        let (r_left, t_left, u_left) = (rc < lr, tc < l, uc < n);
        if !(r_left || t_left || u_left) {
            break;
        }
        picks += 1;
        let found = if r_left && (!(t_left || u_left) || unit_at(coin_local, picks) < p_local) {
            next_in_window(r_start, &mut rc, lr, |i| Some(local[i]))
        } else if t_left && (!u_left || unit_at(coin, picks) < p_targeted) {
            // The next interested user of another region, if any is left.
            next_in_window(t_start, &mut tc, l, |i| {
                let u = targeted[i];
                (users.region(u) != region).then_some(u)
            })
        } else {
            // The next user of another region not interested in the category.
            next_in_window(u_start, &mut uc, n, |i| {
                let (u, interested, r) = today.nth_with_region(i, k);
                (!interested && r != region).then_some(u)
            })
        };
        let Some(u) = found else { continue };
        if eligible(u) {
            out.push(u);
            taken += 1;
        }
    }
    cursor.0 = [tc, uc, picks, (day + 1) | rc << 16];
}

/// The next user of a window over `len` entries that starts at entry
/// `start` and wraps around, from window position `*pos` on, that `take`
/// accepts (`take` reads entry `i` and gives its user if it belongs to
/// this walk); `*pos` moves past every entry looked at. `None` when the
/// window is used up.
#[inline]
fn next_in_window(start: u64, pos: &mut u64, len: u64, mut take: impl FnMut(usize) -> Option<u32>) -> Option<u32> {
    while *pos < len {
        let i = start + *pos;
        *pos += 1;
        if let Some(u) = take((if i >= len { i - len } else { i }) as usize) {
            return Some(u);
        }
    }
    None
}
