//! Plain-HTTP scrapes over connections kept from one scrape to the next.
//!
//! A scrape of an `http://` target goes this way rather than through reqwest.
//! Two costs of the general client made the difference: a connection kept alive
//! by hyper holds its read buffer (grown to the size of a body, some 100 KB a
//! target) while idle, and without keep-alive every scrape paid a connect, an
//! accept and a close, a fifth of a scraping server's CPU. Here an idle
//! connection is just its socket, and a body passes through one small buffer.
//!
//! It speaks the HTTP/1.1 that `/metrics` endpoints speak: one GET, a response
//! framed by `Content-Length`, by chunked transfer coding or by the end of the
//! connection. What needs more — a redirect to follow — is reported to the
//! caller, which repeats the scrape with the general client.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use reqwest::Url;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Idle connections older than this are closed instead of reused (Go's
/// `IdleConnTimeout`): servers close idle connections after a while, and
/// reusing a dead one costs a second attempt.
const IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// Idle connections kept per host and port (one per target is the usual need).
const MAX_IDLE_PER_HOST: usize = 4;

/// Largest response head (status line and headers) accepted.
const MAX_HEAD: usize = 64 << 10;

/// Largest chunk-size or trailer line accepted.
const MAX_LINE: usize = 4 << 10;

/// Bytes read from the socket at a time.
const READ_SIZE: usize = 16 << 10;

/// Headers looked at in a response (more are an error).
const MAX_HEADERS: usize = 64;

/// Where a plain-HTTP URL points.
pub(super) struct Target {
    /// `host:port` to connect to and to key idle connections by.
    key: String,
    host: Host,
    port: u16,
    /// The `Host` header: the URL's host, and its port unless the default.
    authority: String,
    /// Path and query of the request line.
    path: String,
}

enum Host {
    Ip(IpAddr),
    Name(String),
}

impl Target {
    /// The target of an `http://` URL; None for any other scheme.
    pub(super) fn of(url: &str) -> Option<Target> {
        let url = Url::parse(url).ok()?;
        if url.scheme() != "http" {
            return None;
        }
        let port = url.port_or_known_default()?;
        // IPv6 hosts come bracketed, IPv4 ones normalized ("0x7f.1" is 127.0.0.1).
        let name = url.host_str()?.to_string();
        let bare = name.trim_start_matches('[').trim_end_matches(']');
        let host = match bare.parse::<IpAddr>() {
            Ok(ip) => Host::Ip(ip),
            Err(_) => Host::Name(name.clone()),
        };
        let authority = match url.port() {
            Some(p) => format!("{name}:{p}"),
            None => name.clone(),
        };
        let path = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        };
        Some(Target {
            key: format!("{name}:{port}"),
            host,
            port,
            authority,
            path,
        })
    }

    /// The request line and `Host` header; the caller adds the other headers
    /// and the blank line.
    pub(super) fn request_head(&self) -> String {
        format!("GET {} HTTP/1.1\r\nHost: {}\r\n", self.path, self.authority)
    }

    async fn connect(&self) -> io::Result<TcpStream> {
        let stream = match &self.host {
            Host::Ip(ip) => TcpStream::connect(SocketAddr::new(*ip, self.port)).await?,
            Host::Name(name) => TcpStream::connect((name.as_str(), self.port)).await?,
        };
        // The request is one write; waiting to coalesce it only adds latency.
        stream.set_nodelay(true)?;
        Ok(stream)
    }
}

/// Idle connections of one job, by `host:port`.
#[derive(Default)]
pub(super) struct Pool {
    idle: Mutex<HashMap<String, Vec<(TcpStream, Instant)>>>,
}

impl Pool {
    fn take(&self, key: &str) -> Option<TcpStream> {
        let mut idle = self.idle.lock();
        let conns = idle.get_mut(key)?;
        while let Some((stream, since)) = conns.pop() {
            if since.elapsed() < IDLE_TIMEOUT {
                return Some(stream);
            }
        }
        None
    }

    fn put(&self, key: &str, stream: TcpStream) {
        let now = Instant::now();
        let mut idle = self.idle.lock();
        // Forget connections of targets no longer scraped.
        idle.retain(|_, conns| {
            conns.retain(|(_, since)| now.duration_since(*since) < IDLE_TIMEOUT);
            !conns.is_empty()
        });
        let conns = idle.entry(key.to_string()).or_default();
        if conns.len() < MAX_IDLE_PER_HOST {
            conns.push((stream, now));
        }
    }
}

/// Why a plain-HTTP exchange failed.
#[derive(Debug)]
pub(super) enum Error {
    /// No connection could be made.
    Connect(io::Error),
    /// The request could not be sent or no valid response head came back.
    Request(String),
    /// The connection failed or broke the framing while the body was read.
    Body(String),
}

/// A response whose head has been read; the body follows through
/// [`Response::chunk`].
pub(super) struct Response {
    pub(super) status: u16,
    pub(super) content_type: Option<String>,
    pub(super) content_encoding: Option<String>,
    conn: Conn,
    framing: Framing,
    keep_alive: bool,
}

/// How the body's end is known.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Framing {
    /// This many bytes remain.
    Length(u64),
    /// Chunked transfer coding, at this point of a chunk.
    Chunked(ChunkState),
    /// The body ends when the server closes the connection.
    UntilClose,
    /// The whole body has been read.
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum ChunkState {
    /// Expecting a chunk-size line.
    Size,
    /// Within a chunk's data, this many bytes left.
    Data(u64),
    /// Expecting the CRLF after a chunk's data.
    DataEnd,
    /// After the last chunk: trailer lines until an empty one.
    Trailers,
}

/// Sends `request` (a complete request head) to `target` and reads the response
/// head, on an idle connection of `pool` if there is one. A kept connection
/// the server has closed meanwhile is replaced by a new one, once.
pub(super) async fn send(pool: &Pool, target: &Target, request: &[u8]) -> Result<Response, Error> {
    if let Some(stream) = pool.take(&target.key) {
        let mut conn = Conn::new(stream);
        match exchange(&mut conn, request).await {
            Ok(Some(head)) => return Ok(head.into_response(conn)),
            // Closed before a byte of the response: try a new connection.
            Ok(None) => {}
            Err(e) => return Err(e),
        }
    }
    let stream = target.connect().await.map_err(Error::Connect)?;
    let mut conn = Conn::new(stream);
    match exchange(&mut conn, request).await {
        Ok(Some(head)) => Ok(head.into_response(conn)),
        Ok(None) => Err(Error::Request(
            "server closed the connection without a response".to_string(),
        )),
        Err(e) => Err(e),
    }
}

/// The parts of a response head that matter here.
struct Head {
    status: u16,
    content_type: Option<String>,
    content_encoding: Option<String>,
    framing: Framing,
    keep_alive: bool,
}

impl Head {
    fn into_response(self, conn: Conn) -> Response {
        Response {
            status: self.status,
            content_type: self.content_type,
            content_encoding: self.content_encoding,
            conn,
            framing: self.framing,
            keep_alive: self.keep_alive,
        }
    }
}

/// Writes the request and reads the final response head (skipping 1xx ones).
/// `Ok(None)`: the connection was closed before any byte of a response, which
/// on a reused connection means the server had dropped it.
async fn exchange(conn: &mut Conn, request: &[u8]) -> Result<Option<Head>, Error> {
    let request_error = |e: io::Error| Error::Request(e.to_string());
    if let Err(e) = conn.stream.write_all(request).await {
        return match e.kind() {
            io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset => Ok(None),
            _ => Err(request_error(e)),
        };
    }
    loop {
        let head = loop {
            if let Some(head) = parse_head(conn.available())? {
                break head;
            }
            if conn.available().len() >= MAX_HEAD {
                return Err(Error::Request(format!(
                    "response head larger than {MAX_HEAD} bytes"
                )));
            }
            match conn.fill().await {
                Ok(0) if conn.available().is_empty() => return Ok(None),
                Ok(0) => {
                    return Err(Error::Request(
                        "connection closed in the middle of the response head".to_string(),
                    ));
                }
                Ok(_) => {}
                Err(e) if conn.available().is_empty() && is_reset(&e) => return Ok(None),
                Err(e) => return Err(request_error(e)),
            }
        };
        let (len, head) = head;
        conn.consume(len);
        // 100 Continue and the like: the real response follows.
        if (100..200).contains(&head.status) {
            continue;
        }
        return Ok(Some(head));
    }
}

fn is_reset(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
    )
}

/// Parses a complete response head at the start of `bytes`: its length and
/// what it says, or None when more bytes are needed.
fn parse_head(bytes: &[u8]) -> Result<Option<(usize, Head)>, Error> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    let len = match response.parse(bytes) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(Error::Request(format!("malformed HTTP response: {e}"))),
    };
    let status = response.code.unwrap_or(0);
    let mut keep_alive = response.version == Some(1);
    let mut content_type = None;
    let mut content_encoding = None;
    let mut length: Option<u64> = None;
    let mut chunked = false;
    let text = |value: &[u8]| String::from_utf8_lossy(value).trim().to_string();
    for h in response.headers.iter() {
        let name = h.name;
        if name.eq_ignore_ascii_case("content-type") {
            content_type = Some(text(h.value));
        } else if name.eq_ignore_ascii_case("content-encoding") {
            content_encoding = Some(text(h.value));
        } else if name.eq_ignore_ascii_case("content-length") {
            let n: u64 = text(h.value).parse().map_err(|_| {
                Error::Request("malformed HTTP response: bad Content-Length".into())
            })?;
            if length.is_some_and(|l| l != n) {
                return Err(Error::Request(
                    "malformed HTTP response: conflicting Content-Length".into(),
                ));
            }
            length = Some(n);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            let codings = text(h.value).to_ascii_lowercase();
            if codings.rsplit(',').next().map(str::trim) != Some("chunked") {
                return Err(Error::Request(format!(
                    "unsupported Transfer-Encoding {codings:?}"
                )));
            }
            chunked = true;
        } else if name.eq_ignore_ascii_case("connection")
            && text(h.value)
                .split(',')
                .any(|t| t.trim().eq_ignore_ascii_case("close"))
        {
            keep_alive = false;
        }
    }
    let framing = if status == 204 || status == 304 || (100..200).contains(&status) {
        Framing::Done
    } else if chunked {
        Framing::Chunked(ChunkState::Size)
    } else if let Some(n) = length {
        Framing::Length(n)
    } else {
        keep_alive = false;
        Framing::UntilClose
    };
    Ok(Some((
        len,
        Head {
            status,
            content_type,
            content_encoding,
            framing,
            keep_alive,
        },
    )))
}

impl Response {
    /// The next piece of the body (after transfer decoding), or None at its end.
    pub(super) async fn chunk(&mut self) -> Result<Option<&[u8]>, Error> {
        loop {
            match self.framing {
                Framing::Done => return Ok(None),
                Framing::Length(0) => self.framing = Framing::Done,
                Framing::Length(left) => {
                    let n = self.conn.take_some(left).await?;
                    self.framing = Framing::Length(left - n as u64);
                    return Ok(Some(self.conn.taken(n)));
                }
                Framing::UntilClose => {
                    if self.conn.available().is_empty()
                        && self.conn.fill().await.map_err(body)? == 0
                    {
                        self.framing = Framing::Done;
                        continue;
                    }
                    let n = self.conn.available().len();
                    self.conn.consume(n);
                    return Ok(Some(self.conn.taken(n)));
                }
                Framing::Chunked(ChunkState::Size) => {
                    let size = parse_chunk_size(self.conn.line().await?)?;
                    self.framing = Framing::Chunked(if size == 0 {
                        ChunkState::Trailers
                    } else {
                        ChunkState::Data(size)
                    });
                }
                Framing::Chunked(ChunkState::Data(left)) => {
                    let n = self.conn.take_some(left).await?;
                    let left = left - n as u64;
                    self.framing = Framing::Chunked(if left == 0 {
                        ChunkState::DataEnd
                    } else {
                        ChunkState::Data(left)
                    });
                    return Ok(Some(self.conn.taken(n)));
                }
                Framing::Chunked(ChunkState::DataEnd) => {
                    if !self.conn.line().await?.is_empty() {
                        return Err(Error::Body("chunked body: no CRLF after chunk data".into()));
                    }
                    self.framing = Framing::Chunked(ChunkState::Size);
                }
                Framing::Chunked(ChunkState::Trailers) => {
                    if self.conn.line().await?.is_empty() {
                        self.framing = Framing::Done;
                    }
                }
            }
        }
    }

    /// Gives the connection back to `pool` if the whole body was read and the
    /// server keeps it open; otherwise it is closed.
    pub(super) fn finish(self, pool: &Pool, target: &Target) {
        if self.keep_alive && self.framing == Framing::Done && self.conn.available().is_empty() {
            pool.put(&target.key, self.conn.stream);
        }
    }
}

fn body(e: io::Error) -> Error {
    Error::Body(e.to_string())
}

/// The size of a chunk-size line (hex, maybe followed by `;extensions`).
fn parse_chunk_size(line: &[u8]) -> Result<u64, Error> {
    let bad = || {
        Error::Body(format!(
            "chunked body: bad chunk size line {:?}",
            String::from_utf8_lossy(line)
        ))
    };
    let digits = line.split(|&b| b == b';').next().unwrap_or_default();
    let digits = std::str::from_utf8(digits).map_err(|_| bad())?.trim();
    if digits.is_empty() || digits.len() > 16 {
        return Err(bad());
    }
    u64::from_str_radix(digits, 16).map_err(|_| bad())
}

/// A connection and the bytes read from it not consumed yet
/// (`buf[pos..]`).
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    pos: usize,
}

impl Conn {
    fn new(stream: TcpStream) -> Conn {
        Conn {
            stream,
            buf: Vec::new(),
            pos: 0,
        }
    }

    fn available(&self) -> &[u8] {
        &self.buf[self.pos..]
    }

    fn consume(&mut self, n: usize) {
        self.pos += n;
    }

    /// The `n` bytes just consumed.
    fn taken(&self, n: usize) -> &[u8] {
        &self.buf[self.pos - n..self.pos]
    }

    /// Reads more bytes after the available ones; 0 at the end of the stream.
    async fn fill(&mut self) -> io::Result<usize> {
        if self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        } else if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        if self.buf.capacity() - self.buf.len() < READ_SIZE / 2 {
            self.buf.reserve(READ_SIZE);
        }
        self.stream.read_buf(&mut self.buf).await
    }

    /// Consumes up to `limit` (at least 1) available bytes, reading if none
    /// are; returns how many. The end of the stream here is an error.
    async fn take_some(&mut self, limit: u64) -> Result<usize, Error> {
        if self.available().is_empty() && self.fill().await.map_err(body)? == 0 {
            return Err(Error::Body(
                "connection closed before the end of the body".into(),
            ));
        }
        let n = self
            .available()
            .len()
            .min(usize::try_from(limit).unwrap_or(usize::MAX));
        self.consume(n);
        Ok(n)
    }

    /// Consumes a line and returns it without its CRLF (or bare LF).
    async fn line(&mut self) -> Result<&[u8], Error> {
        loop {
            if let Some(i) = memchr::memchr(b'\n', self.available()) {
                let start = self.pos;
                self.consume(i + 1);
                let line = &self.buf[start..start + i];
                return Ok(line.strip_suffix(b"\r").unwrap_or(line));
            }
            if self.available().len() > MAX_LINE {
                return Err(Error::Body(format!(
                    "chunked body: line longer than {MAX_LINE} bytes"
                )));
            }
            if self.fill().await.map_err(body)? == 0 {
                return Err(Error::Body(
                    "connection closed before the end of the body".into(),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_of_urls() {
        let t = Target::of("http://127.0.0.1:9100/metrics?a=b&c=d").unwrap();
        assert_eq!(t.key, "127.0.0.1:9100");
        assert_eq!(t.authority, "127.0.0.1:9100");
        assert_eq!(t.path, "/metrics?a=b&c=d");
        let t = Target::of("http://[::1]/x").unwrap();
        assert_eq!(
            (t.key.as_str(), t.authority.as_str()),
            ("[::1]:80", "[::1]")
        );
        let t = Target::of("http://node.example:80/metrics").unwrap();
        assert_eq!(
            (t.key.as_str(), t.authority.as_str()),
            ("node.example:80", "node.example")
        );
        assert!(Target::of("https://node.example/metrics").is_none());
    }

    #[test]
    fn heads_and_their_framing() {
        let (len, h) = parse_head(
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nup 1\n",
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            (len, h.status, h.framing, h.keep_alive),
            (64, 200, Framing::Length(5), true)
        );
        assert_eq!(h.content_type.as_deref(), Some("text/plain"));
        let (_, h) = parse_head(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 9\r\n\r\n",
        )
        .unwrap()
        .unwrap();
        assert_eq!(h.framing, Framing::Chunked(ChunkState::Size));
        let (_, h) = parse_head(b"HTTP/1.0 200 OK\r\n\r\n").unwrap().unwrap();
        assert_eq!((h.framing, h.keep_alive), (Framing::UntilClose, false));
        let (_, h) =
            parse_head(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
                .unwrap()
                .unwrap();
        assert!(!h.keep_alive);
        assert!(
            parse_head(b"HTTP/1.1 200 OK\r\nContent-Le")
                .unwrap()
                .is_none()
        );
        assert!(parse_head(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n").is_err());
        assert!(
            parse_head(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")
                .is_err()
        );
        assert!(parse_head(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n").is_err());
        assert!(parse_head(b"\x00\x01garbage\r\n\r\n").is_err());
    }

    #[test]
    fn chunk_sizes() {
        assert_eq!(parse_chunk_size(b"1a").unwrap(), 26);
        assert_eq!(parse_chunk_size(b"0;name=value").unwrap(), 0);
        assert!(parse_chunk_size(b"").is_err());
        assert!(parse_chunk_size(b"zz").is_err());
        assert!(parse_chunk_size(b"11111111111111111").is_err());
    }

    /// Serves raw responses: on the i-th connection accepted, `conns[i]` one
    /// per request read, then closes it; after the last, accepts no more.
    async fn raw_server(conns: Vec<Vec<&'static [u8]>>) -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            for responses in conns {
                let (mut s, _) = listener.accept().await.unwrap();
                for r in responses {
                    let mut req = Vec::new();
                    while !req.ends_with(b"\r\n\r\n") {
                        let mut b = [0u8; 1];
                        if s.read(&mut b).await.unwrap_or(0) == 0 {
                            return;
                        }
                        req.push(b[0]);
                    }
                    s.write_all(r).await.unwrap();
                }
            }
        });
        addr
    }

    async fn get(pool: &Pool, addr: SocketAddr) -> Result<(u16, Vec<u8>), Error> {
        let target = Target::of(&format!("http://{addr}/metrics")).unwrap();
        let mut request = target.request_head();
        request.push_str("\r\n");
        let mut response = send(pool, &target, request.as_bytes()).await?;
        let mut out = Vec::new();
        while let Some(c) = response.chunk().await? {
            out.extend_from_slice(c);
        }
        let status = response.status;
        response.finish(pool, &target);
        Ok((status, out))
    }

    #[tokio::test]
    async fn chunked_bodies_are_decoded_and_the_connection_kept() {
        let addr = raw_server(vec![vec![
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nup 1\n\r\n3;x=y\r\nb 2\r\n0\r\nTrailer: t\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nc 3\n",
        ]])
        .await;
        let pool = Pool::default();
        assert_eq!(
            get(&pool, addr).await.unwrap(),
            (200, b"up 1\nb 2".to_vec())
        );
        // The second response comes over the kept connection (the server
        // accepts only one).
        assert_eq!(get(&pool, addr).await.unwrap(), (200, b"c 3\n".to_vec()));
    }

    #[tokio::test]
    async fn a_closed_idle_connection_is_replaced() {
        let addr = raw_server(vec![
            vec![b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"],
            vec![b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nagain"],
        ])
        .await;
        let pool = Pool::default();
        assert_eq!(get(&pool, addr).await.unwrap().1, b"ok");
        // The server closed the first connection after one response: the kept
        // one is dead, and the scrape goes over a second.
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(get(&pool, addr).await.unwrap().1, b"again");
        // No more connections: a clean error.
        assert!(matches!(get(&pool, addr).await, Err(Error::Connect(_))));
    }

    #[tokio::test]
    async fn broken_framing_is_an_error() {
        for raw in [
            &b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"[..],
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
        ] {
            let addr = raw_server(vec![vec![raw]]).await;
            let err = get(&Pool::default(), addr).await.unwrap_err();
            assert!(matches!(err, Error::Body(_)), "{raw:?}: {err:?}");
        }
        let addr = raw_server(vec![vec![b"HTTP/1.0 200 OK\r\n\r\nuntil close"]]).await;
        assert_eq!(get(&Pool::default(), addr).await.unwrap().1, b"until close");
    }
}
