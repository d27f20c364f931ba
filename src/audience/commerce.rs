//! The creator's customers: past buyers and e-commerce members.

use super::{Audience, AudienceView, Cursor, Order, ordered_pick};

/// Users who have ordered from the post's creator earlier in the run
/// (DOMAIN.md \[000\]: buyers get repurchase coupons and matching new
/// products are pushed to them). Cost: O(buyers) per selection.
#[derive(Debug, Clone, Copy, Default)]
pub struct PastBuyers;

/// Holders of the creator's e-commerce membership (buyers, and iron fans
/// given it as a perk; dynamics only). Cost: O(members) per selection.
#[derive(Debug, Clone, Copy, Default)]
pub struct EcommerceMembers;

fn pick_listed(
    v: &AudienceView,
    list: &[u32],
    order: Order,
    want: u64,
    eligible: &dyn Fn(u32) -> bool,
    out: &mut Vec<u32>,
) {
    let (g, c) = (v.graph, v.post.creator);
    ordered_pick(
        v,
        order,
        want,
        list.iter().map(|&u| (u, g.relation(c, u).1)),
        eligible,
        out,
    );
}

impl Audience for PastBuyers {
    fn name(&self) -> &str {
        "past buyers"
    }
    fn is_public(&self) -> bool {
        true
    }
    fn checks_eligibility(&self) -> bool {
        true
    }
    fn len(&self, v: &AudienceView) -> u64 {
        v.buyers.len() as u64
    }
    fn select(
        &self,
        v: &AudienceView,
        order: Order,
        want: u64,
        eligible: &dyn Fn(u32) -> bool,
        _: &mut Cursor,
        out: &mut Vec<u32>,
    ) {
        pick_listed(v, v.buyers, order, want, eligible, out);
    }
}

impl Audience for EcommerceMembers {
    fn name(&self) -> &str {
        "e-commerce members"
    }
    fn is_public(&self) -> bool {
        true
    }
    fn checks_eligibility(&self) -> bool {
        true
    }
    fn len(&self, v: &AudienceView) -> u64 {
        v.members.len() as u64
    }
    fn select(
        &self,
        v: &AudienceView,
        order: Order,
        want: u64,
        eligible: &dyn Fn(u32) -> bool,
        _: &mut Cursor,
        out: &mut Vec<u32>,
    ) {
        pick_listed(v, v.members, order, want, eligible, out);
    }
}
