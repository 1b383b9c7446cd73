//! The connection loop: read bytes, hand them to a [`Session`], write what it answers.
//!
//! The loop owns the socket and the read buffer and knows nothing of
//! commands. It reads into one growing buffer, lets the session consume whole
//! requests from its front, writes the replies, and closes when the session
//! asks, when the peer goes away, or when unconsumed input passes the query
//! buffer limit (Redis closes such a client without a reply, and so does this).

use crate::socket::Socket;
use std::future::Future;
use std::io;

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

/// Serves one connection until it closes. Returns why it ended: `Ok` for an
/// orderly close by either side, an error for a broken socket.
pub async fn serve<S: Session>(stream: &Socket, session: &mut S) -> io::Result<()> {
    let mut buf: Vec<u8> = vec![0; READ_CHUNK];
    let (mut start, mut end) = (0usize, 0usize);
    let mut out: Vec<u8> = Vec::with_capacity(READ_CHUNK);
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
        let n = stream.read(&mut buf[end..]).await?;
        if n == 0 {
            return Ok(());
        }
        end += n;
        session.on_buffers(end - start, buf.len());
    }
}
