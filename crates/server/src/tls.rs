//! https: `rollcoach serve --tls-cert FILE --tls-key FILE`.
//!
//! A phone's browser allows a service worker (install, offline) and the
//! screen wake lock only in a secure context: `localhost`, or https. On the
//! LAN that means https, so `serve` can terminate TLS itself with rustls (the
//! `ring` provider: no C toolchain beyond `cc`). The certificate and key are
//! PEM files, read once at start; every problem with them is an error naming
//! the file. TLS handshakes run on each connection's task, so a slow or failed
//! one never holds up another connection, within a timeout and the
//! connection caps ([`crate::ConnLimits`]).

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::pki_types::pem::{self, PemObject};
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::{self, ServerConfig};

/// Why the certificate or key cannot be used. Each names the file, says what
/// is wrong and how to fix it.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file cannot be read (missing, a directory, no permission).
    #[error("cannot read the TLS {what} file {}: {source}", path.display())]
    Read {
        /// "certificate" or "key".
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// The certificate file holds no PEM certificate, or a broken one.
    #[error(
        "the TLS certificate file {} holds no usable certificate ({detail}); it must be PEM, \
         starting with `-----BEGIN CERTIFICATE-----` (the server's certificate first, then any \
         intermediates)",
        path.display()
    )]
    Certificate {
        /// The file.
        path: PathBuf,
        /// What the PEM reader found.
        detail: String,
    },
    /// The key file holds no PEM private key, or a broken one.
    #[error(
        "the TLS key file {} holds no usable private key ({detail}); it must be a PEM private key \
         (`-----BEGIN PRIVATE KEY-----`, `RSA PRIVATE KEY` or `EC PRIVATE KEY`), not encrypted",
        path.display()
    )]
    Key {
        /// The file.
        path: PathBuf,
        /// What the PEM reader found.
        detail: String,
    },
    /// The key does not belong to the certificate.
    #[error(
        "the TLS key {} does not go with the certificate {}: {detail}; give the key that was \
         made with this certificate",
        key.display(),
        cert.display()
    )]
    Mismatch {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// What rustls said.
        detail: String,
    },
}

/// A loaded certificate and key, ready to serve https.
#[derive(Clone)]
pub struct TlsConfig {
    config: Arc<ServerConfig>,
}

impl std::fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsConfig").finish_non_exhaustive()
    }
}

impl TlsConfig {
    /// Reads a PEM certificate chain and its PEM private key, and checks
    /// that they go together.
    pub fn from_pem_files(cert: &Path, key: &Path) -> Result<TlsConfig, TlsError> {
        let cert_pem = std::fs::read(cert).map_err(|source| TlsError::Read {
            what: "certificate",
            path: cert.to_owned(),
            source,
        })?;
        let key_pem = std::fs::read(key).map_err(|source| TlsError::Read {
            what: "key",
            path: key.to_owned(),
            source,
        })?;
        TlsConfig::from_pem(cert, &cert_pem, key, &key_pem)
    }

    /// As [`TlsConfig::from_pem_files`], from the files' contents (the paths
    /// only name them in errors).
    pub fn from_pem(
        cert: &Path,
        cert_pem: &[u8],
        key: &Path,
        key_pem: &[u8],
    ) -> Result<TlsConfig, TlsError> {
        let chain = CertificateDer::pem_slice_iter(cert_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| TlsError::Certificate {
                path: cert.to_owned(),
                detail: pem_detail(&e),
            })?;
        if chain.is_empty() {
            return Err(TlsError::Certificate {
                path: cert.to_owned(),
                detail: "no `BEGIN CERTIFICATE` section".into(),
            });
        }
        let private = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| TlsError::Key {
            path: key.to_owned(),
            detail: match e {
                pem::Error::NoItemsFound => "no private key section".into(),
                e => pem_detail(&e),
            },
        })?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let refused = |e: rustls::Error| match e {
            rustls::Error::InconsistentKeys(_) => TlsError::Mismatch {
                cert: cert.to_owned(),
                key: key.to_owned(),
                detail: e.to_string(),
            },
            rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented => {
                TlsError::Certificate {
                    path: cert.to_owned(),
                    detail: e.to_string(),
                }
            }
            e => TlsError::Key {
                path: key.to_owned(),
                detail: e.to_string(),
            },
        };
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(refused)?
            .with_no_client_auth()
            .with_single_cert(chain, private)
            .map_err(refused)?;
        // axum serves HTTP/1.1.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsConfig {
            config: Arc::new(config),
        })
    }
}

impl TlsConfig {
    /// An acceptor for this certificate (handshakes run on each
    /// connection's task, see [`crate::serve_tls`]).
    pub(crate) fn acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(Arc::clone(&self.config))
    }
}

fn pem_detail(e: &pem::Error) -> String {
    match e {
        pem::Error::NoItemsFound => "no PEM section".into(),
        e => format!("broken PEM: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_certificate_file_is_named() {
        let err =
            TlsConfig::from_pem(Path::new("c.pem"), b"", Path::new("k.pem"), b"").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("certificate file c.pem"), "{msg}");
        assert!(msg.contains("BEGIN CERTIFICATE"), "{msg}");
    }

    #[test]
    fn broken_pem_is_named() {
        let cert = b"-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n";
        let err =
            TlsConfig::from_pem(Path::new("c.pem"), cert, Path::new("k.pem"), b"").unwrap_err();
        assert!(matches!(err, TlsError::Certificate { .. }), "{err}");
        assert!(err.to_string().contains("c.pem"), "{err}");
    }
}
