//! Test support: fresh, migrated stores on both backends, so every suite
//! that touches storage runs the same assertions on SQLite and PostgreSQL.
//!
//! PostgreSQL is reached at `KAIROS_TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`); each store gets a database
//! of its own. When PostgreSQL is unreachable the PostgreSQL half is skipped
//! with a message — except under `CI=true`, where that is a failure.

use crate::{Backend, Store};
use sqlx::Connection;
use std::time::{SystemTime, UNIX_EPOCH};

/// A store for one test; keeps its SQLite directory alive.
pub struct TestStore {
    pub store: Store,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestStore {
    pub fn backend(&self) -> Backend {
        self.store.backend()
    }
}

fn admin_url() -> String {
    std::env::var("KAIROS_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// A fresh, migrated SQLite store in a temporary directory.
pub async fn sqlite() -> TestStore {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("kairos.db");
    let url = format!("sqlite://{}", path.display());
    let store = Store::open(&url).await.expect("open sqlite");
    store.migrate().await.expect("migrate sqlite");
    TestStore { store, url, _dir: Some(dir) }
}

/// A URL of a fresh, empty PostgreSQL database, or None (outside CI) when
/// PostgreSQL is unreachable.
pub async fn postgres_url() -> Option<String> {
    let admin = admin_url();
    let mut conn = match sqlx::PgConnection::connect(&admin).await {
        Ok(c) => c,
        Err(e) => {
            if in_ci() {
                panic!("PostgreSQL is required under CI=true but {admin} is unreachable: {e}");
            }
            eprintln!("SKIPPING PostgreSQL half: {admin} unreachable ({e}); set CI=true to make this fatal");
            return None;
        }
    };
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    // Drop databases left behind by test runs more than an hour old.
    let old: Vec<String> = sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'kairos_t_%'")
        .fetch_all(&mut conn)
        .await
        .unwrap_or_default();
    for name in old {
        let ts: u64 = name.split('_').nth(2).and_then(|s| s.parse().ok()).unwrap_or(u64::MAX);
        if ts + 3600 < now {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name}")).execute(&mut conn).await;
        }
    }
    let name = format!("kairos_t_{now}_{:08x}", rand::random::<u32>());
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.expect("create test database");
    let base = admin.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap_or(admin);
    Some(format!("{base}/{name}"))
}

/// A fresh, migrated PostgreSQL store, or None (outside CI) when unreachable.
pub async fn postgres() -> Option<TestStore> {
    let url = postgres_url().await?;
    let store = Store::open(&url).await.expect("open postgres");
    store.migrate().await.expect("migrate postgres");
    Some(TestStore { store, url, _dir: None })
}

/// Fresh stores on every available backend.
pub async fn all() -> Vec<TestStore> {
    let mut out = vec![sqlite().await];
    out.extend(postgres().await);
    out
}

/// Every row of every table, as text (`table`, row), for tests that prove
/// something is gone everywhere — tables added later are covered too.
pub async fn all_rows_as_text(url: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if url.starts_with("postgres") {
        let mut conn = sqlx::PgConnection::connect(url).await.expect("connect to PostgreSQL");
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
        )
        .fetch_all(&mut conn)
        .await
        .expect("list tables");
        for t in tables {
            let rows: Vec<String> = sqlx::query_scalar(&format!("SELECT t::text FROM \"{t}\" t"))
                .fetch_all(&mut conn)
                .await
                .expect("read table");
            out.extend(rows.into_iter().map(|r| (t.clone(), r)));
        }
    } else {
        let mut conn = sqlx::SqliteConnection::connect(url).await.expect("connect to SQLite");
        let tables: Vec<String> =
            sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
                .fetch_all(&mut conn)
                .await
                .expect("list tables");
        for t in tables {
            let cols: Vec<String> = sqlx::query_scalar(&format!("SELECT name FROM pragma_table_info('{t}')"))
                .fetch_all(&mut conn)
                .await
                .expect("columns");
            let expr = cols.iter().map(|c| format!("quote(\"{c}\")")).collect::<Vec<_>>().join(" || '|' || ");
            let rows: Vec<String> = sqlx::query_scalar(&format!("SELECT {expr} FROM \"{t}\""))
                .fetch_all(&mut conn)
                .await
                .expect("read table");
            out.extend(rows.into_iter().map(|r| (t.clone(), r)));
        }
    }
    out
}

/// One request the webhook receiver logged.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: String,
    pub status: u16,
    /// Whether the reference `standardwebhooks` library verified the signature.
    pub verified: bool,
    pub path: String,
    pub body: serde_json::Value,
}

/// The workspace's independent webhook receiver (`tests/webhook_receiver.py`:
/// Python's HTTP server verifying each delivery with the reference
/// Standard Webhooks library), running as its own process so it outlives a
/// killed Kairos server.
pub struct WebhookReceiver {
    child: std::process::Child,
    pub url: String,
    log: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl WebhookReceiver {
    /// Start it, or `None` outside CI when Python's `standardwebhooks` is
    /// missing (under `CI=true` that is a failure, not a skip).
    pub fn start(secret: &str) -> Option<WebhookReceiver> {
        use std::io::BufRead;
        let has_module = std::process::Command::new("python3")
            .args(["-c", "import standardwebhooks"])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !has_module {
            if in_ci() {
                panic!("python module standardwebhooks is required under CI=true (scripts/test installs it)");
            }
            eprintln!("SKIPPING: python module standardwebhooks is not installed; run scripts/test to install it");
            return None;
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let log = dir.path().join("deliveries.log");
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port").port();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/webhook_receiver.py");
        let mut child = std::process::Command::new("python3")
            .args([script, &port.to_string(), secret, &log.display().to_string()])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("start the webhook receiver");
        let mut line = String::new();
        if let Some(out) = child.stdout.take() {
            let _ = std::io::BufReader::new(out).read_line(&mut line);
        }
        assert_eq!(line.trim(), "ready", "the webhook receiver did not start");
        Some(WebhookReceiver { child, url: format!("http://127.0.0.1:{port}"), log, _dir: dir })
    }

    /// Every request received so far, in order.
    pub fn deliveries(&self) -> Vec<Delivery> {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        text.lines()
            .filter_map(|l| {
                let mut p = l.splitn(5, '\t');
                Some(Delivery {
                    id: p.next()?.to_string(),
                    status: p.next()?.parse().ok()?,
                    verified: p.next()? == "True",
                    path: p.next()?.to_string(),
                    body: serde_json::from_str(p.next()?).ok()?,
                })
            })
            .collect()
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A real SMTP server for tests (`tests/smtp_receiver.py`): aiosmtpd
/// receives, Python's `email` package parses, dkimpy verifies DKIM against
/// the keys published with [`SmtpReceiver::publish`]. `hardbounce@…` is
/// refused with 550, `greylist@…` with 451 once.
pub struct SmtpReceiver {
    child: std::process::Child,
    pub port: u16,
    log: std::path::PathBuf,
    dns: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl SmtpReceiver {
    /// Start it, or `None` outside CI when aiosmtpd or dkimpy is missing
    /// (under `CI=true` that is a failure, not a skip).
    pub fn start() -> Option<SmtpReceiver> {
        SmtpReceiver::start_with(&[])
    }

    /// Start it with environment settings: `SMTP_TLS_CERT`/`SMTP_TLS_KEY`
    /// (require STARTTLS), `SMTP_AUTH=user:password` (require AUTH).
    pub fn start_with(env: &[(&str, &str)]) -> Option<SmtpReceiver> {
        use std::io::BufRead;
        let has_modules = std::process::Command::new("python3")
            .args(["-c", "import aiosmtpd, dkim, nacl"])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !has_modules {
            if in_ci() {
                panic!("python modules aiosmtpd, dkimpy and pynacl are required under CI=true (scripts/test installs them)");
            }
            eprintln!(
                "SKIPPING: python modules aiosmtpd/dkimpy/pynacl are not installed; run scripts/test to install them"
            );
            return None;
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let log = dir.path().join("messages.jsonl");
        let dns = dir.path().join("dns.json");
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port").port();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/smtp_receiver.py");
        let mut child = std::process::Command::new("python3")
            .args([script, &port.to_string(), &log.display().to_string(), &dns.display().to_string()])
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("start the SMTP receiver");
        let mut line = String::new();
        if let Some(out) = child.stdout.take() {
            let _ = std::io::BufReader::new(out).read_line(&mut line);
        }
        assert_eq!(line.trim(), "ready", "the SMTP receiver did not start");
        Some(SmtpReceiver { child, port, log, dns, _dir: dir })
    }

    /// The lettre URL to send through it.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Publish a TXT record (the receiver's stand-in for DNS).
    pub fn publish(&self, name: &str, value: &str) {
        let mut records: serde_json::Map<String, serde_json::Value> =
            std::fs::read_to_string(&self.dns).ok().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default();
        records.insert(name.trim_end_matches('.').to_string(), serde_json::Value::String(value.to_string()));
        std::fs::write(&self.dns, serde_json::Value::Object(records).to_string()).expect("write the DNS file");
    }

    /// Every message received so far, as the receiver parsed it.
    pub fn messages(&self) -> Vec<serde_json::Value> {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
    }
}

impl Drop for SmtpReceiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
