//! Percent-encoding as SigV4 (and GCS V4) canonicalize it, and as object_store writes paths.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};

/// Everything but RFC 3986's unreserved characters (`A-Z a-z 0-9 - . _ ~`): how SigV4
/// encodes query names and values, and object_store's `STRICT_ENCODE_SET`.
pub const STRICT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// [`STRICT`] keeping `/`: how object_store encodes an S3 key into a URL path
/// (`STRICT_PATH_ENCODE_SET`), and so what S3's canonical URI is.
pub const STRICT_PATH: &AsciiSet = &STRICT.remove(b'/');

/// Append `value` to `out`, percent-encoded with `set`.
pub fn push_encoded(out: &mut String, value: &str, set: &'static AsciiSet) {
    for piece in percent_encoding::utf8_percent_encode(value, set) {
        out.push_str(piece);
    }
}

/// Lower-case hex of `bytes`, appended to `out`.
pub fn push_hex(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    out.reserve(bytes.len() * 2);
    for byte in bytes {
        out.push(DIGITS[usize::from(byte >> 4)] as char);
        out.push(DIGITS[usize::from(byte & 0xf)] as char);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_sigv4() {
        let mut out = String::new();
        push_encoded(&mut out, "a b/c~d+é", STRICT_PATH);
        assert_eq!(out, "a%20b/c~d%2B%C3%A9");
        out.clear();
        push_encoded(&mut out, "a b/c", STRICT);
        assert_eq!(out, "a%20b%2Fc");
        out.clear();
        push_hex(&mut out, &[0x00, 0xab, 0xff]);
        assert_eq!(out, "00abff");
    }
}
