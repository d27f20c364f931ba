//! Posts: what creators publish, and when (plain data; posts are generated
//! from a scenario by [`generate_posts`](crate::generate::generate_posts) or replayed from a
//! [post log](crate::postlog)).

use serde::{Deserialize, Serialize};

/// One post.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Post {
    /// Post id: the index in the run's post list, ordered by publish slot,
    /// then creator, then the creator's own order.
    pub id: u32,
    /// The creator.
    pub creator: u32,
    /// The slot in which the post is published (`day × slots_per_day + slot`).
    pub slot: u32,
    /// Standardized quality.
    pub quality: f32,
    /// Content category (the creator's).
    pub category: u8,
    /// Price of the product the post carries, in fen (0.01 yuan); 0 for none.
    pub price_fen: u32,
    /// Duration in seconds; 0 means "draw it from the scenario's `[watch]`"
    /// (what generated and replayed posts do: a keyed draw per post). For a
    /// live session: the session's length.
    #[serde(default)]
    pub duration_s: f32,
    /// A short video (the default) or a live session.
    #[serde(default)]
    pub kind: PostKind,
}

/// What a post is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PostKind {
    /// A short video.
    #[default]
    Video,
    /// A live session of `duration_s` seconds from the start of its slot
    /// ([`crate::live`]): viewers enter during it and stay for a dwell
    /// time; its push ends with the session.
    Live,
}

impl Post {
    /// Whether the post is a live session.
    pub fn is_live(&self) -> bool {
        self.kind == PostKind::Live
    }
}

impl Post {
    /// The product price in yuan, if the post carries a product.
    pub fn price_yuan(&self) -> Option<f64> {
        (self.price_fen > 0).then(|| f64::from(self.price_fen) / 100.0)
    }
}

/// Highest price accepted, in yuan (keeps GMV in fen far from overflow).
pub const MAX_PRICE_YUAN: f64 = 10_000_000.0;
