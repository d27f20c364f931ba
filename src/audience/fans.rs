//! The creator's fan tiers: fan-group members, iron fans, the other fans.

use super::{Audience, AudienceView, Cursor, Order, ordered_pick, ordered_pick_by_score};

/// Members of the post creator's fan group (DOMAIN.md \[001\]: they are
/// notified of every new post). Empty unless the fan lifecycle runs and the
/// cohort has a `fan_group` rule. Cost: O(followers) per selection.
#[derive(Debug, Clone, Copy, Default)]
pub struct GroupMembers;

/// The post creator's iron fans (DOMAIN.md \[000\]: fans who interact with
/// the account frequently and actively). Cost: O(iron fans) per selection.
#[derive(Debug, Clone, Copy, Default)]
pub struct IronFans;

/// The post creator's fans who are not iron fans. Cost: O(those fans) per
/// selection.
#[derive(Debug, Clone, Copy, Default)]
pub struct OtherFans;

/// Picks among the fans on `edges` of the post creator's row.
fn pick_edges(
    v: &AudienceView,
    order: Order,
    want: u64,
    edges: impl Iterator<Item = u32>,
    eligible: &dyn Fn(u32) -> bool,
    out: &mut Vec<u32>,
) {
    ordered_pick(
        v,
        order,
        want,
        edges.map(|e| (v.graph.edge_user(e), Some(e))),
        eligible,
        out,
    );
}

/// Picks among the fans on a range of the post creator's row: by score
/// through the blocks of [`ordered_pick_by_score`], else as [`pick_edges`].
fn pick_section(
    v: &AudienceView,
    order: Order,
    want: u64,
    edges: std::ops::Range<u32>,
    eligible: &dyn Fn(u32) -> bool,
    out: &mut Vec<u32>,
) {
    match order {
        Order::Engagement => ordered_pick_by_score(v, want, edges, eligible, out),
        _ => pick_edges(v, order, want, edges, eligible, out),
    }
}

impl Audience for GroupMembers {
    fn name(&self) -> &str {
        "group members"
    }
    fn is_public(&self) -> bool {
        false
    }
    fn checks_eligibility(&self) -> bool {
        true
    }
    fn len(&self, v: &AudienceView) -> u64 {
        v.graph.group_members(v.post.creator).into()
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
        let edges = v.graph.fan_edges(v.post.creator).filter(|&e| v.graph.edge_in_group(e));
        pick_edges(v, order, want, edges, eligible, out);
    }
}

impl Audience for IronFans {
    fn name(&self) -> &str {
        "iron fans"
    }
    fn is_public(&self) -> bool {
        false
    }
    fn checks_eligibility(&self) -> bool {
        true
    }
    fn len(&self, v: &AudienceView) -> u64 {
        v.graph.iron_fans(v.post.creator).into()
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
        let (iron, _) = v.graph.sections(v.post.creator);
        pick_section(v, order, want, iron, eligible, out);
    }
}

impl Audience for OtherFans {
    fn name(&self) -> &str {
        "other fans"
    }
    fn is_public(&self) -> bool {
        false
    }
    fn checks_eligibility(&self) -> bool {
        true
    }
    fn len(&self, v: &AudienceView) -> u64 {
        let (_, other) = v.graph.sections(v.post.creator);
        u64::from(other.end - other.start)
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
        let (_, other) = v.graph.sections(v.post.creator);
        pick_section(v, order, want, other, eligible, out);
    }
}
