//! QR codes as SVG text: the TOTP registration data's, and the `qrCode` form component's.

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// Smallest and largest `size` (pixels) a QR code may be drawn at.
pub const MIN_SIZE: u32 = 64;
pub const MAX_SIZE: u32 = 1024;

/// Why content could not be drawn as a QR code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot be drawn as a QR code ({len} bytes): {reason}")]
pub struct QrError {
    pub len: usize,
    pub reason: String,
}

/// `content` as a standalone SVG document at least `size` pixels square (clamped to
/// [`MIN_SIZE`]..=[`MAX_SIZE`]), black on white with the standard quiet zone.
pub fn svg(content: &str, size: u32) -> Result<String, QrError> {
    let code =
        QrCode::with_error_correction_level(content.as_bytes(), EcLevel::M).map_err(|e| {
            QrError {
                len: content.len(),
                reason: e.to_string(),
            }
        })?;
    let size = size.clamp(MIN_SIZE, MAX_SIZE);
    Ok(code
        .render::<svg::Color>()
        .min_dimensions(size, size)
        .quiet_zone(true)
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_an_svg_and_refuses_content_too_long_for_a_qr_code() {
        let drawn = svg("otpauth://totp/idflow:alice?secret=JBSWY3DPEHPK3PXP", 200);
        let drawn = drawn.unwrap_or_default();
        assert!(
            drawn.starts_with("<?xml") || drawn.starts_with("<svg"),
            "{drawn:.40}"
        );
        assert!(drawn.contains("</svg>"));
        let too_long = "x".repeat(5000);
        let err = svg(&too_long, 200).err();
        assert_eq!(err.map(|e| e.len), Some(5000));
    }
}
