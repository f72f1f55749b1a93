//! Optimising journey splits: an A/B/n test over a split's paths. A path's
//! trials are the contacts who took it and either reached the goal event
//! within the window or whose window has closed (so recent entries do not
//! count as failures yet); its successes, those who reached the goal. The
//! runner samples each contact's path from the paths' Beta posteriors
//! (Thompson sampling, `kairos-ml::bandit`), so traffic shifts to the path
//! that converts best, and sends everyone down a path once it is best with
//! the stated probability.

use crate::Engine;
use kairos_core::ids::{ContactId, JourneyId, WorkspaceId};
use kairos_core::journey::definition::SplitGoal;
use kairos_core::journey::{Definition, Node};
use kairos_ml::bandit::{choose, probability_best, Arm};
use kairos_store::{StoreError, Tx};
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde::Serialize;
use sha2::{Digest, Sha256};

const DAY_MS: i64 = 86_400_000;
/// Monte Carlo draws for the probability that each path is best.
const DRAWS: usize = 20_000;

/// Where an optimising split stands.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SplitState {
    pub node: String,
    pub goal: String,
    pub within_days: u32,
    pub probability: f64,
    pub arms: Vec<ArmView>,
    pub probability_best: Vec<f64>,
    /// The path that takes all traffic, once declared.
    pub winner: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArmView {
    pub path: usize,
    pub next: String,
    pub trials: u64,
    pub successes: u64,
}

impl SplitState {
    fn arms(&self) -> Vec<Arm> {
        self.arms.iter().map(|a| Arm { trials: a.trials, successes: a.successes }).collect()
    }

    /// The path for a contact: the winner, or a Thompson draw seeded by the
    /// node and contact (a replayed step draws the same).
    pub fn path_for(&self, contact: ContactId) -> usize {
        if let Some(w) = self.winner {
            return w;
        }
        let mut h = Sha256::new();
        h.update(self.node.as_bytes());
        h.update(contact.0.as_bytes());
        let d = h.finalize();
        let mut seed = [0u8; 8];
        seed.copy_from_slice(&d[..8]);
        choose(&self.arms(), &mut StdRng::seed_from_u64(u64::from_be_bytes(seed)))
    }
}

/// The optimising splits of a definition.
pub(crate) fn optimising(def: &Definition) -> Vec<(String, usize, Vec<String>, SplitGoal)> {
    def.nodes
        .iter()
        .filter_map(|(id, n)| match n {
            Node::Split { paths, optimise: Some(goal) } => {
                Some((id.clone(), paths.len(), paths.iter().map(|(_, n)| n.clone()).collect(), goal.clone()))
            }
            _ => None,
        })
        .collect()
}

/// Read where each optimising split of `def` stands as of `now`.
pub(crate) async fn split_states(
    tx: &mut Tx,
    ws: WorkspaceId,
    journey: JourneyId,
    def: &Definition,
    now: i64,
) -> Result<Vec<SplitState>, StoreError> {
    let mut out = Vec::new();
    for (node, n, nexts, goal) in optimising(def) {
        let within = goal.within_days as i64 * DAY_MS;
        let rows = tx.split_outcomes(ws, journey, &node, &goal.event, within).await?;
        let mut arms = vec![Arm::default(); n];
        for (detail, at, converted) in rows {
            let Some(i) = detail.strip_prefix("path ").and_then(|i| i.parse::<usize>().ok()).filter(|i| *i < n) else {
                continue;
            };
            if converted || at + within <= now {
                arms[i].trials += 1;
                arms[i].successes += u64::from(converted);
            }
        }
        // A fixed seed: the same counts give the same verdict.
        let p = probability_best(&arms, DRAWS, &mut StdRng::seed_from_u64(7));
        let winner = p
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .filter(|(_, q)| **q >= goal.probability && arms.iter().all(|a| a.trials > 0))
            .map(|(i, _)| i);
        out.push(SplitState {
            node,
            goal: goal.event.clone(),
            within_days: goal.within_days,
            probability: goal.probability,
            arms: arms
                .iter()
                .enumerate()
                .map(|(i, a)| ArmView { path: i, next: nexts[i].clone(), trials: a.trials, successes: a.successes })
                .collect(),
            probability_best: p,
            winner,
        });
    }
    Ok(out)
}

impl Engine {
    /// Where each optimising split of a journey's published version stands.
    pub async fn journey_splits(&self, ws: WorkspaceId, journey: JourneyId) -> Result<Vec<SplitState>, StoreError> {
        let now = self.clock().now().timestamp_millis();
        let mut tx = self.store().begin().await?;
        let Some(j) = tx.journey(ws, journey).await? else { return Ok(Vec::new()) };
        let versions = tx.journey_versions(ws, journey).await?;
        let Some((_, def, _)) = versions.into_iter().find(|(v, ..)| *v == j.version) else { return Ok(Vec::new()) };
        let schema = crate::scores::schema_of(&mut tx, ws).await?;
        let Ok(def) = kairos_core::journey::parse(&def, &schema) else { return Ok(Vec::new()) };
        let states = split_states(&mut tx, ws, journey, &def, now).await?;
        tx.commit().await?;
        Ok(states)
    }
}
