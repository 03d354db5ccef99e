//! Process tokens (product.md, "Process tokens"): credentials that start instances of one
//! definition. A use is consumed in the same transaction that creates the instance, so a
//! count-limited token starts exactly `maxUses` instances however many starts race.

use std::fmt;

use serde_json::Value;

use crate::error::{RuntimeError, TokenRefusal};
use crate::keys;
use crate::records::{TokenIdRecord, TokenRecord};
use crate::runtime::Runtime;

/// How a token limits its uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// `UNLIMITED`.
    Unlimited,
    /// `MULTI_USE_COUNT_LIMITED`: at most `max_uses` instances.
    CountLimited { max_uses: u64 },
    /// `MULTI_USE_TIME_LIMITED`: usable until `expires_at_ms` (Unix ms, exclusive).
    TimeLimited { expires_at_ms: i64 },
}

impl TokenKind {
    /// The type as product.md spells it.
    pub fn as_str(&self) -> &'static str {
        match self {
            TokenKind::Unlimited => "UNLIMITED",
            TokenKind::CountLimited { .. } => "MULTI_USE_COUNT_LIMITED",
            TokenKind::TimeLimited { .. } => "MULTI_USE_TIME_LIMITED",
        }
    }
}

/// `ACTIVE` or `INACTIVE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenStatus {
    Active,
    Inactive,
}

impl TokenStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenStatus::Active => "ACTIVE",
            TokenStatus::Inactive => "INACTIVE",
        }
    }
}

/// What a caller gives to create a token.
#[derive(Debug, Clone, PartialEq)]
pub struct NewToken {
    /// Unique in the tenant.
    pub name: String,
    pub description: String,
    pub process_defn_name: String,
    /// `None`: the latest version deployed when an instance starts.
    pub process_defn_version: Option<u32>,
    pub kind: TokenKind,
    /// Copied into `processvar.token`; must be a JSON object.
    pub parameters: Value,
    /// Where an end user opens it.
    pub ui_url: Option<String>,
}

/// A process token as stored. `id` is the credential an end user presents: it is left out of
/// `Debug`.
#[derive(Clone, PartialEq)]
pub struct ProcessToken {
    /// 26 characters, 128 random bits.
    pub id: String,
    pub tenant: String,
    pub name: String,
    pub description: String,
    pub process_defn_name: String,
    pub process_defn_version: Option<u32>,
    pub kind: TokenKind,
    pub status: TokenStatus,
    pub parameters: Value,
    pub ui_url: Option<String>,
    /// Instances started with it so far.
    pub uses: u64,
    pub created_at_ms: i64,
}

impl fmt::Debug for ProcessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProcessToken")
            .field("id", &"<redacted>")
            .field("tenant", &self.tenant)
            .field("name", &self.name)
            .field("process_defn_name", &self.process_defn_name)
            .field("process_defn_version", &self.process_defn_version)
            .field("kind", &self.kind)
            .field("status", &self.status)
            .field("uses", &self.uses)
            .finish_non_exhaustive()
    }
}

/// Longest token name accepted, in characters (it is a path segment of the API).
pub const MAX_TOKEN_NAME_CHARS: usize = 200;
/// Longest token description and UI URL accepted, in characters.
pub const MAX_TOKEN_TEXT_CHARS: usize = 4096;

fn invalid(field: &'static str, reason: impl Into<String>) -> RuntimeError {
    RuntimeError::InvalidToken {
        field,
        reason: reason.into(),
    }
}

impl TokenRecord {
    pub(crate) fn to_token(&self, tenant: &str, key: &[u8]) -> Result<ProcessToken, RuntimeError> {
        let corrupt = |reason: String| {
            RuntimeError::Store(idflow_store::StoreError::Corrupt {
                key: idflow_store::render_key(key),
                reason,
            })
        };
        let kind = match (self.token_type.as_str(), self.max_uses, self.expires_at_ms) {
            ("UNLIMITED", _, _) => TokenKind::Unlimited,
            ("MULTI_USE_COUNT_LIMITED", Some(max_uses), _) => TokenKind::CountLimited { max_uses },
            ("MULTI_USE_TIME_LIMITED", _, Some(expires_at_ms)) => {
                TokenKind::TimeLimited { expires_at_ms }
            }
            (other, _, _) => {
                return Err(corrupt(format!(
                    "token type '{other}' is incomplete or unknown"
                )))
            }
        };
        let status = match self.status.as_str() {
            "ACTIVE" => TokenStatus::Active,
            "INACTIVE" => TokenStatus::Inactive,
            other => return Err(corrupt(format!("unknown token status '{other}'"))),
        };
        Ok(ProcessToken {
            id: self.id.clone(),
            tenant: tenant.to_string(),
            name: self.name.clone(),
            description: self.description.clone(),
            process_defn_name: self.process_defn_name.clone(),
            process_defn_version: self.process_defn_version,
            kind,
            status,
            parameters: self.parameters.clone(),
            ui_url: self.ui_url.clone(),
            uses: self.uses,
            created_at_ms: self.created_at_ms,
        })
    }

    /// Why this token cannot start an instance at `now_ms`, if it cannot.
    pub(crate) fn refusal(&self, now_ms: i64) -> Option<TokenRefusal> {
        if self.status != TokenStatus::Active.as_str() {
            return Some(TokenRefusal::Inactive);
        }
        if let Some(expired_at_ms) = self.expires_at_ms {
            if now_ms >= expired_at_ms {
                return Some(TokenRefusal::Expired { expired_at_ms });
            }
        }
        if let Some(max_uses) = self.max_uses {
            if self.uses >= max_uses {
                return Some(TokenRefusal::UsedUp { max_uses });
            }
        }
        None
    }
}

impl Runtime {
    /// Creates a token in `tenant`. The definition (and version, when given) must be deployed.
    pub fn create_token(&self, tenant: &str, new: NewToken) -> Result<ProcessToken, RuntimeError> {
        if new.name.trim().is_empty()
            || new.name.chars().count() > MAX_TOKEN_NAME_CHARS
            || new.name.chars().any(char::is_control)
        {
            return Err(invalid(
                "name",
                format!(
                    "must be 1 to {MAX_TOKEN_NAME_CHARS} characters, not blank, without control characters"
                ),
            ));
        }
        if new.description.chars().count() > MAX_TOKEN_TEXT_CHARS {
            return Err(invalid(
                "description",
                format!("over {MAX_TOKEN_TEXT_CHARS} characters"),
            ));
        }
        if new
            .ui_url
            .as_ref()
            .is_some_and(|u| u.chars().count() > MAX_TOKEN_TEXT_CHARS)
        {
            return Err(invalid(
                "uiUrl",
                format!("over {MAX_TOKEN_TEXT_CHARS} characters"),
            ));
        }
        if !new.parameters.is_object() {
            return Err(invalid("parameters", "must be a JSON object"));
        }
        let (max_uses, expires_at_ms) = match new.kind {
            TokenKind::Unlimited => (None, None),
            TokenKind::CountLimited { max_uses } => {
                if max_uses == 0 {
                    return Err(invalid("maxUses", "must be at least 1"));
                }
                (Some(max_uses), None)
            }
            TokenKind::TimeLimited { expires_at_ms } => (None, Some(expires_at_ms)),
        };
        // The definition must exist now; with no version the latest is taken at each start.
        self.definition(tenant, &new.process_defn_name, new.process_defn_version)?;
        let id = self.random.new_id();
        let now = self.clock.now_ms();
        let record = TokenRecord {
            id: id.clone(),
            name: new.name.clone(),
            description: new.description.clone(),
            process_defn_name: new.process_defn_name.clone(),
            process_defn_version: new.process_defn_version,
            token_type: new.kind.as_str().to_string(),
            max_uses,
            expires_at_ms,
            status: TokenStatus::Active.as_str().to_string(),
            parameters: new.parameters.clone(),
            ui_url: new.ui_url.clone(),
            uses: 0,
            created_at_ms: now,
        };
        let key = keys::token(tenant, &new.name);
        self.commit(|tx| {
            if tx.contains(&key)? {
                return Err(RuntimeError::TokenNameTaken {
                    tenant: tenant.to_string(),
                    name: new.name.clone(),
                });
            }
            let by_id = keys::token_by_id(&id);
            if tx.contains(&by_id)? {
                // 128 random bits colliding means the random source is broken.
                return Err(RuntimeError::Inconsistent(
                    "a freshly drawn token ID is already taken".to_string(),
                ));
            }
            tx.put_record(&key, &record)?;
            tx.put_record(
                &by_id,
                &TokenIdRecord {
                    tenant: tenant.to_string(),
                    name: new.name.clone(),
                },
            )?;
            Ok(())
        })?;
        record.to_token(tenant, &key)
    }

    /// Whether `id` is the credential of a process token: one point read, so a caller (the
    /// server's rate limit on starts) can tell real tokens from made-up IDs cheaply.
    pub fn is_token_id(&self, id: &str) -> Result<bool, RuntimeError> {
        Ok(idflow_ids::is_id(id) && self.store.get(&keys::token_by_id(id))?.is_some())
    }

    /// Every token of `tenant`, by name.
    pub fn list_tokens(&self, tenant: &str) -> Result<Vec<ProcessToken>, RuntimeError> {
        self.store
            .scan_records::<TokenRecord>(&keys::tokens_of_tenant(tenant))
            .map(|r| {
                let (key, record) = r?;
                record.to_token(tenant, &key)
            })
            .collect()
    }

    /// The token named `name` in `tenant`.
    pub fn token(&self, tenant: &str, name: &str) -> Result<ProcessToken, RuntimeError> {
        let key = keys::token(tenant, name);
        self.store
            .get_record::<TokenRecord>(&key)?
            .ok_or_else(|| RuntimeError::UnknownTokenName {
                tenant: tenant.to_string(),
                name: name.to_string(),
            })?
            .to_token(tenant, &key)
    }

    /// Deactivates a token: it starts no more instances (running ones go on).
    pub fn deactivate_token(&self, tenant: &str, name: &str) -> Result<ProcessToken, RuntimeError> {
        let key = keys::token(tenant, name);
        let record = self.commit(|tx| {
            let mut record = tx.get_record::<TokenRecord>(&key)?.ok_or_else(|| {
                RuntimeError::UnknownTokenName {
                    tenant: tenant.to_string(),
                    name: name.to_string(),
                }
            })?;
            record.status = TokenStatus::Inactive.as_str().to_string();
            tx.put_record(&key, &record)?;
            Ok(record)
        })?;
        record.to_token(tenant, &key)
    }
}
