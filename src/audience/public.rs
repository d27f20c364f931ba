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
        let u = if use_targeted {
            let i = t_start + tc;
            tc += 1;
            targeted[(if i >= l { i - l } else { i }) as usize]
        } else {
            // The next user of the window not interested in the category
            // (the other walk holds those), if any is left.
            let mut found = None;
            while uc < n {
                let i = u_start + uc;
                uc += 1;
                let (u, interested) = today.nth((if i >= n { i - n } else { i }) as usize, k);
                if !interested {
                    found = Some(u);
                    break;
                }
            }
            match found {
                Some(u) => u,
                None => continue,
            }
        };
        if eligible(u) {
            out.push(u);
            taken += 1;
        }
    }
    cursor.0 = [tc, uc, picks, day + 1];
}
