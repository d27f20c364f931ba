//! The population: users, creators and the follow graph between them.
//!
//! All three are structures of arrays indexed by `u32` ids, with no heap
//! allocation per user, creator or edge. A [`World`] is generated from a
//! [`Scenario`](crate::Scenario) and a seed by [`World::generate`], and is
//! immutable during a run, so one world serves any number of runs under
//! different policies.

mod fan_base;
mod friends;
mod graph;

pub use fan_base::FanBase;
pub use friends::{FriendGraph, FriendParams};
pub use graph::FollowGraph;

use serde::{Deserialize, Serialize};

use crate::response::Relation;

/// The most interest categories a user can hold.
pub const MAX_INTERESTS: usize = 3;

/// The archetype of a creator cohort (DOMAIN.md, "Creator archetypes").
/// It labels the cohort in reports; behaviour comes from the cohort's
/// parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Archetype {
    /// A big account with weakly attached, off-topic fans.
    Kol,
    /// A key opinion employee: small, trusted, vertical, sells own products.
    Koe,
    /// A 20k–300k-fan vertical account.
    Waist,
    /// A brand or enterprise account.
    Brand,
    /// A new, small account.
    Newcomer,
    /// Anything else.
    #[default]
    Other,
}

/// Marks an unused interest slot.
pub(crate) const NO_CATEGORY: u8 = u8::MAX;

/// Users as a structure of arrays; user `u` is index `u` of every array.
#[derive(Debug, Clone)]
pub struct Users {
    /// Up to three interest categories per user ([`NO_CATEGORY`] pads).
    pub(crate) interest_categories: Vec<[u8; MAX_INTERESTS]>,
    /// The weights of a user's first, second and third interest, in
    /// `[0, 1]`, summing to 1: the same for every user (the scenario's
    /// `primary_interest`), so held once rather than per user.
    pub(crate) interest_weights: [f32; MAX_INTERESTS],
    /// Probability of opening the app on a given day.
    pub(crate) activity: Vec<f32>,
    /// Purchase propensity on the logit scale.
    pub(crate) purchase_propensity: Vec<f32>,
    /// Daily attention budget in impressions (used with finite attention).
    pub(crate) attention: Vec<u16>,
    /// Each user's region ([`crate::matrix`]); empty when the scenario has
    /// no regions.
    pub(crate) region: Vec<u8>,
}

impl Users {
    /// Number of users.
    pub fn len(&self) -> usize {
        self.activity.len()
    }

    /// Whether there are no users (never true for a generated world).
    pub fn is_empty(&self) -> bool {
        self.activity.is_empty()
    }

    /// User `u`'s interest in `category`, in `[0, 1]`. O(1).
    #[inline]
    pub fn interest(&self, u: u32, category: u8) -> f32 {
        let c = &self.interest_categories[u as usize];
        let w = &self.interest_weights;
        // Branch-free over the three slots (padding never equals a category).
        f32::from(u8::from(c[0] == category)) * w[0]
            + f32::from(u8::from(c[1] == category)) * w[1]
            + f32::from(u8::from(c[2] == category)) * w[2]
    }

    /// Whether user `u` has any interest in `category`. O(1).
    #[inline]
    pub fn is_interested(&self, u: u32, category: u8) -> bool {
        let c = &self.interest_categories[u as usize];
        (c[0] == category) | (c[1] == category) | (c[2] == category)
    }

    /// User `u`'s daily attention budget, in impressions.
    pub fn attention(&self, u: u32) -> u16 {
        self.attention[u as usize]
    }

    /// User `u`'s daily activity probability.
    pub fn activity(&self, u: u32) -> f32 {
        self.activity[u as usize]
    }

    /// User `u`'s region, or [`NO_REGION`](crate::matrix::NO_REGION) in a
    /// world without regions.
    #[inline]
    pub fn region(&self, u: u32) -> u8 {
        self.region.get(u as usize).copied().unwrap_or(crate::matrix::NO_REGION)
    }
}

/// Creators as a structure of arrays; creator `c` is index `c` of every array.
#[derive(Debug, Clone)]
pub struct Creators {
    pub(crate) category: Vec<u8>,
    pub(crate) cohort: Vec<u16>,
    pub(crate) quality_mean: Vec<f32>,
    pub(crate) quality_sd: Vec<f32>,
    pub(crate) posts_per_day: Vec<f32>,
    /// Product price in fen (0.01 yuan); 0 when the creator sells nothing.
    pub(crate) price_fen: Vec<u32>,
    pub(crate) product_share: Vec<f32>,
    pub(crate) trust: Vec<f32>,
    /// A matrix account's region; [`NO_REGION`](crate::matrix::NO_REGION)
    /// for a creator outside any matrix.
    pub(crate) region: Vec<u8>,
}

impl Creators {
    /// Number of creators.
    pub fn len(&self) -> usize {
        self.category.len()
    }

    /// Whether there are no creators.
    pub fn is_empty(&self) -> bool {
        self.category.is_empty()
    }

    /// Creator `c`'s content category.
    pub fn category(&self, c: u32) -> u8 {
        self.category[c as usize]
    }

    /// Creator `c`'s cohort index (into [`World::cohorts`]).
    pub fn cohort(&self, c: u32) -> u16 {
        self.cohort[c as usize]
    }

    /// Creator `c`'s region if it is a matrix account
    /// ([`crate::matrix`]), else [`NO_REGION`](crate::matrix::NO_REGION).
    #[inline]
    pub fn region(&self, c: u32) -> u8 {
        self.region[c as usize]
    }
}

/// A cohort as the world records it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cohort {
    /// The cohort's name.
    pub name: String,
    /// Its archetype.
    pub archetype: Archetype,
    /// Its creators are the ids `first_creator..first_creator + creators`.
    pub first_creator: u32,
    /// Number of creators.
    pub creators: u32,
    /// The cohort's account matrix, if it is one ([`crate::matrix`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matrix: Option<crate::matrix::MatrixParams>,
}

/// A generated population. Read-only during runs.
#[derive(Debug, Clone)]
pub struct World {
    pub(crate) seed: u64,
    pub(crate) categories: u32,
    pub(crate) users: Users,
    pub(crate) creators: Creators,
    pub(crate) graph: FollowGraph,
    pub(crate) cohorts: Vec<Cohort>,
    /// Users interested in each category: CSR, `category_offsets[k]..[k+1]`.
    pub(crate) category_offsets: Vec<u32>,
    pub(crate) category_users: Vec<u32>,
    /// Creators of each category: CSR, `creator_offsets[k]..[k+1]`.
    pub(crate) creator_offsets: Vec<u32>,
    pub(crate) category_creators: Vec<u32>,
    /// The friend graph, when the scenario has `[friends]`.
    pub(crate) friends: Option<FriendGraph>,
}

impl World {
    /// The seed the world was generated from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The users.
    pub fn users(&self) -> &Users {
        &self.users
    }

    /// The creators.
    pub fn creators(&self) -> &Creators {
        &self.creators
    }

    /// The follow graph.
    pub fn graph(&self) -> &FollowGraph {
        &self.graph
    }

    /// The friend graph, if the scenario has one (`[friends]`).
    pub fn friends(&self) -> Option<&FriendGraph> {
        self.friends.as_ref()
    }

    /// The user who holds creator `c`'s account: creators are users too, so
    /// a creator has friends. Creator `c`'s account is user `c`: users are
    /// drawn independently of their ids, so the first users are a random
    /// sample of the population (our choice; a scenario with a friend graph
    /// must have at least as many users as creators).
    pub fn creator_user(&self, c: u32) -> u32 {
        c
    }

    /// Replaces the friend graph (one read from a file, say). Errors if it
    /// does not have one row per user.
    pub fn with_friends(mut self, friends: FriendGraph) -> crate::Result<World> {
        if friends.users() != self.users.len() {
            return Err(crate::Error::invalid(
                "friends",
                friends.users(),
                format!("the friend graph must have one row per user ({})", self.users.len()),
            ));
        }
        self.friends = Some(friends);
        Ok(self)
    }

    /// The cohorts, in scenario order.
    pub fn cohorts(&self) -> &[Cohort] {
        &self.cohorts
    }

    /// Number of content categories.
    pub fn categories(&self) -> u32 {
        self.categories
    }

    /// Users interested in `category`, ascending. O(1).
    pub fn users_interested_in(&self, category: u8) -> &[u32] {
        let k = category as usize;
        &self.category_users[self.category_offsets[k] as usize..self.category_offsets[k + 1] as usize]
    }

    /// Creators whose category is `category`, ascending ids. O(1).
    pub fn creators_in(&self, category: u8) -> &[u32] {
        let k = category as usize;
        &self.category_creators[self.creator_offsets[k] as usize..self.creator_offsets[k + 1] as usize]
    }

    /// The verticality of fan `u` to creator `c`: the user's interest in
    /// the creator's category, in `[0, 1]` (0 if none). Defined for any
    /// user; for a fan it is what the follow edge used to store. O(1).
    #[inline]
    pub fn verticality(&self, c: u32, u: u32) -> f32 {
        self.users.interest(u, self.creators.category[c as usize])
    }

    /// How user `u` stands to creator `c`, and the follow edge if any.
    /// O(log followers).
    #[inline]
    pub fn relation(&self, c: u32, u: u32) -> (Relation, Option<u32>) {
        self.graph.relation(c, u)
    }
}
