//! Live sessions: a creator goes live for a while, viewers enter the room,
//! stay and buy (DOMAIN.md, the live-room figures of the liquor-brand case
//! \[002\]: fans 50% of live viewers, watching 500% longer, interacting 50%
//! more, bringing 83% of GMV, old fans 59%; fan-group members get an
//! instant notification of every live session \[001\]).
//!
//! **A session is a post** of kind [`PostKind::Live`](crate::content::PostKind)
//! whose `duration_s` is the session's length, starting at the start of
//! its slot. Its push runs as any post's (the policy's stages, the feed,
//! the channels) but only while the session lasts: the engine ends the
//! push with [`PushEnd::SessionEnded`](crate::tally::PushEnd) before a
//! slot that starts after the session's end. A viewer shown the session
//! has entered the room (an impression: one viewer, one entry).
//!
//! **Arrivals.** Fan-group members are notified when the session starts
//! ([`LiveNotice`], source `"live notice"`: every member, in the session's
//! first slot) and arrive `Exp(notified_arrival_mean_min)` minutes after
//! the start (cut at the session's end). Everyone else (offered by the
//! push, a followed tab, ...) arrives at a uniform minute of the part of
//! the session that falls in the slot in which they were shown it. Each
//! arrival minute is a keyed draw per (session, viewer).
//!
//! **Dwell.** The response model draws the entry as any impression (its
//! relation, interest, quality and trust terms; no per-tier multiplier of
//! our own): the time watched is its watch ratio × `view_minutes`, cut at
//! the session's end, and counted in `watch_time_ms`. The events that
//! follow a completed view (likes, comments, shares, a follow, a product
//! click and an order) are the stay's.
//!
//! **Old and new fans.** A viewer who followed the host before the
//! session's day is an *old fan*: the follow graph changes only at each
//! day's end, so every fan at entry is one. A viewer who follows during the
//! session and orders in it is a *new fan*: its orders' GMV is
//! [`Tally::new_fan_gmv_fen`](crate::tally::Tally::new_fan_gmv_fen).
//! [`LiveSummary`](crate::metrics::LiveSummary) puts the model's ratios
//! beside the document's.

use serde::{Deserialize, Serialize};

use crate::channel::{Channel, ChannelView};
use crate::error::{Error, Result, check};

/// The source of fan-group notifications in `by_source`.
pub const LIVE_NOTICE: &str = "live notice";
/// The channel live sessions count under at the creator, cohort and
/// platform levels (a session's own `by_source` keeps how its viewers
/// arrived).
pub const LIVE: &str = "live";

/// How viewers arrive at and stay in live sessions (`[live]` in a
/// scenario).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LiveParams {
    /// Minutes of stay per unit of the response model's watch ratio (our
    /// assumption: 5; no public figure gives a live room's mean stay).
    pub view_minutes: f64,
    /// Mean minutes from a session's start to a notified member's arrival
    /// (our assumption: 3, "instant notification", \[001\]).
    pub notified_arrival_mean_min: f64,
}

impl Default for LiveParams {
    fn default() -> Self {
        LiveParams {
            view_minutes: 5.0,
            notified_arrival_mean_min: 3.0,
        }
    }
}

impl LiveParams {
    /// Whether every field has its default (the section is then left out
    /// of a written scenario).
    pub fn is_default(&self) -> bool {
        *self == LiveParams::default()
    }

    /// Checks every field; errors name it (`live.view_minutes`).
    pub fn validate(&self) -> Result<()> {
        check::within("live.view_minutes", self.view_minutes, 0.01, 1440.0)?;
        check::within(
            "live.notified_arrival_mean_min",
            self.notified_arrival_mean_min,
            0.0,
            1440.0,
        )
    }

    /// The minute of the session at which a viewer arrives, from a uniform
    /// `u`: a notified member `Exp(mean)` after the start, anyone else
    /// uniform over `[from, to)`, the part of the session in the slot they
    /// were shown it; never past `length`.
    pub(crate) fn arrival_min(&self, notified: bool, u: f64, from: f64, to: f64, length: f64) -> f64 {
        let m = if notified {
            -self.notified_arrival_mean_min * (1.0 - u).ln()
        } else {
            from + u * (to - from).max(0.0)
        };
        m.clamp(0.0, length)
    }
}

/// A cohort's live sessions (`live = { ... }` in a cohort).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiveSessions {
    /// The chance that a creator of the cohort holds a session on a given
    /// day (a keyed draw per creator and day).
    pub sessions_per_day: f64,
    /// The slot of the day a session starts at (e.g. 20 with hourly slots:
    /// 8 pm).
    pub start_slot: u32,
    /// The session's length in minutes.
    pub duration_min: u32,
}

impl LiveSessions {
    /// Checks every field under `field` (`cohorts[i].live`).
    pub fn validate(&self, field: &str, slots_per_day: u32) -> Result<()> {
        check::probability(&format!("{field}.sessions_per_day"), self.sessions_per_day)?;
        if self.start_slot >= slots_per_day {
            return Err(Error::invalid(
                format!("{field}.start_slot"),
                self.start_slot,
                format!("must be below feed.slots_per_day ({slots_per_day})"),
            ));
        }
        if !(1..=1440).contains(&self.duration_min) {
            return Err(Error::invalid(
                format!("{field}.duration_min"),
                self.duration_min,
                "must be 1 to 1440",
            ));
        }
        Ok(())
    }
}

/// Fan-group members are notified when a live session starts (DOMAIN.md
/// \[001\]: "instant notification of every new post or live session"): in
/// the session's first slot, the channel offers it to every member of the
/// host's fan group. Other posts get nothing from it.
#[derive(Debug, Clone, Copy, Default)]
pub struct LiveNotice;

impl Channel for LiveNotice {
    fn source(&self) -> &'static str {
        LIVE_NOTICE
    }

    fn offer(&self, v: &ChannelView, out: &mut Vec<u32>) {
        let post = v.audience.post;
        if !post.is_live() || v.slot != post.slot {
            return;
        }
        let g = v.audience.graph;
        out.extend(
            g.fan_edges(post.creator)
                .filter(|&e| g.edge_in_group(e))
                .map(|e| g.edge_user(e)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrivals_stay_within_the_session() {
        let p = LiveParams::default();
        // A notified member's median arrival is mean × ln 2 minutes in.
        let m = p.arrival_min(true, 0.5, 0.0, 60.0, 120.0);
        assert!((m - 3.0 * 2f64.ln()).abs() < 1e-12, "{m}");
        assert_eq!(p.arrival_min(true, 1.0 - 1e-300, 0.0, 60.0, 120.0), 120.0);
        // Anyone else: uniform over the slot's part of the session.
        assert_eq!(p.arrival_min(false, 0.0, 60.0, 120.0, 120.0), 60.0);
        assert_eq!(p.arrival_min(false, 0.5, 60.0, 120.0, 120.0), 90.0);
    }

    #[test]
    fn sessions_are_checked_by_name() {
        let ok = LiveSessions {
            sessions_per_day: 1.0,
            start_slot: 20,
            duration_min: 120,
        };
        assert!(ok.validate("c", 24).is_ok());
        let e = LiveSessions { start_slot: 24, ..ok }.validate("c", 24).unwrap_err();
        assert!(e.to_string().contains("c.start_slot"), "{e}");
        let e = LiveSessions { duration_min: 0, ..ok }.validate("c", 24).unwrap_err();
        assert!(e.to_string().contains("c.duration_min"), "{e}");
        let e = LiveSessions {
            sessions_per_day: 1.5,
            ..ok
        }
        .validate("c", 24)
        .unwrap_err();
        assert!(e.to_string().contains("c.sessions_per_day"), "{e}");
        let e = LiveParams {
            view_minutes: 0.0,
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert!(e.to_string().contains("live.view_minutes"), "{e}");
    }
}
