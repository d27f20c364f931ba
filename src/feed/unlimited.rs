//! Unlimited attention: every offer is watched.

use serde::{Deserialize, Serialize};

use super::{Candidate, Feed, Viewer};

/// Every offer made to an active user is watched, whatever the session
/// length: the closed-form mode of the engine's statistical tests, and
/// version 1's default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unlimited {}

impl Feed for Unlimited {
    fn name(&self) -> &str {
        "unlimited"
    }

    fn shows_everything(&self) -> bool {
        true
    }

    fn choose(&self, _: &Viewer, candidates: &[Candidate], _: usize, chosen: &mut Vec<usize>) {
        chosen.extend(0..candidates.len());
    }
}
