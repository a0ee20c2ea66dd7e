//! The rustls configuration of a job's `tls_config`: roots (the `ca` bundle, else
//! the built-in Mozilla roots), the client certificate, `server_name` and
//! `insecure_skip_verify`.
//!
//! reqwest's own TLS options cannot check a certificate against a name other than
//! the URL's host, so the whole `ClientConfig` is built here, with a verifier that
//! substitutes `server_name` (the SNI sent stays the URL's host).

use std::path::Path;
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};

use super::error::ClientError;
use crate::config::{CredentialSource, PemSource, TlsConfig};

/// Builds the client TLS configuration; `http2` decides the ALPN offer.
pub(super) fn client_config(
    tls: &TlsConfig,
    http2: bool,
) -> Result<rustls::ClientConfig, ClientError> {
    // Deprecated for lacking post-quantum key exchange, which only the aws-lc-rs
    // provider has; that one needs cmake to build, which tidemark avoids.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server_name = match &tls.server_name {
        Some(name) => Some(
            ServerName::try_from(name.clone())
                .map_err(|_| ClientError::ServerName { name: name.clone() })?,
        ),
        None => None,
    };
    let inner = if tls.insecure_skip_verify {
        None
    } else {
        let mut roots = RootCertStore::empty();
        match &tls.ca {
            Some(ca) => {
                let (origin, pem) = read_pem(ca, "CA")?;
                let certs = certificates(&pem, "CA", &origin)?;
                for cert in certs {
                    roots.add(cert).map_err(|err| ClientError::Pem {
                        what: "CA",
                        origin: origin.clone(),
                        message: err.to_string(),
                    })?;
                }
            }
            None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        }
        let verifier =
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(|err| ClientError::Tls(err.to_string()))?;
        Some(verifier)
    };
    let verifier = Arc::new(Verifier {
        inner,
        server_name,
        provider: provider.clone(),
    });
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| ClientError::Tls(err.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut config = match (&tls.cert, &tls.key) {
        (Some(cert), Some(key)) => {
            let (origin, pem) = read_pem(cert, "client certificate")?;
            let chain = certificates(&pem, "client certificate", &origin)?;
            let (key_origin, key_pem) = match key {
                CredentialSource::Inline(secret) => (
                    "(inline key)".to_string(),
                    secret.expose().as_bytes().to_vec(),
                ),
                CredentialSource::File(path) => (display(path), read(path, "client key")?),
            };
            let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|err| ClientError::Pem {
                what: "client key",
                origin: key_origin.clone(),
                message: err.to_string(),
            })?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|err| ClientError::Pem {
                    what: "client certificate and key",
                    origin: format!("{origin} and {key_origin}"),
                    message: err.to_string(),
                })?
        }
        _ => builder.with_no_client_auth(),
    };
    config.alpn_protocols = if http2 {
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    } else {
        vec![b"http/1.1".to_vec()]
    };
    Ok(config)
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

fn read(path: &Path, what: &'static str) -> Result<Vec<u8>, ClientError> {
    std::fs::read(path).map_err(|source| ClientError::ReadFile {
        what,
        path: path.to_path_buf(),
        source,
    })
}

/// The PEM text and where it came from, for errors.
fn read_pem(source: &PemSource, what: &'static str) -> Result<(String, Vec<u8>), ClientError> {
    match source {
        PemSource::Inline(text) => Ok((format!("(inline {what})"), text.as_bytes().to_vec())),
        PemSource::File(path) => Ok((display(path), read(path, what)?)),
    }
}

/// Every certificate of a PEM bundle; none is an error, as in Go's
/// `AppendCertsFromPEM` check.
fn certificates(
    pem: &[u8],
    what: &'static str,
    origin: &str,
) -> Result<Vec<CertificateDer<'static>>, ClientError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| ClientError::Pem {
            what,
            origin: origin.to_string(),
            message: err.to_string(),
        })?;
    if certs.is_empty() {
        return Err(ClientError::Pem {
            what,
            origin: origin.to_string(),
            message: "no PEM certificate found".to_string(),
        });
    }
    Ok(certs)
}

/// Checks the server's certificate with webpki against `server_name` when set,
/// or accepts any certificate (`insecure_skip_verify`, `inner` is `None`).
/// Handshake signatures are always checked.
#[derive(Debug)]
struct Verifier {
    inner: Option<Arc<WebPkiServerVerifier>>,
    server_name: Option<ServerName<'static>>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match &self.inner {
            None => Ok(ServerCertVerified::assertion()),
            Some(inner) => inner.verify_server_cert(
                end_entity,
                intermediates,
                self.server_name.as_ref().unwrap_or(server_name),
                ocsp_response,
                now,
            ),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
