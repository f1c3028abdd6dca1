//! Latency distributions: median, p99 and max of a set of samples.

use std::fmt;

/// Summary of a set of samples (milliseconds, or any unit).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Number of samples.
    pub n: usize,
    /// Smallest sample.
    pub min: f64,
    /// 50th percentile (nearest rank).
    pub median: f64,
    /// 99th percentile (nearest rank).
    pub p99: f64,
    /// Largest sample.
    pub max: f64,
    /// Arithmetic mean.
    pub mean: f64,
}

/// The `p`-th percentile (0 < p <= 100) of sorted samples, by nearest rank:
/// the smallest sample with at least p% of the samples at or below it.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() || !(p > 0.0 && p <= 100.0) {
        return None;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

impl Summary {
    /// Summary of `samples` (NaNs are ignored); `None` when there are none.
    pub fn of(samples: &[f64]) -> Option<Summary> {
        let mut sorted: Vec<f64> = samples.iter().copied().filter(|x| !x.is_nan()).collect();
        if sorted.is_empty() {
            return None;
        }
        sorted.sort_by(f64::total_cmp);
        Some(Summary {
            n: sorted.len(),
            min: sorted[0],
            median: percentile(&sorted, 50.0)?,
            p99: percentile(&sorted, 99.0)?,
            max: sorted[sorted.len() - 1],
            mean: sorted.iter().sum::<f64>() / sorted.len() as f64,
        })
    }

    /// As JSON, for `--json` reports.
    pub fn to_json(self) -> serde_json::Value {
        serde_json::json!({
            "n": self.n, "min": self.min, "median": self.median,
            "p99": self.p99, "max": self.max, "mean": self.mean,
        })
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "median {:.3}  p99 {:.3}  max {:.3}  (min {:.3}, mean {:.3}, n {})",
            self.median, self.p99, self.max, self.min, self.mean, self.n
        )
    }
}

/// A summary line, or a note that there were no samples.
pub fn line(samples: &[f64]) -> String {
    Summary::of(samples).map_or_else(|| "no samples".to_string(), |s| s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles_of_one_to_a_hundred() {
        let samples: Vec<f64> = (1..=100).rev().map(f64::from).collect();
        let s = Summary::of(&samples).unwrap();
        assert_eq!(
            (s.n, s.min, s.median, s.p99, s.max),
            (100, 1.0, 50.0, 99.0, 100.0)
        );
        assert_eq!(s.mean, 50.5);
    }

    #[test]
    fn one_outlier_in_a_thousand_does_not_move_the_p99_but_sets_the_max() {
        let mut samples = vec![1.0; 999];
        samples.push(40.0);
        let s = Summary::of(&samples).unwrap();
        assert_eq!((s.median, s.p99, s.max), (1.0, 1.0, 40.0));
    }

    #[test]
    fn eleven_slow_samples_in_a_thousand_move_the_p99() {
        let mut samples = vec![1.0; 989];
        samples.extend([7.0; 11]);
        assert_eq!(Summary::of(&samples).unwrap().p99, 7.0);
    }

    #[test]
    fn no_samples_and_nans_give_no_summary() {
        assert_eq!(Summary::of(&[]), None);
        assert_eq!(Summary::of(&[f64::NAN]), None);
        assert_eq!(line(&[]), "no samples");
        assert_eq!(percentile(&[1.0], 0.0), None);
    }

    #[test]
    fn a_single_sample_is_every_percentile() {
        let s = Summary::of(&[3.5]).unwrap();
        assert_eq!((s.min, s.median, s.p99, s.max), (3.5, 3.5, 3.5, 3.5));
    }
}
