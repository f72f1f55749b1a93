//! The Kairos store: one interface over two backends.
//!
//! [`Store`] opens either an embedded SQLite file (the default: one file, WAL)
//! or a PostgreSQL database (scale-out), applies that backend's migrations,
//! and hands out [`Tx`] transactions on which every query is defined once.
//! The SQL is written in the dialect both backends share (`$N` parameters,
//! `ON CONFLICT`, `RETURNING`); the few places that differ ask
//! [`Backend`] for the right spelling. The [`with_conn!`] macro expands
//! each query body once per backend, so both are type-checked against their
//! own sqlx driver with no dynamic dispatch on the hot path.
//!
//! Invariant: every method that touches workspace data takes the workspace
//! id and filters on it; no query can read or write across workspaces.

mod campaigns;
mod companies;
mod consent_texts;
mod consents;
mod contacts;
mod email;
mod events;
mod forms;
mod journeys;
mod models;
mod privacy;
mod reports;
mod retention;
mod rows;
mod scores;
mod segments;
mod settings;
mod suppressions;
pub mod testing;
mod users;
mod workspaces;

pub use campaigns::{CampaignRecord, Recipient, RecipientCounts};
pub use consent_texts::Retirement;
pub use contacts::{ContactCursor, ContactFilter, ContactOrder, ContactPage, ContactSort, CustomMatch, SortKey};
pub use email::{EmailDay, LinkClicks, MessageRecord, MessageTotals, SenderRecord, SnippetRecord, TemplateRecord};
pub use events::{EventCursor, MergeRecord};
pub use forms::{ConfirmationRecord, FormRecord};
pub use journeys::{Attempt, Intent, JourneyRecord, NodeCounts, PathRecord, RunRecord, WebhookEndpoint};
pub use models::{FairnessAudit, ModelSchedule, ModelScore};
pub use privacy::{AuditEntry, AuditFilter, Erasure};
pub use reports::{EmailMoment, EventMoment, MarketingCost};
pub use scores::{ContactScore, ScoreChange, ScoreRecord};
pub use segments::{ListRecord, LogEvent, MembershipChange, SegmentRecord};
pub use settings::RelayRecord;
pub use suppressions::Suppression;
pub use users::{Member, SessionRecord, User};
pub use workspaces::Workspace;

use kairos_core::ids::{CompanyId, ContactId, ListId, WorkspaceId};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;
use thiserror::Error;

/// Which database a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// Case-insensitive LIKE.
    pub(crate) fn ilike(self) -> &'static str {
        match self {
            Backend::Sqlite => "LIKE",
            Backend::Postgres => "ILIKE",
        }
    }
    /// Text of a top-level key of a JSON text column; the key is bound as
    /// parameter `$n`.
    pub(crate) fn json_text(self, column: &str, n: usize) -> String {
        match self {
            Backend::Sqlite => format!("json_extract({column}, '$.' || ${n})"),
            Backend::Postgres => format!("(({column})::jsonb ->> ${n})"),
        }
    }
}

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0} already exists")]
    Conflict(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("cannot open {url:?}: {reason}")]
    Open { url: String, reason: String },
}

impl StoreError {
    /// Map a unique-constraint violation to [`StoreError::Conflict`].
    pub(crate) fn conflict_as(what: impl Into<String>) -> impl FnOnce(sqlx::Error) -> StoreError {
        let what = what.into();
        move |e| match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict(what),
            _ => StoreError::Database(e),
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Clone, Debug)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A handle to the database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: Pool,
}

/// A transaction. Every query lives here; commit with [`Tx::commit`]
/// (dropping a `Tx` rolls it back).
pub struct Tx {
    conn: TxConn,
    /// What this transaction changed that derived state (segments) must
    /// learn about once it commits.
    touched: Touched,
    /// Contacts this transaction inserted (journeys started by a contact's
    /// creation read it).
    created: std::collections::HashSet<(WorkspaceId, ContactId)>,
}

#[doc(hidden)]
pub enum TxConn {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

/// The contacts and companies a transaction wrote, returned by
/// [`Tx::commit`] so the engine can bring derived state up to date.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Touched {
    /// Contacts created or updated (fields or company links).
    pub contacts: Vec<(WorkspaceId, ContactId)>,
    /// Contacts deleted, including those merged away.
    pub deleted: Vec<(WorkspaceId, ContactId)>,
    /// Contacts whose event history grew by a merge (the survivors).
    pub histories: Vec<(WorkspaceId, ContactId)>,
    pub companies: Vec<(WorkspaceId, CompanyId)>,
    /// Companies deleted (their contacts are in `contacts`).
    pub deleted_companies: Vec<(WorkspaceId, CompanyId)>,
    /// Static list memberships added (`true`) or removed (`false`).
    pub list_members: Vec<(WorkspaceId, ListId, ContactId, bool)>,
}

impl Touched {
    pub fn is_empty(&self) -> bool {
        self.contacts.is_empty()
            && self.deleted.is_empty()
            && self.histories.is_empty()
            && self.companies.is_empty()
            && self.deleted_companies.is_empty()
            && self.list_members.is_empty()
    }
}

/// Run `$body` with `$conn` bound to the transaction's connection, once per
/// backend.
#[macro_export]
#[doc(hidden)]
macro_rules! with_conn {
    ($tx:expr, $conn:ident => $body:expr) => {
        match $tx.conn_mut() {
            $crate::TxConn::Sqlite(t) => {
                let $conn = &mut **t;
                $body
            }
            $crate::TxConn::Postgres(t) => {
                let $conn = &mut **t;
                $body
            }
        }
    };
}

impl Tx {
    fn new(conn: TxConn) -> Tx {
        Tx { conn, touched: Touched::default(), created: Default::default() }
    }

    #[doc(hidden)]
    /// What this transaction has written so far.
    pub fn touched(&self) -> &Touched {
        &self.touched
    }

    /// Record contacts as changed by something the store cannot see (their
    /// scores), so derived state reads them again after the commit.
    pub fn touch_contacts(&mut self, ws: WorkspaceId, contacts: impl IntoIterator<Item = ContactId>) {
        self.touched.contacts.extend(contacts.into_iter().map(|c| (ws, c)));
    }

    /// Whether this transaction inserted the contact.
    pub fn created_contact(&self, ws: WorkspaceId, id: ContactId) -> bool {
        self.created.contains(&(ws, id))
    }

    pub fn conn_mut(&mut self) -> &mut TxConn {
        &mut self.conn
    }

    pub fn backend(&self) -> Backend {
        match self.conn {
            TxConn::Sqlite(_) => Backend::Sqlite,
            TxConn::Postgres(_) => Backend::Postgres,
        }
    }

    /// Record a contact write (duplicates are fine: readers de-duplicate,
    /// and a search here would make bulk imports quadratic).
    pub(crate) fn touch_contact(&mut self, ws: WorkspaceId, id: ContactId) {
        self.touched.contacts.push((ws, id));
    }

    /// Run a statement that may violate a constraint without spoiling the
    /// transaction: PostgreSQL aborts the whole transaction on any error, so
    /// there the statement runs inside a savepoint that is rolled back on
    /// failure. (SQLite already undoes only the failed statement.)
    pub(crate) async fn savepoint(&mut self) -> Result<()> {
        if let TxConn::Postgres(t) = &mut self.conn {
            sqlx::query("SAVEPOINT kairos_stmt").execute(&mut **t).await?;
        }
        Ok(())
    }

    pub(crate) async fn end_savepoint<T>(&mut self, result: Result<T>) -> Result<T> {
        if let TxConn::Postgres(t) = &mut self.conn {
            let sql =
                if result.is_ok() { "RELEASE SAVEPOINT kairos_stmt" } else { "ROLLBACK TO SAVEPOINT kairos_stmt" };
            sqlx::query(sql).execute(&mut **t).await?;
        }
        result
    }

    /// Begin a part of the transaction that can fail without failing the
    /// rest: [`Tx::end_part`] keeps it or undoes it (a savepoint on both
    /// backends).
    pub async fn begin_part(&mut self) -> Result<()> {
        with_conn!(self, c => sqlx::query("SAVEPOINT kairos_part").execute(c).await.map(|_| ()))?;
        Ok(())
    }

    /// Keep (`keep`) or undo the part begun by [`Tx::begin_part`].
    pub async fn end_part(&mut self, keep: bool) -> Result<()> {
        if !keep {
            with_conn!(self, c => sqlx::query("ROLLBACK TO SAVEPOINT kairos_part").execute(c).await.map(|_| ()))?;
        }
        with_conn!(self, c => sqlx::query("RELEASE SAVEPOINT kairos_part").execute(c).await.map(|_| ()))?;
        Ok(())
    }

    /// Commit; returns what the transaction wrote to contacts and companies.
    pub async fn commit(self) -> Result<Touched> {
        match self.conn {
            TxConn::Sqlite(t) => t.commit().await?,
            TxConn::Postgres(t) => t.commit().await?,
        }
        Ok(self.touched)
    }
}

/// How the SQLite backend syncs commits to disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// fsync the WAL on every commit: an acknowledged write survives power loss.
    Full,
    /// fsync at checkpoints only: survives a process crash, not power loss.
    Normal,
}

/// Copy the WAL into the database file off the commit path, twice a second,
/// until the pool closes. PASSIVE never blocks readers or writers.
async fn checkpoint_in_background(pool: SqlitePool) {
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        tick.tick().await;
        if pool.is_closed() {
            return;
        }
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&pool).await {
            if pool.is_closed() {
                return;
            }
            tracing::warn!(error = %e, "background WAL checkpoint failed");
        }
    }
}

impl Store {
    /// Open (creating if needed) a store. `url` is `sqlite://PATH`,
    /// `postgres://…` or `postgresql://…`.
    pub async fn open(url: &str) -> Result<Self> {
        Self::open_with(url, Durability::Full).await
    }

    pub async fn open_with(url: &str, durability: Durability) -> Result<Self> {
        let open_err = |reason: String| StoreError::Open { url: url.to_string(), reason };
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            // Plan every execution with its parameters and the table's
            // current size: a generic plan cached while the log was small
            // keeps scanning it whole once it has grown (22 ms per
            // de-duplication lookup, measured, before this).
            let opts = PgConnectOptions::from_str(url)
                .map_err(|e| open_err(e.to_string()))?
                .options([("plan_cache_mode", "force_custom_plan")]);
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts)
                .await
                .map_err(|e| open_err(e.to_string()))?;
            Ok(Store { pool: Pool::Postgres(pool) })
        } else if let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
            Self::open_sqlite(Path::new(path), durability).await.map_err(|e| open_err(e.to_string()))
        } else {
            Err(open_err("use sqlite://PATH or postgres://USER@HOST/DB".to_string()))
        }
    }

    /// Open the embedded SQLite store at `path`.
    pub async fn open_sqlite(path: &Path, durability: Durability) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Open { url: path.display().to_string(), reason: e.to_string() })?;
        }
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(match durability {
                Durability::Full => SqliteSynchronous::Full,
                Durability::Normal => SqliteSynchronous::Normal,
            })
            .busy_timeout(Duration::from_secs(30))
            .pragma("cache_size", "-65536")
            .pragma("temp_store", "memory")
            // Committing writers would otherwise checkpoint the WAL inline
            // every 4 MB; a background task does it instead, and this only
            // kicks in if that task falls far behind.
            .pragma("wal_autocheckpoint", "16384")
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new().max_connections(4).connect_with(opts).await?;
        tokio::spawn(checkpoint_in_background(pool.clone()));
        Ok(Store { pool: Pool::Sqlite(pool) })
    }

    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Apply this backend's pending migrations.
    pub async fn migrate(&self) -> Result<()> {
        match &self.pool {
            Pool::Sqlite(p) => sqlx::migrate!("./migrations/sqlite").run(p).await?,
            Pool::Postgres(p) => sqlx::migrate!("./migrations/postgres").run(p).await?,
        }
        Ok(())
    }

    /// Start a transaction. SQLite transactions that will write should use
    /// [`Store::begin_write`] to take the write lock up front.
    pub async fn begin(&self) -> Result<Tx> {
        Ok(match &self.pool {
            Pool::Sqlite(p) => Tx::new(TxConn::Sqlite(p.begin().await?)),
            Pool::Postgres(p) => Tx::new(TxConn::Postgres(p.begin().await?)),
        })
    }

    /// Start a transaction that will write. On SQLite this takes the write
    /// lock at once (`BEGIN IMMEDIATE`), which avoids deadlock-style
    /// SQLITE_BUSY errors when a read transaction later tries to upgrade.
    pub async fn begin_write(&self) -> Result<Tx> {
        Ok(match &self.pool {
            Pool::Sqlite(p) => Tx::new(TxConn::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?)),
            Pool::Postgres(p) => Tx::new(TxConn::Postgres(p.begin().await?)),
        })
    }

    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
        }
    }
}
