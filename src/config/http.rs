//! The HTTP client settings (`basic_auth`, `authorization`,
//! `bearer_token[_file]`, `tls_config`, `follow_redirects`, `enable_http2`),
//! resolved and checked as Prometheus's `HTTPClientConfig.Validate` checks them,
//! with the same messages, and the [`Secret`] type that keeps credentials out of
//! logs. Prometheus inlines these keys into every section that makes HTTP
//! requests (scrape configs today; alertmanager and remote write configs later):
//! each such section lends its keys as a [`RawHttpClient`].
//!
//! Credentials named by a file are kept as paths: the scrape client re-reads them
//! at every scrape, as Prometheus does, so a rotated token is picked up without a
//! reload.

use std::fmt;
use std::path::PathBuf;

use serde::Deserialize;
use serde_saphyr::{Location, Spanned};

use super::error::ConfigError;
use super::raw::{Located, RawValue};
use super::resolver::Resolver;

/// A credential that must not end up in logs: its `Debug` prints `<secret>`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a credential.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The credential itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<secret>")
    }
}

/// Where a credential comes from: the config itself, or a file read at each use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialSource {
    Inline(Secret),
    /// Read at every scrape; surrounding whitespace is trimmed, as in Prometheus.
    File(PathBuf),
}

/// Where PEM data (a CA bundle, a client certificate) comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PemSource {
    Inline(String),
    File(PathBuf),
}

/// `basic_auth:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BasicAuth {
    pub username: String,
    /// `password` or `password_file`; none means an empty password.
    pub password: Option<CredentialSource>,
}

/// `authorization:` (or the legacy `bearer_token` / `bearer_token_file`): the
/// header `Authorization: <kind> <credentials>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// The scheme, `Bearer` unless the config says otherwise; never `Basic`.
    pub kind: String,
    /// `credentials` or `credentials_file`; with none, no header is sent.
    pub credentials: Option<CredentialSource>,
}

/// `tls_config:`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TlsConfig {
    /// CA certificates that replace the built-in roots (`ca` or `ca_file`).
    pub ca: Option<PemSource>,
    /// Client certificate chain (`cert` or `cert_file`); set exactly when `key` is.
    pub cert: Option<PemSource>,
    /// Client private key (`key` or `key_file`).
    pub key: Option<CredentialSource>,
    /// The name the server certificate is checked against instead of the URL's
    /// host.
    pub server_name: Option<String>,
    /// Accept any server certificate.
    pub insecure_skip_verify: bool,
}

/// The HTTP client settings of a section that makes requests (each scrape job).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpClientConfig {
    pub basic_auth: Option<BasicAuth>,
    pub authorization: Option<Authorization>,
    pub tls: TlsConfig,
    /// Follow up to 10 redirects (default true); when false a 3xx is an error.
    pub follow_redirects: bool,
    /// Offer HTTP/2 over TLS (default true).
    pub enable_http2: bool,
}

impl Default for HttpClientConfig {
    fn default() -> Self {
        HttpClientConfig {
            basic_auth: None,
            authorization: None,
            tls: TlsConfig::default(),
            follow_redirects: true,
            enable_http2: true,
        }
    }
}

/// `basic_auth:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBasicAuth {
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub password_file: Option<String>,
}

/// `authorization:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAuthorization {
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub credentials: Option<String>,
    #[serde(default)]
    pub credentials_file: Option<String>,
}

/// `tls_config:`. `ca`, `cert` and `key` are inline PEM, the `_file` keys paths.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTlsConfig {
    #[serde(default)]
    pub ca: Option<String>,
    #[serde(default)]
    pub ca_file: Option<String>,
    #[serde(default)]
    pub cert: Option<String>,
    #[serde(default)]
    pub cert_file: Option<String>,
    #[serde(default)]
    pub key: Option<String>,
    #[serde(default)]
    pub key_file: Option<String>,
    #[serde(default)]
    pub server_name: Option<String>,
    #[serde(default)]
    pub insecure_skip_verify: Option<bool>,
    /// Accepted and reported; rustls negotiates TLS 1.2 or 1.3.
    #[serde(default)]
    pub min_version: Option<RawValue>,
    #[serde(default)]
    pub max_version: Option<RawValue>,
}

/// The HTTP client keys of a section as written. Serde cannot flatten them into
/// a struct that denies unknown keys, so each section lists them among its own
/// and lends them here.
pub(super) struct RawHttpClient<'a> {
    pub basic_auth: Option<&'a Spanned<RawBasicAuth>>,
    pub authorization: Option<&'a Spanned<RawAuthorization>>,
    pub bearer_token: Option<&'a Located>,
    pub bearer_token_file: Option<&'a Located>,
    pub tls_config: Option<&'a Spanned<RawTlsConfig>>,
    pub follow_redirects: Option<bool>,
    pub enable_http2: Option<bool>,
    /// Whether `oauth2` is set (accepted, not implemented): it rules out the
    /// other kinds of authentication.
    pub oauth2: bool,
}

/// Strings Prometheus reads as "not set" when empty.
fn nonempty(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.is_empty())
}

impl Resolver<'_> {
    /// One of an inline secret and a file, or neither.
    fn credential(
        &self,
        inline: &Option<String>,
        file: &Option<String>,
    ) -> Option<CredentialSource> {
        match (nonempty(inline), nonempty(file)) {
            (Some(value), _) => Some(CredentialSource::Inline(Secret::new(value))),
            (None, Some(path)) => Some(CredentialSource::File(self.file(path))),
            (None, None) => None,
        }
    }

    /// The HTTP client settings of the section `key`. `unsupported` collects the
    /// TLS keys that are accepted but have no effect.
    pub(super) fn http_client(
        &self,
        key: &str,
        entry: &Location,
        raw: &RawHttpClient<'_>,
        unsupported: &mut Vec<String>,
    ) -> Result<HttpClientConfig, ConfigError> {
        let at = |key_name: &str| -> Location {
            let loc = match key_name {
                "basic_auth" => raw.basic_auth.map(|v| v.referenced),
                "authorization" => raw.authorization.map(|v| v.referenced),
                "bearer_token" => raw.bearer_token.map(|v| v.referenced),
                "bearer_token_file" => raw.bearer_token_file.map(|v| v.referenced),
                _ => None,
            };
            loc.unwrap_or(*entry)
        };
        let fail = |name: &str, message: &str| {
            self.error(Some(&at(name)), &format!("{key}.{name}"), message)
        };
        let token = raw.bearer_token.filter(|t| !t.value.is_empty());
        let token_file = raw.bearer_token_file.filter(|t| !t.value.is_empty());
        let oauth2 = raw.oauth2;

        if token.is_some() && token_file.is_some() {
            return Err(fail(
                "bearer_token_file",
                "at most one of bearer_token & bearer_token_file must be configured",
            ));
        }
        if (raw.basic_auth.is_some() || oauth2) && (token.is_some() || token_file.is_some()) {
            let name = if token.is_some() {
                "bearer_token"
            } else {
                "bearer_token_file"
            };
            return Err(fail(
                name,
                "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured",
            ));
        }
        let basic_auth = match raw.basic_auth {
            Some(Spanned { value, .. }) => {
                Some(self.basic_auth(value).map_err(|m| fail("basic_auth", m))?)
            }
            None => None,
        };
        let authorization = match raw.authorization {
            Some(Spanned { value, .. }) => {
                if token.is_some() || token_file.is_some() {
                    return Err(fail(
                        "authorization",
                        "authorization is not compatible with bearer_token & bearer_token_file",
                    ));
                }
                let auth = self
                    .authorization(value)
                    .map_err(|m| fail("authorization", m))?;
                if basic_auth.is_some() || oauth2 {
                    return Err(fail(
                        "authorization",
                        "at most one of basic_auth, oauth2 & authorization must be configured",
                    ));
                }
                Some(auth)
            }
            None => token
                .map(|t| CredentialSource::Inline(Secret::new(t.value.as_str())))
                .or_else(|| token_file.map(|f| CredentialSource::File(self.file(&f.value))))
                .map(|credentials| Authorization {
                    kind: "Bearer".to_string(),
                    credentials: Some(credentials),
                }),
        };
        let tls = match raw.tls_config {
            Some(tls) => {
                for (name, set) in [
                    ("min_version", tls.value.min_version.is_some()),
                    ("max_version", tls.value.max_version.is_some()),
                ] {
                    if set {
                        unsupported.push(format!("{key}.tls_config.{name}"));
                    }
                }
                self.tls(&tls.value).map_err(|m| {
                    self.error(Some(&tls.referenced), &format!("{key}.tls_config"), m)
                })?
            }
            None => TlsConfig::default(),
        };
        Ok(HttpClientConfig {
            basic_auth,
            authorization,
            tls,
            follow_redirects: raw.follow_redirects.unwrap_or(true),
            enable_http2: raw.enable_http2.unwrap_or(true),
        })
    }

    fn basic_auth(&self, raw: &RawBasicAuth) -> Result<BasicAuth, &'static str> {
        if nonempty(&raw.password).is_some() && nonempty(&raw.password_file).is_some() {
            return Err("at most one of basic_auth password & password_file must be configured");
        }
        Ok(BasicAuth {
            username: raw.username.clone().unwrap_or_default(),
            password: self.credential(&raw.password, &raw.password_file),
        })
    }

    fn authorization(&self, raw: &RawAuthorization) -> Result<Authorization, &'static str> {
        if nonempty(&raw.credentials).is_some() && nonempty(&raw.credentials_file).is_some() {
            return Err(
                "at most one of authorization credentials & credentials_file must be configured",
            );
        }
        let kind = raw.kind.as_deref().unwrap_or("").trim();
        let kind = if kind.is_empty() { "Bearer" } else { kind };
        if kind.eq_ignore_ascii_case("basic") {
            return Err(r#"authorization type cannot be set to "basic", use "basic_auth" instead"#);
        }
        Ok(Authorization {
            kind: kind.to_string(),
            credentials: self.credential(&raw.credentials, &raw.credentials_file),
        })
    }

    fn tls(&self, raw: &RawTlsConfig) -> Result<TlsConfig, &'static str> {
        let pem = |inline: &Option<String>, file: &Option<String>| match (
            nonempty(inline),
            nonempty(file),
        ) {
            (Some(text), _) => Some(PemSource::Inline(text.to_string())),
            (None, Some(path)) => Some(PemSource::File(self.file(path))),
            (None, None) => None,
        };
        let both =
            |a: &Option<String>, b: &Option<String>| nonempty(a).is_some() && nonempty(b).is_some();
        if both(&raw.ca, &raw.ca_file) {
            return Err("at most one of ca and ca_file must be configured");
        }
        if both(&raw.cert, &raw.cert_file) {
            return Err("at most one of cert and cert_file must be configured");
        }
        if both(&raw.key, &raw.key_file) {
            return Err("at most one of key and key_file must be configured");
        }
        let cert = pem(&raw.cert, &raw.cert_file);
        let key = self.credential(&raw.key, &raw.key_file);
        match (&cert, &key) {
            (Some(_), None) => {
                return Err(
                    "exactly one of key or key_file must be configured when a client certificate is configured",
                );
            }
            (None, Some(_)) => {
                return Err(
                    "exactly one of cert or cert_file must be configured when a client key is configured",
                );
            }
            _ => {}
        }
        Ok(TlsConfig {
            ca: pem(&raw.ca, &raw.ca_file),
            cert,
            key,
            server_name: nonempty(&raw.server_name).map(str::to_string),
            insecure_skip_verify: raw.insecure_skip_verify.unwrap_or(false),
        })
    }
}
