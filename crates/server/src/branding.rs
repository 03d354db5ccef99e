//! Per-tenant branding of the end user's pages: a display name, a logo and three colours, with
//! their validation and their persisted record.
//!
//! The pages apply colours through CSS custom properties, so a tenant's colours must keep the
//! text readable: validation refuses a text or primary colour with less than the WCAG AA
//! contrast (4.5:1) against the background. The logo is a `data:` URI of a raster image or an
//! SVG (shown with `<img>`, where an SVG runs no script), so the pages load nothing from
//! elsewhere and the Content-Security-Policy stays `img-src 'self' data:`.

use base64::Engine as _;
use idflow_store::{key, Record, Store, StoreError};
use serde::{Deserialize, Serialize};

/// The longest display name, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// The largest logo, as the length of its `data:` URI.
pub const MAX_LOGO_BYTES: usize = 64 * 1024;
/// The least contrast between the background and the text or primary colour.
pub const MIN_CONTRAST: f64 = 4.5;

/// The colours a page uses when the tenant sets none (style.css's defaults).
const DEFAULT_PRIMARY: &str = "#1d4ed8";
const DEFAULT_BACKGROUND: &str = "#ffffff";
const DEFAULT_TEXT: &str = "#1f2328";

/// The image types a logo may have.
const LOGO_TYPES: [&str; 5] = [
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/svg+xml",
];

/// A tenant's branding; every part is optional (absent: the pages' default).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Branding {
    pub display_name: Option<String>,
    /// `data:image/...;base64,...`.
    pub logo: Option<String>,
    /// `#rrggbb`: buttons and links.
    pub primary_color: Option<String>,
    /// `#rrggbb`: the page's card.
    pub background_color: Option<String>,
    /// `#rrggbb`: body text.
    pub text_color: Option<String>,
}

pub(crate) fn rgb(field: &str, value: &str) -> Result<[u8; 3], String> {
    let hex = value
        .strip_prefix('#')
        .filter(|h| h.len() == 6 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or_else(|| format!("{field} must be a colour written #rrggbb"))?;
    let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0);
    Ok([byte(0), byte(2), byte(4)])
}

/// WCAG 2 relative luminance.
fn luminance([r, g, b]: [u8; 3]) -> f64 {
    let channel = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.03928 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
}

/// WCAG 2 contrast ratio, 1 to 21.
pub fn contrast(a: [u8; 3], b: [u8; 3]) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    let (hi, lo) = if la > lb { (la, lb) } else { (lb, la) };
    (hi + 0.05) / (lo + 0.05)
}

pub(crate) fn check_logo(logo: &str) -> Result<(), String> {
    if logo.len() > MAX_LOGO_BYTES {
        return Err(format!(
            "logo is {} bytes; at most {MAX_LOGO_BYTES} are allowed",
            logo.len()
        ));
    }
    let rest = logo
        .strip_prefix("data:")
        .ok_or("logo must be a data: URI (data:image/png;base64,...)")?;
    let (media, data) = rest
        .split_once(";base64,")
        .ok_or("logo must be a base64 data: URI (data:image/png;base64,...)")?;
    if !LOGO_TYPES.contains(&media) {
        return Err(format!(
            "logo has the type {media:?}; it must be one of {}",
            LOGO_TYPES.join(", ")
        ));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(|_| "logo's data is not standard base64".to_string())?;
    if bytes.is_empty() {
        return Err("logo's data is empty".into());
    }
    Ok(())
}

impl Branding {
    /// Whether the branding is usable; the error names the field at fault.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(name) = &self.display_name {
            let chars = name.chars().count();
            if chars == 0 || name.trim().is_empty() {
                return Err("displayName is empty; leave it out for none".into());
            }
            if chars > MAX_NAME_CHARS {
                return Err(format!(
                    "displayName is {chars} characters long; at most {MAX_NAME_CHARS} are allowed"
                ));
            }
            if name.chars().any(char::is_control) {
                return Err("displayName contains a control character".into());
            }
        }
        if let Some(logo) = &self.logo {
            check_logo(logo)?;
        }
        let colour = |field: &str, value: &Option<String>, default: &str| match value {
            Some(v) => rgb(field, v),
            None => rgb(field, default),
        };
        let primary = colour("primaryColor", &self.primary_color, DEFAULT_PRIMARY)?;
        let background = colour(
            "backgroundColor",
            &self.background_color,
            DEFAULT_BACKGROUND,
        )?;
        let text = colour("textColor", &self.text_color, DEFAULT_TEXT)?;
        for (field, fg) in [("textColor", text), ("primaryColor", primary)] {
            let ratio = contrast(fg, background);
            if ratio < MIN_CONTRAST {
                return Err(format!(
                    "{field} has a contrast of {ratio:.2}:1 against backgroundColor; at least {MIN_CONTRAST}:1 keeps the pages readable"
                ));
            }
        }
        Ok(())
    }
}

/// A tenant's branding as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BrandingRecord {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    logo: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    primary_color: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    background_color: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    text_color: Option<String>,
}

impl Record for BrandingRecord {
    const KIND: &'static str = "branding";
    const VERSION: u8 = 1;
}

fn record_key(tenant: &str) -> Vec<u8> {
    key(&["server", "branding", tenant])
}

/// The tenant's branding; the default (nothing set) when it never set any.
pub fn load(store: &Store, tenant: &str) -> Result<Branding, StoreError> {
    let record = store.get_record::<BrandingRecord>(&record_key(tenant))?;
    Ok(record
        .map(|r| Branding {
            display_name: r.display_name,
            logo: r.logo,
            primary_color: r.primary_color,
            background_color: r.background_color,
            text_color: r.text_color,
        })
        .unwrap_or_default())
}

/// Replaces the tenant's branding, durably. The caller has validated it.
pub fn save(store: &Store, tenant: &str, branding: &Branding) -> Result<(), StoreError> {
    let record = BrandingRecord {
        display_name: branding.display_name.clone(),
        logo: branding.logo.clone(),
        primary_color: branding.primary_color.clone(),
        background_color: branding.background_color.clone(),
        text_color: branding.text_color.clone(),
    };
    store.commit(|tx| tx.put_record(&record_key(tenant), &record))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &str = "data:image/png;base64,iVBORw0KGgo=";

    #[test]
    fn validation_names_the_field_at_fault() {
        let ok = Branding {
            display_name: Some("Acme Bank".into()),
            logo: Some(PNG.into()),
            primary_color: Some("#0b5394".into()),
            background_color: Some("#ffffff".into()),
            text_color: Some("#222222".into()),
        };
        assert_eq!(ok.validate(), Ok(()));
        assert_eq!(Branding::default().validate(), Ok(()));
        let cases: Vec<(Branding, &str)> = vec![
            (
                Branding {
                    display_name: Some(" ".into()),
                    ..ok.clone()
                },
                "displayName is empty",
            ),
            (
                Branding {
                    display_name: Some("x".repeat(101)),
                    ..ok.clone()
                },
                "displayName is 101 characters",
            ),
            (
                Branding {
                    logo: Some("https://example.test/logo.png".into()),
                    ..ok.clone()
                },
                "logo must be a data: URI",
            ),
            (
                Branding {
                    logo: Some("data:text/html;base64,PGI+".into()),
                    ..ok.clone()
                },
                "logo has the type \"text/html\"",
            ),
            (
                Branding {
                    logo: Some("data:image/png;base64,***".into()),
                    ..ok.clone()
                },
                "not standard base64",
            ),
            (
                Branding {
                    primary_color: Some("blue".into()),
                    ..ok.clone()
                },
                "primaryColor must be a colour written #rrggbb",
            ),
            (
                Branding {
                    text_color: Some("#eeeeee".into()),
                    ..ok.clone()
                },
                "textColor has a contrast of",
            ),
            (
                Branding {
                    background_color: Some("#1d4ed8".into()),
                    ..Branding::default()
                },
                "has a contrast of",
            ),
        ];
        for (branding, needle) in cases {
            let err = branding.validate().err().unwrap_or_default();
            assert!(err.contains(needle), "{needle}: {err}");
        }
    }

    #[test]
    fn contrast_is_the_wcag_ratio() {
        assert!((contrast([0, 0, 0], [255, 255, 255]) - 21.0).abs() < 1e-9);
        assert!((contrast([255, 255, 255], [255, 255, 255]) - 1.0).abs() < 1e-9);
    }

    #[test]
    fn branding_round_trips_through_the_store_per_tenant() {
        let store = Store::temporary().unwrap_or_else(|e| panic!("{e}"));
        let acme = Branding {
            display_name: Some("Acme".into()),
            primary_color: Some("#0b5394".into()),
            ..Branding::default()
        };
        save(&store, "acme", &acme).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(load(&store, "acme").ok(), Some(acme));
        assert_eq!(load(&store, "other").ok(), Some(Branding::default()));
    }
}
