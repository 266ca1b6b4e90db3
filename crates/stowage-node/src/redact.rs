//! Credentials out of every text a user is shown.
//!
//! A URL carries credentials in two places: its userinfo (`http://user:password@host`)
//! and its query (an Azure SAS token's `sig`, a presigned URL's `X-Amz-Signature`, an
//! OAuth `access_token`). Error messages quote URLs — ours, object_store's ("Error
//! performing GET http://…") and reqwest's — so every message bound for JavaScript goes
//! through [`redact`] (`From<StorageFailure> for napi::Error`), and so do descriptions
//! and, through the exported `redact`, the URLs the TypeScript layer puts in errors.
//!
//! [`redact`] works on free text, not on parsed URLs: a URL quoted inside a message, or
//! one too malformed to parse, is still found by its `://` and its `?name=` / `&name=`.

use napi_derive::napi;

/// What a secret is replaced with.
const MASK: &str = "***";

/// Query (or fragment) parameters whose value is a credential, compared ignoring case.
///
/// Only parameters that authenticate are listed: an Azure SAS token's `sv`, `se`, `sp`,
/// ... only describe what its `sig` allows, and a listing's `continuation-token` or
/// `pageToken` is not a credential, so they stay readable.
pub const CREDENTIAL_PARAMETERS: &[&str] = &[
    // Azure shared access signatures.
    "sig",
    // AWS Signature Version 4 and 2 presigned URLs.
    "x-amz-signature",
    "x-amz-credential",
    "x-amz-security-token",
    "awsaccesskeyid",
    "signature",
    // Google Cloud Storage V4 and V2 signed URLs.
    "x-goog-signature",
    "x-goog-credential",
    "googleaccessid",
    // OAuth 2 and the usual ways of putting a secret in a query.
    "token",
    "access_token",
    "refresh_token",
    "id_token",
    "session_token",
    "security_token",
    "sas_token",
    "code",
    "client_secret",
    "secret",
    "key",
    "api_key",
    "apikey",
    "password",
    "passwd",
    "pwd",
    "auth",
    "authorization",
    "credential",
    "credentials",
];

/// `text` with the userinfo of every URL in it and the value of every credential
/// parameter replaced by `***`. Text without either is returned unchanged.
pub fn redact(text: &str) -> String {
    redact_parameters(&redact_bare_userinfo(&redact_userinfo(text)))
}

/// The same redaction for the TypeScript layer, which puts URLs a user passed (to
/// `fromUrl`, `HTTPStore`) into its errors' `path` and `message`.
#[napi(js_name = "redact")]
#[cfg_attr(test, allow(dead_code))]
pub fn redact_for_js(text: String) -> String {
    redact(&text)
}

/// Ends the authority (`user:password@host:port`) of a URL found in free text. A `)` or
/// `]` does not: a password may hold one, and a bracketed IPv6 host does.
fn ends_authority(byte: u8) -> bool {
    matches!(
        byte,
        b'/' | b'?' | b'#' | b'\\' | b'"' | b'\'' | b'<' | b'>' | b'`'
    ) || byte.is_ascii_whitespace()
}

/// Ends a parameter's value. Credentials are URL-safe or percent-encoded, so this
/// stops at the first character that cannot be part of one, or that closes a quote
/// (`(url)` in reqwest's messages, `"url"` in ours).
fn ends_value(byte: u8) -> bool {
    matches!(
        byte,
        b'&' | b'#' | b'"' | b'\'' | b'<' | b'>' | b'`' | b')' | b'\\'
    ) || byte.is_ascii_whitespace()
}

/// Replace the userinfo after every `://` with the mask.
fn redact_userinfo(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut search = 0;
    while let Some(found) = text[search..].find("://") {
        let start = search + found + 3;
        let end = bytes[start..]
            .iter()
            .position(|&b| ends_authority(b))
            .map_or(bytes.len(), |n| start + n);
        // The last `@`: a malformed URL may hold more than one, all before the host.
        if let Some(at) = text[start..end].rfind('@') {
            out.push_str(&text[copied..start]);
            out.push_str(MASK);
            copied = start + at;
        }
        search = end.max(start);
    }
    out.push_str(&text[copied..]);
    out
}

/// Ends a word of free text, for [`redact_bare_userinfo`].
fn ends_word(byte: u8) -> bool {
    matches!(byte, b'"' | b'\'' | b'<' | b'>' | b'`' | b'(' | b')') || byte.is_ascii_whitespace()
}

/// Replace the userinfo of `user:password@host` written without a scheme (a URL the user
/// got wrong, which `Url::parse` reads as scheme `user`): in a word without `://`, what
/// comes before its last `@` (and before any `/`) is masked when it holds a `:`. An e-mail
/// address has no `:` there and stays.
fn redact_bare_userinfo(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut start = 0;
    while start < bytes.len() {
        let end = bytes[start..]
            .iter()
            .position(|&b| ends_word(b))
            .map_or(bytes.len(), |n| start + n);
        let word = &text[start..end];
        let authority = word.split('/').next().unwrap_or("");
        if !word.contains("://") {
            if let Some(at) = authority.rfind('@') {
                if authority[..at].contains(':') {
                    out.push_str(&text[copied..start]);
                    out.push_str(MASK);
                    copied = start + at;
                }
            }
        }
        start = end + 1;
    }
    out.push_str(&text[copied..]);
    out
}

/// Replace the value of every credential parameter (`?sig=…`, `&token=…`, `#access_token=…`).
fn redact_parameters(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        if !matches!(bytes[i], b'?' | b'&' | b'#' | b';') {
            i += 1;
            continue;
        }
        let name_start = i + 1;
        let name_end = bytes[name_start..]
            .iter()
            .position(|&b| !(b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')))
            .map_or(bytes.len(), |n| name_start + n);
        if name_end >= bytes.len() || bytes[name_end] != b'=' {
            i = name_end.max(name_start);
            continue;
        }
        let name = &text[name_start..name_end];
        let value_start = name_end + 1;
        let value_end = bytes[value_start..]
            .iter()
            .position(|&b| ends_value(b))
            .map_or(bytes.len(), |n| value_start + n);
        let is_credential = CREDENTIAL_PARAMETERS
            .iter()
            .any(|parameter| parameter.eq_ignore_ascii_case(name));
        if is_credential && value_end > value_start {
            out.push_str(&text[copied..value_start]);
            out.push_str(MASK);
            copied = value_end;
        }
        i = value_end;
    }
    out.push_str(&text[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_userinfo() {
        assert_eq!(
            redact("http://AKID:SECRET@host:9000/b"),
            "http://***@host:9000/b"
        );
        assert_eq!(redact("https://user@host"), "https://***@host");
        assert_eq!(
            redact("endpoint=\"http://a:b@h\", other=\"https://c:d@i/x\""),
            "endpoint=\"http://***@h\", other=\"https://***@i/x\""
        );
        // Malformed: a bad port, a second `@`, a `)` in the password.
        assert_eq!(redact("http://a:b@h:99999/"), "http://***@h:99999/");
        assert_eq!(redact("http://a:b@c@h/"), "http://***@h/");
        assert_eq!(redact("(http://a:p)ss@h/k)"), "(http://***@h/k)");
    }

    #[test]
    fn masks_userinfo_written_without_a_scheme() {
        assert_eq!(redact("AKID:SECRET@host/bucket"), "***@host/bucket");
        assert_eq!(
            redact("unsupported \"AKID:SECRET@host\" (AKID:SECRET@host)"),
            "unsupported \"***@host\" (***@host)"
        );
        assert_eq!(redact("write to a@b.example"), "write to a@b.example");
        assert_eq!(redact("users/john@x.com/a:b"), "users/john@x.com/a:b");
    }

    #[test]
    fn masks_credential_parameters_only() {
        assert_eq!(
            redact("GET http://h/c/k?sv=2022&se=2099&sp=rl&sig=abc%2B%3D in 3ms"),
            "GET http://h/c/k?sv=2022&se=2099&sp=rl&sig=*** in 3ms"
        );
        assert_eq!(
            redact("for url (http://h/b/k?X-Amz-Algorithm=AWS4&X-Amz-Credential=AKID%2F2024&X-Amz-Signature=ff00)"),
            "for url (http://h/b/k?X-Amz-Algorithm=AWS4&X-Amz-Credential=***&X-Amz-Signature=***)"
        );
        assert_eq!(
            redact("https://h/o?x-goog-signature=aa&X-Goog-Credential=sa%40p&token=t&pageToken=p"),
            "https://h/o?x-goog-signature=***&X-Goog-Credential=***&token=***&pageToken=p"
        );
        assert_eq!(
            redact("https://app/cb#access_token=abc&state=s"),
            "https://app/cb#access_token=***&state=s"
        );
        assert_eq!(
            redact("?continuation-token=abc&prefix=a"),
            "?continuation-token=abc&prefix=a"
        );
    }

    #[test]
    fn both_at_once_and_idempotent() {
        let text = "not a URL: \"http://u:SECRETPW@127.0.0.1:99999/?token=SECRETTOK&a=1\"";
        let once = redact(text);
        assert_eq!(
            once,
            "not a URL: \"http://***@127.0.0.1:99999/?token=***&a=1\""
        );
        assert_eq!(redact(&once), once);
    }

    #[test]
    fn leaves_plain_text_alone() {
        for text in [
            "",
            "a key cannot end with '/': \"a/\"",
            "mail me at a@b.example",
            "http://host/a?b=c&d",
            "ratio 3:2 @ 5 fps, é, ü, 日本",
            "key=",
            "?key",
        ] {
            assert_eq!(redact(text), text);
        }
    }

    #[test]
    fn keeps_multibyte_text_around_secrets() {
        assert_eq!(
            redact("é http://ü:ö@h/?sig=日本 ü"),
            "é http://***@h/?sig=*** ü"
        );
    }
}
