//! `kairos dkim generate` (a key pair and the DNS record to publish, for
//! operators who keep keys outside Kairos) and `kairos email sender create`
//! (a sender identity with a new DKIM key, stored in the data directory or
//! database; prints the record to publish before sending).

use anyhow::Result;
use base64::Engine as _;
use clap::{Subcommand, ValueEnum};
use kairos_email::dkim::{self, Algorithm};
use kairos_engine::{Engine, NewSender};
use kairos_store::Store;

#[derive(Clone, Copy, ValueEnum)]
pub enum AlgorithmArg {
    Ed25519,
    Rsa2048,
}

impl From<AlgorithmArg> for Algorithm {
    fn from(a: AlgorithmArg) -> Self {
        match a {
            AlgorithmArg::Ed25519 => Algorithm::Ed25519,
            AlgorithmArg::Rsa2048 => Algorithm::Rsa2048,
        }
    }
}

#[derive(Subcommand)]
pub enum DkimCommand {
    /// Generate a DKIM key pair: prints the TXT record to publish and the
    /// private key (PEM).
    Generate {
        #[arg(long)]
        domain: String,
        #[arg(long, default_value = "kairos")]
        selector: String,
        #[arg(long, value_enum, default_value = "rsa2048")]
        algorithm: AlgorithmArg,
    },
}

#[derive(Subcommand)]
pub enum EmailCommand {
    /// Create a sender identity with a new DKIM key and print the DNS record.
    SenderCreate {
        /// The From address, e.g. news@example.com.
        #[arg(long)]
        email: String,
        /// The From display name.
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        reply_to: Option<String>,
        #[arg(long, default_value = "kairos")]
        selector: String,
        #[arg(long, value_enum, default_value = "rsa2048")]
        algorithm: AlgorithmArg,
        /// Make it the workspace's default sender.
        #[arg(long)]
        default: bool,
        #[arg(long, default_value = "default")]
        workspace: String,
    },
}

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let body: Vec<&str> = b64.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap_or_default()).collect();
    format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", body.join("\n"))
}

pub fn dkim(command: DkimCommand) -> Result<()> {
    let DkimCommand::Generate { domain, selector, algorithm } = command;
    dkim::check_name("domain", &domain)?;
    dkim::check_name("selector", &selector)?;
    let alg: Algorithm = algorithm.into();
    let pair = dkim::generate(alg)?;
    println!("Publish this DNS record:");
    println!("  name:  {}", dkim::dns_name(&selector, &domain));
    println!("  type:  TXT");
    println!("  value: {}", dkim::dns_record(alg, &pair.public_b64));
    println!();
    let label = match alg {
        Algorithm::Rsa2048 => "RSA PRIVATE KEY",
        Algorithm::Ed25519 => "PRIVATE KEY",
    };
    print!("{}", pem(label, &pair.private_der));
    eprintln!("keep the private key secret; anyone holding it can sign mail as {domain}");
    Ok(())
}

pub async fn run(store: Store, engine: Engine, command: EmailCommand) -> Result<()> {
    let EmailCommand::SenderCreate { email, name, reply_to, selector, algorithm, default, workspace } = command;
    let ws = crate::workspace(&store, &workspace).await?;
    let new =
        NewSender { name, email, reply_to, dkim_selector: selector, algorithm: algorithm.into(), is_default: default };
    let s = engine.create_email_sender(ws.id, new).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let alg = Algorithm::parse(&s.dkim_algorithm).unwrap_or(Algorithm::Rsa2048);
    println!("sender {} <{}> created (id {})", s.name.as_deref().unwrap_or(""), s.email, s.id);
    println!("Publish this DNS record before sending:");
    println!("  name:  {}", dkim::dns_name(&s.dkim_selector, &s.dkim_domain));
    println!("  type:  TXT");
    println!("  value: {}", dkim::dns_record(alg, &s.dkim_public_key));
    Ok(())
}
