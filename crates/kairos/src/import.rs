//! `kairos import contacts FILE.csv`: a streaming, all-or-nothing contact
//! import. Rows are read and validated in chunks (constant memory for any
//! file size), matched to existing contacts by email or external id, and
//! written in one transaction: either every valid row lands or, on any
//! failure, nothing does. Invalid rows are rejected one by one — row number,
//! column, reason — into a report file, and never stop the valid ones.

use anyhow::{bail, Context, Result};
use chrono::Utc;
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use kairos_core::consent::Channel;
use kairos_core::contact::{Contact, ContactPatch, PATCHABLE_STANDARD};
use kairos_core::fields::{FieldDefinition, FieldEntity, FieldType};
use kairos_core::gate::address_hash;
use kairos_store::{Store, Tx};
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Args, Clone)]
pub struct ImportArgs {
    /// CSV file with a header row naming contact fields.
    pub file: PathBuf,
    /// Validate and match every row, report what would happen, change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// The workspace to import into (created if it does not exist).
    #[arg(long, default_value = "default")]
    pub workspace: String,
    /// Which column identifies an existing contact.
    #[arg(long = "match", value_enum, default_value_t = MatchOn::Email)]
    pub match_on: MatchOn,
    /// Define columns that are not fields yet as string custom fields.
    #[arg(long)]
    pub create_fields: bool,
    /// Where to write rejected rows (default: FILE.rejected.csv).
    #[arg(long)]
    pub rejects: Option<PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MatchOn {
    Email,
    ExternalId,
}

/// Columns an export writes that an import does not set.
const READ_ONLY: &[&str] = &["id", "created_at", "updated_at", "company_ids"];
const CHUNK: usize = 5000;

/// One rejected row.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    /// 1-based line number in the file (the header is line 1).
    pub line: u64,
    pub column: String,
    pub reason: String,
}

/// How each CSV column is used.
#[derive(Debug, Clone)]
enum Column {
    Standard(String),
    Custom(String),
    Ignored,
}

/// Map the header to columns; unknown columns are an error unless
/// `create` (then they are returned for definition as string fields).
fn plan_columns(
    headers: &csv::StringRecord,
    types: &HashMap<String, FieldType>,
    create: bool,
) -> Result<(Vec<Column>, Vec<String>)> {
    let mut cols = Vec::new();
    let mut unknown = Vec::new();
    for h in headers.iter() {
        let name = h.trim();
        if PATCHABLE_STANDARD.contains(&name) {
            cols.push(Column::Standard(name.to_string()));
        } else if READ_ONLY.contains(&name) || name.is_empty() {
            cols.push(Column::Ignored);
        } else if types.contains_key(name) {
            cols.push(Column::Custom(name.to_string()));
        } else {
            unknown.push(name.to_string());
            cols.push(Column::Custom(name.to_string()));
        }
    }
    if !unknown.is_empty() && !create {
        bail!(
            "these columns are not contact fields: {}. Define them first (POST /api/v1/fields), pass --create-fields to define them as string fields, or remove them",
            unknown.join(", ")
        );
    }
    if !cols.iter().any(|c| matches!(c, Column::Standard(n) if n == "email" || n == "external_id")) {
        bail!("the file needs an email or external_id column to identify contacts");
    }
    Ok((cols, unknown))
}

/// Turn one record into a validated patch (applied to a scratch contact to
/// check it). Empty cells leave fields alone.
fn row_patch(
    record: &csv::StringRecord,
    cols: &[Column],
    types: &HashMap<String, FieldType>,
) -> Result<ContactPatch, (String, String)> {
    let mut patch = ContactPatch::default();
    for (i, col) in cols.iter().enumerate() {
        let cell = record.get(i).unwrap_or("").trim();
        if cell.is_empty() {
            continue;
        }
        match col {
            Column::Standard(n) => {
                patch.standard.insert(n.clone(), Some(cell.to_string()));
            }
            Column::Custom(n) => {
                let v = match types.get(n) {
                    Some(FieldType::List) => {
                        Value::Array(cell.split(';').map(|s| Value::String(s.trim().to_string())).collect())
                    }
                    _ => Value::String(cell.to_string()),
                };
                patch.custom.insert(n.clone(), v);
            }
            Column::Ignored => {}
        }
    }
    if !patch.standard.contains_key("email") && !patch.standard.contains_key("external_id") {
        return Err(("email".into(), "the row has neither an email nor an external_id".into()));
    }
    let mut scratch = Contact::new(kairos_core::ids::WorkspaceId(uuid::Uuid::nil()), Utc::now());
    patch
        .apply(&mut scratch, Utc::now(), &|n| types.get(n).copied())
        .map_err(|e| (columns_of(&e).unwrap_or_else(|| "row".into()), e.to_string()))?;
    // Store canonical values (normalised email etc.) in the patch.
    for name in patch.standard.clone().keys() {
        let v = scratch.standard(name).cloned().flatten();
        patch.standard.insert(name.clone(), v);
    }
    Ok(patch)
}

#[derive(Default, Debug, PartialEq)]
pub struct ImportSummary {
    pub rows: u64,
    pub created: u64,
    pub updated: u64,
    pub rejected: Vec<Rejection>,
}

/// Run an import inside `tx` (the caller commits or rolls back).
pub async fn import_into(
    tx: &mut Tx,
    ws: kairos_core::ids::WorkspaceId,
    reader: impl std::io::Read,
    args: &ImportArgs,
    progress: &ProgressBar,
) -> Result<ImportSummary> {
    let mut csv = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::Headers).from_reader(reader);
    let headers = csv.headers().context("reading the header row")?.clone();
    let mut types: HashMap<String, FieldType> = tx
        .list_fields(ws)
        .await?
        .into_iter()
        .filter(|f| f.entity == FieldEntity::Contact)
        .map(|f| (f.name, f.field_type))
        .collect();
    let (cols, unknown) = plan_columns(&headers, &types, args.create_fields)?;
    for name in unknown {
        kairos_core::fields::validate_field_name(FieldEntity::Contact, &name)
            .map_err(|e| anyhow::anyhow!("column {name:?}: {e}"))?;
        let def = FieldDefinition {
            entity: FieldEntity::Contact,
            name: name.clone(),
            field_type: FieldType::String,
            label: None,
        };
        tx.define_field(ws, &def, Utc::now()).await?;
        types.insert(name, FieldType::String);
    }
    let mut summary = ImportSummary::default();
    let mut chunk: Vec<(u64, ContactPatch)> = Vec::with_capacity(CHUNK);
    let mut record = csv::StringRecord::new();
    loop {
        let more = match csv.read_record(&mut record) {
            Ok(more) => more,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                summary.rejected.push(Rejection { line, column: "row".into(), reason: format!("unreadable CSV: {e}") });
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    return Err(e).context("reading the file");
                }
                continue;
            }
        };
        if more {
            summary.rows += 1;
            let line = record.position().map(|p| p.line()).unwrap_or(summary.rows + 1);
            match row_patch(&record, &cols, &types) {
                Ok(p) => chunk.push((line, p)),
                Err((column, reason)) => summary.rejected.push(Rejection { line, column, reason }),
            }
        }
        if chunk.len() >= CHUNK || (!more && !chunk.is_empty()) {
            write_chunk(tx, ws, std::mem::take(&mut chunk), args.match_on, &types, &mut summary).await?;
            progress.set_position(csv.position().byte());
            progress.set_message(format!("{} rows", summary.rows));
        }
        if !more {
            break;
        }
    }
    summary.rejected.sort_by_key(|r| r.line);
    Ok(summary)
}

async fn write_chunk(
    tx: &mut Tx,
    ws: kairos_core::ids::WorkspaceId,
    rows: Vec<(u64, ContactPatch)>,
    match_on: MatchOn,
    types: &HashMap<String, FieldType>,
    summary: &mut ImportSummary,
) -> Result<()> {
    let get = |p: &ContactPatch, k: &str| p.standard.get(k).cloned().flatten();
    // Erased people stay erased: a row with their address is refused.
    let salt = tx.address_salt(ws).await?;
    let hashed = |c: Channel, a: &str| address_hash(&salt, c, a);
    let email_hashes: Vec<String> =
        rows.iter().filter_map(|(_, p)| get(p, "email")).map(|e| hashed(Channel::Email, &e)).collect();
    let phone_hashes: Vec<String> =
        rows.iter().filter_map(|(_, p)| get(p, "phone")).map(|e| hashed(Channel::Sms, &e)).collect();
    let erased_emails = tx.erased_among(ws, Channel::Email, &email_hashes).await?;
    let erased_phones = tx.erased_among(ws, Channel::Sms, &phone_hashes).await?;
    let mut kept = Vec::with_capacity(rows.len());
    for (line, p) in rows {
        let erased = get(&p, "email")
            .filter(|e| erased_emails.contains(&hashed(Channel::Email, e)))
            .map(|_| "email")
            .or_else(|| get(&p, "phone").filter(|x| erased_phones.contains(&hashed(Channel::Sms, x))).map(|_| "phone"));
        match erased {
            Some(column) => summary.rejected.push(Rejection {
                line,
                column: column.into(),
                reason: "belongs to a person who was erased; it stays suppressed".into(),
            }),
            None => kept.push((line, p)),
        }
    }
    let rows = kept;
    let emails: Vec<String> = rows.iter().filter_map(|(_, p)| get(p, "email")).collect();
    let externals: Vec<String> = rows.iter().filter_map(|(_, p)| get(p, "external_id")).collect();
    let mut by_email: HashMap<String, Contact> = HashMap::new();
    let mut by_ext: HashMap<String, kairos_core::ids::ContactId> = HashMap::new();
    let mut contacts: HashMap<kairos_core::ids::ContactId, (Contact, bool)> = HashMap::new();
    for c in tx
        .contacts_where_in(ws, true, &emails)
        .await?
        .into_iter()
        .chain(tx.contacts_where_in(ws, false, &externals).await?)
    {
        if let Some(e) = &c.email {
            by_email.insert(e.clone(), c.clone());
        }
        if let Some(x) = &c.external_id {
            by_ext.insert(x.clone(), c.id);
        }
        contacts.entry(c.id).or_insert((c, false));
    }
    let by_email: HashMap<String, kairos_core::ids::ContactId> = by_email.into_iter().map(|(k, c)| (k, c.id)).collect();
    let (mut by_email, mut by_ext) = (by_email, by_ext);
    let mut created_order = Vec::new();
    let mut touched = std::collections::HashSet::new();
    let now = Utc::now();
    for (line, patch) in rows {
        let email = get(&patch, "email");
        let ext = get(&patch, "external_id");
        let found_email = email.as_ref().and_then(|e| by_email.get(e).copied());
        let found_ext = ext.as_ref().and_then(|x| by_ext.get(x).copied());
        let (primary, secondary, sec_col) = match match_on {
            MatchOn::Email => (found_email, found_ext, "external_id"),
            MatchOn::ExternalId => (found_ext, found_email, "email"),
        };
        let target = match (primary, secondary) {
            (Some(p), Some(s)) if p != s => {
                summary.rejected.push(Rejection {
                    line,
                    column: sec_col.into(),
                    reason: format!("belongs to another contact ({s})"),
                });
                continue;
            }
            (Some(p), _) => Some(p),
            (None, Some(s)) => {
                summary.rejected.push(Rejection {
                    line,
                    column: sec_col.into(),
                    reason: format!("belongs to contact {s}, which this row does not match"),
                });
                continue;
            }
            (None, None) => None,
        };
        let id = match target {
            Some(id) => id,
            None => {
                let c = Contact::new(ws, now);
                let id = c.id;
                contacts.insert(id, (c, true));
                created_order.push(id);
                id
            }
        };
        let Some((c, is_new)) = contacts.get_mut(&id) else { continue };
        let before = c.clone();
        if let Err(e) = patch.apply(c, now, &|n| types.get(n).copied()) {
            *c = before;
            summary.rejected.push(Rejection {
                line,
                column: columns_of(&e).unwrap_or_default(),
                reason: e.to_string(),
            });
            continue;
        }
        if !*is_new {
            touched.insert(id);
        }
        if let Some(e) = &c.email {
            by_email.insert(e.clone(), id);
        }
        if let Some(x) = &c.external_id {
            by_ext.insert(x.clone(), id);
        }
        if target.is_some() {
            summary.updated += 1;
        } else {
            summary.created += 1;
        }
    }
    let mut new = Vec::with_capacity(created_order.len());
    for id in &created_order {
        if let Some((c, _)) = contacts.remove(id) {
            new.push(c);
        }
    }
    tx.insert_contacts(&new).await?;
    for id in touched {
        if let Some((c, _)) = contacts.get(&id) {
            tx.update_contact(c).await?;
        }
    }
    Ok(())
}

/// The CLI command.
pub async fn contacts(store: &Store, args: &ImportArgs) -> Result<()> {
    let file = std::fs::File::open(&args.file).with_context(|| format!("opening {}", args.file.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let ws = crate::workspace(store, &args.workspace).await?;
    let progress = ProgressBar::with_draw_target(Some(size), ProgressDrawTarget::stderr());
    progress.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {msg} (eta {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let started = Instant::now();
    let mut tx = store.begin_write().await?;
    let summary =
        import_into(&mut tx, ws.id, std::io::BufReader::with_capacity(1 << 20, file), args, &progress).await?;
    if args.dry_run {
        drop(tx);
    } else {
        // The audit entry commits with the rows it describes.
        let detail = serde_json::json!({
            "file": args.file.display().to_string(), "rows": summary.rows, "created": summary.created,
            "updated": summary.updated, "rejected": summary.rejected.len(),
        });
        tx.audit(ws.id, chrono::Utc::now().timestamp_millis(), "cli", "contacts.imported", &ws.id.to_string(), &detail)
            .await?;
        tx.commit().await.context("committing the import")?;
    }
    progress.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    let verb = if args.dry_run { "would create" } else { "created" };
    println!(
        "{} rows read in {:.1}s ({:.0} rows/s): {verb} {}, {} {}, rejected {}{}",
        summary.rows,
        secs,
        summary.rows as f64 / secs.max(1e-9),
        summary.created,
        if args.dry_run { "would update" } else { "updated" },
        summary.updated,
        summary.rejected.len(),
        if args.dry_run { " (dry run: nothing was changed)" } else { "" }
    );
    if !summary.rejected.is_empty() {
        let path = args.rejects.clone().unwrap_or_else(|| {
            let mut p = args.file.clone().into_os_string();
            p.push(".rejected.csv");
            p.into()
        });
        let mut w = csv::Writer::from_path(&path).with_context(|| format!("writing {}", path.display()))?;
        w.write_record(["line", "column", "reason"])?;
        for r in &summary.rejected {
            w.write_record([r.line.to_string(), r.column.clone(), r.reason.clone()])?;
        }
        w.flush()?;
        for r in summary.rejected.iter().take(10) {
            eprintln!("line {}: {}: {}", r.line, r.column, r.reason);
        }
        if summary.rejected.len() > 10 {
            eprintln!("… {} more", summary.rejected.len() - 10);
        }
        eprintln!("every rejected row is listed in {}", path.display());
    }
    Ok(())
}

/// Every column a row's problems are about, so the report names all of them.
fn columns_of(e: &kairos_core::contact::ContactError) -> Option<String> {
    let fields: Vec<String> = e.each().iter().filter_map(|e| e.field()).collect();
    (!fields.is_empty()).then(|| fields.join(", "))
}
