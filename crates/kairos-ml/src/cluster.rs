//! Clustering customers: k-means (k-means++ seeding, several restarts) on
//! standardised features, with k chosen by the silhouette score unless the
//! caller fixes it, and each cluster described in plain words from how its
//! centre differs from the average customer ("high value, lapsing").

use serde::Serialize;

/// A deterministic generator (SplitMix64), so the same data gives the same
/// clusters.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn dist2(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// Standardise each column to mean 0, standard deviation 1; returns the
/// scaled rows with the means and deviations used.
pub fn standardise(rows: &[Vec<f64>]) -> (Vec<Vec<f64>>, Vec<f64>, Vec<f64>) {
    let d = rows.first().map_or(0, Vec::len);
    let n = rows.len().max(1) as f64;
    let mean: Vec<f64> = (0..d).map(|j| rows.iter().map(|r| r[j]).sum::<f64>() / n).collect();
    let sd: Vec<f64> = (0..d)
        .map(|j| {
            let v = rows.iter().map(|r| (r[j] - mean[j]).powi(2)).sum::<f64>() / n;
            if v > 0.0 {
                v.sqrt()
            } else {
                1.0
            }
        })
        .collect();
    let scaled = rows.iter().map(|r| (0..d).map(|j| (r[j] - mean[j]) / sd[j]).collect()).collect();
    (scaled, mean, sd)
}

/// k-means: the assignment of each row and the centres.
pub fn kmeans(rows: &[Vec<f64>], k: usize, seed: u64) -> (Vec<usize>, Vec<Vec<f64>>) {
    let mut best: Option<(f64, Vec<usize>, Vec<Vec<f64>>)> = None;
    let mut rng = Rng(seed);
    for _restart in 0..5 {
        // k-means++ seeding.
        let mut centres: Vec<Vec<f64>> = vec![rows[(rng.next() % rows.len() as u64) as usize].clone()];
        while centres.len() < k {
            let d: Vec<f64> =
                rows.iter().map(|r| centres.iter().map(|c| dist2(r, c)).fold(f64::INFINITY, f64::min)).collect();
            let total: f64 = d.iter().sum();
            let mut pick = rng.unit() * total;
            let mut chosen = rows.len() - 1;
            for (i, di) in d.iter().enumerate() {
                pick -= di;
                if pick <= 0.0 {
                    chosen = i;
                    break;
                }
            }
            centres.push(rows[chosen].clone());
        }
        let mut assign = vec![0usize; rows.len()];
        for _ in 0..100 {
            let mut moved = false;
            for (i, r) in rows.iter().enumerate() {
                let c = (0..k).min_by(|&a, &b| dist2(r, &centres[a]).total_cmp(&dist2(r, &centres[b]))).unwrap_or(0);
                if c != assign[i] {
                    assign[i] = c;
                    moved = true;
                }
            }
            for (c, centre) in centres.iter_mut().enumerate() {
                let members: Vec<&Vec<f64>> =
                    rows.iter().zip(&assign).filter(|(_, a)| **a == c).map(|(r, _)| r).collect();
                if !members.is_empty() {
                    for (j, v) in centre.iter_mut().enumerate() {
                        *v = members.iter().map(|m| m[j]).sum::<f64>() / members.len() as f64;
                    }
                }
            }
            if !moved {
                break;
            }
        }
        let inertia: f64 = rows.iter().zip(&assign).map(|(r, &a)| dist2(r, &centres[a])).sum();
        if best.as_ref().is_none_or(|b| inertia < b.0) {
            best = Some((inertia, assign, centres));
        }
    }
    let (_, assign, centres) = best.unwrap_or_default();
    (assign, centres)
}

/// Mean silhouette of a clustering (on at most `sample` rows, evenly spaced).
pub fn silhouette(rows: &[Vec<f64>], assign: &[usize], k: usize, sample: usize) -> f64 {
    let step = (rows.len() / sample.max(1)).max(1);
    let mut total = 0.0;
    let mut counted = 0.0;
    for i in (0..rows.len()).step_by(step) {
        let mut sums = vec![0.0; k];
        let mut counts = vec![0usize; k];
        for (j, r) in rows.iter().enumerate() {
            if i != j {
                sums[assign[j]] += dist2(&rows[i], r).sqrt();
                counts[assign[j]] += 1;
            }
        }
        let own = assign[i];
        if counts[own] == 0 {
            continue;
        }
        let a = sums[own] / counts[own] as f64;
        let b = (0..k)
            .filter(|&c| c != own && counts[c] > 0)
            .map(|c| sums[c] / counts[c] as f64)
            .fold(f64::INFINITY, f64::min);
        if b.is_finite() {
            total += (b - a) / a.max(b);
            counted += 1.0;
        }
    }
    if counted > 0.0 {
        total / counted
    } else {
        0.0
    }
}

/// One cluster, described.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cluster {
    pub index: usize,
    pub size: usize,
    /// The centre in original units, one value per feature.
    pub centre: Vec<f64>,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Clustering {
    pub k: usize,
    pub silhouette: f64,
    /// Silhouette for each k tried (when k was chosen automatically).
    pub tried: Vec<(usize, f64)>,
    pub clusters: Vec<Cluster>,
    pub assignment: Vec<usize>,
}

/// How a feature reads in a description when a centre is above / below the
/// average (e.g. ("recency_days", "lapsing", "recent")).
pub struct FeatureWords {
    pub high: &'static str,
    pub low: &'static str,
}

/// A k tried: (k, assignment, centres, silhouette).
type Candidate = (usize, Vec<usize>, Vec<Vec<f64>>, f64);

/// Cluster `rows` (original units) into `k` groups, or choose k in 2..=max_k
/// by silhouette.
pub fn cluster(rows: &[Vec<f64>], k: Option<usize>, max_k: usize, words: &[FeatureWords]) -> Option<Clustering> {
    if rows.len() < 4 {
        return None;
    }
    let (scaled, mean, sd) = standardise(rows);
    let sample = 600;
    let mut tried = Vec::new();
    let (k, assign, centres, sil) = match k {
        Some(k) => {
            let k = k.clamp(1, rows.len());
            let (a, c) = kmeans(&scaled, k, 42);
            let s = if k > 1 { silhouette(&scaled, &a, k, sample) } else { 0.0 };
            (k, a, c, s)
        }
        None => {
            let mut best: Option<Candidate> = None;
            for k in 2..=max_k.min(rows.len() - 1) {
                let (a, c) = kmeans(&scaled, k, 42);
                let s = silhouette(&scaled, &a, k, sample);
                tried.push((k, s));
                if best.as_ref().is_none_or(|b| s > b.3) {
                    best = Some((k, a, c, s));
                }
            }
            best?
        }
    };
    let clusters = (0..k)
        .map(|c| {
            let centre: Vec<f64> = centres[c].iter().enumerate().map(|(j, v)| v * sd[j] + mean[j]).collect();
            let mut parts: Vec<(f64, &str)> = centres[c]
                .iter()
                .zip(words)
                .filter(|(z, _)| z.abs() >= 0.5)
                .map(|(z, w)| (z.abs(), if *z > 0.0 { w.high } else { w.low }))
                .collect();
            parts.sort_by(|a, b| b.0.total_cmp(&a.0));
            let description = if parts.is_empty() {
                "typical customers".to_string()
            } else {
                parts.iter().take(3).map(|p| p.1).collect::<Vec<_>>().join(", ")
            };
            Cluster { index: c, size: assign.iter().filter(|a| **a == c).count(), centre, description }
        })
        .collect();
    Some(Clustering { k, silhouette: sil, tried, clusters, assignment: assign })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_well_separated_groups_and_names_them() {
        // Three blobs: big recent spenders, small lapsed buyers, average.
        let mut rows = Vec::new();
        let mut rng = Rng(7);
        for (centre, n) in [([5.0, 20.0, 500.0], 40), ([200.0, 1.0, 20.0], 60), ([60.0, 5.0, 100.0], 50)] {
            for _ in 0..n {
                rows.push(centre.iter().map(|c| c * (0.9 + 0.2 * rng.unit())).collect::<Vec<f64>>());
            }
        }
        let words = [
            FeatureWords { high: "lapsing", low: "recently active" },
            FeatureWords { high: "frequent", low: "rare buyers" },
            FeatureWords { high: "high value", low: "low value" },
        ];
        let c = cluster(&rows, None, 6, &words).unwrap();
        assert_eq!(c.k, 3, "{:?}", c.tried);
        assert!(c.silhouette > 0.7);
        let mut sizes: Vec<usize> = c.clusters.iter().map(|c| c.size).collect();
        sizes.sort();
        assert_eq!(sizes, vec![40, 50, 60]);
        let big = c.clusters.iter().find(|c| c.size == 40).unwrap();
        assert!(
            big.description.contains("high value") && big.description.contains("recently active"),
            "{}",
            big.description
        );
        let lapsed = c.clusters.iter().find(|c| c.size == 60).unwrap();
        assert!(lapsed.description.contains("lapsing"), "{}", lapsed.description);
        // A fixed k is honoured.
        assert_eq!(cluster(&rows, Some(2), 6, &words).unwrap().k, 2);
    }
}
