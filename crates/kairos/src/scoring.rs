//! `kairos score …` and `kairos model …`: lead scores, conversion models,
//! their fairness audits and retraining schedules, on a running server
//! through its REST API (recomputes, scoring and schedules run in the
//! server; the commands only ask for them).

use crate::journey::{call, definition, ServerArgs};
use anyhow::Result;
use clap::Subcommand;
use reqwest::Method;
use serde_json::{json, Value};
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum ScoreCommand {
    /// List score definitions with their status.
    List,
    /// Show a score's definition, version and recompute progress.
    Show { name: String },
    /// Create a score from a definition file (JSON, see docs/scores.md).
    Create { file: PathBuf },
    /// Replace a score's definition (recomputed as a new version).
    Update { name: String, file: PathBuf },
    /// Delete a score with every contact's value and history of it.
    Delete { name: String },
    /// A contact's scores, and with --history every change with its reason.
    Contact {
        contact: String,
        #[arg(long)]
        history: bool,
    },
    /// Audit a score's fairness by a contact field against an outcome event.
    Audit {
        name: String,
        #[arg(long)]
        sensitive: String,
        #[arg(long)]
        outcome: String,
        #[arg(long)]
        outcome_days: Option<u32>,
        /// A number, or a threshold's name (default: the highest threshold).
        #[arg(long)]
        threshold: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum ModelCommand {
    /// Every model of the workspace with its headline figures.
    List,
    /// Train a conversion model (promoted only if it beats the current one).
    Train {
        /// The conversion event, e.g. "Demo Booked".
        #[arg(long)]
        event: String,
        #[arg(long, default_value_t = 30)]
        horizon_days: u32,
        /// A contact field to audit fairness by (left out of the features).
        #[arg(long)]
        sensitive: Option<String>,
        /// Let the sensitive field be a feature.
        #[arg(long)]
        allow_sensitive: bool,
        /// Profile fields to leave out (repeat the flag).
        #[arg(long = "exclude")]
        exclude: Vec<String>,
    },
    /// One conversion model version in full.
    Show { id: String },
    /// Contacts by conversion probability, highest first.
    Scores {
        #[arg(long)]
        event: Option<String>,
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// A contact's probability and the features behind it.
    Explain { contact: String },
    /// Audit a model version's fairness by a contact field on its hold-out.
    Audit {
        id: String,
        #[arg(long)]
        sensitive: String,
    },
    /// Retrain every N days with the given settings (first run now).
    Schedule {
        #[arg(long)]
        event: String,
        #[arg(long, default_value_t = 30)]
        horizon_days: u32,
        #[arg(long)]
        every_days: u32,
        #[arg(long)]
        sensitive: Option<String>,
    },
}

fn print(v: &Value) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

pub async fn score(s: &ServerArgs, command: ScoreCommand) -> Result<()> {
    match command {
        ScoreCommand::List => {
            let v = call(s, Method::GET, "/api/v1/scores", None).await?;
            for d in v["data"].as_array().into_iter().flatten() {
                println!(
                    "{:<24} v{:<3} {:<12} {}",
                    d["name"].as_str().unwrap_or(""),
                    d["live_version"],
                    d["status"].as_str().unwrap_or(""),
                    d["definition"]["description"].as_str().unwrap_or("")
                );
            }
            Ok(())
        }
        ScoreCommand::Show { name } => {
            print(&call(s, Method::GET, &format!("/api/v1/scores/{}", enc(&name)), None).await?)
        }
        ScoreCommand::Create { file } => {
            print(&call(s, Method::POST, "/api/v1/scores", Some(definition(&file)?)).await?)
        }
        ScoreCommand::Update { name, file } => {
            print(&call(s, Method::PUT, &format!("/api/v1/scores/{}", enc(&name)), Some(definition(&file)?)).await?)
        }
        ScoreCommand::Delete { name } => {
            call(s, Method::DELETE, &format!("/api/v1/scores/{}", enc(&name)), None).await?;
            println!("deleted {name}");
            Ok(())
        }
        ScoreCommand::Contact { contact, history } => {
            let path = if history {
                format!("/api/v1/contacts/{contact}/scores/history?limit=1000")
            } else {
                format!("/api/v1/contacts/{contact}/scores")
            };
            print(&call(s, Method::GET, &path, None).await?)
        }
        ScoreCommand::Audit { name, sensitive, outcome, outcome_days, threshold } => {
            let threshold = threshold.map(|t| t.parse::<f64>().map(|x| json!(x)).unwrap_or(json!(t)));
            let body = json!({"sensitive_attribute": sensitive, "outcome_event": outcome,
                              "outcome_days": outcome_days, "threshold": threshold});
            print(&call(s, Method::POST, &format!("/api/v1/scores/{}/fairness", enc(&name)), Some(body)).await?)
        }
    }
}

pub async fn model(s: &ServerArgs, command: ModelCommand) -> Result<()> {
    match command {
        ModelCommand::List => {
            let v = call(s, Method::GET, "/api/v1/models", None).await?;
            for m in v["data"].as_array().into_iter().flatten() {
                let figure = match m["kind"].as_str() {
                    Some("conversion") => format!(
                        "{} in {} days, hold-out AUC {:.4}{}",
                        m["event"].as_str().unwrap_or(""),
                        m["horizon_days"],
                        m["holdout"]["auc"].as_f64().unwrap_or(f64::NAN),
                        if m["promoted"] == true { ", promoted" } else { "" }
                    ),
                    _ => format!("{} customers", m["customers"]),
                };
                println!("{}  {:<10} {figure}", m["id"].as_str().unwrap_or(""), m["kind"].as_str().unwrap_or(""));
            }
            Ok(())
        }
        ModelCommand::Train { event, horizon_days, sensitive, allow_sensitive, exclude } => {
            let body = json!({"event": event, "horizon_days": horizon_days, "sensitive_attribute": sensitive,
                              "allow_sensitive": allow_sensitive, "exclude_fields": exclude});
            let v = call(s, Method::POST, "/api/v1/models/conversion", Some(body)).await?;
            println!(
                "{}: hold-out AUC {:.4}, log loss {:.4}, lift at the top decile {:.2}; {}",
                v["id"].as_str().unwrap_or(""),
                v["holdout"]["auc"].as_f64().unwrap_or(f64::NAN),
                v["holdout"]["log_loss"].as_f64().unwrap_or(f64::NAN),
                v["holdout"]["lift_top_decile"].as_f64().unwrap_or(f64::NAN),
                v["promotion"].as_str().unwrap_or("")
            );
            if let Some(w) = v["fairness"]["warning"].as_str() {
                println!("fairness: {w}");
            }
            Ok(())
        }
        ModelCommand::Show { id } => {
            print(&call(s, Method::GET, &format!("/api/v1/models/conversion/{}", enc(&id)), None).await?)
        }
        ModelCommand::Scores { event, limit } => {
            let mut path = format!("/api/v1/models/conversion/scores?limit={limit}");
            if let Some(e) = event {
                path.push_str(&format!("&event={}", enc(&e)));
            }
            let v = call(s, Method::GET, &path, None).await?;
            for r in v["data"].as_array().into_iter().flatten() {
                println!("{}  {:.4}", r["contact_id"].as_str().unwrap_or(""), r["probability"].as_f64().unwrap_or(0.0));
            }
            Ok(())
        }
        ModelCommand::Explain { contact } => {
            print(&call(s, Method::GET, &format!("/api/v1/contacts/{contact}/conversion"), None).await?)
        }
        ModelCommand::Audit { id, sensitive } => print(
            &call(
                s,
                Method::POST,
                &format!("/api/v1/models/conversion/{}/fairness", enc(&id)),
                Some(json!({"sensitive_attribute": sensitive})),
            )
            .await?,
        ),
        ModelCommand::Schedule { event, horizon_days, every_days, sensitive } => {
            let body = json!({"every_days": every_days,
                "request": {"event": event, "horizon_days": horizon_days, "sensitive_attribute": sensitive}});
            print(&call(s, Method::PUT, "/api/v1/models/conversion/schedules", Some(body)).await?)
        }
    }
}
