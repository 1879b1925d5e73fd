//! Turning a CSV file's bytes into text and finding its delimiter.
//!
//! Spreadsheet programs save "CSV" in several encodings (Excel's "Unicode text" is
//! UTF-16 with tabs; older Excel writes Windows-1252 with `;` in many locales), so the
//! encoding is detected rather than assumed, and reported back to the user.

use super::ImportError;
use encoding_rs::{UTF_16BE, UTF_16LE, WINDOWS_1252};
use serde::Serialize;
use std::borrow::Cow;
use std::fmt;

/// The text encoding a CSV file turned out to have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TextEncoding {
    Utf8,
    Utf8WithBom,
    Utf16LeWithBom,
    Utf16BeWithBom,
    /// UTF-16 little-endian recognised by its zero bytes, without a byte order mark.
    Utf16Le,
    Utf16Be,
    /// Not valid UTF-8: read as Windows-1252, what Excel on Windows writes.
    Windows1252,
}

impl fmt::Display for TextEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TextEncoding::Utf8 => "UTF-8",
            TextEncoding::Utf8WithBom => "UTF-8 with BOM",
            TextEncoding::Utf16LeWithBom => "UTF-16 LE with BOM",
            TextEncoding::Utf16BeWithBom => "UTF-16 BE with BOM",
            TextEncoding::Utf16Le => "UTF-16 LE",
            TextEncoding::Utf16Be => "UTF-16 BE",
            TextEncoding::Windows1252 => "Windows-1252",
        })
    }
}

/// The field separator of a CSV file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Delimiter {
    Comma,
    Semicolon,
    Tab,
}

impl Delimiter {
    pub const fn as_byte(self) -> u8 {
        match self {
            Delimiter::Comma => b',',
            Delimiter::Semicolon => b';',
            Delimiter::Tab => b'\t',
        }
    }
}

impl fmt::Display for Delimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Delimiter::Comma => "comma",
            Delimiter::Semicolon => "semicolon",
            Delimiter::Tab => "tab",
        })
    }
}

/// Decodes a CSV file's bytes. UTF-8 without a BOM is borrowed, not copied.
pub(super) fn decode(bytes: &[u8]) -> Result<(Cow<'_, str>, TextEncoding), ImportError> {
    let (text, encoding) = decode_any(bytes)?;
    if !looks_like_text(&text) {
        return Err(ImportError::NotText);
    }
    Ok((text, encoding))
}

fn decode_any(bytes: &[u8]) -> Result<(Cow<'_, str>, TextEncoding), ImportError> {
    if is_workbook(bytes) {
        return Err(ImportError::NotText);
    }
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return Ok((String::from_utf8_lossy(rest), TextEncoding::Utf8WithBom));
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        return Ok((utf16(UTF_16LE, rest)?, TextEncoding::Utf16LeWithBom));
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        return Ok((utf16(UTF_16BE, rest)?, TextEncoding::Utf16BeWithBom));
    }
    match utf16_without_bom(bytes) {
        Some(Utf16::Le) => return Ok((utf16(UTF_16LE, bytes)?, TextEncoding::Utf16Le)),
        Some(Utf16::Be) => return Ok((utf16(UTF_16BE, bytes)?, TextEncoding::Utf16Be)),
        None => {}
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok((Cow::Borrowed(text), TextEncoding::Utf8)),
        Err(_) => {
            let (text, _) = WINDOWS_1252.decode_without_bom_handling(bytes);
            Ok((text, TextEncoding::Windows1252))
        }
    }
}

/// ZIP (XLSX, ODS) or OLE (XLS) magic: a workbook, not text.
pub(super) fn is_workbook(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1")
}

fn utf16(
    encoding: &'static encoding_rs::Encoding,
    bytes: &[u8],
) -> Result<Cow<'static, str>, ImportError> {
    let (text, had_errors) = encoding.decode_without_bom_handling(bytes);
    if had_errors {
        return Err(ImportError::NotText);
    }
    Ok(Cow::Owned(text.into_owned()))
}

enum Utf16 {
    Le,
    Be,
}

/// Text in UTF-16 without a BOM has a zero byte in every pair that holds an ASCII
/// character, on the odd side for little-endian and the even side for big-endian. UTF-8
/// and Windows-1252 text has no zero bytes at all, and binary has them on both sides.
fn utf16_without_bom(bytes: &[u8]) -> Option<Utf16> {
    let sample = &bytes[..bytes.len().min(4096) & !1];
    let pairs = sample.len() / 2;
    if pairs < 2 {
        return None;
    }
    let (mut zero_odd, mut zero_even) = (0usize, 0usize);
    for pair in sample.chunks_exact(2) {
        match (pair[0], pair[1]) {
            (0, 0) => return None,
            (_, 0) => zero_odd += 1,
            (0, _) => zero_even += 1,
            _ => {}
        }
    }
    // At least 30% ASCII (headers, emails, delimiters), and almost all on one side.
    let one_sided = |this: usize, other: usize| this * 10 >= pairs * 3 && other * 50 <= this;
    if one_sided(zero_odd, zero_even) {
        Some(Utf16::Le)
    } else if one_sided(zero_even, zero_odd) {
        Some(Utf16::Be)
    } else {
        None
    }
}

/// Binary files decode to text full of control characters; a user list has almost none
/// besides tabs and line breaks.
fn looks_like_text(text: &str) -> bool {
    let mut chars = 0usize;
    let mut control = 0usize;
    for c in text.chars().take(8192) {
        chars += 1;
        if c == '\0' || c == '\u{FFFD}' || (c.is_control() && !matches!(c, '\t' | '\r' | '\n')) {
            control += 1;
        }
    }
    control * 100 <= chars
}

/// The delimiter is the one of `,` `;` tab that the header line (outside quotes) uses
/// most; a one-column file is comma-separated.
pub(super) fn detect_delimiter(text: &str) -> Delimiter {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for b in text.bytes() {
        match b {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted && counts.iter().any(|&c| c > 0) => break,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let candidates = [Delimiter::Comma, Delimiter::Semicolon, Delimiter::Tab];
    let best = (0..3)
        .max_by_key(|&i| (counts[i], std::cmp::Reverse(i)))
        .unwrap_or(0);
    if counts[best] == 0 {
        Delimiter::Comma
    } else {
        candidates[best]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le(text: &str) -> Vec<u8> {
        text.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    fn utf16be(text: &str) -> Vec<u8> {
        text.encode_utf16().flat_map(u16::to_be_bytes).collect()
    }

    #[test]
    fn utf8_with_and_without_bom() {
        let (text, enc) = decode(b"Email\nzo\xC3\xAB@example.com").unwrap();
        assert_eq!(
            (text.as_ref(), enc),
            ("Email\nzoë@example.com", TextEncoding::Utf8)
        );
        let (text, enc) = decode(b"\xEF\xBB\xBFEmail").unwrap();
        assert_eq!((text.as_ref(), enc), ("Email", TextEncoding::Utf8WithBom));
    }

    #[test]
    fn utf16_with_boms() {
        let mut le = vec![0xFF, 0xFE];
        le.extend(utf16le("Email\tRole\nzoë@x.io\tmember"));
        let (text, enc) = decode(&le).unwrap();
        assert_eq!(
            (text.as_ref(), enc),
            (
                "Email\tRole\nzoë@x.io\tmember",
                TextEncoding::Utf16LeWithBom
            )
        );
        let mut be = vec![0xFE, 0xFF];
        be.extend(utf16be("Email,Role"));
        let (text, enc) = decode(&be).unwrap();
        assert_eq!(
            (text.as_ref(), enc),
            ("Email,Role", TextEncoding::Utf16BeWithBom)
        );
    }

    #[test]
    fn utf16_without_bom_is_recognised_by_its_zero_bytes() {
        let le = utf16le("Email,Role\r\na@b.co,member");
        let (text, enc) = decode(&le).unwrap();
        assert_eq!(
            (text.as_ref(), enc),
            ("Email,Role\r\na@b.co,member", TextEncoding::Utf16Le)
        );
        let be = utf16be("Email,Role");
        let (text, enc) = decode(&be).unwrap();
        assert_eq!((text.as_ref(), enc), ("Email,Role", TextEncoding::Utf16Be));
    }

    #[test]
    fn utf16_without_bom_is_recognised_with_mostly_non_latin_text() {
        let text =
            "Email,Name\r\nli@example.cn,李小龙李小龙李小龙李小龙李小龙李小龙李小龙李小龙\r\n";
        let le = utf16le(text);
        assert_eq!(decode(&le).unwrap(), (text.into(), TextEncoding::Utf16Le));
    }

    #[test]
    fn invalid_utf8_is_read_as_windows_1252() {
        let (text, enc) = decode(b"First Name\nJos\xE9 M\xFCller Pe\xF1a \x80").unwrap();
        assert_eq!(
            (text.as_ref(), enc),
            ("First Name\nJosé Müller Peña €", TextEncoding::Windows1252)
        );
    }

    #[test]
    fn binary_and_workbooks_are_not_text() {
        assert_eq!(
            decode(b"PK\x03\x04\x14\x00\x06\x00").unwrap_err(),
            ImportError::NotText
        );
        let blob: Vec<u8> = (0..=255u8).cycle().take(2048).collect();
        assert_eq!(decode(&blob).unwrap_err(), ImportError::NotText);
    }

    #[test]
    fn the_delimiter_comes_from_the_header_outside_quotes() {
        assert_eq!(
            detect_delimiter("Email;Role;\"a,b,c,d\"\nx,y,z,w,v"),
            Delimiter::Semicolon
        );
        assert_eq!(detect_delimiter("Email\tRole\n"), Delimiter::Tab);
        assert_eq!(detect_delimiter("Email,Role"), Delimiter::Comma);
        assert_eq!(detect_delimiter("Email\n"), Delimiter::Comma);
        assert_eq!(detect_delimiter("\n\nEmail;Role\n"), Delimiter::Semicolon);
    }
}
