//! Channels: traffic that reaches a post outside its push policy's stages.
//!
//! A push policy decides, stage by stage, whom a post is offered to. The
//! documents name other ways a post reaches viewers that are not a stage of
//! the push: a followed tab (a viewer opening the posts of the accounts they
//! follow), shares, search, a live room's notifications, paid traffic
//! (DOMAIN.md, "Other feeds the documents contrast" and the commercial
//! domain). A [`Channel`] is one such way. The engine calls every channel
//! once per round for every live post, after the post's stage has made its
//! offers; what a channel returns is offered under the channel's
//! [`source`](Channel::source).
//!
//! The engine keeps its rules for channel offers as for a stage's: a user
//! is offered a post at most once whoever offers it (a channel's offer to a
//! user the stage already chose, or another channel chose, is dropped), only
//! users active that day are offered, and every offer goes through the
//! viewer's feed like any other (it competes for the same session room).
//!
//! **How channel traffic is counted (our choice).** A channel's impressions
//! are the post's: they count in the post's tally, `by_tier` (by the
//! viewer's relation, as any impression), `by_source` (under the channel's
//! source), and in every level above (creator, cohort, platform, the day's
//! figures). They are not the stage's: the policy's gates judge the stage's
//! own offers ([`PushContext::so_far`](crate::policy::PushContext) and the
//! stage records count only them), so adding a channel does not change what
//! a policy decides from a given stage result. A channel offers only while
//! the post's push is under way.
//!
//! ```
//! use std::sync::Arc;
//! use feedsim::channel::{Channel, ChannelView};
//! use feedsim::{Scenario, Simulation, World};
//!
//! /// In the slot a post is published, each of the creator's iron fans is
//! /// notified (our example; not a documented mechanism).
//! struct Notify;
//! impl Channel for Notify {
//!     fn source(&self) -> &'static str { "notification" }
//!     fn offer(&self, v: &ChannelView, out: &mut Vec<u32>) {
//!         if v.slot == v.audience.post.slot {
//!             out.extend_from_slice(v.audience.graph.iron_fans_of(v.audience.post.creator));
//!         }
//!     }
//! }
//!
//! let s = Scenario::default_scenario().scaled(20_000);
//! let world = World::generate(&s)?;
//! let sim = Simulation::new(&s, &world)?.with_channel(Arc::new(Notify));
//! let r = sim.run(&s.public_pool_ladder, &s.response)?;
//! assert!(r.platform.by_source["notification"].impressions > 0);
//! # Ok::<(), feedsim::Error>(())
//! ```

use rand::rngs::Xoshiro256PlusPlus;

use crate::audience::AudienceView;
use crate::error::Result;
use crate::rng::{key, mix, stream, tag};
use crate::tally::Tally;

/// What a channel may read when it offers a live post: everything an
/// audience reads ([`AudienceView`]: the world, the follow graph as it
/// stands, the post, the creator's customers), the round's slot and day,
/// and keyed random draws of its own.
#[derive(Clone, Copy)]
pub struct ChannelView<'a> {
    /// The world, the graph, the post and the creator's customers.
    pub audience: AudienceView<'a>,
    /// The round's slot (from 0; `feed.slots_per_day` per day).
    pub slot: u32,
    /// The round's day (from 0).
    pub day: u32,
    /// The channel's own key: its source name hashed with the run seed, so
    /// two channels never share draws.
    channel_key: u64,
    /// Who liked the post in the round before (see [`likers`](Self::likers)).
    likers: &'a [Liker],
    /// Who shared the post in the round before (see [`sharers`](Self::sharers)).
    sharers: &'a [Liker],
    /// The post's counts so far by source (see [`shown`](Self::shown)).
    by_source: &'a [(&'static str, Tally)],
    /// Whether the post's current stage offers it to the public.
    stage_public: bool,
}

/// A user who liked (or shared) a post, with the depth of the view they
/// liked or shared (0 for a stage's offer; a channel's depth otherwise).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Liker {
    /// The user.
    pub user: u32,
    /// The depth of the liked view.
    pub depth: u8,
    /// The source of the liked view, so that a channel counts depth along
    /// its own kind of path (a share generation only through shares).
    pub source: &'static str,
}

impl<'a> ChannelView<'a> {
    /// The view of `audience.post` in `slot` for the channel whose source is
    /// `source` (the engine builds these; a test of a channel can too).
    pub fn new(audience: AudienceView<'a>, slot: u32, day: u32, source: &str) -> Self {
        Self::keyed(audience, slot, day, channel_key(source))
    }

    /// The view with the channel's key already derived (the engine derives
    /// each channel's once per round, not once per post).
    pub(crate) fn keyed(audience: AudienceView<'a>, slot: u32, day: u32, channel_key: u64) -> Self {
        ChannelView {
            audience,
            slot,
            day,
            channel_key,
            likers: &[],
            sharers: &[],
            by_source: &[],
            stage_public: false,
        }
    }

    /// The view with `by_source` as the post's counts so far by source and
    /// `stage_public` as whether its current stage offers it to the public
    /// (the engine passes both; a test of a channel can too).
    pub fn with_progress(self, by_source: &'a [(&'static str, Tally)], stage_public: bool) -> Self {
        ChannelView {
            by_source,
            stage_public,
            ..self
        }
    }

    /// The post's counts so far (before this round) of the impressions
    /// offered under `source`: a stage's label or a channel's source. A
    /// channel with a budget reads its own spend from it (paid traffic).
    pub fn shown(&self, source: &str) -> Tally {
        self.by_source
            .iter()
            .find(|(s, _)| *s == source)
            .map_or_else(Tally::default, |(_, t)| *t)
    }

    /// Whether the post's current stage offers it to the public: under the
    /// ladder every stage does; under iron-fan first only once the post's
    /// fans responded well enough to pass its fan gates.
    pub fn stage_is_public(&self) -> bool {
        self.stage_public
    }

    /// The view with `sharers` as the post's sharers of the round before
    /// (see [`with_likers`](Self::with_likers)).
    pub fn with_sharers(self, sharers: &'a [Liker]) -> Self {
        ChannelView { sharers, ..self }
    }

    /// The users who shared the post in the round before, by user id, each
    /// with the depth of the view they shared (empty unless some channel
    /// [wants them](Channel::wants_sharers)); as [`likers`](Self::likers).
    pub fn sharers(&self) -> &'a [Liker] {
        self.sharers
    }

    /// The view with `likers` as the post's likers of the round before (the
    /// engine passes them to every channel when one
    /// [wants them](Channel::wants_likers); a test of a channel can too).
    pub fn with_likers(self, likers: &'a [Liker]) -> Self {
        ChannelView { likers, ..self }
    }

    /// The users who liked the post in the round before, by user id, each
    /// with the depth of the view they liked (empty unless some channel of
    /// the run [wants them](Channel::wants_likers)). A like in a round is
    /// seen by the channels in the next round, while the push is under way.
    pub fn likers(&self) -> &'a [Liker] {
        self.likers
    }

    /// A uniform number in `[0, 1)` keyed `(seed, channel, post, a)`: the
    /// same whatever the thread count and the policy (so policies compared
    /// on one world see the same channel draws where they offer the same
    /// post), different for every `a` (a user, a slot, or both packed).
    pub fn unit(&self, a: u64) -> f64 {
        (key(self.audience.seed, self.channel_key, self.audience.post.id.into(), a) >> 11) as f64
            * (1.0 / (1u64 << 53) as f64)
    }

    /// A random stream keyed `(seed, channel, post, a)`, for a channel that
    /// needs more than one draw per key.
    pub fn stream(&self, a: u64) -> Xoshiro256PlusPlus {
        stream(self.audience.seed, self.channel_key, self.audience.post.id.into(), a)
    }
}

/// The key of the channel whose source is `source`: its name hashed
/// (FNV-1a), then mixed with the channel tag.
pub(crate) fn channel_key(source: &str) -> u64 {
    let name = source.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    mix(name ^ tag::CHANNEL)
}

/// A way a post reaches viewers outside its push policy's stages. See the
/// [module docs](self) for the rules the engine keeps and how its traffic
/// is counted.
///
/// Implementations are immutable values shared by all threads; `offer` is
/// called for many posts at once and must be a pure function of the view
/// (drawing only from [`ChannelView::unit`] or [`ChannelView::stream`]),
/// which keeps the run bit-identical at any thread count.
pub trait Channel: Send + Sync {
    /// The source its offers are counted under in `by_source` (e.g.
    /// `"followed_tab"`). Must differ from every stage's source if the two
    /// are to be told apart in reports.
    fn source(&self) -> &'static str;

    /// Appends to `out` the users this channel offers the live post
    /// `view.audience.post` in this round. Users already offered the post,
    /// inactive today or out of range are dropped by the engine, as are
    /// repeats.
    fn offer(&self, view: &ChannelView, out: &mut Vec<u32>);

    /// [`offer`](Self::offer), giving each offered user the offer's
    /// **depth**: how many forwards the offer is from the post's origin
    /// (friend hops, share generations; `depth[i]` for `out[i]`, a missing
    /// entry counts as 0, at most 255). Reports count impressions by depth
    /// (`by_depth` in the JSON report) and a liker's depth is passed on
    /// ([`Liker::depth`]). The engine calls this method; the default calls
    /// `offer`, every offer at depth 0.
    fn offer_with_depth(&self, view: &ChannelView, out: &mut Vec<u32>, depth: &mut Vec<u8>) {
        let _ = depth;
        self.offer(view, out);
    }

    /// Whether the engine should keep each live post's likers of the round
    /// before for the channels ([`ChannelView::likers`]). False by default:
    /// keeping them costs a little per like.
    fn wants_likers(&self) -> bool {
        false
    }

    /// Whether the engine should keep each live post's sharers of the round
    /// before ([`ChannelView::sharers`]). False by default.
    fn wants_sharers(&self) -> bool {
        false
    }

    /// Checks the channel's parameters; the engine calls it before a run.
    fn validate(&self) -> Result<()> {
        Ok(())
    }

    /// What `impressions` shown impressions of one post through this
    /// channel cost its buyer, in fen (paid traffic,
    /// [`PaidTraffic`](crate::feed::PaidTraffic)); the engine charges each
    /// post once, when its push ends, in the post's
    /// [`Tally::spend_fen`] and its source's. 0 by default: a channel's
    /// traffic is free.
    fn spend_fen(&self, impressions: u64) -> u64 {
        let _ = impressions;
        0
    }
}

/// The most channels one simulation runs (an offer records its channel in
/// a byte beside the stage).
pub const MAX_CHANNELS: usize = 255;
