//! What may be stored (upstream `StorageValidator`): an allowed extension, a declared content
//! type that fits it, content whose first bytes are that format's (magic numbers), at most the
//! size limit, one extension per name. No I/O.

use crate::error::FilestoreError;

/// Allowed extensions and the content types each may declare (upstream's
/// `allowed.formats.map`).
pub const ALLOWED_FORMATS: &[(&str, &[&str])] = &[
    ("jpg", &["image/jpg", "image/jpeg"]),
    ("jpeg", &["image/jpeg", "image/jpg"]),
    ("png", &["image/png"]),
    ("pdf", &["application/pdf"]),
    ("odt", &["application/vnd.oasis.opendocument.text"]),
    ("ods", &["application/vnd.oasis.opendocument.spreadsheet"]),
    (
        "docx",
        &[
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/x-tika-ooxml",
            "application/octet-stream",
        ],
    ),
    (
        "doc",
        &[
            "application/msword",
            "application/x-tika-msoffice",
            "application/octet-stream",
        ],
    ),
    (
        "xlsx",
        &[
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "application/x-tika-ooxml",
            "application/octet-stream",
        ],
    ),
    (
        "xls",
        &[
            "application/vnd.ms-excel",
            "application/x-tika-msoffice",
            "application/octet-stream",
        ],
    ),
    ("csv", &["text/csv", "text/plain"]),
    ("txt", &["text/plain"]),
];

/// The first bytes a format's files start with (upstream's table; jpeg's APP0 marker
/// widened to any JPEG marker segment, as Exif photos from phones start with APP1).
fn magic(extension: &str) -> Option<&'static [&'static [u8]]> {
    const PDF: &[&[u8]] = &[b"%PDF"];
    const JPEG: &[&[u8]] = &[&[0xFF, 0xD8, 0xFF]];
    const PNG: &[&[u8]] = &[&[0x89, b'P', b'N', b'G']];
    const ZIP: &[&[u8]] = &[&[b'P', b'K', 0x03, 0x04]];
    const OLE: &[&[u8]] = &[&[0xD0, 0xCF, 0x11, 0xE0]];
    match extension {
        "pdf" => Some(PDF),
        "jpg" | "jpeg" => Some(JPEG),
        "png" => Some(PNG),
        "docx" | "xlsx" | "odt" | "ods" => Some(ZIP),
        "doc" | "xls" => Some(OLE),
        _ => None,
    }
}

/// The error of every refused file (upstream's code).
pub const INVALID_INPUT: &str = "EG_FILESTORE_INVALID_INPUT";

fn invalid(message: impl Into<String>) -> FilestoreError {
    FilestoreError::Invalid(INVALID_INPUT, message.into())
}

/// The allowed extensions, sorted (for messages).
pub fn allowed_list() -> String {
    let mut names: Vec<&str> = ALLOWED_FORMATS.iter().map(|(e, _)| *e).collect();
    names.sort_unstable();
    names.join(", ")
}

/// Checks one file; its content type as stored (the declared one, or the format's first).
pub fn check(
    filename: &str,
    declared_type: Option<&str>,
    bytes: &[u8],
    max_bytes: usize,
) -> Result<String, FilestoreError> {
    let name = filename.trim();
    if name.is_empty() {
        return Err(invalid("Filename cannot be null or empty."));
    }
    if name.matches('.').count() > 1 {
        return Err(invalid(format!(
            "Invalid input provided for file: {name}. Multiple extensions are not allowed."
        )));
    }
    let extension = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let Some((_, types)) = ALLOWED_FORMATS.iter().find(|(e, _)| *e == extension) else {
        return Err(invalid(format!(
            "Inalvid input provided for file : {extension}, please upload any of the allowed formats : {}",
            allowed_list()
        )));
    };
    let content_type =
        match declared_type.map(|t| t.split(';').next().unwrap_or(t).trim().to_ascii_lowercase()) {
            Some(t) if !t.is_empty() => {
                if !types.contains(&t.as_str()) {
                    return Err(invalid("Invalid Content Type"));
                }
                t
            }
            _ => types[0].to_owned(),
        };
    if let Some(starts) = magic(&extension) {
        if !starts.iter().any(|m| bytes.starts_with(m)) {
            return Err(invalid(format!(
                "File content does not match the expected format for {extension}"
            )));
        }
    }
    if bytes.len() > max_bytes {
        return Err(invalid(format!(
            "File size exceeds the maximum allowed size of {max_bytes} bytes"
        )));
    }
    Ok(content_type)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(r: Result<String, FilestoreError>) -> String {
        match r {
            Ok(t) => format!("ok {t}"),
            Err(FilestoreError::Invalid(code, message)) => format!("{code}: {message}"),
            Err(e) => format!("other {e}"),
        }
    }

    #[test]
    fn accepted_files_keep_their_type() {
        assert_eq!(
            code(check(
                "photo.JPG",
                Some("image/jpeg"),
                &[0xFF, 0xD8, 0xFF, 0xE1, 0],
                100
            )),
            "ok image/jpeg"
        );
        assert_eq!(
            code(check("a.pdf", None, b"%PDF-1.7", 100)),
            "ok application/pdf"
        );
        assert_eq!(
            code(check(
                "notes.txt",
                Some("text/plain; charset=utf-8"),
                b"hello",
                100
            )),
            "ok text/plain"
        );
    }

    #[test]
    fn every_refusal() {
        let refused = [
            check(" ", None, b"", 100),
            check("a.tar.gz", None, b"", 100),
            check("a.exe", None, b"MZ", 100),
            check("a.png", Some("image/jpeg"), &[0x89, b'P', b'N', b'G'], 100),
            check("a.png", Some("image/png"), b"GIF89a", 100),
            check("a.txt", None, &[b'x'; 101], 100),
        ];
        let messages: Vec<String> = refused.into_iter().map(code).collect();
        assert!(
            messages
                .iter()
                .all(|m| m.starts_with("EG_FILESTORE_INVALID_INPUT: ")),
            "{messages:?}"
        );
        assert!(messages[1].contains("Multiple extensions"));
        assert!(messages[2].contains("allowed formats"));
        assert!(messages[3].contains("Content Type"));
        assert!(messages[4].contains("does not match"));
        assert!(messages[5].contains("maximum allowed size of 100"));
    }
}
