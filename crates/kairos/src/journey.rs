//! `kairos journey …`: manage journeys on a running server through its REST
//! API (not the store directly: the server's journey runner owns running
//! journeys, and a second runner next to it would act on the same runs).

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use reqwest::Client;
use reqwest::Method;
use serde_json::{json, Value};
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum JourneyCommand {
    /// List journeys with their status and version.
    List,
    /// Show a journey's draft definition.
    Show {
        id: String,
    },
    /// Create a journey from a definition file (JSON); it starts as a draft.
    Create {
        name: String,
        file: PathBuf,
    },
    /// Replace a journey's draft with a definition file.
    Update {
        id: String,
        file: PathBuf,
    },
    /// Publish the draft as a new version.
    Publish {
        id: String,
    },
    Pause {
        id: String,
    },
    Resume {
        id: String,
    },
    /// Archive: no more entries; contacts still in it exit.
    Archive {
        id: String,
    },
    /// Live counts per node.
    Stats {
        id: String,
    },
    /// The path a contact would take (nothing is written or sent).
    DryRun {
        id: String,
        contact: String,
        /// Use the published version instead of the draft.
        #[arg(long)]
        published: bool,
    },
    /// Put a contact into an API-triggered journey.
    Enter {
        id: String,
        contact: String,
    },
}

/// Where the server is and the admin key to use.
#[derive(clap::Args, Clone)]
pub struct ServerArgs {
    /// The running server's base URL.
    #[arg(long, env = "KAIROS_SERVER", default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// An admin API key (`kairos key create --scope admin`).
    #[arg(long, env = "KAIROS_API_KEY")]
    pub key: String,
}

pub(crate) async fn call(s: &ServerArgs, method: Method, path: &str, body: Option<Value>) -> Result<Value> {
    let url = format!("{}{path}", s.server.trim_end_matches('/'));
    let mut req = Client::new().request(method, &url).bearer_auth(&s.key);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.with_context(|| format!("calling {url}; is `kairos serve` running there?"))?;
    let status = resp.status();
    let v: Value = resp.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        let mut msg = v["detail"].as_str().unwrap_or("no detail").to_string();
        if let Some(errors) = v["errors"].as_array() {
            for e in errors {
                msg.push_str(&format!(
                    "\n  {}: {}",
                    e["path"].as_str().unwrap_or(""),
                    e["message"].as_str().unwrap_or("")
                ));
            }
        }
        bail!("{status}: {msg}");
    }
    Ok(v)
}

pub(crate) fn definition(file: &PathBuf) -> Result<Value> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", file.display()))
}

pub async fn run(s: &ServerArgs, command: JourneyCommand) -> Result<()> {
    let out = match command {
        JourneyCommand::List => {
            let v = call(s, Method::GET, "/api/v1/journeys", None).await?;
            for j in v["data"].as_array().into_iter().flatten() {
                println!(
                    "{}  {:<9} v{}  {}",
                    j["id"].as_str().unwrap_or(""),
                    j["status"].as_str().unwrap_or(""),
                    j["version"],
                    j["name"].as_str().unwrap_or("")
                );
            }
            return Ok(());
        }
        JourneyCommand::Show { id } => call(s, Method::GET, &format!("/api/v1/journeys/{id}"), None).await?,
        JourneyCommand::Create { name, file } => {
            call(s, Method::POST, "/api/v1/journeys", Some(json!({"name": name, "definition": definition(&file)?})))
                .await?
        }
        JourneyCommand::Update { id, file } => {
            call(s, Method::PATCH, &format!("/api/v1/journeys/{id}"), Some(json!({"definition": definition(&file)?})))
                .await?
        }
        JourneyCommand::Publish { id } => {
            call(s, Method::POST, &format!("/api/v1/journeys/{id}/publish"), None).await?
        }
        JourneyCommand::Pause { id } => call(s, Method::POST, &format!("/api/v1/journeys/{id}/pause"), None).await?,
        JourneyCommand::Resume { id } => call(s, Method::POST, &format!("/api/v1/journeys/{id}/resume"), None).await?,
        JourneyCommand::Archive { id } => {
            call(s, Method::POST, &format!("/api/v1/journeys/{id}/archive"), None).await?
        }
        JourneyCommand::Stats { id } => call(s, Method::GET, &format!("/api/v1/journeys/{id}/stats"), None).await?,
        JourneyCommand::DryRun { id, contact, published } => {
            call(
                s,
                Method::POST,
                &format!("/api/v1/journeys/{id}/dry-run"),
                Some(json!({"contact_id": contact, "version": if published { "published" } else { "draft" }})),
            )
            .await?
        }
        JourneyCommand::Enter { id, contact } => {
            call(s, Method::POST, &format!("/api/v1/journeys/{id}/entries"), Some(json!({"contact_id": contact})))
                .await?
        }
    };
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}
