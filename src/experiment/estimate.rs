//! Means over replicates and their confidence intervals.

use std::fmt;

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

use crate::error::{Error, Result};

/// The two-sided Student-t critical value for a `confidence` interval with
/// `df` degrees of freedom: the `(1 + confidence) / 2` quantile (statrs).
/// Returns NaN when `df` is 0 or `confidence` is not in `(0, 1)`.
///
/// ```
/// use feedsim::experiment::t_critical;
/// assert!((t_critical(0.95, 1) - 12.7062).abs() < 1e-3);
/// assert!((t_critical(0.95, 9) - 2.2622).abs() < 1e-3);
/// ```
pub fn t_critical(confidence: f64, df: u32) -> f64 {
    if df == 0 || !(confidence > 0.0 && confidence < 1.0) {
        return f64::NAN;
    }
    match StudentsT::new(0.0, 1.0, f64::from(df)) {
        Ok(t) => t.inverse_cdf((1.0 + confidence) / 2.0),
        Err(_) => f64::NAN,
    }
}

/// A mean over replicates with its confidence interval (or, from
/// [`Estimate::count_ratio`], a ratio of two counts with its interval).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// The mean of the samples (for [`Estimate::count_ratio`], the ratio).
    pub mean: f64,
    /// The samples' standard deviation (divisor `n − 1`); `None` for one
    /// sample. For [`Estimate::count_ratio`], the ratio's standard error.
    pub sd: Option<f64>,
    /// Lower end of the interval; `None` for one sample.
    pub low: Option<f64>,
    /// Upper end of the interval; `None` for one sample.
    pub high: Option<f64>,
}

impl Estimate {
    /// The mean of `samples` with its Student-t interval at `confidence`
    /// (`mean ± t(confidence, n − 1) · sd / √n`). Sums run in the order given,
    /// so the result is reproducible. O(n).
    ///
    /// ```
    /// use feedsim::experiment::Estimate;
    /// let e = Estimate::from_samples(&[1.0, 2.0, 3.0], 0.95);
    /// assert_eq!(e.mean, 2.0);
    /// assert_eq!(e.sd, Some(1.0));
    /// // t(0.975, 2) = 4.303; half width 4.303 / √3.
    /// assert!((e.half_width().unwrap() - 4.3027 / 3f64.sqrt()).abs() < 1e-3);
    /// ```
    pub fn from_samples(samples: &[f64], confidence: f64) -> Estimate {
        let n = samples.len();
        if n == 0 {
            return Estimate::without_interval(f64::NAN);
        }
        let mean = samples.iter().sum::<f64>() / n as f64;
        if n < 2 {
            return Estimate::without_interval(mean);
        }
        let ss: f64 = samples.iter().map(|x| (x - mean) * (x - mean)).sum();
        let sd = (ss / (n - 1) as f64).sqrt();
        let half = t_critical(confidence, (n - 1) as u32) * sd / (n as f64).sqrt();
        Estimate {
            mean,
            sd: Some(sd),
            low: Some(mean - half),
            high: Some(mean + half),
        }
    }

    /// The paired difference `a[r] − b[r]` over replicates, with its
    /// interval: how to compare two cohorts, or two metrics, of the same
    /// replicates. Errors if the lengths differ.
    pub fn paired_difference(a: &[f64], b: &[f64], confidence: f64) -> Result<Estimate> {
        if a.len() != b.len() {
            return Err(Error::invalid(
                "paired_difference",
                format!("{} vs {} samples", a.len(), b.len()),
                "needs the same replicates on both sides",
            ));
        }
        let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
        Ok(Estimate::from_samples(&d, confidence))
    }

    /// The ratio `numerator / denominator` of two event counts, each taken
    /// as a Poisson count, with the interval chance alone puts around it
    /// at `confidence`: Katz's log interval, `ratio · exp(±z · √(1/numerator
    /// + 1/denominator))`, `z` the normal quantile (Katz, Baptista, Azen &
    /// Pike 1978, "Obtaining confidence intervals for the risk ratio in
    /// cohort studies", Biometrics 34; for two Poisson counts the same
    /// variance of the log ratio holds). `sd` is the delta method's
    /// `ratio · √(1/numerator + 1/denominator)`.
    ///
    /// It answers a different question from [`from_samples`](Self::from_samples)
    /// over replicates: how far from its expectation the counts of one
    /// period of one world may put a ratio (for example, whether unfollows
    /// over follows of 1.13 from 645 and 569 events could be a balance:
    /// 1.01 to 1.27 at 95%, so barely not). It ignores any variation
    /// between worlds. No interval when either count is 0 (the mean is then
    /// 0, or NaN for a zero denominator) or `confidence` is not in `(0, 1)`.
    ///
    /// ```
    /// use feedsim::experiment::Estimate;
    /// let e = Estimate::count_ratio(645, 569, 0.95);
    /// assert!((e.mean - 1.1336).abs() < 1e-4);
    /// assert!((e.low.unwrap() - 1.0128).abs() < 1e-3);
    /// assert!((e.high.unwrap() - 1.2688).abs() < 1e-3);
    /// assert!(Estimate::count_ratio(3, 0, 0.95).mean.is_nan());
    /// ```
    pub fn count_ratio(numerator: u64, denominator: u64, confidence: f64) -> Estimate {
        let none = Estimate::without_interval;
        if denominator == 0 {
            return none(f64::NAN);
        }
        let (a, b) = (numerator as f64, denominator as f64);
        let ratio = a / b;
        if numerator == 0 || !(confidence > 0.0 && confidence < 1.0) {
            return none(ratio);
        }
        let se = (1.0 / a + 1.0 / b).sqrt();
        let z = match Normal::new(0.0, 1.0) {
            Ok(n) => n.inverse_cdf((1.0 + confidence) / 2.0),
            Err(_) => return none(ratio),
        };
        Estimate {
            mean: ratio,
            sd: Some(ratio * se),
            low: Some(ratio * (-z * se).exp()),
            high: Some(ratio * (z * se).exp()),
        }
    }

    /// `mean` alone: no spread, no interval.
    fn without_interval(mean: f64) -> Estimate {
        Estimate {
            mean,
            sd: None,
            low: None,
            high: None,
        }
    }

    /// Half the interval's width, if there is an interval.
    pub fn half_width(&self) -> Option<f64> {
        Some((self.high? - self.low?) / 2.0)
    }

    /// Whether `value` lies in the interval (ends included); `false` when
    /// there is no interval.
    pub fn covers(&self, value: f64) -> bool {
        matches!((self.low, self.high), (Some(l), Some(h)) if l <= value && value <= h)
    }
}

impl fmt::Display for Estimate {
    /// `mean [low, high]`, with the formatter's precision (default 3).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = f.precision().unwrap_or(3);
        match (self.low, self.high) {
            (Some(l), Some(h)) => write!(f, "{:.p$} [{:.p$}, {:.p$}]", self.mean, l, h),
            _ => write!(f, "{:.p$}", self.mean),
        }
    }
}
