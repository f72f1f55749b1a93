//! Contact import benchmark: `kairos import contacts` on a generated CSV
//! (default 1,000,000 rows) against the sqlite3 shell's `.import` of the
//! same file into a bare table (no validation, no normalisation, no
//! matching) in the same run. Reports rows/s and the importer's peak RSS.
//!
//! cargo build --release -p kairos -p kairos-bench
//! ./target/release/import [--rows 1000000] [--kairos target/release/kairos]

use anyhow::{bail, Context, Result};
use clap::Parser;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

#[derive(Parser)]
struct Args {
    #[arg(long, default_value_t = 1_000_000)]
    rows: usize,
    /// The kairos binary to measure.
    #[arg(long, default_value = "target/release/kairos")]
    kairos: PathBuf,
}

const FIRST: &[&str] = &["Ada", "Grace", "Alan", "Katherine", "Linus", "Margaret", "Dennis", "Barbara", "Ken", "Radia"];
const LAST: &[&str] =
    &["Lovelace", "Hopper", "Turing", "Johnson", "Torvalds", "Hamilton", "Ritchie", "Liskov", "Thompson"];
const COUNTRIES: &[(&str, &str)] =
    &[("US", "+1 415 555 "), ("GB", "+44 20 7946 "), ("DE", "+49 30 9018"), ("FR", "+33 1 42 68 ")];

/// A realistic contact file: names, emails, countries, a phone for a third
/// of the rows, two custom fields, and 0.5% invalid emails.
fn generate(path: &Path, rows: usize) -> Result<()> {
    let mut rng = StdRng::seed_from_u64(1);
    let mut w = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    writeln!(w, "email,external_id,first_name,last_name,country,phone,plan,signup_date")?;
    for i in 0..rows {
        let first = FIRST[rng.gen_range(0..FIRST.len())];
        let last = LAST[rng.gen_range(0..LAST.len())];
        let (country, prefix) = COUNTRIES[rng.gen_range(0..COUNTRIES.len())];
        let email = if rng.gen_ratio(1, 200) {
            format!("broken-{i}")
        } else {
            format!("{}.{}{i}@Example.com", first.to_lowercase(), last.to_lowercase())
        };
        let phone =
            if rng.gen_ratio(1, 3) { format!("{prefix}{:04}", rng.gen_range(1000..9999)) } else { String::new() };
        let plan = ["free", "starter", "pro"][rng.gen_range(0..3)];
        writeln!(
            w,
            "{email},crm-{i},{first},{last},{country},{phone},{plan},2024-{:02}-{:02}",
            rng.gen_range(1..13),
            rng.gen_range(1..29)
        )?;
    }
    w.flush()?;
    Ok(())
}

/// Run a command under GNU time; returns its output and peak RSS in MiB.
fn measured(program: &Path, args: &[String]) -> Result<(std::process::Output, f64)> {
    let out = Command::new("/usr/bin/time")
        .args(["-f", "peak-rss-kib %M"])
        .arg(program)
        .args(args)
        .output()
        .context("running /usr/bin/time (apt-get install time)")?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    let kib: f64 = stderr
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("peak-rss-kib "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0);
    Ok((out, kib / 1024.0))
}

fn main() -> Result<()> {
    let args = Args::parse();
    if !args.kairos.exists() {
        bail!("{} not found: cargo build --release -p kairos", args.kairos.display());
    }
    let dir = tempfile::tempdir()?;
    let csv = dir.path().join("contacts.csv");
    let t = Instant::now();
    generate(&csv, args.rows)?;
    let size = std::fs::metadata(&csv)?.len();
    eprintln!("generated {} rows ({:.0} MB) in {:.1}s", args.rows, size as f64 / 1e6, t.elapsed().as_secs_f64());

    let raw_db = dir.path().join("raw.db");
    let t = Instant::now();
    let (out, raw_rss) = measured(
        Path::new("sqlite3"),
        &[raw_db.display().to_string(), format!(".import --csv {} contacts_raw", csv.display())],
    )?;
    if !out.status.success() {
        bail!("sqlite3 .import failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let raw_secs = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let (out, rss) = measured(
        &args.kairos,
        &[
            "--data-dir".into(),
            dir.path().join("kairos").display().to_string(),
            "import".into(),
            "contacts".into(),
            csv.display().to_string(),
            "--create-fields".into(),
        ],
    )?;
    let secs = t.elapsed().as_secs_f64();
    if !out.status.success() {
        bail!("kairos import failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    println!("kairos says:        {}", String::from_utf8_lossy(&out.stdout).trim());
    println!("kairos import:      {} rows in {secs:.1}s = {:.0} rows/s, peak RSS {rss:.0} MiB (validated, normalised, matched, one transaction)", args.rows, args.rows as f64 / secs);
    println!("sqlite3 .import:    {} rows in {raw_secs:.1}s = {:.0} rows/s, peak RSS {raw_rss:.0} MiB (bare table, no validation)", args.rows, args.rows as f64 / raw_secs);
    println!("ratio kairos / raw: {:.2}", raw_secs / secs);
    Ok(())
}
