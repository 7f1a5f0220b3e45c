//! TLS for `ssl:`/`pssl:` targets with rustls, configured the way Open vSwitch's `SSL` table
//! is: a private key, its certificate and a CA certificate, all PEM files. Both sides
//! authenticate each other against the CA (mutual TLS); like OVS, the peer's certificate must
//! chain to the CA but its name is not compared with the address dialled (OpenFlow peers are
//! addressed by IP and their certificates rarely name one).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::server::WebPkiClientVerifier;
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};

/// The three PEM files of an OpenFlow TLS endpoint (OVS `SSL` table columns).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsConfig {
    /// `private_key`: this side's key.
    pub private_key: PathBuf,
    /// `certificate`: this side's certificate (chain), signed by a CA the peer trusts.
    pub certificate: PathBuf,
    /// `ca_cert`: the CA certificate(s) the peer's certificate must chain to.
    pub ca_cert: PathBuf,
}

/// A TLS configuration that could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A PEM file could not be read or parsed.
    #[error("{path}: {why}")]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        why: String,
    },
    /// rustls refused the configuration.
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
    /// The CA certificates could not be turned into a verifier.
    #[error("TLS verifier: {0}")]
    Verifier(String),
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn file_err(path: &Path, why: impl ToString) -> TlsError {
    TlsError::File { path: path.to_path_buf(), why: why.to_string() }
}

fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| file_err(path, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| file_err(path, e))?;
    if certs.is_empty() {
        return Err(file_err(path, "no certificate in file"));
    }
    Ok(certs)
}

fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| file_err(path, e))
}

fn load_roots(path: &Path) -> Result<Arc<RootCertStore>, TlsError> {
    let mut roots = RootCertStore::empty();
    for c in load_certs(path)? {
        roots.add(c).map_err(|e| file_err(path, e))?;
    }
    Ok(Arc::new(roots))
}

/// Verifies the server's chain against the CA but accepts any server name.
#[derive(Debug)]
struct ChainOnlyVerifier(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnlyVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.0.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            r => r,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

impl TlsConfig {
    /// The rustls configuration of the connecting (`ssl:`) side.
    pub fn client_config(&self) -> Result<Arc<ClientConfig>, TlsError> {
        let p = provider();
        let verifier = WebPkiServerVerifier::builder_with_provider(load_roots(&self.ca_cert)?, p.clone())
            .build()
            .map_err(|e| TlsError::Verifier(e.to_string()))?;
        let cfg = ClientConfig::builder_with_provider(p)
            .with_safe_default_protocol_versions()?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(ChainOnlyVerifier(verifier)))
            .with_client_auth_cert(load_certs(&self.certificate)?, load_key(&self.private_key)?)?;
        Ok(Arc::new(cfg))
    }

    /// The rustls configuration of the listening (`pssl:`) side; clients must present a
    /// certificate signed by the CA.
    pub fn server_config(&self) -> Result<Arc<ServerConfig>, TlsError> {
        let p = provider();
        let verifier = WebPkiClientVerifier::builder_with_provider(load_roots(&self.ca_cert)?, p.clone())
            .build()
            .map_err(|e| TlsError::Verifier(e.to_string()))?;
        let cfg = ServerConfig::builder_with_provider(p)
            .with_safe_default_protocol_versions()?
            .with_client_cert_verifier(verifier)
            .with_single_cert(load_certs(&self.certificate)?, load_key(&self.private_key)?)?;
        Ok(Arc::new(cfg))
    }
}
