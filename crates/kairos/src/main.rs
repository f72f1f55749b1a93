//! The `kairos` binary: one program to serve, seed a demo, migrate, manage
//! keys, and import or export data. Every command works on the embedded
//! SQLite store under `--data-dir` unless `--database-url` names PostgreSQL.

mod demo;
mod email;
mod export;
mod import;
mod journey;
mod report;
mod scoring;
mod segment;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use kairos_core::apikey::Scope;
use kairos_core::clock::SystemClock;
use kairos_engine::Engine;
use kairos_server::AppState;
use kairos_store::{Store, Workspace};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Parser)]
#[command(name = "kairos", version, about = "Kairos marketing automation")]
struct Cli {
    #[command(flatten)]
    db: DbArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct DbArgs {
    /// Directory of the embedded SQLite store.
    #[arg(long, global = true, env = "KAIROS_DATA_DIR", default_value = "./kairos-data")]
    data_dir: PathBuf,
    /// Use this database instead of the embedded store (postgres://… or sqlite://…).
    #[arg(long, global = true, env = "KAIROS_DATABASE_URL")]
    database_url: Option<String>,
    /// The key that seals DKIM keys and webhook secrets at rest (32 bytes,
    /// base64; `kairos secrets generate-key`). Without it, the key kept in
    /// DATA_DIR/master.key is used (created on first use). Every server of
    /// one database needs the same key.
    #[arg(long, global = true, env = "KAIROS_MASTER_KEY", hide_env_values = true)]
    master_key: Option<String>,
}

impl DbArgs {
    fn url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("kairos.db").display()))
    }

    /// The master key: given, or kept beside the embedded store.
    fn master_key(&self) -> Result<kairos_core::secrets::MasterKey> {
        use kairos_core::secrets::MasterKey;
        if let Some(k) = &self.master_key {
            return MasterKey::from_base64(k).map_err(|e| anyhow::anyhow!("--master-key: {e}"));
        }
        let path = self.data_dir.join("master.key");
        match std::fs::read_to_string(&path) {
            Ok(text) => MasterKey::from_base64(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(&self.data_dir)
                    .with_context(|| format!("creating {}", self.data_dir.display()))?;
                let key = MasterKey::generate();
                let mut opts = std::fs::OpenOptions::new();
                opts.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
                use std::io::Write as _;
                opts.open(&path)
                    .and_then(|mut f| f.write_all(key.to_base64().as_bytes()))
                    .with_context(|| format!("writing the master key to {}", path.display()))?;
                tracing::warn!(path = %path.display(), "created a master key for secrets at rest; back it up");
                Ok(key)
            }
            Err(e) => Err(anyhow::anyhow!("reading {}: {e}", path.display())),
        }
    }

    /// An engine for a one-off command (no journeys), with the master key.
    fn offline_engine(&self, store: Store) -> Result<Engine> {
        let options = kairos_engine::EngineOptions {
            journeys: false,
            master_key: self.master_key()?,
            ..kairos_engine::EngineOptions::default()
        };
        Ok(Engine::start_with(store, Arc::new(SystemClock), options))
    }

    /// Open the store and apply pending migrations.
    async fn open(&self) -> Result<Store> {
        let url = self.url();
        let store = Store::open(&url).await.with_context(|| format!("opening the store at {url}"))?;
        store.migrate().await.context("applying migrations")?;
        Ok(store)
    }
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (tracking API, REST API).
    Serve(ServeArgs),
    /// Seed a demo workspace (first run only), then serve it.
    Demo {
        #[command(flatten)]
        serve: ServeArgs,
        /// Contacts to create in the demo workspace.
        #[arg(long, default_value_t = 3000)]
        contacts: usize,
    },
    /// Apply pending database migrations.
    Migrate,
    /// Manage API keys.
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// Manage the people who sign in to the web UI.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Import data from a file.
    Import {
        #[command(subcommand)]
        what: ImportWhat,
    },
    /// Data-subject requests on one contact.
    Contact {
        #[command(subcommand)]
        command: ContactCommand,
    },
    /// Evaluate, create, list or delete segments.
    Segment {
        #[command(subcommand)]
        command: segment::SegmentCommand,
    },
    /// Manage journeys on a running server (through its REST API).
    Journey {
        #[command(flatten)]
        server: journey::ServerArgs,
        #[command(subcommand)]
        command: journey::JourneyCommand,
    },
    /// Lead scores on a running server (through its REST API).
    Score {
        #[command(flatten)]
        server: journey::ServerArgs,
        #[command(subcommand)]
        command: scoring::ScoreCommand,
    },
    /// Conversion models on a running server (through its REST API).
    Model {
        #[command(flatten)]
        server: journey::ServerArgs,
        #[command(subcommand)]
        command: scoring::ModelCommand,
    },
    /// Attribution and ROI reports, and marketing costs, on a running server (through its REST API).
    Report {
        #[command(flatten)]
        server: journey::ServerArgs,
        #[command(subcommand)]
        command: report::ReportCommand,
    },
    /// Keys for secrets at rest.
    Secrets {
        #[command(subcommand)]
        command: SecretsCommand,
    },
    /// DKIM keys for sending domains.
    Dkim {
        #[command(subcommand)]
        command: email::DkimCommand,
    },
    /// Email sender identities (works directly on the data dir / database).
    Email {
        #[command(subcommand)]
        command: email::EmailCommand,
    },
    /// Export data as CSV or JSON lines.
    Export {
        what: ExportWhat,
        #[arg(long, default_value = "default")]
        workspace: String,
        /// csv (default for contacts) or jsonl (default for events).
        #[arg(long)]
        format: Option<export::Format>,
        /// Write here instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

#[derive(Args, Clone)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "KAIROS_LISTEN", default_value = "127.0.0.1:8080")]
    listen: String,
    /// Let journey webhooks reach loopback and private-network addresses
    /// (refused by default so journey authors cannot reach internal services).
    #[arg(long, env = "KAIROS_ALLOW_PRIVATE_WEBHOOKS")]
    allow_private_webhooks: bool,
    /// Let a workspace's own SMTP relay (set in its settings) be on a
    /// loopback or private-network address (refused by default so workspace
    /// admins cannot reach internal services through it).
    #[arg(long, env = "KAIROS_ALLOW_PRIVATE_RELAYS")]
    allow_private_relays: bool,
    /// Refuse workspaces their own SMTP relay: every send takes this
    /// server's transport (for demo and test servers that capture email).
    #[arg(long, env = "KAIROS_NO_WORKSPACE_RELAYS")]
    no_workspace_relays: bool,
    /// The built web UI to serve at `/` (the directory holding index.html).
    #[arg(long, env = "KAIROS_UI_DIR", default_value = "ui/dist")]
    ui_dir: PathBuf,
    /// Where email goes: `smtp` (through --smtp-url), `capture` (kept for
    /// viewing in the API and UI, never sent) or `disabled` (the name the API's
    /// transport view uses; `none` is read the same). `serve` defaults to
    /// disabled (sends fail saying so); `demo` defaults to capture.
    #[arg(long, env = "KAIROS_EMAIL_TRANSPORT", value_enum)]
    email_transport: Option<EmailTransportArg>,
    /// The SMTP relay: smtp://user:pass@host:587?tls=required, smtps://user:pass@host:465, or smtp://host:port
    /// (no TLS; a relay on this machine).
    #[arg(long, env = "KAIROS_SMTP_URL")]
    smtp_url: Option<String>,
    /// A CA certificate (PEM file) to trust for the SMTP relay's TLS, besides
    /// the public roots.
    #[arg(long, env = "KAIROS_SMTP_CA_FILE")]
    smtp_ca_file: Option<PathBuf>,
    /// This server's address as recipients reach it, for tracking and
    /// unsubscribe links (default: http://LISTEN).
    #[arg(long, env = "KAIROS_PUBLIC_URL")]
    public_url: Option<String>,
    /// SMTP connections at once per recipient domain.
    #[arg(long, env = "KAIROS_SMTP_DOMAIN_CONCURRENCY", default_value_t = 8)]
    smtp_domain_concurrency: usize,
    /// Messages per second per recipient domain (unlimited when absent).
    #[arg(long, env = "KAIROS_SMTP_DOMAIN_RATE")]
    smtp_domain_rate: Option<f64>,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum EmailTransportArg {
    #[value(alias = "none")]
    Disabled,
    Capture,
    Smtp,
}

impl ServeArgs {
    /// The email options these flags ask for; `default` applies when no
    /// transport was chosen.
    fn email(&self, addr: &std::net::SocketAddr, default: EmailTransportArg) -> Result<kairos_engine::EmailOptions> {
        use kairos_engine::EmailTransport;
        let transport = match (self.email_transport.unwrap_or(default), &self.smtp_url) {
            (EmailTransportArg::Disabled, _) => EmailTransport::Disabled,
            (EmailTransportArg::Capture, _) => EmailTransport::Capture,
            (EmailTransportArg::Smtp, None) => {
                anyhow::bail!("--email-transport smtp needs --smtp-url (or KAIROS_SMTP_URL)")
            }
            (EmailTransportArg::Smtp, Some(url)) => {
                kairos_engine::check_smtp_url(url).map_err(|e| anyhow::anyhow!("--smtp-url: {e}"))?;
                EmailTransport::Smtp(url.clone())
            }
        };
        if let Some(rate) = self.smtp_domain_rate {
            anyhow::ensure!(rate > 0.0, "--smtp-domain-rate must be a positive number of messages per second");
        }
        anyhow::ensure!(self.smtp_domain_concurrency > 0, "--smtp-domain-concurrency must be at least 1");
        let public_url = match &self.public_url {
            Some(u) => {
                anyhow::ensure!(
                    u.starts_with("https://") || u.starts_with("http://"),
                    "--public-url must be an http(s) URL, got {u:?}"
                );
                u.trim_end_matches('/').to_string()
            }
            None => format!("http://{addr}"),
        };
        let smtp_ca_pem = match &self.smtp_ca_file {
            Some(p) => Some(std::fs::read(p).with_context(|| format!("--smtp-ca-file {}", p.display()))?),
            None => None,
        };
        Ok(kairos_engine::EmailOptions {
            transport,
            public_url,
            smtp_ca_pem,
            per_domain_concurrency: self.smtp_domain_concurrency,
            per_domain_rate: self.smtp_domain_rate,
            ..kairos_engine::EmailOptions::default()
        })
    }
}

#[derive(Subcommand)]
enum SecretsCommand {
    /// Print a new master key (for KAIROS_MASTER_KEY).
    GenerateKey,
}

#[derive(Subcommand)]
enum KeyCommand {
    /// Create an API key and print its secret (shown only once).
    Create {
        #[arg(long, value_enum)]
        scope: ScopeArg,
        /// The workspace; created if it does not exist.
        #[arg(long, default_value = "default")]
        workspace: String,
        #[arg(long, default_value = "created with kairos key create")]
        name: String,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Give someone a role in a workspace, creating their account when new.
    /// A new account's first password is read from stdin with
    /// --password-stdin, or generated and printed.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long, value_enum)]
        role: RoleArg,
        /// Their name (new accounts).
        #[arg(long)]
        name: Option<String>,
        /// The workspace; created if it does not exist.
        #[arg(long, default_value = "default")]
        workspace: String,
        /// Read the first password from the first line of stdin.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum RoleArg {
    Owner,
    Admin,
    Marketer,
    Analyst,
    Compliance,
}

#[derive(Subcommand)]
enum ContactCommand {
    /// Erase a contact everywhere, leaving only salted hashes of their
    /// addresses in the suppression list (audited).
    Erase {
        id: String,
        #[arg(long, default_value = "default")]
        workspace: String,
    },
    /// Print everything held about a contact as one JSON document (audited).
    Export {
        id: String,
        #[arg(long, default_value = "default")]
        workspace: String,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum ScopeArg {
    Write,
    Admin,
    Marketer,
    Analyst,
    Compliance,
}

#[derive(Subcommand)]
enum ImportWhat {
    /// Import contacts from a CSV file with a header row.
    Contacts(import::ImportArgs),
}

#[derive(Clone, Copy, ValueEnum)]
enum ExportWhat {
    Contacts,
    Events,
}

/// Find a workspace by name, creating it if needed.
pub async fn workspace(store: &Store, name: &str) -> Result<Workspace> {
    let mut tx = store.begin_write().await?;
    let ws = match tx.workspace_by_name(name).await? {
        Some(ws) => ws,
        None => tx.create_workspace(name, chrono::Utc::now()).await?,
    };
    tx.commit().await?;
    Ok(ws)
}

/// An existing workspace by name.
pub async fn existing_workspace(store: &Store, name: &str) -> Result<Workspace> {
    let mut tx = store.begin().await?;
    match tx.workspace_by_name(name).await? {
        Some(ws) => Ok(ws),
        None => {
            let names: Vec<String> = tx.list_workspaces().await?.into_iter().map(|w| w.name).collect();
            bail!(
                "no workspace named {name:?}; existing workspaces: {}",
                if names.is_empty() { "none".into() } else { names.join(", ") }
            )
        }
    }
}

async fn serve(
    store: Store,
    db: &DbArgs,
    args: &ServeArgs,
    default_email: EmailTransportArg,
    banner: impl FnOnce(&str),
) -> Result<()> {
    let listener =
        tokio::net::TcpListener::bind(&args.listen).await.with_context(|| format!("listening on {}", args.listen))?;
    let addr = listener.local_addr()?;
    let mut options = kairos_engine::EngineOptions::default();
    options.outbox.allow_private_webhooks = args.allow_private_webhooks;
    options.email = args.email(&addr, default_email)?;
    options.email.allow_private_relays = args.allow_private_relays;
    options.email.forbid_workspace_relays = args.no_workspace_relays;
    options.master_key = db.master_key()?;
    match &options.email.transport {
        kairos_engine::EmailTransport::Disabled => tracing::warn!(
            "no email transport: sends will fail until the server runs with --email-transport smtp --smtp-url … \
             (or capture)"
        ),
        kairos_engine::EmailTransport::Capture => {
            tracing::warn!("email transport is capture: messages are kept for viewing and never sent")
        }
        kairos_engine::EmailTransport::Smtp(_) => {}
    }
    let engine = Engine::start_with(store, Arc::new(SystemClock), options);
    if !args.ui_dir.join("index.html").is_file() {
        tracing::warn!(
            "no web UI at {}: build it with `npm ci && npm run build` in ui/, or pass --ui-dir",
            args.ui_dir.display()
        );
    }
    banner(&format!("http://{addr}"));
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    kairos_server::serve(listener, AppState::new(engine).with_ui_dir(&args.ui_dir), shutdown).await?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("KAIROS_LOG")
                .unwrap_or_else(|_| "kairos=info,warn,html5ever=error".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => {
            let store = cli.db.open().await?;
            serve(store, &cli.db, &args, EmailTransportArg::Disabled, |url| println!("Kairos is listening on {url}"))
                .await
        }
        Command::Demo { serve: args, contacts } => {
            let store = cli.db.open().await?;
            let keys = demo::seed(&store, contacts, cli.db.offline_engine(store.clone())?).await?;
            serve(store, &cli.db, &args, EmailTransportArg::Capture, |url| demo::banner(url, &keys)).await
        }
        Command::Migrate => {
            cli.db.open().await?;
            println!("migrations applied to {}", cli.db.url());
            Ok(())
        }
        Command::Key { command: KeyCommand::Create { scope, workspace: name, name: key_name } } => {
            let store = cli.db.open().await?;
            let ws = workspace(&store, &name).await?;
            let scope = match scope {
                ScopeArg::Write => Scope::Write,
                ScopeArg::Admin => Scope::Admin,
                ScopeArg::Marketer => Scope::Marketer,
                ScopeArg::Analyst => Scope::Analyst,
                ScopeArg::Compliance => Scope::Compliance,
            };
            let (_, secret) = kairos_server::issue_key(&store, ws.id, &key_name, scope, chrono::Utc::now()).await?;
            println!("{secret}");
            eprintln!("{} key for workspace {:?}; it is shown only this once", scope.as_str(), ws.name);
            Ok(())
        }
        Command::User { command: UserCommand::Create { email, role, name, workspace: ws_name, password_stdin } } => {
            use kairos_core::access::Role;
            let store = cli.db.open().await?;
            let ws = workspace(&store, &ws_name).await?;
            let role = match role {
                RoleArg::Owner => Role::Owner,
                RoleArg::Admin => Role::Admin,
                RoleArg::Marketer => Role::Marketer,
                RoleArg::Analyst => Role::Analyst,
                RoleArg::Compliance => Role::Compliance,
            };
            let is_new = {
                let mut tx = store.begin().await?;
                let email =
                    kairos_server::api::users::account_email(&email).map_err(|e| anyhow::anyhow!("--email: {e}"))?;
                tx.user_by_email(&email).await?.is_none()
            };
            let (password, generated) = match (is_new, password_stdin) {
                (false, _) => (None, false),
                (true, true) => {
                    let mut line = String::new();
                    std::io::stdin().read_line(&mut line)?;
                    (Some(line.trim_end_matches(['\r', '\n']).to_string()), false)
                }
                (true, false) => (Some(kairos_core::access::random_token(12)), true),
            };
            let name = name.or_else(|| email.split('@').next().map(str::to_string));
            let m = kairos_server::enrol(
                &store,
                ws.id,
                &email,
                name.as_deref(),
                role,
                password.clone(),
                "cli",
                chrono::Utc::now(),
            )
            .await
            .map_err(|p| anyhow::anyhow!("{}", p.detail))?;
            eprintln!("{} is {} of workspace {:?}", m.user.email, role.as_str(), ws.name);
            if generated {
                println!("{}", password.unwrap_or_default());
                eprintln!("that is their first password; it is shown only this once");
            }
            Ok(())
        }
        Command::Import { what: ImportWhat::Contacts(args) } => {
            let store = cli.db.open().await?;
            import::contacts(&store, &args).await
        }
        Command::Contact { command: ContactCommand::Erase { id, workspace: name } } => {
            let store = cli.db.open().await?;
            let ws = existing_workspace(&store, &name).await?;
            let id: kairos_core::ids::ContactId =
                id.parse().map_err(|_| anyhow::anyhow!("{id:?} is not a contact id"))?;
            let engine = cli.db.offline_engine(store)?;
            match engine.erase_contact(ws.id, id, "cli").await? {
                Some(e) => {
                    println!("erased {id}; suppressed as hashes: {}", e.suppressed.join(", "));
                    Ok(())
                }
                None => bail!("no contact {id} in workspace {:?}", ws.name),
            }
        }
        Command::Contact { command: ContactCommand::Export { id, workspace: name } } => {
            let store = cli.db.open().await?;
            let ws = existing_workspace(&store, &name).await?;
            let id: kairos_core::ids::ContactId =
                id.parse().map_err(|_| anyhow::anyhow!("{id:?} is not a contact id"))?;
            let engine = cli.db.offline_engine(store)?;
            match engine.export_contact(ws.id, id, "cli").await? {
                Some(doc) => {
                    println!("{}", serde_json::to_string_pretty(&doc)?);
                    Ok(())
                }
                None => bail!("no contact {id} in workspace {:?}", ws.name),
            }
        }
        Command::Segment { command } => {
            let store = cli.db.open().await?;
            segment::run(store, command).await
        }
        Command::Journey { server, command } => journey::run(&server, command).await,
        Command::Score { server, command } => scoring::score(&server, command).await,
        Command::Model { server, command } => scoring::model(&server, command).await,
        Command::Report { server, command } => report::report(&server, command).await,
        Command::Dkim { command } => email::dkim(command),
        Command::Email { command } => {
            let store = cli.db.open().await?;
            let engine = cli.db.offline_engine(store.clone())?;
            email::run(store, engine, command).await
        }
        Command::Secrets { command: SecretsCommand::GenerateKey } => {
            println!("{}", kairos_core::secrets::MasterKey::generate().to_base64());
            Ok(())
        }
        Command::Export { what, workspace: name, format, output } => {
            let store = cli.db.open().await?;
            let ws = existing_workspace(&store, &name).await?;
            match what {
                ExportWhat::Contacts => {
                    export::contacts(&store, ws.id, format.unwrap_or(export::Format::Csv), output.as_deref()).await
                }
                ExportWhat::Events => {
                    export::events(&store, ws.id, format.unwrap_or(export::Format::Jsonl), output.as_deref()).await
                }
            }
        }
    }
}
