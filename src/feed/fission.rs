//! Sharing with commission ("fission", DOMAIN.md \[002\]\[003\]): a share
//! offers the post to the sharer's friends or followers, and the sharer
//! earns a commission on the orders the share brings.

use serde::{Deserialize, Serialize};

use crate::channel::{Channel, ChannelView};
use crate::error::{Error, Result, check};

/// The source of the offers a share makes.
pub const SHARE: &str = "share";

/// Whom a share reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShareAudience {
    /// The sharer's friends (needs `[friends]`).
    #[default]
    Friends,
    /// The sharer's followers: only a sharer who holds a creator's account
    /// has any ([`World::creator_user`](crate::World::creator_user)).
    Followers,
}

/// The scenario's `[fission]`: sharing with commission.
///
/// - **The share.** A viewer who shares a post (the response model's share
///   event) offers it, in the next round while its push is under way, to
///   their friends or their followers (`audience`), as source [`SHARE`], one
///   generation deeper than the view they shared (a view through a share
///   counts its generation; one the push or another kind of channel
///   brought, friends included, is generation 0), up to `max_generations`.
/// - **The commission.** For a post with a product, a sharer earns
///   `commission` of the price of every order a view through their share
///   brings, each order's commission rounded down to the fen; the report's
///   `commission_fen` is the sum, `gmv_fen` less it the GMV net of
///   commission. The response model sees the rate
///   ([`ImpressionContext::commission`](crate::response::ImpressionContext))
///   and the logistic model's share logit rises with it
///   (`share_commission`, our assumption), so a commission makes viewers
///   share more.
///
/// No document gives a commission rate or how sharing responds to it
/// (DOMAIN.md: "no credible figure": commission rates for sharing); the
/// defaults are ours: 10% commission, three generations, friends.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FissionParams {
    /// The sharer's commission on the orders a share brings, in `[0, 1]`.
    pub commission: f64,
    /// The deepest share generation (1 to 16).
    pub max_generations: u8,
    /// Whom a share reaches.
    pub audience: ShareAudience,
}

impl Default for FissionParams {
    fn default() -> Self {
        FissionParams {
            commission: 0.1,
            max_generations: 3,
            audience: ShareAudience::Friends,
        }
    }
}

impl FissionParams {
    /// Checks every field; errors name it (`fission.commission`, ...).
    /// `friends` says whether the scenario has a friend graph.
    pub fn validate(&self, friends: bool) -> Result<()> {
        check::probability("fission.commission", self.commission)?;
        if !(1..=16).contains(&self.max_generations) {
            return Err(Error::invalid(
                "fission.max_generations",
                self.max_generations,
                "must be 1 to 16",
            ));
        }
        if self.audience == ShareAudience::Friends && !friends {
            return Err(Error::invalid(
                "fission.audience",
                "friends",
                "sharing to friends needs a [friends] table (or audience = \"followers\")",
            ));
        }
        Ok(())
    }

    /// The commission on one order of `price_fen`, rounded down to the fen.
    pub fn commission_fen(&self, price_fen: u32) -> u64 {
        (self.commission * f64::from(price_fen)).floor() as u64
    }
}

/// The channel of [`FissionParams`]: each sharer of the round before
/// offers the post to their friends or followers, one generation deeper
/// (shallowest sharers first, so a user reached by several shares counts
/// in the shallowest generation).
#[derive(Debug, Clone, Copy)]
pub struct Shares {
    /// Whom a share reaches.
    pub audience: ShareAudience,
    /// The deepest share generation.
    pub max_generations: u8,
}

impl Channel for Shares {
    fn source(&self) -> &'static str {
        SHARE
    }

    fn wants_sharers(&self) -> bool {
        true
    }

    fn offer(&self, v: &ChannelView, out: &mut Vec<u32>) {
        let mut depth = Vec::new();
        self.offer_with_depth(v, out, &mut depth);
    }

    fn offer_with_depth(&self, v: &ChannelView, out: &mut Vec<u32>, depth: &mut Vec<u8>) {
        let a = &v.audience;
        // A sharer's generation: the depth of their view if it came
        // through a share, else 0.
        let generation = |s: &crate::channel::Liker| if s.source == SHARE { s.depth } else { 0 };
        for d in 0..self.max_generations {
            for s in v.sharers().iter().filter(|s| generation(s) == d) {
                match self.audience {
                    ShareAudience::Friends => {
                        if let Some(f) = a.world.friends() {
                            out.extend_from_slice(f.friends_of(s.user));
                        }
                    }
                    ShareAudience::Followers => {
                        // Creator c's account is user c.
                        if (s.user as usize) < a.graph.creators() {
                            let (iron, other) = a.graph.sections(s.user);
                            out.extend(iron.chain(other).map(|e| a.graph.edge_user(e)));
                        }
                    }
                }
                depth.resize(out.len(), d + 1);
            }
        }
    }
}
