//! The roots of trust of the AWS clients' TLS, and the HTTP client built on them.
//!
//! By default only the roots AWS service endpoints chain to (Amazon Root CA 1–4 and Starfield
//! Services Root CA G2, embedded from `aws-roots.pem`), instead of every root the platform holds:
//! loading and decoding the system store (hundreds of certificates, each file of
//! `/etc/ssl/certs` read) was most of a Lambda's start-up CPU. `AWS_CA_BUNDLE` replaces them with
//! the certificates of a PEM file, for an endpoint behind another CA (a TLS-terminating proxy, an
//! emulator served over HTTPS). Plain `http://` endpoints need no roots at all.

use std::fmt;

use aws_smithy_http_client::tls::{Provider, TlsContext, TrustStore, rustls_provider::CryptoMode};
use aws_types::sdk_config::SharedHttpClient;
use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::env::{ConfigError, present};

/// The variable naming a PEM file whose certificates replace the built-in roots (the name the
/// AWS CLI and the other SDKs read).
pub const CA_BUNDLE_VARIABLE: &str = "AWS_CA_BUNDLE";

/// The embedded roots: Amazon Trust Services' four roots and the Starfield root they cross-sign.
const AWS_ROOTS_PEM: &[u8] = include_bytes!("aws-roots.pem");

/// The certificates a TLS connection of the AWS clients may chain to.
#[derive(Clone)]
pub struct TrustRoots {
    context: TlsContext,
    origin: Origin,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Origin {
    Embedded,
    CaBundle { path: String, certificates: usize },
}

impl TrustRoots {
    /// `AWS_CA_BUNDLE` when set (its file is read and every certificate in it checked now, so a
    /// bad bundle stops the process at start rather than failing each request), else the roots
    /// AWS endpoints chain to, embedded in the binary.
    pub fn from_lookup(
        lookup: &impl Fn(&str) -> Option<String>,
    ) -> Result<TrustRoots, ConfigError> {
        let invalid = |problem: String| ConfigError::Invalid {
            name: CA_BUNDLE_VARIABLE,
            problem,
        };
        let Some(path) = present(lookup, CA_BUNDLE_VARIABLE) else {
            return TrustRoots::from_pem(AWS_ROOTS_PEM.to_vec(), Origin::Embedded).map_err(invalid);
        };
        let pem =
            std::fs::read(&path).map_err(|error| invalid(format!("reading {path}: {error}")))?;
        let certificates =
            count_usable_roots(&pem).map_err(|problem| invalid(format!("{path}: {problem}")))?;
        TrustRoots::from_pem(pem, Origin::CaBundle { path, certificates }).map_err(invalid)
    }

    fn from_pem(pem: Vec<u8>, origin: Origin) -> Result<TrustRoots, String> {
        // The client decodes the PEM when it builds its connector (at each SDK client's
        // construction): a handful of certificates, not the platform's hundreds.
        let context = TlsContext::builder()
            .with_trust_store(TrustStore::empty().with_pem_certificate(pem))
            .build()
            .map_err(|error| format!("TLS configuration refused: {error}"))?;
        Ok(TrustRoots { context, origin })
    }

    /// An HTTPS client (rustls on ring) trusting these roots and nothing else; it speaks plain
    /// HTTP to `http://` endpoints. Share one per process: the SDK clients and, in crm-local, the
    /// credential providers use it.
    pub fn http_client(&self) -> SharedHttpClient {
        aws_smithy_http_client::Builder::new()
            .tls_provider(Provider::Rustls(CryptoMode::Ring))
            .tls_context(self.context.clone())
            .build_https()
    }
}

/// Checks a PEM bundle as the HTTP client will load it (every `CERTIFICATE` block decoded and
/// accepted as a trust anchor: the client panics on one it cannot add) and counts them.
fn count_usable_roots(pem: &[u8]) -> Result<usize, String> {
    let mut store = RootCertStore::empty();
    for (index, certificate) in CertificateDer::pem_slice_iter(pem).enumerate() {
        let certificate = certificate
            .map_err(|error| format!("certificate {} is not valid PEM: {error}", index + 1))?;
        store
            .add(certificate)
            .map_err(|error| format!("certificate {} is not a usable root: {error}", index + 1))?;
    }
    match store.len() {
        0 => Err("holds no PEM certificate".to_owned()),
        count => Ok(count),
    }
}

impl fmt::Debug for TrustRoots {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.origin {
            Origin::Embedded => f.write_str("TrustRoots(AWS roots, embedded)"),
            Origin::CaBundle { path, certificates } => {
                write!(
                    f,
                    "TrustRoots({CA_BUNDLE_VARIABLE}={path}: {certificates} certificates)"
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup_bundle(path: &std::path::Path) -> impl Fn(&str) -> Option<String> {
        let path = path.display().to_string();
        move |name: &str| (name == CA_BUNDLE_VARIABLE).then(|| path.clone())
    }

    #[test]
    fn the_embedded_roots_are_the_five_aws_roots_and_all_usable() {
        assert_eq!(count_usable_roots(AWS_ROOTS_PEM), Ok(5));
    }

    #[test]
    fn without_a_ca_bundle_the_embedded_roots_are_used() {
        let roots = TrustRoots::from_lookup(&|_: &str| None).unwrap();
        assert_eq!(roots.origin, Origin::Embedded);
    }

    #[test]
    fn a_ca_bundle_replaces_the_embedded_roots() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bundle.pem");
        let first_root = AWS_ROOTS_PEM
            .split(|&byte| byte == b'\n')
            .skip_while(|line| !line.starts_with(b"-----BEGIN"))
            .take_while(|line| !line.starts_with(b"-----END"))
            .chain([&b"-----END CERTIFICATE-----"[..]])
            .collect::<Vec<_>>()
            .join(&b'\n');
        std::fs::write(&path, &first_root).unwrap();

        let roots = TrustRoots::from_lookup(&lookup_bundle(&path)).unwrap();

        assert_eq!(
            roots.origin,
            Origin::CaBundle {
                path: path.display().to_string(),
                certificates: 1
            }
        );
    }

    #[test]
    fn an_unreadable_ca_bundle_is_named_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let error =
            TrustRoots::from_lookup(&lookup_bundle(&dir.path().join("missing.pem"))).unwrap_err();
        assert!(matches!(
            error,
            ConfigError::Invalid {
                name: CA_BUNDLE_VARIABLE,
                ..
            }
        ));
        assert!(error.to_string().contains("missing.pem"));
    }

    #[test]
    fn a_ca_bundle_without_certificates_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.pem");
        std::fs::write(&path, "not a certificate\n").unwrap();
        let error = TrustRoots::from_lookup(&lookup_bundle(&path)).unwrap_err();
        assert!(error.to_string().contains("no PEM certificate"));
    }

    #[test]
    fn a_ca_bundle_with_a_broken_certificate_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("broken.pem");
        std::fs::write(
            &path,
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let error = TrustRoots::from_lookup(&lookup_bundle(&path)).unwrap_err();
        assert!(error.to_string().contains("certificate 1"));
    }
}
