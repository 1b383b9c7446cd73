//! The connection loop: read bytes, hand them to a [`Session`], write what it answers.
//!
//! The loop owns the socket and the read buffer and knows nothing of
//! commands. It reads into one growing buffer, lets the session consume whole
//! requests from its front, writes the replies, and closes when the session
//! asks, when the peer goes away, or when unconsumed input passes the query
//! buffer limit (Redis closes such a client without a reply, and so does this).
//!
//! Output that is not the answer to a request (pub/sub messages) arrives
//! through the connection's [`Outbox`] at any time, also while the loop waits
//! for input; the loop writes it as soon as it can.

use crate::socket::Socket;
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::io;
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

/// Output for a connection produced outside its requests (pub/sub messages),
/// bounded as Redis bounds a client's output buffer.
#[derive(Default)]
pub struct Outbox {
    buf: RefCell<Vec<u8>>,
    waker: RefCell<Option<Waker>>,
    /// Over the limit: the connection is to be closed, as Redis closes it.
    overflowed: Cell<bool>,
    /// Hard limit in bytes (0 = none), soft limit and how long it may be exceeded.
    hard: Cell<usize>,
    soft: Cell<usize>,
    soft_secs: Cell<u64>,
    over_soft_since: Cell<Option<Instant>>,
    /// Bytes taken out of `buf` and still being written.
    inflight: Cell<usize>,
    /// The connection's socket, shut down on overflow so that a write
    /// waiting for a reader that never reads ends too.
    fd: Cell<Option<std::os::fd::RawFd>>,
}

impl Outbox {
    /// Sets the limits (Redis's `client-output-buffer-limit` for this client's class).
    pub fn set_limits(&self, hard: usize, soft: usize, soft_secs: u64) {
        self.hard.set(hard);
        self.soft.set(soft);
        self.soft_secs.set(soft_secs);
    }

    /// Appends output; past the limits, drops it and marks the connection for closing.
    pub fn push(&self, bytes: &[u8]) {
        if self.overflowed.get() {
            return;
        }
        let mut buf = self.buf.borrow_mut();
        buf.extend_from_slice(bytes);
        let len = buf.len() + self.inflight.get();
        drop(buf);
        let (hard, soft) = (self.hard.get(), self.soft.get());
        if hard > 0 && len > hard {
            self.overflow();
        } else if soft > 0 && len > soft {
            let since = *self.over_soft_since.get().get_or_insert_with(Instant::now);
            self.over_soft_since.set(Some(since));
            if since.elapsed() > Duration::from_secs(self.soft_secs.get()) {
                self.overflow();
            }
        } else {
            self.over_soft_since.set(None);
        }
        if let Some(w) = self.waker.borrow_mut().take() {
            w.wake();
        }
    }

    fn overflow(&self) {
        self.overflowed.set(true);
        self.buf.borrow_mut().clear();
        if let Some(fd) = self.fd.get() {
            // SAFETY: the socket is open while its connection is served (the
            // fd is set for the duration of `serve` only).
            unsafe { libc::shutdown(fd, libc::SHUT_RDWR) };
        }
        if let Some(w) = self.waker.borrow_mut().take() {
            w.wake();
        }
    }

    /// Moves what waits into `out`, to go out ahead of what follows there.
    pub fn take_into(&self, out: &mut Vec<u8>) {
        out.append(&mut self.buf.borrow_mut());
    }

    /// Bytes waiting to be written.
    pub fn len(&self) -> usize {
        self.buf.borrow().len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.borrow().is_empty()
    }

    pub fn overflowed(&self) -> bool {
        self.overflowed.get()
    }
}

/// What a session did with the input it was given.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Step {
    /// Bytes taken from the front of the input.
    pub consumed: usize,
    /// Close the connection once the output is written.
    pub close: bool,
    /// The buffer size the request being received needs, when known (a large bulk argument).
    pub need: Option<usize>,
}

/// The protocol side of a connection.
pub trait Session {
    /// Consumes complete requests from the front of `input`, appending replies to `out`.
    /// Consuming nothing means the next request is incomplete: the loop reads more.
    /// A session may stop early (to bound the work per call); the loop calls it
    /// again with the rest once the output is written.
    fn on_input(&mut self, input: &[u8], out: &mut Vec<u8>) -> impl Future<Output = Step>;

    /// The current limit on unconsumed input, Redis's `client-query-buffer-limit`.
    fn query_buffer_limit(&self) -> usize;

    /// Called with the buffer sizes after every read, for CLIENT LIST (`qbuf`, `qbuf-free`).
    fn on_buffers(&mut self, _used: usize, _capacity: usize) {}
}

const READ_CHUNK: usize = 16 * 1024;

/// Writes whatever waits in the outbox.
async fn flush_outbox(stream: &Socket, outbox: &Outbox) -> io::Result<()> {
    loop {
        let pending = std::mem::take(&mut *outbox.buf.borrow_mut());
        if pending.is_empty() {
            return Ok(());
        }
        outbox.inflight.set(pending.len());
        let written = stream.write_all(&pending).await;
        outbox.inflight.set(0);
        written?;
        if outbox.buf.borrow().len() <= outbox.soft.get() {
            outbox.over_soft_since.set(None);
        }
    }
}

/// Serves one connection until it closes. Returns why it ended: `Ok` for an
/// orderly close by either side, an error for a broken socket.
pub async fn serve<S: Session>(stream: &Socket, session: &mut S, outbox: &Outbox) -> io::Result<()> {
    outbox.fd.set(Some(stream.raw_fd()));
    let result = serve_until_closed(stream, session, outbox).await;
    outbox.fd.set(None);
    result
}

async fn serve_until_closed<S: Session>(stream: &Socket, session: &mut S, outbox: &Outbox) -> io::Result<()> {
    let mut buf: Vec<u8> = vec![0; READ_CHUNK];
    let (mut start, mut end) = (0usize, 0usize);
    let mut out: Vec<u8> = Vec::with_capacity(READ_CHUNK);
    let mut readable: Option<crate::uring::Ready> = None;
    loop {
        // Let the session take every complete request already buffered.
        loop {
            if start == end {
                break;
            }
            let step = session.on_input(&buf[start..end], &mut out).await;
            start += step.consumed;
            if !out.is_empty() {
                // Let every other connection with input ready process it
                // first, so replies leave in a burst, as Redis's event loop
                // sends them: the client then wakes once for many of them.
                futures_lite::future::yield_now().await;
                stream.write_all(&out).await?;
                out.clear();
                if out.capacity() > 4 * READ_CHUNK {
                    out.shrink_to(READ_CHUNK);
                }
            }
            if outbox.overflowed() {
                return Ok(());
            }
            flush_outbox(stream, outbox).await?;
            if step.close {
                return Ok(());
            }
            if let Some(need) = step.need {
                // Make room for the whole request at once, as Redis does for big arguments.
                let pending = end - start;
                if need > buf.len() - start && need > pending {
                    buf.copy_within(start..end, 0);
                    (start, end) = (0, pending);
                    if need > buf.len() {
                        buf.resize(need, 0);
                    }
                }
            }
            if step.consumed == 0 {
                break;
            }
        }
        if start == end {
            (start, end) = (0, 0);
            if buf.len() > 4 * READ_CHUNK {
                buf.truncate(READ_CHUNK);
                buf.shrink_to_fit();
            }
        } else if start > 0 && (buf.len() - end < READ_CHUNK / 4 || start > buf.len() / 2) {
            buf.copy_within(start..end, 0);
            (start, end) = (0, end - start);
        }
        if end - start > session.query_buffer_limit() {
            return Ok(());
        }
        if buf.len() - end < READ_CHUNK / 4 {
            let grow = buf.len().max(READ_CHUNK);
            buf.resize(buf.len() + grow, 0);
        }
        // Read what is there; else wait until something is, or until output
        // for this connection arrives from elsewhere.
        let n = loop {
            if outbox.overflowed() {
                return Ok(());
            }
            flush_outbox(stream, outbox).await?;
            if let Some(n) = stream.try_read(&mut buf[end..])? {
                readable = None;
                break n;
            }
            let ready = readable.get_or_insert_with(|| crate::uring::readable(stream.raw_fd()));
            futures_lite::future::poll_fn(|cx| {
                if !outbox.is_empty() || outbox.overflowed() {
                    return Poll::Ready(Ok(()));
                }
                match std::pin::Pin::new(&mut *ready).poll(cx) {
                    Poll::Ready(r) => Poll::Ready(r),
                    Poll::Pending => {
                        *outbox.waker.borrow_mut() = Some(cx.waker().clone());
                        Poll::Pending
                    }
                }
            })
            .await?;
            if readable.as_ref().is_some_and(|r| r.is_done()) {
                readable = None;
            }
        };
        if n == 0 {
            return Ok(());
        }
        end += n;
        session.on_buffers(end - start, buf.len());
    }
}
