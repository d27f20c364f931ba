//! "Equal rights": a push that caps the public exposure of head creators.

use super::{PushContext, PushEnd, PushPolicy, Size, Step};
use crate::error::{Error, Result};

/// Kuaishou "leans to 'equal rights'" (DOMAIN.md \[003\]). Our reading of it
/// as a mechanism (the documents give none): a head creator's post (one
/// whose creator has at least `head_followers` followers) is offered to at
/// most `public_cap` users of the public in all, whatever the wrapped
/// policy asks; its fixed-size public stages are cut to what the cap leaves,
/// and its push ends once the cap is used up. Every other post is pushed as
/// the wrapped policy says. Whether this spreads exposure more evenly is
/// judged by the creators' Gini of impressions (`compare_feeds`), not by
/// the cap itself.
///
/// Defaults (ours): head creators are those with 100,000 followers or more
/// (in the default world the KOL and the largest waist accounts), capped at
/// 4,300 public offers, the ladder's first two pools.
pub struct EqualRights<'a> {
    inner: &'a dyn PushPolicy,
    /// Followers from which a creator is a head creator.
    pub head_followers: u32,
    /// The most public offers of one head creator's post.
    pub public_cap: u64,
    name: String,
}

impl<'a> EqualRights<'a> {
    /// `policy` with the default cap.
    pub fn new(policy: &'a dyn PushPolicy) -> Self {
        Self::with_cap(policy, 100_000, 4_300)
    }

    /// `policy` with head creators from `head_followers` followers capped at
    /// `public_cap` public offers per post.
    pub fn with_cap(policy: &'a dyn PushPolicy, head_followers: u32, public_cap: u64) -> Self {
        EqualRights {
            name: format!("{}, equal rights", policy.name()),
            inner: policy,
            head_followers,
            public_cap,
        }
    }
}

impl PushPolicy for EqualRights<'_> {
    fn name(&self) -> &str {
        &self.name
    }

    fn validate(&self) -> Result<()> {
        if self.head_followers == 0 {
            return Err(Error::invalid(
                "equal_rights.head_followers",
                self.head_followers,
                "must be at least 1",
            ));
        }
        self.inner.validate()
    }

    fn next_stage<'p>(&'p self, ctx: &PushContext) -> Step<'p> {
        let step = self.inner.next_stage(ctx);
        if ctx.creator.followers < self.head_followers {
            return step;
        }
        match step {
            Step::Stage(mut stage) if stage.audience.is_public() => {
                let used: u64 = ctx
                    .history
                    .iter()
                    .filter(|r| r.stage.audience.is_public())
                    .map(|r| r.offered)
                    .sum();
                let left = self.public_cap.saturating_sub(used);
                if left == 0 {
                    return Step::End(PushEnd::Completed);
                }
                stage.size = match stage.size {
                    Size::Users(n) => Size::Users(n.min(left)),
                    // A share or all of the public: at most what is left.
                    _ => Size::Users(left),
                };
                Step::Stage(stage)
            }
            step => step,
        }
    }
}
