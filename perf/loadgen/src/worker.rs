//! One client thread: a mio event loop over its share of the connections.
//!
//! A *client* sends its requests in batches of `--pipeline`: it writes the
//! whole batch, waits for every reply, and only then sends the next batch,
//! as redis-benchmark's clients do. Standalone, a client is one connection;
//! on a cluster it has one connection per master and each request of a batch
//! goes to its slot's master. A request's latency runs from the moment its
//! batch was written to the read that brought its reply in.
//!
//! Requests are claimed from a counter shared by every thread, one batch at
//! a time, so `-n` is met exactly, faster threads take more of the work, and
//! request numbers (which pick the keys of `--pattern sequential`) are used
//! once each.
//!
//! Nothing here allocates per request: a batch is written into each
//! connection's reusable output buffer, replies are skimmed in place, and a
//! request waiting for its reply is two offsets into the output buffer (kept
//! until the batch is over, so a redirected request can be sent again).

use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use hdrhistogram::Histogram;
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

use crate::cluster::{self, Redirect, Topology, UNASSIGNED};
use crate::control::Control;
use crate::request::Workload;
use crate::resp::{self, Kind};

/// The first this many distinct error texts are kept to be shown at the end.
const ERROR_SAMPLES: usize = 5;

/// A request redirected this many times counts as an error.
const MAX_REDIRECTS: u8 = 5;

/// With replies outstanding and none arriving for this long, the run fails
/// instead of hanging.
const STALL: Duration = Duration::from_secs(30);

/// The fewest time between two `CLUSTER SLOTS` refreshes of one thread;
/// MOVED replies in between update the map slot by slot.
const REFRESH_EVERY: Duration = Duration::from_millis(100);

/// Initial size of a connection's read buffer (it grows for larger replies).
const READ_BUF: usize = 64 * 1024;

/// State shared by every thread of a run.
pub struct Shared {
    issued: AtomicU64,
    /// The number of requests of the run, if it is not ended by a deadline.
    total: Option<u64>,
    /// Set by a thread that failed, so the others stop too.
    pub abort: AtomicBool,
}

impl Shared {
    pub fn new(total: Option<u64>) -> Shared {
        Shared { issued: AtomicU64::new(0), total, abort: AtomicBool::new(false) }
    }

    /// Claims the numbers of up to `want` more requests; `None` when the run
    /// has issued all its requests or passed its deadline.
    fn claim(&self, want: u64, now: Instant, deadline: Option<Instant>) -> Option<Range<u64>> {
        if deadline.is_some_and(|d| now >= d) {
            return None;
        }
        let start = self.issued.fetch_add(want, Ordering::Relaxed);
        match self.total {
            Some(total) if start >= total => None,
            Some(total) => Some(start..total.min(start + want)),
            None => Some(start..start + want),
        }
    }
}

/// A thread stopped because another one failed.
#[derive(Debug)]
pub struct Aborted;

impl std::fmt::Display for Aborted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("stopped because another client thread failed")
    }
}

impl std::error::Error for Aborted {}

/// How the threads of a run behave.
pub struct Settings {
    pub pipeline: u64,
    pub cluster: bool,
    pub auth: Option<String>,
    pub duration: Option<Duration>,
}

/// What one thread, or the whole run once merged, measured.
pub struct Stats {
    /// Latencies in microseconds.
    pub hist: Histogram<u64>,
    pub requests: u64,
    pub errors: u64,
    pub error_samples: Vec<String>,
    pub moved: u64,
    pub ask: u64,
}

impl Stats {
    pub fn new() -> Stats {
        // From 1 µs to an hour with 3 significant digits; 0 is recordable.
        let hist = Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds");
        Stats { hist, requests: 0, errors: 0, error_samples: Vec::new(), moved: 0, ask: 0 }
    }

    pub fn merge(&mut self, other: &Stats) {
        // Both have the same bounds, so adding cannot fail; saturate anyway.
        let _ = self.hist.add(&other.hist);
        self.requests += other.requests;
        self.errors += other.errors;
        self.moved += other.moved;
        self.ask += other.ask;
        for e in &other.error_samples {
            self.sample_error(e);
        }
    }

    fn error(&mut self, text: &[u8]) {
        self.errors += 1;
        if self.error_samples.len() < ERROR_SAMPLES {
            self.sample_error(&String::from_utf8_lossy(text));
        }
    }

    fn sample_error(&mut self, text: &str) {
        if self.error_samples.len() < ERROR_SAMPLES && !self.error_samples.iter().any(|e| e == text) {
            self.error_samples.push(text.to_owned());
        }
    }
}

/// A request sent and not yet answered: its bytes in the connection's
/// output buffer.
#[derive(Clone, Copy)]
struct Pending {
    off: u32,
    len: u32,
    redirects: u8,
    /// This is the ASKING before a redirected request, not a request.
    asking: bool,
}

struct Conn {
    sock: TcpStream,
    addr: SocketAddr,
    out: Vec<u8>,
    written: usize,
    inbuf: Vec<u8>,
    /// Unparsed input is `inbuf[start..end]`.
    start: usize,
    end: usize,
    waiting: VecDeque<Pending>,
}

impl Conn {
    fn new(sock: TcpStream, addr: SocketAddr) -> Conn {
        Conn {
            sock,
            addr,
            out: Vec::new(),
            written: 0,
            inbuf: vec![0; READ_BUF],
            start: 0,
            end: 0,
            waiting: VecDeque::new(),
        }
    }

    /// Records `len` bytes appended to `out` from `off` as a request.
    fn sent(&mut self, off: usize, redirects: u8, asking: bool) {
        let p = Pending { off: off as u32, len: (self.out.len() - off) as u32, redirects, asking };
        self.waiting.push_back(p);
    }
}

struct Client {
    /// By node index; opened on first use (standalone: just node 0).
    conns: Vec<Option<Conn>>,
    /// Requests of the current batch not answered yet.
    outstanding: usize,
    batch_start: Instant,
}

/// What one reply asks the loop to do.
enum Outcome {
    Answered,
    Failed(Vec<u8>),
    Redirected {
        ask: bool,
        slot: u16,
        to: SocketAddr,
        request: Vec<u8>,
        redirects: u8,
    },
    /// The reply to an ASKING, or a push: answers no request.
    Ignored,
}

pub struct Worker {
    poll: Poll,
    clients: Vec<Client>,
    topo: Topology,
    settings: Arc<Settings>,
    shared: Arc<Shared>,
    workload: Arc<Workload>,
    rng: fastrand::Rng,
    deadline: Option<Instant>,
    /// Clients that have not finished yet.
    live: usize,
    stats: Stats,
    scratch: Vec<u8>,
    refresh: bool,
    last_refresh: Instant,
    last_reply: Instant,
}

/// A connection's mio token: its client and node.
fn token(client: usize, node: usize) -> Token {
    Token(client << 16 | node)
}

impl Worker {
    /// A thread's worker over `clients`, each given as its open connections
    /// by node index of `topo`.
    pub fn new(
        clients: Vec<Vec<Option<std::net::TcpStream>>>,
        topo: Topology,
        settings: Arc<Settings>,
        shared: Arc<Shared>,
        workload: Arc<Workload>,
        seed: u64,
    ) -> anyhow::Result<Worker> {
        let poll = Poll::new()?;
        let now = Instant::now();
        let mut all = Vec::with_capacity(clients.len());
        for (ci, streams) in clients.into_iter().enumerate() {
            let mut conns = Vec::with_capacity(streams.len());
            for (ni, stream) in streams.into_iter().enumerate() {
                conns.push(match stream {
                    Some(s) => {
                        let mut sock = TcpStream::from_std(s);
                        poll.registry().register(
                            &mut sock,
                            token(ci, ni),
                            Interest::READABLE | Interest::WRITABLE,
                        )?;
                        Some(Conn::new(sock, topo.nodes[ni]))
                    }
                    None => None,
                });
            }
            all.push(Client { conns, outstanding: 0, batch_start: now });
        }
        Ok(Worker {
            poll,
            live: all.len(),
            clients: all,
            topo,
            settings,
            shared,
            workload,
            rng: fastrand::Rng::with_seed(seed),
            deadline: None,
            stats: Stats::new(),
            scratch: Vec::new(),
            refresh: false,
            last_refresh: now,
            last_reply: now,
        })
    }

    /// Runs every client to the end of the run; a failure stops every thread.
    pub fn run(mut self) -> anyhow::Result<Stats> {
        let result = self.run_loop();
        if result.is_err() {
            self.shared.abort.store(true, Ordering::Relaxed);
        }
        result.map(|()| self.stats)
    }

    fn run_loop(&mut self) -> anyhow::Result<()> {
        let mut events = Events::with_capacity(1024);
        let now = Instant::now();
        self.deadline = self.settings.duration.map(|d| now + d);
        self.last_reply = now;
        for ci in 0..self.clients.len() {
            self.start_batch(ci, now)?;
        }
        while self.live > 0 {
            if self.shared.abort.load(Ordering::Relaxed) {
                return Err(Aborted.into());
            }
            match self.poll.poll(&mut events, Some(Duration::from_millis(100))) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            }
            if events.is_empty() && self.last_reply.elapsed() > STALL {
                bail!("no reply for {} s", STALL.as_secs());
            }
            for ev in events.iter() {
                let (ci, ni) = (ev.token().0 >> 16, ev.token().0 & 0xffff);
                if ev.is_writable() {
                    self.flush(ci, ni)?;
                }
                if ev.is_readable() || ev.is_read_closed() || ev.is_error() {
                    self.read(ci, ni)?;
                }
            }
            if self.refresh && self.last_refresh.elapsed() >= REFRESH_EVERY {
                self.refresh_topology();
            }
        }
        Ok(())
    }

    /// Sends client `ci`'s next batch, or finishes the client.
    fn start_batch(&mut self, ci: usize, now: Instant) -> anyhow::Result<()> {
        let Some(numbers) = self.shared.claim(self.settings.pipeline, now, self.deadline) else {
            self.live -= 1;
            return Ok(());
        };
        let client = &mut self.clients[ci];
        client.batch_start = now;
        // Every reply of the previous batch is in, so every byte was sent.
        for conn in client.conns.iter_mut().flatten() {
            conn.out.clear();
            conn.written = 0;
        }
        for i in numbers {
            if self.settings.cluster {
                let mut scratch = std::mem::take(&mut self.scratch);
                scratch.clear();
                let slot = self.workload.write(i, &mut self.rng, &mut scratch, true);
                // A slot nobody serves goes to any node, whose error will tell.
                let node = match self.topo.owner(slot) {
                    UNASSIGNED => 0,
                    n => usize::from(n),
                };
                let conn = self.conn(ci, node)?;
                let off = conn.out.len();
                conn.out.extend_from_slice(&scratch);
                conn.sent(off, 0, false);
                self.scratch = scratch;
            } else if let Some(conn) = self.clients[ci].conns[0].as_mut() {
                let off = conn.out.len();
                self.workload.write(i, &mut self.rng, &mut conn.out, false);
                conn.sent(off, 0, false);
            }
            self.clients[ci].outstanding += 1;
        }
        for ni in 0..self.clients[ci].conns.len() {
            self.flush(ci, ni)?;
        }
        Ok(())
    }

    /// Client `ci`'s connection to node `ni`, opened if it is not yet.
    fn conn(&mut self, ci: usize, ni: usize) -> anyhow::Result<&mut Conn> {
        let conns = &mut self.clients[ci].conns;
        if conns.len() <= ni {
            conns.resize_with(ni + 1, || None);
        }
        if conns[ni].is_none() {
            let addr = self.topo.nodes[ni];
            let stream = Control::connect(addr, self.settings.auth.as_deref())?.into_stream()?;
            let mut sock = TcpStream::from_std(stream);
            self.poll.registry().register(
                &mut sock,
                token(ci, ni),
                Interest::READABLE | Interest::WRITABLE,
            )?;
            conns[ni] = Some(Conn::new(sock, addr));
        }
        Ok(conns[ni].as_mut().expect("opened above"))
    }

    /// Writes what the connection has unsent, as far as the socket takes it;
    /// a writable event brings us back for the rest.
    fn flush(&mut self, ci: usize, ni: usize) -> anyhow::Result<()> {
        let Some(conn) = self.clients.get_mut(ci).and_then(|c| c.conns.get_mut(ni)?.as_mut()) else {
            return Ok(());
        };
        while conn.written < conn.out.len() {
            match conn.sock.write(&conn.out[conn.written..]) {
                Ok(0) => bail!("connection to {} closed", conn.addr),
                Ok(n) => conn.written += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e).with_context(|| format!("writing to {}", conn.addr)),
            }
        }
        Ok(())
    }

    /// Reads what the socket has and handles every complete reply.
    fn read(&mut self, ci: usize, ni: usize) -> anyhow::Result<()> {
        loop {
            let Some(conn) = self.clients.get_mut(ci).and_then(|c| c.conns.get_mut(ni)?.as_mut()) else {
                return Ok(());
            };
            if conn.end == conn.inbuf.len() {
                if conn.start > 0 {
                    conn.inbuf.copy_within(conn.start..conn.end, 0);
                    conn.end -= conn.start;
                    conn.start = 0;
                } else {
                    conn.inbuf.resize(conn.inbuf.len() * 2, 0);
                }
            }
            let room = conn.inbuf.len() - conn.end;
            match conn.sock.read(&mut conn.inbuf[conn.end..]) {
                Ok(0) => bail!("connection closed by {}", conn.addr),
                Ok(n) => {
                    conn.end += n;
                    self.replies(ci, ni, Instant::now())?;
                    // A read that did not fill the buffer emptied the
                    // socket: epoll(7) allows stopping there with edge
                    // triggering, which saves a read that would only say
                    // EAGAIN.
                    if n < room {
                        return Ok(());
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    let addr = conn.addr;
                    return Err(e).with_context(|| format!("reading from {addr}"));
                }
            }
        }
    }

    /// Handles the complete replies in connection (`ci`, `ni`)'s buffer;
    /// they arrived at `now`.
    fn replies(&mut self, ci: usize, ni: usize, now: Instant) -> anyhow::Result<()> {
        loop {
            let Some(conn) = self.clients[ci].conns[ni].as_mut() else { return Ok(()) };
            let Some(reply) = resp::skim(&conn.inbuf[conn.start..conn.end])
                .with_context(|| format!("reply from {}", conn.addr))?
            else {
                if conn.start == conn.end {
                    conn.start = 0;
                    conn.end = 0;
                }
                return Ok(());
            };
            let at = conn.start;
            conn.start += reply.len;
            let outcome = match reply.kind {
                Kind::Push => Outcome::Ignored,
                kind => {
                    let Some(p) = conn.waiting.pop_front() else {
                        bail!("a reply from {} that answers no request", conn.addr)
                    };
                    match kind {
                        Kind::Error(text) => {
                            let text = &conn.inbuf[at + text.start..at + text.end];
                            match self.settings.cluster.then(|| cluster::parse_redirect(text)).flatten() {
                                Some(redirect) if !p.asking && p.redirects < MAX_REDIRECTS => {
                                    let (ask, slot, host, port) = match redirect {
                                        Redirect::Moved { slot, host, port } => (false, slot, host, port),
                                        Redirect::Ask { slot, host, port } => (true, slot, host, port),
                                    };
                                    let range = p.off as usize..(p.off + p.len) as usize;
                                    match cluster::resolve(host, port, conn.addr.ip()) {
                                        Some(to) => Outcome::Redirected {
                                            ask,
                                            slot,
                                            to,
                                            request: conn.out[range].to_vec(),
                                            redirects: p.redirects + 1,
                                        },
                                        None => Outcome::Failed(text.to_vec()),
                                    }
                                }
                                _ if p.asking => {
                                    // The request after it will fail and count.
                                    self.stats.sample_error(&String::from_utf8_lossy(text));
                                    Outcome::Ignored
                                }
                                _ => Outcome::Failed(text.to_vec()),
                            }
                        }
                        _ if p.asking => Outcome::Ignored,
                        _ => Outcome::Answered,
                    }
                }
            };
            match outcome {
                Outcome::Ignored => continue,
                Outcome::Redirected { ask, slot, to, request, redirects } => {
                    self.redirect(ci, ask, slot, to, &request, redirects)?;
                    continue;
                }
                Outcome::Failed(text) => self.stats.error(&text),
                Outcome::Answered => {}
            }
            self.last_reply = now;
            let client = &mut self.clients[ci];
            let micros = now.saturating_duration_since(client.batch_start).as_micros();
            self.stats.hist.saturating_record(micros as u64);
            self.stats.requests += 1;
            client.outstanding -= 1;
            if client.outstanding == 0 {
                self.start_batch(ci, now)?;
            }
        }
    }

    /// Sends `request` again to the node at `to`: after ASKING for an ASK,
    /// or for a MOVED after noting the slot's new master.
    fn redirect(
        &mut self,
        ci: usize,
        ask: bool,
        slot: u16,
        to: SocketAddr,
        request: &[u8],
        redirects: u8,
    ) -> anyhow::Result<()> {
        let node = self.topo.index_of(to);
        if ask {
            self.stats.ask += 1;
        } else {
            self.stats.moved += 1;
            self.topo.set_owner(slot, node);
            self.refresh = true;
        }
        let ni = usize::from(node);
        let conn = self.conn(ci, ni)?;
        if ask {
            let off = conn.out.len();
            resp::encode(&mut conn.out, &[b"ASKING"]);
            conn.sent(off, 0, true);
        }
        let off = conn.out.len();
        conn.out.extend_from_slice(request);
        conn.sent(off, redirects, false);
        self.flush(ci, ni)
    }

    /// Reloads the slot map after MOVED replies, from the first master that
    /// answers. Failing is not fatal: MOVED replies keep correcting the map.
    fn refresh_topology(&mut self) {
        self.refresh = false;
        self.last_refresh = Instant::now();
        for &addr in &self.topo.nodes.clone() {
            let fresh = Control::connect(addr, self.settings.auth.as_deref())
                .and_then(|mut ctl| Topology::fetch(&mut ctl));
            if let Ok(fresh) = fresh {
                self.topo.update(&fresh);
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_stop_at_the_total() {
        let shared = Shared::new(Some(10));
        let now = Instant::now();
        assert_eq!(shared.claim(4, now, None), Some(0..4));
        assert_eq!(shared.claim(4, now, None), Some(4..8));
        assert_eq!(shared.claim(4, now, None), Some(8..10));
        assert_eq!(shared.claim(4, now, None), None);
    }

    #[test]
    fn claims_stop_at_the_deadline() {
        let shared = Shared::new(None);
        let now = Instant::now();
        assert_eq!(shared.claim(2, now, Some(now + Duration::from_secs(1))), Some(0..2));
        assert_eq!(shared.claim(2, now, Some(now)), None);
    }

    #[test]
    fn stats_merge_keeps_distinct_samples() {
        let mut a = Stats::new();
        a.error(b"ERR one");
        a.hist.saturating_record(10);
        let mut b = Stats::new();
        b.error(b"ERR one");
        b.error(b"ERR two");
        b.hist.saturating_record(20);
        a.merge(&b);
        assert_eq!(a.errors, 3);
        assert_eq!(a.error_samples, ["ERR one", "ERR two"]);
        assert_eq!(a.hist.len(), 2);
    }
}
