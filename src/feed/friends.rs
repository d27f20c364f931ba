//! WeChat Channels' friend traffic: what friends post and what friends
//! like, mixed with recommendation in one waterfall.

use std::sync::Arc;

use super::{Candidate, Feed, Reweighted};
use crate::channel::{Channel, ChannelView};

/// The source of the offers of a post to its creator's friends.
pub const FRIENDS: &str = "friends";
/// The source of the offers of a post to the friends of a user who liked it.
pub const FRIENDS_LIKED: &str = "friends_liked";

/// The post reaches its creator's friends (DOMAIN.md \[003\]: WeChat
/// Channels is "a single waterfall built on the friends graph (what friends
/// post and like)"): in the slot it is published, the channel offers it to
/// every friend of the user who holds the creator's account
/// ([`World::creator_user`](crate::World::creator_user)), at depth 1 (one
/// friend hop). The scenario's `[friends]` table turns it on with
/// [`FriendsLiked`] and the waterfall's weight ([`FriendsWeight`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct Friends;

impl Channel for Friends {
    fn source(&self) -> &'static str {
        FRIENDS
    }

    fn offer(&self, v: &ChannelView, out: &mut Vec<u32>) {
        let mut depth = Vec::new();
        self.offer_with_depth(v, out, &mut depth);
    }

    fn offer_with_depth(&self, v: &ChannelView, out: &mut Vec<u32>, depth: &mut Vec<u8>) {
        let a = &v.audience;
        let Some(friends) = a.world.friends() else { return };
        if v.slot != a.post.slot {
            return;
        }
        let mine = friends.friends_of(a.world.creator_user(a.post.creator));
        out.extend_from_slice(mine);
        depth.resize(out.len(), 1);
    }
}

/// A like shows the post to the liker's friends (DOMAIN.md: "a *public*
/// like shows the video to the liker's friends in the Friends tab"; every
/// like is public here, our assumption): in the round after a like, the
/// channel offers the post to the liker's friends, one hop deeper than the
/// view the liker liked (a view through friends counts its hops; one the
/// push or another kind of channel brought, a share say, is at 0 hops),
/// as long as that is at most `max_hops`. A friend of several likers is offered the post once,
/// through the liker of the smallest depth (then the smallest user id).
/// Likes are seen while the post's push is under way (channels offer only
/// then).
///
/// With about 100 friends and KuaiRand's like rate, each like spawns about
/// one new offer, so an uncapped cascade need not die out: `max_hops`
/// caps it (our assumption).
#[derive(Debug, Clone, Copy)]
pub struct FriendsLiked {
    /// The deepest a view through likes may be.
    pub max_hops: u8,
}

impl Channel for FriendsLiked {
    fn source(&self) -> &'static str {
        FRIENDS_LIKED
    }

    fn wants_likers(&self) -> bool {
        true
    }

    fn offer(&self, v: &ChannelView, out: &mut Vec<u32>) {
        let mut depth = Vec::new();
        self.offer_with_depth(v, out, &mut depth);
    }

    fn offer_with_depth(&self, v: &ChannelView, out: &mut Vec<u32>, depth: &mut Vec<u8>) {
        let Some(friends) = v.audience.world.friends() else {
            return;
        };
        // A liker's hops: the depth of their view if it came through
        // friends, else 0 (the push, or another kind of channel).
        let hops = |l: &crate::channel::Liker| {
            if l.source == FRIENDS || l.source == FRIENDS_LIKED {
                l.depth
            } else {
                0
            }
        };
        // Shallowest likers first: the engine keeps a user's first offer.
        for d in 0..self.max_hops {
            for l in v.likers().iter().filter(|l| hops(l) == d) {
                out.extend_from_slice(friends.friends_of(l.user));
                depth.resize(out.len(), d + 1);
            }
        }
    }
}

/// A feed in which friend traffic ([`FRIENDS`], [`FRIENDS_LIKED`]) weighs
/// `weight` times its ranking score: the one waterfall of WeChat Channels,
/// recommendation and friends mixed by a source weight (our assumption:
/// the documents give none).
pub struct FriendsWeight;

impl FriendsWeight {
    /// `feed` with friend traffic weighted `weight` (itself if 1).
    pub fn around(feed: Arc<dyn Feed>, weight: f64) -> Arc<dyn Feed> {
        if weight == 1.0 {
            return feed;
        }
        let weight = weight as f32;
        Arc::new(Reweighted {
            factor: move |c: &Candidate| {
                if c.source == FRIENDS || c.source == FRIENDS_LIKED {
                    weight
                } else {
                    1.0
                }
            },
            inner: feed,
        })
    }
}
