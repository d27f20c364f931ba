//! `[watch]`: video durations and time watched.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, check};

/// Video durations and the time watched per impression.
///
/// A post's duration is log-normal with median `duration_median_s` and
/// log-sd `duration_sigma`, capped at `duration_max_s` (KuaiRec 2020:
/// median 9.6 s, IQR 7.4–12.2 s, so σ = ln(12.2/7.4)/1.349 = 0.371; max
/// 315 s; DOMAIN.md). The body fits the median and IQR; KuaiRec's mean of
/// 14.6 s comes from a long tail this leaves out (the model's mean is
/// 10.3 s).
///
/// Each impression's watch ratio (time watched / duration) is drawn after
/// the response model's watch-through (completion) draw, from the same
/// keyed stream: a viewer who completes watches `1 + Exp(replay_mean)`
/// durations (replays), at most `max_ratio`; one who does not leaves after
/// a fraction `U^partial_shape` (`U` uniform). A **long view** is KuaiRand's:
/// a completed view of a video no longer than `long_view_s`, or at least
/// `long_view_s` seconds watched of a longer one. The shape and replay mean
/// are fitted (with the response model's intercepts; see
/// [`LogisticModel`](crate::response::LogisticModel)) to KuaiRec's watch
/// ratio mean 0.851 and median 0.716 in the default world under the ladder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WatchParams {
    /// Median video duration, seconds.
    pub duration_median_s: f64,
    /// Log-sd of the duration.
    pub duration_sigma: f64,
    /// Longest video, seconds.
    pub duration_max_s: f64,
    /// Shape `a` of the fraction watched by a viewer who does not complete,
    /// `U^a`: larger leaves earlier.
    pub partial_shape: f64,
    /// Mean extra plays of a viewer who completes.
    pub replay_mean: f64,
    /// Largest watch ratio (KuaiRec keeps ratios up to 5).
    pub max_ratio: f64,
    /// KuaiRand's long-view length, seconds.
    pub long_view_s: f64,
}

impl Default for WatchParams {
    fn default() -> Self {
        WatchParams {
            duration_median_s: 9.6,
            duration_sigma: 0.371,
            duration_max_s: 315.0,
            partial_shape: 1.12,
            replay_mean: 0.64,
            max_ratio: 5.0,
            long_view_s: 18.0,
        }
    }
}

impl WatchParams {
    /// The parameters a response model's watch-time draw reads
    /// ([`ResponseDraw::watch_ratio`](crate::response::ResponseDraw::watch_ratio)).
    pub fn watch_time(&self) -> crate::response::WatchTime {
        crate::response::WatchTime {
            replay_mean: self.replay_mean,
            partial_shape: self.partial_shape,
            max_ratio: self.max_ratio,
        }
    }

    /// Checks every field; errors name `watch.<field>`.
    pub fn validate(&self) -> Result<()> {
        check::within("watch.duration_median_s", self.duration_median_s, 0.1, 36_000.0)?;
        check::within("watch.duration_sigma", self.duration_sigma, 0.0, 5.0)?;
        check::within(
            "watch.duration_max_s",
            self.duration_max_s,
            self.duration_median_s,
            36_000.0,
        )
        .map_err(|_| {
            Error::invalid(
                "watch.duration_max_s",
                self.duration_max_s,
                format!(
                    "must be between duration_median_s = {} and 36000",
                    self.duration_median_s
                ),
            )
        })?;
        check::within("watch.partial_shape", self.partial_shape, 0.01, 100.0)?;
        check::within("watch.replay_mean", self.replay_mean, 0.0, 100.0)?;
        check::within("watch.max_ratio", self.max_ratio, 1.0, 100.0)?;
        check::within("watch.long_view_s", self.long_view_s, 0.0, 36_000.0)
    }

    /// The duration of post `id` in seconds: a keyed draw, so the same post
    /// has the same duration under every policy.
    pub(crate) fn duration_s(&self, seed: u64, id: u32) -> f32 {
        let u = crate::rng::unit(seed, crate::rng::tag::DURATION, id.into(), 0).max(f64::MIN_POSITIVE);
        let z = crate::rng::standard_normal(u);
        (self.duration_median_s * (self.duration_sigma * z).exp()).min(self.duration_max_s) as f32
    }
}
