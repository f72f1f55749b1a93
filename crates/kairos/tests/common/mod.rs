//! Helpers for tests that drive the real `kairos` binary.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub fn kairos() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kairos"));
    c.env("KAIROS_LOG", "warn");
    c
}

/// Database flags: the embedded store in `dir`, or PostgreSQL at `url`.
pub fn db_args(dir: &Path, url: Option<&str>) -> Vec<String> {
    let mut args = vec!["--data-dir".to_string(), dir.display().to_string()];
    if let Some(u) = url {
        args.push("--database-url".into());
        args.push(u.into());
    }
    args
}

/// Run `kairos ARGS` to completion; panic with its stderr on failure.
pub fn run(args: &[String]) -> String {
    let out = kairos().args(args).output().expect("run kairos");
    assert!(out.status.success(), "kairos {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `kairos key create` and the secret it prints.
pub fn key(db: &[String], scope: &str) -> String {
    let mut args = db.to_vec();
    args.extend(["key".into(), "create".into(), "--scope".into(), scope.into()]);
    run(&args).trim().to_string()
}

/// A running `kairos serve`.
pub struct Server {
    pub child: Child,
    pub url: String,
}

impl Server {
    pub fn start(db: &[String]) -> Server {
        Server::start_with(db, &[])
    }

    /// `kairos serve` with extra flags.
    pub fn start_with(db: &[String], extra: &[&str]) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut args = db.to_vec();
        args.extend(["serve".into(), "--listen".into(), format!("127.0.0.1:{port}")]);
        args.extend(extra.iter().map(|s| s.to_string()));
        let mut child =
            kairos().args(&args).stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().expect("spawn kairos serve");
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        assert!(line.contains("listening on"), "unexpected first line: {line:?}");
        let url = line.trim().rsplit(' ').next().unwrap().to_string();
        Server { child, url }
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

pub fn get(url: &str, key: &str) -> serde_json::Value {
    reqwest::blocking::Client::new().get(url).bearer_auth(key).send().unwrap().json().unwrap()
}

pub fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    for _ in 0..200 {
        if cond() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("timed out waiting for {what}");
}

/// PostgreSQL database URL for a binary test, or None outside CI when
/// PostgreSQL is unreachable.
pub fn postgres_url() -> Option<String> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(kairos_store::testing::postgres_url())
}

pub fn require_python_module(module: &str) -> bool {
    let ok = Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        if kairos_store::testing::in_ci() {
            panic!("python module {module} is required under CI=true (scripts/test installs it)");
        }
        eprintln!("SKIPPING: python module {module} is not installed; run scripts/test to install it");
    }
    ok
}
