//! `kairos export contacts|events`: stream a workspace's contacts or its
//! event log to CSV or JSON lines, page by page (constant memory), with a
//! progress bar on a terminal. The contacts CSV is what `kairos import
//! contacts` reads back.

use anyhow::Result;
use clap::ValueEnum;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use kairos_core::contact::Contact;
use kairos_core::fields::FieldEntity;
use kairos_core::ids::WorkspaceId;
use kairos_store::{ContactFilter, Store};
use serde_json::{json, Value};
use std::io::Write;
use std::path::Path;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Csv,
    Jsonl,
}

const PAGE: i64 = 5000;

/// Where rows go: a CSV writer or a JSON-lines stream.
enum Sink {
    Csv(Box<csv::Writer<Box<dyn Write>>>),
    Jsonl(Box<dyn Write>),
}

impl Sink {
    fn new(format: Format, path: Option<&Path>) -> Result<Sink> {
        let out = output(path)?;
        Ok(match format {
            Format::Csv => Sink::Csv(Box::new(csv::Writer::from_writer(out))),
            Format::Jsonl => Sink::Jsonl(out),
        })
    }

    fn row(&mut self, cells: impl FnOnce() -> Vec<String>, json: impl FnOnce() -> Value) -> Result<()> {
        match self {
            Sink::Csv(w) => w.write_record(cells())?,
            Sink::Jsonl(out) => {
                serde_json::to_writer(&mut *out, &json())?;
                out.write_all(b"\n")?;
            }
        }
        Ok(())
    }

    fn finish(self) -> Result<()> {
        match self {
            Sink::Csv(mut w) => w.flush()?,
            Sink::Jsonl(mut out) => out.flush()?,
        }
        Ok(())
    }
}

fn output(path: Option<&Path>) -> Result<Box<dyn Write>> {
    Ok(match path {
        Some(p) => Box::new(std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(p)?)),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    })
}

fn progress(total: i64, what: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total.max(0) as u64), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{{spinner}} {{wide_bar}} {{pos}}/{{len}} {what} ({{per_sec}}, eta {{eta}})"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

const STANDARD: &[&str] = &[
    "id",
    "external_id",
    "email",
    "phone",
    "first_name",
    "last_name",
    "timezone",
    "locale",
    "country",
    "created_at",
    "updated_at",
    "company_ids",
];

fn contact_cells(c: &Contact, custom: &[String]) -> Vec<String> {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let mut row = vec![
        c.id.to_string(),
        opt(&c.external_id),
        opt(&c.email),
        opt(&c.phone),
        opt(&c.first_name),
        opt(&c.last_name),
        opt(&c.timezone),
        opt(&c.locale),
        opt(&c.country),
        c.created_at.to_rfc3339(),
        c.updated_at.to_rfc3339(),
        c.company_ids.iter().map(ToString::to_string).collect::<Vec<_>>().join(";"),
    ];
    for name in custom {
        row.push(match c.custom.get(name) {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))
                .collect::<Vec<_>>()
                .join(";"),
            Some(other) => other.to_string(),
        });
    }
    row
}

pub async fn contacts(store: &Store, ws: WorkspaceId, format: Format, path: Option<&Path>) -> Result<()> {
    let mut tx = store.begin().await?;
    let custom: Vec<String> =
        tx.list_fields(ws).await?.into_iter().filter(|f| f.entity == FieldEntity::Contact).map(|f| f.name).collect();
    let bar = progress(tx.count_contacts(ws).await?, "contacts");
    let mut sink = Sink::new(format, path)?;
    if let Sink::Csv(w) = &mut sink {
        let mut header: Vec<String> = STANDARD.iter().map(|s| s.to_string()).collect();
        header.extend(custom.iter().cloned());
        w.write_record(&header)?;
    }
    let mut filter = ContactFilter::default();
    loop {
        let page = tx.search_contacts(ws, &filter, PAGE).await?;
        for c in &page.contacts {
            sink.row(
                || contact_cells(c, &custom),
                || {
                    json!({
                        "id": c.id, "external_id": c.external_id, "email": c.email, "phone": c.phone,
                        "first_name": c.first_name, "last_name": c.last_name, "timezone": c.timezone,
                        "locale": c.locale, "country": c.country, "custom": c.custom, "company_ids": c.company_ids,
                        "created_at": c.created_at, "updated_at": c.updated_at,
                    })
                },
            )?;
        }
        bar.inc(page.contacts.len() as u64);
        match page.next {
            Some(n) => filter.after = Some(n),
            None => break,
        }
    }
    sink.finish()?;
    bar.finish_and_clear();
    Ok(())
}

pub async fn events(store: &Store, ws: WorkspaceId, format: Format, path: Option<&Path>) -> Result<()> {
    let mut tx = store.begin().await?;
    let bar = progress(tx.count_events(ws).await?, "events");
    let mut sink = Sink::new(format, path)?;
    if let Sink::Csv(w) = &mut sink {
        w.write_record([
            "seq",
            "id",
            "contact_id",
            "type",
            "name",
            "message_id",
            "user_id",
            "anonymous_id",
            "timestamp",
            "received_at",
            "properties",
            "context",
        ])?;
    }
    let mut after = 0;
    loop {
        let events = tx.events_after(ws, after, PAGE).await?;
        for e in &events {
            sink.row(
                || {
                    vec![
                        e.seq.to_string(),
                        e.id.to_string(),
                        e.contact_id.to_string(),
                        e.kind.as_str().to_string(),
                        e.name.clone().unwrap_or_default(),
                        e.message_id.clone(),
                        e.user_id.clone().unwrap_or_default(),
                        e.anonymous_id.clone().unwrap_or_default(),
                        e.timestamp.to_rfc3339(),
                        e.received_at.to_rfc3339(),
                        e.properties.to_string(),
                        e.context.to_string(),
                    ]
                },
                || serde_json::to_value(e).unwrap_or_default(),
            )?;
        }
        bar.inc(events.len() as u64);
        match events.last() {
            Some(e) if events.len() as i64 == PAGE => after = e.seq,
            _ => break,
        }
    }
    sink.finish()?;
    bar.finish_and_clear();
    Ok(())
}
