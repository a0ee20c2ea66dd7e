//! The scrape HTTP client against in-process servers on 127.0.0.1: formats,
//! gzip, the body size limit, status and redirects, the deadline, the headers a
//! target sees, credentials (re-read from files), and TLS (CA, server_name,
//! insecure_skip_verify, client certificates).

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::header::{CONTENT_ENCODING, CONTENT_TYPE, LOCATION};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tidemark::config::Config;
use tidemark::exposition::Format;
use tidemark::scrape::{ClientError, HttpClient, ScrapeError};

const TIMEOUT: Duration = Duration::from_secs(10);

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

/// 64 MiB of zeros, gzipped to about 64 KiB.
fn bomb() -> &'static [u8] {
    static BOMB: OnceLock<Vec<u8>> = OnceLock::new();
    BOMB.get_or_init(|| {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let block = vec![0u8; 1 << 20];
        for _ in 0..64 {
            encoder.write_all(&block).unwrap();
        }
        encoder.finish().unwrap()
    })
}

fn gzipped(body: Vec<u8>) -> Response {
    Response::builder()
        .header(CONTENT_ENCODING, "gzip")
        .header(CONTENT_TYPE, "text/plain; version=0.0.4")
        .body(Body::from(body))
        .unwrap()
}

/// The headers a target sees, one `name: value` line each (`-` when absent).
async fn echo(headers: HeaderMap) -> String {
    [
        "accept",
        "accept-encoding",
        "user-agent",
        "x-prometheus-scrape-timeout-seconds",
        "authorization",
    ]
    .iter()
    .map(|name| {
        let value = headers
            .get(*name)
            .map(|v| v.to_str().unwrap())
            .unwrap_or("-");
        format!("{name}: {value}\n")
    })
    .collect()
}

fn router() -> Router {
    Router::new()
        .route(
            "/text",
            get(|| async { ([(CONTENT_TYPE, "text/plain; version=0.0.4")], "up 1\n") }),
        )
        .route(
            "/om",
            get(|| async {
                (
                    [(
                        CONTENT_TYPE,
                        "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    )],
                    "up 1\n# EOF\n",
                )
            }),
        )
        .route(
            "/no-type",
            get(|| async { Response::new(Body::from("up 1\n")) }),
        )
        .route("/gzip", get(|| async { gzipped(gzip(b"up 1\nx 2\n")) }))
        .route(
            "/garbage-gzip",
            get(|| async { gzipped(b"this is not gzip at all".to_vec()) }),
        )
        .route(
            "/truncated-gzip",
            get(|| async {
                let mut body = gzip(&[b'x'; 4096]);
                body.truncate(body.len() - 12);
                gzipped(body)
            }),
        )
        .route("/big", get(|| async { "x".repeat(10_000) }))
        .route("/bomb", get(|| async { gzipped(bomb().to_vec()) }))
        .route(
            "/500",
            get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "boom") }),
        )
        .route(
            "/redirect",
            get(|| async { (StatusCode::FOUND, [(LOCATION, "/text")]) }),
        )
        .route(
            "/loop",
            get(|| async { (StatusCode::FOUND, [(LOCATION, "/loop")]) }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                "late"
            }),
        )
        .route("/echo", get(echo))
        .route(
            "/version",
            get(|version: axum::http::Version| async move { format!("{version:?}") }),
        )
}

async fn serve() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router()).await });
    addr
}

fn config(tail: &str) -> tidemark::config::ScrapeConfig {
    let text = format!("scrape_configs:\n  - job_name: t\n{tail}");
    Config::parse(&text).unwrap().scrape_configs.remove(0)
}

fn client(tail: &str) -> HttpClient {
    HttpClient::new(&config(tail)).unwrap()
}

async fn scrape(client: &HttpClient, url: &str) -> Result<(Format, String), ScrapeError> {
    let mut body = b"left over".to_vec();
    let result = client.scrape(url, TIMEOUT, &mut body).await;
    let text = String::from_utf8(body).unwrap();
    match result {
        Ok(format) => Ok((format, text)),
        Err(err) => {
            assert!(text.is_empty(), "body kept on error: {text:?}");
            Err(err)
        }
    }
}

#[tokio::test]
async fn formats_follow_the_content_type() {
    let addr = serve().await;
    let c = client("");
    let (format, body) = scrape(&c, &format!("http://{addr}/text")).await.unwrap();
    assert_eq!((format, body.as_str()), (Format::Text, "up 1\n"));
    let (format, body) = scrape(&c, &format!("http://{addr}/om")).await.unwrap();
    assert_eq!(
        (format, body.as_str()),
        (Format::OpenMetrics, "up 1\n# EOF\n")
    );
    let (format, _) = scrape(&c, &format!("http://{addr}/no-type")).await.unwrap();
    assert_eq!(format, Format::Text);
}

#[tokio::test]
async fn gzip_bodies_are_decompressed() {
    let addr = serve().await;
    let c = client("");
    let (_, body) = scrape(&c, &format!("http://{addr}/gzip")).await.unwrap();
    assert_eq!(body, "up 1\nx 2\n");
}

#[tokio::test]
async fn bad_gzip_is_a_clean_error() {
    let addr = serve().await;
    let c = client("");
    for path in ["garbage-gzip", "truncated-gzip"] {
        let err = scrape(&c, &format!("http://{addr}/{path}"))
            .await
            .unwrap_err();
        assert!(matches!(err, ScrapeError::Gzip { .. }), "{path}: {err:?}");
        assert!(err.to_string().starts_with("gzip: "), "{err}");
    }
}

#[tokio::test]
async fn body_size_limit_stops_plain_and_gzip_bodies() {
    let addr = serve().await;
    let c = client("    body_size_limit: 1KB\n");
    for path in ["big", "bomb"] {
        let err = scrape(&c, &format!("http://{addr}/{path}"))
            .await
            .unwrap_err();
        assert_eq!(err, ScrapeError::BodySizeLimit, "{path}");
        assert_eq!(err.to_string(), "body size limit exceeded");
    }
    // Small bodies pass; the next scrape on the same client still works.
    let (_, body) = scrape(&c, &format!("http://{addr}/gzip")).await.unwrap();
    assert_eq!(body, "up 1\nx 2\n");
    let c = client("    body_size_limit: 10KB\n");
    let (_, body) = scrape(&c, &format!("http://{addr}/big")).await.unwrap();
    assert_eq!(body.len(), 10_000);
}

#[tokio::test]
async fn non_200_status_is_an_error() {
    let addr = serve().await;
    let err = scrape(&client(""), &format!("http://{addr}/500"))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "server returned HTTP status 500 Internal Server Error"
    );
}

#[tokio::test]
async fn redirects_are_followed_unless_disabled() {
    let addr = serve().await;
    let (_, body) = scrape(&client(""), &format!("http://{addr}/redirect"))
        .await
        .unwrap();
    assert_eq!(body, "up 1\n");
    let err = scrape(
        &client("    follow_redirects: false\n"),
        &format!("http://{addr}/redirect"),
    )
    .await
    .unwrap_err();
    assert_eq!(err.to_string(), "server returned HTTP status 302 Found");
    let url = format!("http://{addr}/loop");
    let err = scrape(&client(""), &url).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("Get \"{url}\": stopped after 10 redirects")
    );
}

#[tokio::test]
async fn deadline_applies_to_the_whole_scrape() {
    let addr = serve().await;
    let url = format!("http://{addr}/slow");
    let mut body = Vec::new();
    let err = client("")
        .scrape(&url, Duration::from_millis(200), &mut body)
        .await
        .unwrap_err();
    assert_eq!(err, ScrapeError::Timeout { url: url.clone() });
    assert_eq!(
        err.to_string(),
        format!("Get \"{url}\": context deadline exceeded")
    );
}

#[tokio::test]
async fn refused_connection_names_the_url() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let url = format!("http://{addr}/metrics");
    let err = scrape(&client(""), &url).await.unwrap_err();
    assert!(
        err.to_string()
            .starts_with(&format!("Get \"{url}\": tcp connect error")),
        "{err}"
    );
}

/// The echo endpoint's answer as (header, value) pairs.
async fn seen(client: &HttpClient, addr: SocketAddr, timeout: Duration) -> Vec<(String, String)> {
    let mut body = Vec::new();
    client
        .scrape(&format!("http://{addr}/echo"), timeout, &mut body)
        .await
        .unwrap();
    String::from_utf8(body)
        .unwrap()
        .lines()
        .map(|l| {
            let (k, v) = l.split_once(": ").unwrap();
            (k.to_string(), v.to_string())
        })
        .collect()
}

fn header<'a>(seen: &'a [(String, String)], name: &str) -> &'a str {
    &seen.iter().find(|(k, _)| k == name).unwrap().1
}

#[tokio::test]
async fn target_sees_prometheus_headers() {
    let addr = serve().await;
    let s = seen(&client(""), addr, Duration::from_secs(10)).await;
    assert_eq!(
        header(&s, "accept"),
        "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
    );
    assert_eq!(header(&s, "accept-encoding"), "gzip");
    assert_eq!(
        header(&s, "user-agent"),
        format!("tidemark/{}", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(header(&s, "x-prometheus-scrape-timeout-seconds"), "10");
    assert_eq!(header(&s, "authorization"), "-");

    let c = client("    enable_compression: false\n");
    let s = seen(&c, addr, Duration::from_millis(1500)).await;
    assert_eq!(header(&s, "accept-encoding"), "identity");
    assert_eq!(header(&s, "x-prometheus-scrape-timeout-seconds"), "1.5");
}

#[tokio::test]
async fn basic_auth_and_authorization_headers() {
    let addr = serve().await;
    let c = client("    basic_auth: {username: user, password: pass}\n");
    let s = seen(&c, addr, TIMEOUT).await;
    // base64("user:pass")
    assert_eq!(header(&s, "authorization"), "Basic dXNlcjpwYXNz");
    let c = client("    authorization: {type: Token, credentials: abc}\n");
    let s = seen(&c, addr, TIMEOUT).await;
    assert_eq!(header(&s, "authorization"), "Token abc");
    let c = client("    bearer_token: xyz\n");
    let s = seen(&c, addr, TIMEOUT).await;
    assert_eq!(header(&s, "authorization"), "Bearer xyz");
}

#[tokio::test]
async fn credential_files_are_read_at_every_scrape() {
    let addr = serve().await;
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "first\n").unwrap();
    let c = client(&format!("    bearer_token_file: {}\n", token.display()));
    let s = seen(&c, addr, TIMEOUT).await;
    assert_eq!(header(&s, "authorization"), "Bearer first");
    std::fs::write(&token, "  second  ").unwrap();
    let s = seen(&c, addr, TIMEOUT).await;
    assert_eq!(header(&s, "authorization"), "Bearer second");

    std::fs::remove_file(&token).unwrap();
    let err = scrape(&c, &format!("http://{addr}/echo"))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("unable to read authorization credentials file ")
            && text.contains(&token.display().to_string()),
        "{text}"
    );

    let password = dir.path().join("pw");
    std::fs::write(&password, "pass\n").unwrap();
    let c = client(&format!(
        "    basic_auth: {{username: user, password_file: {}}}\n",
        password.display()
    ));
    let s = seen(&c, addr, TIMEOUT).await;
    assert_eq!(header(&s, "authorization"), "Basic dXNlcjpwYXNz");
}

// TLS.

/// A CA, a server certificate it signed for localhost and 127.0.0.1 (plus
/// `tidemark.test`), and a client certificate it signed.
struct Pki {
    ca_pem: String,
    server_chain: Vec<CertificateDer<'static>>,
    server_key_pem: String,
    client_cert_pem: String,
    client_key_pem: String,
}

fn pki() -> Pki {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let leaf = |names: Vec<String>| {
        let key = KeyPair::generate().unwrap();
        let cert = CertificateParams::new(names)
            .unwrap()
            .signed_by(&key, &ca)
            .unwrap();
        (cert, key)
    };
    let (server, server_key) = leaf(vec![
        "localhost".into(),
        "127.0.0.1".into(),
        "tidemark.test".into(),
    ]);
    let (client, client_key) = leaf(vec!["scraper".into()]);
    Pki {
        ca_pem: ca.pem(),
        server_chain: vec![server.der().clone()],
        server_key_pem: server_key.serialize_pem(),
        client_cert_pem: client.pem(),
        client_key_pem: client_key.serialize_pem(),
    }
}

#[allow(deprecated)] // ring's provider: see src/scrape/client/tls.rs
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// An HTTPS server of `router()`, HTTP/1.1 and HTTP/2 (ALPN); with `client_ca`,
/// it demands a client certificate signed by the CA.
async fn serve_tls(pki: &Pki, client_ca: bool) -> SocketAddr {
    let builder = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap();
    let builder = if client_ca {
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(pki.ca_pem.as_bytes()) {
            roots.add(cert.unwrap()).unwrap();
        }
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            Arc::new(roots),
            provider(),
        )
        .build()
        .unwrap();
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    let key = PrivateKeyDer::from_pem_slice(pki.server_key_pem.as_bytes()).unwrap();
    let mut config = builder
        .with_single_cert(pki.server_chain.clone(), key)
        .unwrap();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let service = hyper_util::service::TowerToHyperService::new(router());
                let _ = hyper_util::server::conn::auto::Builder::new(
                    hyper_util::rt::TokioExecutor::new(),
                )
                .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                .await;
            });
        }
    });
    addr
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[tokio::test]
async fn tls_server_is_checked_against_the_ca_file() {
    let pki = pki();
    let addr = serve_tls(&pki, false).await;
    let dir = tempfile::tempdir().unwrap();
    let ca = write(dir.path(), "ca.pem", &pki.ca_pem);
    let url = format!("https://127.0.0.1:{}/text", addr.port());

    let c = client(&format!("    tls_config: {{ca_file: {ca}}}\n"));
    let (_, body) = scrape(&c, &url).await.unwrap();
    assert_eq!(body, "up 1\n");
    let localhost = format!("https://localhost:{}/text", addr.port());
    scrape(&c, &localhost).await.unwrap();

    // The built-in roots do not know our CA.
    let err = scrape(&client(""), &url).await.unwrap_err();
    assert!(matches!(err, ScrapeError::Request { .. }), "{err:?}");
    assert!(err.to_string().contains("certificate"), "{err}");

    let c = client("    tls_config: {insecure_skip_verify: true}\n");
    scrape(&c, &url).await.unwrap();

    // server_name replaces the URL's host in the check.
    let c = client(&format!(
        "    tls_config: {{ca_file: {ca}, server_name: tidemark.test}}\n"
    ));
    scrape(&c, &url).await.unwrap();
    let c = client(&format!(
        "    tls_config: {{ca_file: {ca}, server_name: other.test}}\n"
    ));
    scrape(&c, &url).await.unwrap_err();

    // Inline PEM works as the file does.
    let ca_inline = pki.ca_pem.replace('\n', "\\n");
    let c = client(&format!("    tls_config: {{ca: \"{ca_inline}\"}}\n"));
    scrape(&c, &url).await.unwrap();
}

#[tokio::test]
async fn http2_is_negotiated_unless_disabled() {
    let pki = pki();
    let addr = serve_tls(&pki, false).await;
    let url = format!("https://127.0.0.1:{}/version", addr.port());
    let c = client("    tls_config: {insecure_skip_verify: true}\n");
    assert_eq!(scrape(&c, &url).await.unwrap().1, "HTTP/2.0");
    let c = client("    enable_http2: false\n    tls_config: {insecure_skip_verify: true}\n");
    assert_eq!(scrape(&c, &url).await.unwrap().1, "HTTP/1.1");
}

#[tokio::test]
async fn client_certificate_is_sent() {
    let pki = pki();
    let addr = serve_tls(&pki, true).await;
    let dir = tempfile::tempdir().unwrap();
    let ca = write(dir.path(), "ca.pem", &pki.ca_pem);
    let cert = write(dir.path(), "client.pem", &pki.client_cert_pem);
    let key = write(dir.path(), "client.key", &pki.client_key_pem);
    let url = format!("https://127.0.0.1:{}/text", addr.port());

    let c = client(&format!(
        "    tls_config: {{ca_file: {ca}, cert_file: {cert}, key_file: {key}}}\n"
    ));
    let (_, body) = scrape(&c, &url).await.unwrap();
    assert_eq!(body, "up 1\n");

    let c = client(&format!("    tls_config: {{ca_file: {ca}}}\n"));
    scrape(&c, &url).await.unwrap_err();
}

#[tokio::test]
async fn bad_tls_files_fail_the_build_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.pem").display().to_string();
    let garbage = write(dir.path(), "garbage.pem", "not a certificate\n");
    let pki = pki();
    let cert = write(dir.path(), "client.pem", &pki.client_cert_pem);
    for (tail, file) in [
        (
            format!("    tls_config: {{ca_file: {missing}}}\n"),
            &missing,
        ),
        (
            format!("    tls_config: {{ca_file: {garbage}}}\n"),
            &garbage,
        ),
        (
            format!("    tls_config: {{cert_file: {cert}, key_file: {garbage}}}\n"),
            &garbage,
        ),
    ] {
        let err: ClientError = HttpClient::new(&config(&tail)).unwrap_err();
        assert!(err.to_string().contains(file.as_str()), "{tail}: {err}");
    }
}
