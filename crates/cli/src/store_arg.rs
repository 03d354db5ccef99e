//! The `--store` argument of the commands that open a store: a PostgreSQL URL.

/// Accepts a `postgres://` or `postgresql://` URL.
pub fn parse_store_url(text: &str) -> Result<String, String> {
    let text = text.trim();
    if idflow_store::StoreLocation::is_postgres_url(text) {
        Ok(text.to_string())
    } else {
        Err(
            "--store takes a PostgreSQL URL (postgres://user:password@host:5432/database); \
             without it the store is the data directory's"
                .to_string(),
        )
    }
}

/// The URL as it may be printed: without its password.
pub fn shown(url: &str) -> String {
    idflow_store::StoreLocation::Postgres(url.to_string()).to_string()
}
