//! The public: users drawn from the whole population, without replacement.

use super::{Audience, AudienceView, Cursor, Order};
use crate::rng::{Permutation, key, tag, unit};

/// Public-domain users, leaning towards those interested in the post's
/// category as far as the scenario's `feed.interest_targeting` (τ) says
/// (our assumption: 0.5 by default; the documents say the recommender
/// "pushes to whoever converts best" but give no figure).
///
/// Two disjoint shuffled walks, keyed by the post: one over the users
/// interested in the category, one over everybody else. Each draw takes
/// the interested walk with probability `τ + (1 − τ)·share` (`share`: the
/// interested users' share of the population), falling back to the other
/// walk when one runs out, so τ = 0 is a uniform draw without replacement.
/// The walk is its own order (the stage's [`Order`] is ignored) and its
/// position is kept in the post's [`Cursor`]. Cost: O(1) expected per user
/// walked (a keyed Feistel permutation, no memory per post).
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

/// Picks per batch of the walk: the batch's positions are computed first
/// (arithmetic only), then its users are loaded (independent loads the core
/// overlaps, where one pick at a time waits for each cache miss in turn),
/// then they are tested for eligibility in order.
const BATCH: usize = 32;

/// One pick of the walk: the user drawn (or none: a uniform draw that hit an
/// interested user, skipped) and the cursor after it.
#[derive(Clone, Copy, Default)]
struct Pick {
    from_targeted: bool,
    skipped: bool,
    index: u64,
    user: u32,
    cursor: [u64; 3],
}

fn walk(
    v: &AudienceView,
    tau: f64,
    want: u64,
    eligible: &dyn Fn(u32) -> bool,
    cursor: &mut Cursor,
    out: &mut Vec<u32>,
) {
    let world = v.world;
    let post = v.post;
    let n = world.users().len() as u64;
    let interested = world.users_interested_in(post.category);
    let l = interested.len() as u64;
    let p_targeted = tau + (1.0 - tau) * (l as f64 / n as f64);
    let targeted = Permutation::new(l.max(1), key(v.seed, tag::PUBLIC_TARGETED, post.id.into(), 0));
    let uniform = Permutation::new(n, key(v.seed, tag::PUBLIC_UNIFORM, post.id.into(), 0));
    let [mut tc, mut uc, mut picks] = cursor.0;
    let mut taken = 0u64;
    let mut batch = [Pick::default(); BATCH];
    'walk: while taken < want {
        // 1. Positions: the same sequence of draws as one pick at a time.
        let mut len = 0;
        while len < BATCH {
            let t_left = tc < l;
            let u_left = l < n && uc < n;
            let use_targeted = match (t_left, u_left) {
                (false, false) => break,
                (true, true) => {
                    picks += 1;
                    unit(v.seed, tag::PUBLIC_PICK, post.id.into(), picks) < p_targeted
                }
                (t, _) => t,
            };
            let index = if use_targeted {
                tc += 1;
                targeted.at(tc - 1)
            } else {
                uc += 1;
                uniform.at(uc - 1)
            };
            batch[len] = Pick {
                from_targeted: use_targeted,
                skipped: false,
                index,
                user: 0,
                cursor: [tc, uc, picks],
            };
            len += 1;
        }
        if len == 0 {
            break;
        }
        // 2. Users: independent loads.
        for p in &mut batch[..len] {
            if p.from_targeted {
                p.user = interested[p.index as usize];
            } else {
                p.user = p.index as u32;
                p.skipped = world.interested_bit(p.user, post.category);
            }
        }
        // 3. Eligibility, in order; the cursor stops after the last pick used.
        for p in &batch[..len] {
            cursor.0 = p.cursor;
            if !p.skipped && eligible(p.user) {
                out.push(p.user);
                taken += 1;
                if taken == want {
                    break 'walk;
                }
            }
        }
    }
    if taken < want {
        cursor.0 = [tc, uc, picks];
    }
}
