//! Running a server on a data directory: open the store, the signing key and the marker key,
//! seed the demo tenant on first start, bind, serve until shut down, drain, stop the timer
//! thread, flush.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use idflow_activities::forms::Forms;
use idflow_activities::Catalogue;
use idflow_identity::Identity;
use idflow_runtime::{Runtime, RuntimeConfig};
use idflow_store::{Store, StoreLocation};

use crate::auth::{Claims, SigningKey};
use crate::connections::{self, ConnectionLimits};
use crate::error::ServerError;
use crate::key_file::KeyHome;
use crate::rate::StartRate;
use crate::state::AppState;
use crate::{router, store_dir, DEFAULT_BODY_LIMIT};

/// How to run a server.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// A PostgreSQL URL: the store (and the keys) live in that database, shared with every node
    /// started with the same URL; `None`: sled in `data_dir/store`, keys beside it.
    pub store: Option<String>,
    /// The largest request body accepted (bytes).
    pub body_limit: usize,
    /// Seed the demo tenant when the data directory is new.
    pub seed_demo: bool,
    /// What one client connection may cost: the cap on connections and the timeouts.
    pub limits: ConnectionLimits,
    /// How fast one process token may start instances.
    pub start_rate: StartRate,
    /// How often completed instances past their tenant's retention are purged.
    pub purge_every: Duration,
    /// Where end users reach this server (`https://id.example.com`), for process tokens' links;
    /// `None`: `http://` and the bound address.
    pub public_url: Option<String>,
}

impl Config {
    pub fn new(listen: SocketAddr, data_dir: impl Into<PathBuf>) -> Config {
        Config {
            listen,
            data_dir: data_dir.into(),
            store: None,
            body_limit: DEFAULT_BODY_LIMIT,
            seed_demo: true,
            limits: ConnectionLimits::default(),
            start_rate: StartRate::default(),
            purge_every: DEFAULT_PURGE_EVERY,
            public_url: None,
        }
    }
}

/// A demo process token, as `idflow serve` prints it.
#[derive(Clone)]
pub struct DemoToken {
    pub name: String,
    pub definition: String,
    /// The credential: `{"processToken": id}` starts an instance.
    pub id: String,
    /// The page an end user opens to walk the flow (the token is in its fragment).
    pub link: String,
}

impl std::fmt::Debug for DemoToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoToken")
            .field("name", &self.name)
            .field("definition", &self.definition)
            .finish_non_exhaustive()
    }
}

/// How often the background purge runs by default.
pub const DEFAULT_PURGE_EVERY: Duration = Duration::from_secs(3600);

/// The tenant seeded on first start.
pub const DEMO_TENANT: &str = "demo";

/// Everything a data directory holds, opened.
pub struct Opened {
    pub state: AppState,
    pub store: Store,
    /// Whether this start seeded the demo tenant (a new data directory).
    pub seeded: bool,
}

/// Opens (creating when new) the data directory `config.data_dir`: the signing key, the marker
/// key, the store, the identity core, the runtime (resumed: timers due during downtime fire) and
/// the forms; seeds the demo tenant into a new directory when `config.seed_demo`.
pub fn open_data_dir(config: &Config) -> Result<Opened, ServerError> {
    let data_dir = config.data_dir.as_path();
    // The data directory holds the signing key, TOTP seeds and verifiers: private to this user,
    // and refused when others may write to it.
    idflow_store::ensure_private_dir(data_dir)?;
    let (key, marker_key, store) = match &config.store {
        None => {
            let (key, _) = SigningKey::load_or_create(data_dir)?;
            let marker_key = crate::key_file::load_or_create_marker_key(KeyHome::Dir(data_dir))?;
            (key, marker_key, Store::open(&store_dir(data_dir))?)
        }
        Some(url) => {
            let store = Store::open_at(&StoreLocation::Postgres(url.clone()))?;
            let (key, _) = SigningKey::load_or_create_in(KeyHome::Store(&store))?;
            let marker_key = crate::key_file::load_or_create_marker_key(KeyHome::Store(&store))?;
            (key, marker_key, store)
        }
    };
    let identity = Arc::new(Identity::with_system_clock(store.clone()));
    let runtime = Arc::new(Runtime::new(
        store.clone(),
        Arc::new(Catalogue::new()),
        RuntimeConfig {
            marker_key: Some(marker_key),
            ..RuntimeConfig::default()
        },
    ));
    let report = runtime
        .resume()
        .map_err(|e| ServerError::Runtime(e.to_string()))?;
    tracing::info!(?report, "runtime resumed");
    let forms = Forms::new(store.clone());
    let seeded = if config.seed_demo {
        crate::demo::seed_if_new(&runtime, &identity, DEMO_TENANT)?
    } else {
        false
    };
    let state = AppState::new(
        key,
        identity,
        runtime,
        forms,
        config.body_limit,
        config.start_rate,
    );
    Ok(Opened {
        state,
        store,
        seeded,
    })
}

/// `http://` and the bound address; a wildcard address is shown as the loopback one, which is
/// where a browser on the same machine reaches it.
fn bound_url(addr: SocketAddr) -> String {
    let mut shown = addr;
    if addr.ip().is_unspecified() {
        shown.set_ip(match addr {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    format!("http://{shown}")
}

/// A bound, ready server: the listener is open, nothing is served until [`Server::run`].
pub struct Server {
    listener: tokio::net::TcpListener,
    local_addr: SocketAddr,
    limits: ConnectionLimits,
    purge_every: Duration,
    opened: Opened,
}

impl Server {
    /// Opens the data directory (see [`open_data_dir`]) and binds `config.listen`.
    pub async fn bind(config: Config) -> Result<Server, ServerError> {
        let opening = config.clone();
        let opened = tokio::task::spawn_blocking(move || open_data_dir(&opening))
            .await
            .map_err(|e| {
                ServerError::Runtime(format!("opening the data directory panicked: {e}"))
            })??;
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|source| ServerError::Bind {
                addr: config.listen.to_string(),
                source,
            })?;
        let local_addr = listener.local_addr().map_err(|source| ServerError::Bind {
            addr: config.listen.to_string(),
            source,
        })?;
        opened
            .state
            .set_public_url(config.public_url.unwrap_or_else(|| bound_url(local_addr)));
        Ok(Server {
            listener,
            local_addr,
            limits: config.limits,
            purge_every: config.purge_every,
            opened,
        })
    }

    /// The address actually bound (a port of 0 picks a free one).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Whether this start seeded the demo tenant.
    pub fn seeded(&self) -> bool {
        self.opened.seeded
    }

    pub fn state(&self) -> &AppState {
        &self.opened.state
    }

    /// The demo tenant's process tokens (empty when it was never seeded).
    pub fn demo_tokens(&self) -> Result<Vec<DemoToken>, ServerError> {
        let tokens = self
            .opened
            .state
            .runtime()
            .list_tokens(DEMO_TENANT)
            .map_err(|e| ServerError::Runtime(e.to_string()))?;
        Ok(tokens
            .into_iter()
            .map(|t| DemoToken {
                link: self.opened.state.token_link(&t.id),
                name: t.name,
                definition: t.process_defn_name,
                id: t.id,
            })
            .collect())
    }

    /// A token with every permission of `tenant`, valid for `ttl`.
    pub fn admin_token(&self, tenant: &str, ttl: Duration) -> Result<String, ServerError> {
        self.opened.state.signing_key().mint(&Claims::new(
            format!("{tenant} admin (idflow serve)"),
            vec![crate::auth::permission_string(
                tenant,
                crate::auth::ALL_PERMISSIONS,
            )],
            ttl,
        ))
    }

    /// A one-time link to the backoffice that signs in with [`Server::admin_token`] of `tenant`
    /// (the code is kept in memory; see [`crate::signin`]).
    pub fn sign_in_link(&self, tenant: &str, ttl: Duration) -> Result<String, ServerError> {
        let token = self.admin_token(tenant, ttl)?;
        Ok(self.opened.state.sign_in_link(token))
    }

    /// Serves until `shutdown` resolves, then drains in-flight requests, stops the timer thread
    /// and flushes the store.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        let Server {
            listener,
            limits,
            purge_every,
            opened,
            ..
        } = self;
        let timers = opened.state.runtime().spawn_timer_thread();
        let app = router(opened.state.clone());
        let purger = tokio::spawn(purge_expired_sessions(opened.state.clone()));
        let retention = tokio::spawn(purge_completed_instances(opened.state.clone(), purge_every));
        connections::serve(listener, app, limits, shutdown).await;
        purger.abort();
        retention.abort();
        tracing::info!("stopped accepting requests; in-flight requests drained");
        let store = opened.store.clone();
        let flushed = tokio::task::spawn_blocking(move || {
            timers.stop();
            store.flush()
        })
        .await
        .map_err(|e| ServerError::Runtime(format!("stopping the timer thread panicked: {e}")))?;
        flushed?;
        tracing::info!("store flushed");
        Ok(())
    }
}

/// How often sessions nobody completed are removed (they are refused once expired anyway: this
/// only reclaims their space).
const SESSION_PURGE_EVERY: Duration = Duration::from_secs(600);

async fn purge_expired_sessions(state: AppState) {
    let mut every = tokio::time::interval(SESSION_PURGE_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        state.starts().forget_idle();
        let state = state.clone();
        match tokio::task::spawn_blocking(move || state.identity().purge_expired_sessions()).await {
            Ok(Ok(0)) => {}
            Ok(Ok(removed)) => tracing::info!(removed, "expired sessions purged"),
            Ok(Err(e)) => tracing::warn!(error = %e, "purging expired sessions failed"),
            Err(e) => tracing::warn!(error = %e, "the session purge task failed"),
        }
    }
}

/// Most completed instances one purge pass removes (the next pass goes on).
const PURGE_PER_PASS: usize = 100_000;

/// Removes completed instances past their tenant's retention, every `every` (the first pass
/// right after start).
async fn purge_completed_instances(state: AppState, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let state = state.clone();
        match tokio::task::spawn_blocking(move || state.runtime().purge_completed(PURGE_PER_PASS))
            .await
        {
            Ok(Ok(report)) if report.instances == 0 => {}
            Ok(Ok(report)) => tracing::info!(
                instances = report.instances,
                history_chunks = report.history_chunks,
                "completed instances past their retention purged"
            ),
            Ok(Err(e)) => tracing::warn!(error = %e, "purging completed instances failed"),
            Err(e) => tracing::warn!(error = %e, "the retention purge task failed"),
        }
    }
}

/// Serves `config` until `shutdown` resolves.
pub async fn serve(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    Server::bind(config).await?.run(shutdown).await
}
