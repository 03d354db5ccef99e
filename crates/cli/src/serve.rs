//! `idflow serve`: the HTTP server on a data directory.
//!
//! On a new data directory it deploys the shipped flows and forms and seeds the `demo` tenant;
//! every start prints the URLs, each demo process token's link (the page an end user opens)
//! and a start command for it, a one-time sign-in link to the backoffice for the demo admin
//! (its code lives in the server's memory: it works once, for 15 minutes, and a restart prints
//! a new one) and a ready admin token for `demo` (standard output; logs go to standard error). SIGTERM and Ctrl-C drain
//! in-flight requests, stop the timer thread and flush the store.

use std::net::{SocketAddr, ToSocketAddrs};
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use idflow_server::{Config, ConnectionLimits, Server, StartRate, DEFAULT_BODY_LIMIT, DEMO_TENANT};

#[derive(clap::Args)]
pub struct Args {
    /// The address to listen on (`127.0.0.1:0` picks a free port; the bound one is printed).
    #[arg(long, env = "IDFLOW_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// The data directory (store and signing key); created on first start.
    #[arg(long, env = "IDFLOW_DATA", default_value = "./idflow-data")]
    pub data: PathBuf,
    /// A PostgreSQL database to keep the store (and the keys) in, shared by every node started
    /// with the same URL: `postgres://user:password@host:5432/idflow`. Default: the embedded
    /// store in the data directory.
    #[arg(long, env = "IDFLOW_STORE", value_parser = crate::store_arg::parse_store_url)]
    pub store: Option<String>,
    /// The largest request body accepted, in bytes.
    #[arg(long, default_value_t = DEFAULT_BODY_LIMIT)]
    pub body_limit: usize,
    /// Where end users reach this server, for process tokens' links (`https://id.example.com`
    /// behind a proxy); default `http://` and the bound address.
    #[arg(long, env = "IDFLOW_PUBLIC_URL", value_parser = parse_public_url)]
    pub public_url: Option<String>,
    /// How long the printed admin token is valid: `30m`, `24h`, `7d`.
    #[arg(long, default_value = "24h", value_parser = crate::token::parse_ttl)]
    pub admin_token_ttl: Duration,
    /// For production: do not seed the demo tenant into a new data directory, and print no
    /// tokens (mint one with `idflow token`).
    #[arg(long, env = "IDFLOW_NO_DEMO")]
    pub no_demo: bool,
    /// Client connections served at once; more wait in the listen backlog.
    #[arg(long, default_value_t = ConnectionLimits::default().max_connections)]
    pub max_connections: usize,
    /// The longest a client may take to send a request's headers (also how long an idle
    /// keep-alive connection stays open): `10s`, `1m`.
    #[arg(long, default_value = "10s", value_parser = crate::token::parse_ttl)]
    pub header_timeout: Duration,
    /// The longest a connection may make no progress, reading or writing: `60s`, `2m`.
    #[arg(long, default_value = "60s", value_parser = crate::token::parse_ttl)]
    pub idle_timeout: Duration,
    /// Instance starts one process token may make per second, sustained (more are 429).
    #[arg(long, default_value_t = StartRate::default().per_second)]
    pub token_start_rate: NonZeroU32,
    /// Instance starts one process token may make at once, before the sustained rate applies.
    #[arg(long, default_value_t = StartRate::default().burst)]
    pub token_start_burst: NonZeroU32,
    /// How often completed instances past their tenant's retention policy are purged: `1h`.
    #[arg(long, default_value = "1h", value_parser = crate::token::parse_ttl)]
    pub purge_every: Duration,
}

fn parse_public_url(text: &str) -> Result<String, String> {
    let trimmed = text.trim().trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))
        .ok_or_else(|| format!("{text:?} must start with http:// or https://"))?;
    if rest.is_empty() || rest.contains(['#', '?', ' ']) {
        return Err(format!(
            "{text:?} must be a scheme and a host (and optionally a port and a path), without a query or fragment"
        ));
    }
    Ok(trimmed.to_string())
}

fn resolve(listen: &str) -> anyhow::Result<SocketAddr> {
    listen
        .to_socket_addrs()
        .with_context(|| format!("--listen {listen:?} is not a host:port address"))?
        .next()
        .with_context(|| format!("--listen {listen:?} resolves to no address"))
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .try_init();
}

/// Resolves on SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => tracing::info!("Ctrl-C: shutting down"),
        _ = terminate => tracing::info!("SIGTERM: shutting down"),
    }
}

pub fn main(args: Args) -> anyhow::Result<ExitCode> {
    init_tracing();
    let listen = resolve(&args.listen)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("idflow-http")
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let mut config = Config::new(listen, &args.data);
        config.store = args.store.clone();
        config.body_limit = args.body_limit;
        config.seed_demo = !args.no_demo;
        config.limits = ConnectionLimits {
            max_connections: args.max_connections,
            header_read_timeout: args.header_timeout,
            idle_timeout: args.idle_timeout,
        };
        config.start_rate = StartRate {
            per_second: args.token_start_rate,
            burst: args.token_start_burst,
        };
        config.purge_every = args.purge_every;
        config.public_url = args.public_url.clone();
        let server = Server::bind(config)
            .await
            .with_context(|| match &args.store {
                Some(url) => format!(
                    "starting on the PostgreSQL store {}",
                    crate::store_arg::shown(url)
                ),
                None => format!("starting on data directory {}", args.data.display()),
            })?;
        print_banner(&server, &args)?;
        server.run(shutdown_signal()).await?;
        eprintln!("idflow stopped; data flushed to {}", args.data.display());
        Ok(ExitCode::SUCCESS)
    })
}

fn print_banner(server: &Server, args: &Args) -> anyhow::Result<()> {
    use std::io::Write;
    let base = format!("http://{}", server.local_addr());
    let mut out = std::io::stdout().lock();
    writeln!(out, "idflow listening on {base}")?;
    let seeded = if server.seeded() {
        " (new: demo tenant seeded)"
    } else {
        ""
    };
    match &args.store {
        Some(url) => writeln!(
            out,
            "  store: PostgreSQL {}{seeded}",
            crate::store_arg::shown(url)
        )?,
        None => writeln!(out, "  data directory: {}{seeded}", args.data.display())?,
    }
    writeln!(out, "  identity store API: {base}/api/identity-store/")?;
    writeln!(out, "  process manager API: {base}/api/process-manager/")?;
    writeln!(out, "  OpenAPI document: {base}/openapi.json")?;
    writeln!(out, "  backoffice (designer): {base}/backoffice/")?;
    if args.no_demo {
        writeln!(
            out,
            "No demo (--no-demo): mint a token with `idflow token --tenant <tenant> --data {}`",
            args.data.display()
        )?;
        out.flush()?;
        return Ok(());
    }
    let tokens = server.demo_tokens()?;
    let admin = server.admin_token(DEMO_TENANT, args.admin_token_ttl)?;
    if tokens.is_empty() {
        writeln!(out, "  (no demo process tokens in tenant {DEMO_TENANT})")?;
    } else {
        writeln!(
            out,
            "Demo flows (tenant {DEMO_TENANT}): open a link in a browser to walk the flow as its end user:"
        )?;
        for t in &tokens {
            writeln!(out, "  {:<28} {}", t.definition, t.link)?;
        }
        writeln!(out, "... or start one with curl:")?;
        for t in &tokens {
            writeln!(
                out,
                "  {:<28} curl -s -X POST {base}/api/process-manager/process-instances -H 'Content-Type: application/json' -d '{{\"processToken\": \"{}\"}}'",
                t.name, t.id
            )?;
        }
    }
    let sign_in = server.sign_in_link(DEMO_TENANT, args.admin_token_ttl)?;
    writeln!(
        out,
        "Designer: open this one-time sign-in link (the demo admin of {DEMO_TENANT}; works once, for {} min):",
        idflow_server::signin::CODE_TTL.as_secs() / 60
    )?;
    writeln!(out, "  {sign_in}")?;
    writeln!(
        out,
        "Admin token for tenant {DEMO_TENANT} (TNT#{DEMO_TENANT}#*, valid {} s), alone on the next line:",
        args.admin_token_ttl.as_secs()
    )?;
    writeln!(out, "{admin}")?;
    out.flush()?;
    Ok(())
}
