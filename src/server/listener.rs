//! Where HTTP connections come from: [`bind`] the listen address, and
//! [`LimitedListener`], which holds at most `--web.max-connections` connections
//! open and closes those that stay quiet longer than `--web.read-timeout`.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::error::ServerError;

/// Listens on `address`. Like Go's net.Listen, `:9090` means every interface.
pub(super) async fn bind(address: &str) -> Result<TcpListener, ServerError> {
    let address = match address.strip_prefix(':') {
        Some(port) => format!("0.0.0.0:{port}"),
        None => address.to_string(),
    };
    TcpListener::bind(&address)
        .await
        .map_err(|source| ServerError::Listen { address, source })
}

/// A listener that holds at most `limit` connections open at once (as
/// Prometheus's `--web.max-connections`): `accept` waits for a slot. Its
/// connections close when nothing moves either way for `read_timeout`
/// (`--web.read-timeout`): a client that stops sending a request half-way, or an
/// idle keep-alive connection.
pub(super) struct LimitedListener {
    inner: TcpListener,
    slots: Option<Arc<Semaphore>>,
    read_timeout: Option<Duration>,
}

impl LimitedListener {
    /// `limit` 0 and a zero `read_timeout` mean no limit.
    pub(super) fn new(inner: TcpListener, limit: usize, read_timeout: Duration) -> LimitedListener {
        let slots = (limit > 0).then(|| Arc::new(Semaphore::new(limit)));
        let read_timeout = (!read_timeout.is_zero()).then_some(read_timeout);
        LimitedListener {
            inner,
            slots,
            read_timeout,
        }
    }
}

/// A connection holding its slot until dropped, timing out reads that wait
/// longer than the read timeout since the connection last moved.
pub(super) struct LimitedIo {
    io: TcpStream,
    _slot: Option<OwnedSemaphorePermit>,
    read_timeout: Option<Duration>,
    /// Armed while a read waits; cleared whenever bytes move either way.
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl LimitedIo {
    fn moved<T>(&mut self, poll: &Poll<std::io::Result<T>>) {
        if matches!(poll, Poll::Ready(Ok(_))) {
            self.deadline = None;
        }
    }
}

impl axum::serve::Listener for LimitedListener {
    type Io = LimitedIo;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (LimitedIo, std::net::SocketAddr) {
        let slot = match &self.slots {
            // The semaphore is never closed, so acquiring only waits.
            Some(s) => Arc::clone(s).acquire_owned().await.ok(),
            None => None,
        };
        let (io, addr) = axum::serve::Listener::accept(&mut self.inner).await;
        let io = LimitedIo {
            io,
            _slot: slot,
            read_timeout: self.read_timeout,
            deadline: None,
        };
        (io, addr)
    }

    fn local_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.inner.local_addr()
    }
}

impl AsyncRead for LimitedIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let poll = Pin::new(&mut self.io).poll_read(cx, buf);
        if poll.is_ready() {
            self.moved(&poll);
            return poll;
        }
        let Some(timeout) = self.read_timeout else {
            return poll;
        };
        let deadline = self
            .deadline
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        match deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "read timed out (--web.read-timeout)",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncWrite for LimitedIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let poll = Pin::new(&mut self.io).poll_write(cx, buf);
        self.moved(&poll);
        poll
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let poll = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        self.moved(&poll);
        poll
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}
