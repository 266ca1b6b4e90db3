//! TLS as reqwest configures it for object_store: rustls with the process's default crypto
//! provider (aws-lc-rs unless one was installed), every protocol version rustls offers, the
//! platform's certificate verifier, and ALPN from the HTTP version options. With
//! `allowInvalidCertificates`, any certificate is accepted, as reqwest's `NoVerifier` does.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};

use crate::error::{StorageFailure, StorageResult};

use super::settings::HttpSettings;

/// The TLS configuration of a client with `settings`.
pub fn client_config(settings: &HttpSettings) -> StorageResult<ClientConfig> {
    let provider = CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(rustls::ALL_VERSIONS)
        .map_err(tls_error)?;
    let verifier: Arc<dyn ServerCertVerifier> = if settings.allow_invalid_certificates {
        Arc::new(AnyCertificate)
    } else {
        Arc::new(rustls_platform_verifier::Verifier::new(provider).map_err(tls_error)?)
    };
    let mut config = builder
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    // The connector is made from this config as it is (`HttpsConnector::from`), so these
    // are the protocols offered; HTTP/2 is used where the server picks it.
    config.alpn_protocols = if settings.http1_only {
        vec![b"http/1.1".to_vec()]
    } else if settings.http2_only {
        vec![b"h2".to_vec()]
    } else {
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    };
    Ok(config)
}

fn tls_error(err: rustls::Error) -> StorageFailure {
    StorageFailure::invalid_config(format!("TLS setup failed: {err}"))
}

/// Accepts every certificate: `allowInvalidCertificates`, for test servers only.
#[derive(Debug)]
struct AnyCertificate;

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        use SignatureScheme as S;
        vec![
            S::RSA_PKCS1_SHA1,
            S::ECDSA_SHA1_Legacy,
            S::RSA_PKCS1_SHA256,
            S::ECDSA_NISTP256_SHA256,
            S::RSA_PKCS1_SHA384,
            S::ECDSA_NISTP384_SHA384,
            S::RSA_PKCS1_SHA512,
            S::ECDSA_NISTP521_SHA512,
            S::RSA_PSS_SHA256,
            S::RSA_PSS_SHA384,
            S::RSA_PSS_SHA512,
            S::ED25519,
            S::ED448,
        ]
    }
}
