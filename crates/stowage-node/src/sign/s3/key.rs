//! SigV4 signing keys, derived once per (date, credential) and reused: the derivation is four
//! HMACs, the signature of a URL one more, so deriving per URL would cost five times the work.

use std::sync::{Arc, Mutex};

use aws_lc_rs::hmac;
use object_store::aws::AwsCredential;

/// The scope's service: S3.
pub const SERVICE: &str = "s3";

/// A derived key and what it was derived for.
struct Derived {
    date: [u8; 8],
    credential: Arc<AwsCredential>,
    key: Arc<hmac::Key>,
}

/// The last key derived; a signer's region and service never change, so a new date or
/// credential (a refresh) is what makes it stale.
#[derive(Default)]
pub struct SigningKeys {
    last: Mutex<Option<Derived>>,
}

impl SigningKeys {
    /// The signing key of `credential` for `date` (`YYYYMMDD`) in `region`.
    pub fn get(
        &self,
        credential: &Arc<AwsCredential>,
        date: [u8; 8],
        region: &str,
    ) -> Arc<hmac::Key> {
        // A poisoned lock only means another signer panicked mid-update of a plain value.
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(derived) = last.as_ref() {
            if derived.date == date
                && (Arc::ptr_eq(&derived.credential, credential)
                    || (derived.credential.secret_key == credential.secret_key))
            {
                return derived.key.clone();
            }
        }
        let key = Arc::new(derive(&credential.secret_key, &date, region));
        *last = Some(Derived {
            date,
            credential: credential.clone(),
            key: key.clone(),
        });
        key
    }
}

/// `kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), "s3"), "aws4_request")`.
pub fn derive(secret: &str, date: &[u8], region: &str) -> hmac::Key {
    let mut seed = Vec::with_capacity(4 + secret.len());
    seed.extend_from_slice(b"AWS4");
    seed.extend_from_slice(secret.as_bytes());
    let step = |key: &[u8], data: &[u8]| hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data);
    let k_date = step(&seed, date);
    let k_region = step(k_date.as_ref(), region.as_bytes());
    let k_service = step(k_region.as_ref(), SERVICE.as_bytes());
    let k_signing = step(k_service.as_ref(), b"aws4_request");
    hmac::Key::new(hmac::HMAC_SHA256, k_signing.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credential(secret: &str) -> Arc<AwsCredential> {
        Arc::new(AwsCredential {
            key_id: "id".into(),
            secret_key: secret.into(),
            token: None,
        })
    }

    #[test]
    fn derives_aws_documented_key() {
        // AWS's SigV4 example: the signing key's HMAC of "" is fixed by the derivation.
        let key = derive(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            b"20150830",
            "us-east-1",
        );
        let direct = {
            let k = |key: &[u8], d: &[u8]| hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), d);
            let a = k(b"AWS4wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", b"20150830");
            let b = k(a.as_ref(), b"us-east-1");
            let c = k(b.as_ref(), b"s3");
            k(c.as_ref(), b"aws4_request")
        };
        let direct = hmac::Key::new(hmac::HMAC_SHA256, direct.as_ref());
        assert_eq!(
            hmac::sign(&key, b"x").as_ref(),
            hmac::sign(&direct, b"x").as_ref()
        );
    }

    #[test]
    fn reuses_until_date_or_secret_changes() {
        let keys = SigningKeys::default();
        let first = credential("a");
        let k1 = keys.get(&first, *b"20260101", "r");
        assert!(Arc::ptr_eq(&k1, &keys.get(&first, *b"20260101", "r")));
        // The same secret in a new Arc (a provider that copies) still reuses.
        assert!(Arc::ptr_eq(
            &k1,
            &keys.get(&credential("a"), *b"20260101", "r")
        ));
        assert!(!Arc::ptr_eq(&k1, &keys.get(&first, *b"20260102", "r")));
        let k3 = keys.get(&credential("b"), *b"20260102", "r");
        assert_ne!(
            hmac::sign(&k1, b"x").as_ref(),
            hmac::sign(&k3, b"x").as_ref()
        );
    }
}
