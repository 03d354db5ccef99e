//! `idflow token`: mints a bearer token from the data directory's signing key.
//!
//! The token is printed alone on the last line of standard output (scripts take `tail -n1`);
//! what it grants and until when goes to standard error.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use idflow_server::auth::{perm, permission_string, Claims, SigningKey, ALL_PERMISSIONS};

#[derive(clap::Args)]
pub struct Args {
    /// The tenant the token acts in.
    #[arg(long)]
    pub tenant: String,
    /// A permission to grant (repeatable), e.g. `createStore`; none grants all of the tenant's
    /// (`TNT#{tenant}#*`).
    #[arg(long = "permission", value_name = "PERMISSION")]
    pub permissions: Vec<String>,
    /// The data directory holding the signing key (created there if missing).
    #[arg(long, env = "IDFLOW_DATA", default_value = "./idflow-data")]
    pub data: PathBuf,
    /// The PostgreSQL store holding the signing key, when the servers use one (`--store` of
    /// `idflow serve`); default: the key file in the data directory.
    #[arg(long, env = "IDFLOW_STORE", value_parser = crate::store_arg::parse_store_url)]
    pub store: Option<String>,
    /// How long the token is valid: `90s`, `30m`, `24h`, `7d` (or plain seconds).
    #[arg(long, default_value = "24h", value_parser = parse_ttl)]
    pub ttl: Duration,
    /// The token's subject (`sub`), for audit.
    #[arg(long, default_value = "idflow token")]
    pub subject: String,
}

/// `90s`, `30m`, `24h`, `7d` or plain seconds.
pub fn parse_ttl(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 90s, 30m, 24h or 7d"))?;
    let seconds_per = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        other => {
            return Err(format!(
                "unknown duration unit {other:?} (use s, m, h or d)"
            ))
        }
    };
    let seconds = n
        .checked_mul(seconds_per)
        .filter(|s| *s > 0 && *s <= 366 * 86_400)
        .ok_or_else(|| format!("{text:?} must be more than 0 and at most 366 days"))?;
    Ok(Duration::from_secs(seconds))
}

/// The `TNT#...` strings for `tenant` and the permission names given (all when none).
pub fn grants(tenant: &str, permissions: &[String]) -> anyhow::Result<Vec<String>> {
    if tenant.is_empty()
        || tenant.contains('#')
        || tenant.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        bail!("--tenant {tenant:?} is not a usable tenant ID (no '#', whitespace or control characters)");
    }
    if permissions.is_empty() {
        return Ok(vec![permission_string(tenant, ALL_PERMISSIONS)]);
    }
    let mut out = Vec::with_capacity(permissions.len());
    for p in permissions {
        if p != ALL_PERMISSIONS && !perm::ALL.contains(&p.as_str()) {
            bail!(
                "unknown permission {p:?}; the permissions are: *, {}",
                perm::ALL.join(", ")
            );
        }
        out.push(permission_string(tenant, p));
    }
    Ok(out)
}

pub fn main(args: Args) -> anyhow::Result<ExitCode> {
    let permissions = grants(&args.tenant, &args.permissions)?;
    let (key, created) = match &args.store {
        None => SigningKey::load_or_create(&args.data)
            .with_context(|| format!("data directory {}", args.data.display()))?,
        Some(url) => {
            let store =
                idflow_store::Store::open_at(&idflow_store::StoreLocation::Postgres(url.clone()))?;
            SigningKey::load_or_create_in(idflow_server::key_file::KeyHome::Store(&store))?
        }
    };
    if created {
        eprintln!(
            "created a new signing key in {} (servers on it accept tokens minted from it)",
            match &args.store {
                Some(url) => crate::store_arg::shown(url),
                None => args.data.display().to_string(),
            }
        );
    }
    let claims = Claims::new(args.subject, permissions, args.ttl);
    let token = key.mint(&claims)?;
    eprintln!(
        "token for {} valid for {} s (until Unix time {})",
        claims.permissions.join(" "),
        args.ttl.as_secs(),
        claims.exp
    );
    println!("{token}");
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttls_parse_and_bad_ones_are_refused() {
        let table = [
            ("90s", Some(90)),
            ("30m", Some(1800)),
            ("24h", Some(86_400)),
            ("7d", Some(604_800)),
            ("120", Some(120)),
            ("0s", None),
            ("367d", None),
            ("5w", None),
            ("h", None),
            ("-1h", None),
            ("99999999999999999999d", None),
        ];
        for (text, expected) in table {
            assert_eq!(
                parse_ttl(text).ok().map(|d| d.as_secs()),
                expected,
                "{text}"
            );
        }
    }

    #[test]
    fn grants_default_to_all_and_refuse_unknown_names() {
        assert_eq!(
            grants("acme", &[]).ok(),
            Some(vec!["TNT#acme#*".to_string()])
        );
        assert_eq!(
            grants("acme", &["createStore".into(), "addUser".into()]).ok(),
            Some(vec![
                "TNT#acme#createStore".to_string(),
                "TNT#acme#addUser".to_string()
            ])
        );
        assert!(grants("acme", &["createStor".into()]).is_err());
        assert!(grants("a#b", &[]).is_err());
        assert!(grants("", &[]).is_err());
    }
}
