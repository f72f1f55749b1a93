//! Send-time optimisation: each contact's best hour of the day to receive a
//! message, learned from the local hours at which they opened or clicked,
//! shrunk towards the whole population's pattern so that a contact with
//! little data gets the population's best hour and one with a lot gets their
//! own.

use serde::Serialize;

/// How many engagements the population pattern is worth for one contact.
pub const PRIOR_WEIGHT: f64 = 8.0;

/// Engagements per local hour (0–23).
pub type HourCounts = [f64; 24];

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BestHour {
    pub hour: u8,
    /// The smoothed share of this contact's engagement at that hour.
    pub share: f64,
    /// How much of the estimate is the contact's own data (0 to 1).
    pub personal_weight: f64,
}

/// The population's share of engagements per hour (uniform with no data).
pub fn population_shares(all: &[HourCounts]) -> HourCounts {
    let mut total = [0.0; 24];
    for c in all {
        for h in 0..24 {
            total[h] += c[h];
        }
    }
    let sum: f64 = total.iter().sum();
    if sum == 0.0 {
        return [1.0 / 24.0; 24];
    }
    total.map(|t| t / sum)
}

/// The best hour for one contact given the population's shares.
pub fn best_hour(own: &HourCounts, population: &HourCounts) -> BestHour {
    let n: f64 = own.iter().sum();
    let mut best = BestHour { hour: 0, share: f64::NEG_INFINITY, personal_weight: n / (n + PRIOR_WEIGHT) };
    for h in 0..24 {
        // Dirichlet-smoothed share: the contact's counts plus the population
        // pattern worth PRIOR_WEIGHT engagements.
        let share = (own[h] + PRIOR_WEIGHT * population[h]) / (n + PRIOR_WEIGHT);
        if share > best.share {
            best.hour = h as u8;
            best.share = share;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thin_data_follows_the_population_rich_data_the_person() {
        let mut crowd = [0.0; 24];
        crowd[9] = 500.0; // most people open at 9:00
        crowd[20] = 200.0;
        let pop = population_shares(&[crowd]);
        let mut night_owl = [0.0; 24];
        night_owl[23] = 1.0;
        assert_eq!(best_hour(&night_owl, &pop).hour, 9, "one open is not enough to move away from 9:00");
        night_owl[23] = 12.0;
        let b = best_hour(&night_owl, &pop);
        assert_eq!(b.hour, 23);
        assert!(b.personal_weight > 0.5);
        assert_eq!(best_hour(&[0.0; 24], &population_shares(&[])).personal_weight, 0.0);
    }
}
