//! Means over replicates and their confidence intervals.

use std::fmt;

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

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

/// A mean over replicates with its confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// The mean of the samples.
    pub mean: f64,
    /// The samples' standard deviation (divisor `n − 1`); `None` for one
    /// sample.
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
            return Estimate {
                mean: f64::NAN,
                sd: None,
                low: None,
                high: None,
            };
        }
        let mean = samples.iter().sum::<f64>() / n as f64;
        if n < 2 {
            return Estimate {
                mean,
                sd: None,
                low: None,
                high: None,
            };
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
