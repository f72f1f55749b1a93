//! `kairos segment …`: evaluate a rule file for scripts, and create, list or
//! delete segments directly on the store, running the engine in-process so a
//! new segment's backfill shows its progress on the terminal. (A running
//! server picks up segments created this way when it next starts; use the
//! REST API to change segments of a live server.)

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use kairos_core::clock::SystemClock;
use kairos_core::ids::{ContactId, SegmentId};
use kairos_core::segment::rule::parse;
use kairos_engine::Engine;
use kairos_store::{SegmentRecord, Store};
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

#[derive(Subcommand)]
pub enum SegmentCommand {
    /// Count (and optionally list) the contacts a rule file matches now.
    Eval {
        /// A JSON rule (see docs/segments.md).
        rule: PathBuf,
        #[arg(long, default_value = "default")]
        workspace: String,
        /// Also print the matching contacts as CSV (id,email).
        #[arg(long)]
        members: bool,
    },
    /// Create a segment from a rule file and build it, showing progress.
    Create {
        rule: PathBuf,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "default")]
        workspace: String,
    },
    /// List the segments of a workspace with their counts.
    List {
        #[arg(long, default_value = "default")]
        workspace: String,
    },
    /// Delete a segment.
    Delete {
        id: String,
        #[arg(long, default_value = "default")]
        workspace: String,
    },
}

fn read_rule(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", path.display()))
}

pub async fn run(store: Store, command: SegmentCommand) -> Result<()> {
    match command {
        SegmentCommand::Eval { rule, workspace, members } => {
            let ws = crate::existing_workspace(&store, &workspace).await?;
            let json = read_rule(&rule)?;
            let engine = Engine::start_offline(store.clone(), Arc::new(SystemClock));
            let schema = engine.segment_schema(ws.id).await?;
            let rule = parse(&json, &schema, None)
                .map_err(|e| anyhow::anyhow!("{}: the rule is invalid at {e}", rule.display()))?;
            let count = engine.preview_segment(ws.id, rule.clone(), 0).await?.count;
            if members {
                let mut out = std::io::stdout().lock();
                writeln!(out, "id,email")?;
                let mut tx = store.begin().await?;
                let mut after: Option<ContactId> = None;
                loop {
                    let page = tx.contacts_after(ws.id, after, 5000).await?;
                    let Some(last) = page.last() else { break };
                    after = Some(last.id);
                    for c in page {
                        if engine.segment_matches(ws.id, &rule, c.id) == Some(true) {
                            writeln!(out, "{},{}", c.id, c.email.unwrap_or_default())?;
                        }
                    }
                }
                tx.commit().await?;
            } else {
                println!("{count}");
            }
            Ok(())
        }
        SegmentCommand::Create { rule, name, workspace } => {
            let ws = crate::existing_workspace(&store, &workspace).await?;
            let json = read_rule(&rule)?;
            let engine = Engine::start_offline(store.clone(), Arc::new(SystemClock));
            let id = SegmentId::new();
            let schema = engine.segment_schema(ws.id).await?;
            parse(&json, &schema, Some(id))
                .map_err(|e| anyhow::anyhow!("{}: the rule is invalid at {e}", rule.display()))?;
            let now = chrono::Utc::now().timestamp_millis();
            let record = SegmentRecord {
                id,
                name: name.clone(),
                description: None,
                rule: json,
                version: 1,
                status: "building".into(),
                error: None,
                created_at: now,
                updated_at: now,
            };
            let mut tx = store.begin_write().await?;
            tx.insert_segment(ws.id, &record).await?;
            tx.commit().await?;
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} log position {pos}/{len}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            let done = engine.load_segment(ws.id, id);
            tokio::pin!(done);
            loop {
                tokio::select! {
                    result = &mut done => {
                        if let Err(e) = result {
                            bar.abandon();
                            bail!("segment {id} failed: {e}");
                        }
                        break;
                    }
                    _ = tokio::time::sleep(Duration::from_millis(100)) => {
                        if let Some(status) = engine.segment_status(ws.id, id) {
                            bar.set_length(status.backfill_total);
                            bar.set_position(status.backfill_done);
                        }
                    }
                }
            }
            bar.finish_and_clear();
            // Let the entries reach the log before exiting.
            engine.segments_settled().await;
            println!("{id}\t{name}\t{} members", engine.segment_count(ws.id, id).unwrap_or(0));
            Ok(())
        }
        SegmentCommand::List { workspace } => {
            let ws = crate::existing_workspace(&store, &workspace).await?;
            let mut tx = store.begin().await?;
            let segments = tx.segments(ws.id).await?;
            let mut rows = Vec::new();
            for s in &segments {
                rows.push((s, tx.segment_member_ids(ws.id, s.id).await?.len()));
            }
            tx.commit().await?;
            println!("id\tname\tstatus\tmembers");
            for (s, n) in rows {
                println!("{}\t{}\t{}\t{n}", s.id, s.name, s.status);
            }
            Ok(())
        }
        SegmentCommand::Delete { id, workspace } => {
            let ws = crate::existing_workspace(&store, &workspace).await?;
            let id: SegmentId = id.parse().map_err(|_| anyhow::anyhow!("{id:?} is not a segment id"))?;
            let engine = Engine::start_offline(store.clone(), Arc::new(SystemClock));
            let schema = engine.segment_schema(ws.id).await?;
            if let Some((user, _)) = schema.segments.iter().find(|(o, refs)| **o != id && refs.contains(&id)) {
                bail!("segment {user} refers to segment {id}; change or delete it first");
            }
            let mut tx = store.begin_write().await?;
            if !tx.delete_segment(ws.id, id).await? {
                bail!("no segment {id} in workspace {:?}", ws.name);
            }
            tx.commit().await?;
            println!("deleted {id}");
            Ok(())
        }
    }
}
