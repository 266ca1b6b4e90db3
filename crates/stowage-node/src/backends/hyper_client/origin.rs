//! Whether a request goes to a given origin (`scheme://host[:port]`, written as `url` writes
//! one: a lower-case host, no default port, no credentials).

use url::Url;

/// Whether `uri` is on `origin`. A URI written as the origin is (the usual case: object_store
/// builds its URLs from the same text) is matched as text; one that differs only in spelling
/// (a default port, an upper-case host) is parsed as a URL, which normalizes it the same way.
/// A URI with credentials in it is on no origin: its requests need what reqwest does with them.
pub fn is_on_origin(uri: &http::Uri, origin: &str) -> bool {
    if let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) {
        let authority = authority.as_str();
        let same = origin.len() == scheme.len() + 3 + authority.len()
            && origin.starts_with(scheme)
            && origin[scheme.len()..].starts_with("://")
            && origin.ends_with(authority);
        if same {
            return true;
        }
    }
    match Url::parse(&uri.to_string()) {
        Ok(url) => {
            url.username().is_empty()
                && url.password().is_none()
                && &url[..url::Position::BeforePath] == origin
        }
        Err(_) => false,
    }
}

/// The origin of `url`, as [`is_on_origin`] compares it, or `None` for a URL without a host.
pub fn origin_of(url: &str) -> Option<String> {
    let url = Url::parse(url).ok()?;
    url.host_str()?;
    let origin = url.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_spellings_of_one_origin() {
        let on = |uri: &str, origin: &str| is_on_origin(&uri.parse().unwrap(), origin);
        assert!(on("http://127.0.0.1:9000/bkt/a", "http://127.0.0.1:9000"));
        assert!(on(
            "https://BKT.example.com:443/k",
            "https://bkt.example.com"
        ));
        assert!(!on("http://127.0.0.1:9001/bkt/a", "http://127.0.0.1:9000"));
        assert!(!on("http://bkt.example.com/k", "https://bkt.example.com"));
        assert!(!on(
            "https://user:pw@bkt.example.com/k",
            "https://bkt.example.com"
        ));
        assert_eq!(
            origin_of("https://Host.example.com:443/a/b?q").as_deref(),
            Some("https://host.example.com")
        );
        assert_eq!(
            origin_of("http://u:p@127.0.0.1:8080/dav/").as_deref(),
            Some("http://127.0.0.1:8080")
        );
        assert_eq!(origin_of("file:///tmp/x"), None);
    }
}
