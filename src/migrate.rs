//! MIGRATE: moves keys to another server (Shoal or redis-server) as DUMP
//! payloads sent with RESTORE (RESTORE-ASKING in cluster mode), then deletes
//! them here unless COPY was given. This is what `redis-cli --cluster
//! reshard` moves slots with.
//!
//! Redis blocks its only thread for the whole exchange, so no command sees a
//! key both here and at the target. Here the keys are locked instead, as a
//! multi-core transaction locks them (`multi::transact`): from the dump to
//! the delete, commands on those keys wait, while every other key is served.
//! A large value is serialized in steps of [`DUMP_STEP`] bytes by a task on
//! its core, which serves its other clients between steps.

use crate::core::{now_ms, Core};
use crate::multi::{conclude_all, transact, Step};
use crate::session::State;
use crate::txn::Locks;
use shoal_engine::rdb::PayloadWriter;
use shoal_engine::{CmdError, Reply};
use shoal_net::socket::Socket;
use std::future::Future;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

const SYNTAX: &str = "ERR syntax error";
const NOT_INTEGER: &str = "ERR value is not an integer or out of range";

struct Request {
    host: String,
    port: Vec<u8>,
    db: i64,
    timeout: Duration,
    copy: bool,
    replace: bool,
    auth: Option<(Option<Vec<u8>>, Vec<u8>)>,
    keys: Vec<Vec<u8>>,
}

fn parse(argv: &[&[u8]]) -> Result<Request, CmdError> {
    let (mut copy, mut replace, mut auth) = (false, false, None);
    let mut keys = vec![argv[3].to_vec()];
    let mut j = 6;
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        match argv[j].to_ascii_lowercase().as_slice() {
            b"copy" => copy = true,
            b"replace" => replace = true,
            b"auth" => {
                if more < 1 {
                    return Err(CmdError::new(SYNTAX));
                }
                auth = Some((None, argv[j + 1].to_vec()));
                j += 1;
            }
            b"auth2" => {
                if more < 2 {
                    return Err(CmdError::new(SYNTAX));
                }
                auth = Some((Some(argv[j + 1].to_vec()), argv[j + 2].to_vec()));
                j += 2;
            }
            b"keys" => {
                if !argv[3].is_empty() {
                    return Err(CmdError::new(
                        "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string",
                    ));
                }
                keys = argv[j + 1..].iter().map(|k| k.to_vec()).collect();
                break;
            }
            _ => return Err(CmdError::new(SYNTAX)),
        }
        j += 1;
    }
    let parse_i64 = |a: &[u8]| shoal_engine::num::parse_i64(a).ok_or(CmdError::new(NOT_INTEGER));
    let timeout = parse_i64(argv[5])?;
    let db = parse_i64(argv[4])?;
    let timeout = Duration::from_millis(if timeout <= 0 { 1000 } else { timeout as u64 });
    Ok(Request {
        host: String::from_utf8_lossy(argv[1]).into_owned(),
        port: argv[2].to_vec(),
        db,
        timeout,
        copy,
        replace,
        auth,
        keys,
    })
}

/// A key as dumped here: its payload (in pieces, as written) and its
/// remaining time to live (0 = none).
struct Dumped {
    key: Vec<u8>,
    payload: Vec<Vec<u8>>,
    ttl: u64,
}

/// How many bytes of a large value one step serializes before its core
/// serves other clients again: a few hundred microseconds of work.
const DUMP_STEP: usize = 64 << 10;

/// The pause between steps (see `finish_here`).
const STEP_PAUSE: Duration = Duration::from_micros(20);

/// A key whose value takes more than one step, and where its dump is.
struct Partial {
    key: Vec<u8>,
    ttl: u64,
    /// The version the key had when its dump began: the key is locked, so
    /// it cannot change, but it can expire (or go with FLUSHALL) meanwhile.
    version: u32,
    writer: PayloadWriter,
}

/// Dumps one step of each of the keys of one core that exist. Returns the
/// keys done and the keys that need more steps.
fn dump_here(core: &Core, db: usize, keys: &[Vec<u8>]) -> (Vec<Dumped>, Vec<Partial>) {
    let now = now_ms();
    let mut shard = core.shard.borrow_mut();
    let db = shard.db(db);
    let (mut done, mut partial) = (Vec::new(), Vec::new());
    for key in keys {
        if let Some(e) = db.peek(key, now) {
            let ttl = match e.expire_at() {
                Some(at) => at.saturating_sub(now).max(1),
                None => 0,
            };
            let mut writer = PayloadWriter::new();
            match writer.step(e.value(), DUMP_STEP) {
                true => done.push(Dumped { key: key.clone(), payload: writer.finish(), ttl }),
                false => partial.push(Partial { key: key.clone(), ttl, version: e.version(), writer }),
            }
        }
    }
    (done, partial)
}

/// Finishes the dumps of large values on their core, a step at a time,
/// yielding between steps so that the core's other keys are served.
async fn finish_here(core: Rc<Core>, db: usize, partial: Vec<Partial>) -> Vec<Dumped> {
    let mut out = Vec::new();
    for mut p in partial {
        loop {
            // Not a plain yield: while this task stays runnable the executor
            // does not look for I/O, and a client whose request has arrived
            // would wait for the 10 ms preemption timer. A short sleep leaves
            // the run queue empty, so completions are reaped first.
            glommio::timer::sleep(STEP_PAUSE).await;
            let now = now_ms();
            let mut shard = core.shard.borrow_mut();
            let done = match shard.db(db).peek(&p.key, now) {
                Some(e) if e.version() == p.version => p.writer.step(e.value(), DUMP_STEP),
                // Gone meanwhile: as if it had not existed.
                _ => break,
            };
            if done {
                out.push(Dumped { key: p.key, payload: p.writer.finish(), ttl: p.ttl });
                break;
            }
        }
    }
    out
}

/// How long a connection to a MIGRATE target is kept unused, as in Redis.
const CACHE_IDLE: Duration = Duration::from_secs(10);

/// A kept connection: its target, the database last selected on it, its last use.
struct Kept {
    addr: SocketAddr,
    sock: Socket,
    db: Option<i64>,
    used: std::time::Instant,
}

thread_local! {
    /// This core's connections to MIGRATE targets. A MIGRATE takes the
    /// connection out while it uses it.
    static CACHED: std::cell::RefCell<Vec<Kept>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn take_cached(addr: SocketAddr) -> Option<(Socket, Option<i64>)> {
    CACHED.with(|c| {
        let mut c = c.borrow_mut();
        c.retain(|k| k.used.elapsed() < CACHE_IDLE);
        let i = c.iter().position(|k| k.addr == addr)?;
        let k = c.swap_remove(i);
        Some((k.sock, k.db))
    })
}

fn put_cached(addr: SocketAddr, sock: Socket, db: Option<i64>) {
    CACHED.with(|c| c.borrow_mut().push(Kept { addr, sock, db, used: std::time::Instant::now() }));
}

/// `f`, or a TimedOut error after `limit` (for socket I/O to another server).
pub(crate) async fn within<T>(
    limit: Duration,
    f: impl Future<Output = std::io::Result<T>>,
) -> std::io::Result<T> {
    futures_lite::future::or(f, async {
        glommio::timer::sleep(limit).await;
        Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "timed out"))
    })
    .await
}

/// Reads `n` one-line replies (`+...` or `-...`), each without its CRLF.
async fn read_lines(sock: &Socket, n: usize, limit: Duration) -> std::io::Result<Vec<String>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let mut lines = Vec::new();
    while lines.len() < n {
        if let Some(end) = buf.windows(2).position(|w| w == b"\r\n") {
            lines.push(String::from_utf8_lossy(&buf[..end]).into_owned());
            buf.drain(..end + 2);
            continue;
        }
        let got = within(limit, sock.read(&mut chunk)).await?;
        if got == 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "closed"));
        }
        buf.extend_from_slice(&chunk[..got]);
    }
    Ok(lines)
}

/// Commands to send, as pieces: small ones gathered, a large payload's
/// pieces passed as they are rather than copied.
#[derive(Default)]
struct Outgoing<'a> {
    pieces: Vec<std::borrow::Cow<'a, [u8]>>,
}

impl<'a> Outgoing<'a> {
    fn small(&mut self) -> &mut Vec<u8> {
        if !matches!(self.pieces.last(), Some(std::borrow::Cow::Owned(_))) {
            self.pieces.push(std::borrow::Cow::Owned(Vec::new()));
        }
        match self.pieces.last_mut() {
            Some(std::borrow::Cow::Owned(v)) => v,
            _ => unreachable!("an owned piece was just pushed"),
        }
    }

    /// A command whose arguments are each in one or more pieces.
    fn command(&mut self, args: &[&'a [Vec<u8>]]) {
        self.small().extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
        for a in args {
            let len: usize = a.iter().map(Vec::len).sum();
            self.small().extend_from_slice(format!("${len}\r\n").as_bytes());
            for p in a.iter() {
                if p.len() < 4096 {
                    self.small().extend_from_slice(p);
                } else {
                    self.pieces.push(std::borrow::Cow::Borrowed(p));
                }
            }
            self.small().extend_from_slice(b"\r\n");
        }
    }

    /// A command of small arguments, copied.
    fn plain(&mut self, args: &[&[u8]]) {
        let out = self.small();
        out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
        for a in args {
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a);
            out.extend_from_slice(b"\r\n");
        }
    }

    async fn write(&self, sock: &Socket) -> std::io::Result<()> {
        for p in &self.pieces {
            sock.write_all(p).await?;
        }
        Ok(())
    }
}

pub async fn migrate(st: &mut State, argv: &[&[u8]], buf: &mut Vec<u8>) -> Result<(), CmdError> {
    let req = parse(argv)?;
    let core = st.core.clone();
    let db = st.db;
    // Lock the keys on their cores and dump them under the locks.
    let mut by_core: Vec<(usize, Vec<Vec<u8>>)> = Vec::new();
    for key in &req.keys {
        let c = core.shared.core_of(key);
        match by_core.iter_mut().find(|(k, _)| *k == c) {
            Some((_, keys)) => keys.push(key.clone()),
            None => by_core.push((c, vec![key.clone()])),
        }
    }
    let parts: Vec<(usize, Locks)> = by_core
        .iter()
        .map(|(c, keys)| (*c, Locks::keys(keys.iter().map(|k| (core.fingerprint(db, k), true)).collect())))
        .collect();
    let (txid, first) = transact(
        &core,
        st.tx_mode,
        &parts,
        |i| {
            let keys = by_core[i].1.clone();
            Box::new(move |core: &Rc<Core>| dump_here(core, db, &keys)) as Step<(Vec<Dumped>, Vec<Partial>)>
        },
        |_| None,
    )
    .await;
    // Large values are finished by a task on their core, still under the locks.
    let mut dumps = Vec::with_capacity(first.len());
    let mut rest = Vec::new();
    for ((c, _), (done, partial)) in parts.iter().zip(first) {
        dumps.push(done);
        if !partial.is_empty() {
            rest.push(core.call_with(*c, move |core, responder| {
                let core = core.clone();
                glommio::spawn_local(async move {
                    let done = finish_here(core.clone(), db, partial).await;
                    responder.send(&core, done);
                })
                .detach();
            }));
        }
    }
    for r in rest {
        dumps.push(r.await);
    }
    let result = send(&core, &req, dumps.iter().flatten().collect()).await;
    // Delete what the target took (unless COPY), and release the keys.
    let moved: Vec<Vec<u8>> = match &result {
        Ok((moved, _)) if !req.copy => moved.clone(),
        _ => Vec::new(),
    };
    let lasts = parts
        .iter()
        .map(|(c, _)| {
            let mine: Vec<Vec<u8>> = moved.iter().filter(|k| core.shared.core_of(k) == *c).cloned().collect();
            let step: Step<()> = Box::new(move |core: &Rc<Core>| {
                let now = now_ms();
                let mut shard = core.shard.borrow_mut();
                for k in &mine {
                    shard.db(db).remove(k, now);
                }
                if !mine.is_empty() {
                    shard.dirty += 1;
                }
            });
            (*c, Some(step))
        })
        .collect();
    if !moved.is_empty() {
        // Replicas delete the keys that moved, as Redis propagates MIGRATE
        // (numbered here, under the keys' locks, before the deletes).
        let argv: Vec<&[u8]> = std::iter::once(&b"DEL"[..]).chain(moved.iter().map(Vec::as_slice)).collect();
        crate::master::record(&core, vec![shoal_engine::shard::Op::new(db, &argv)]);
    }
    conclude_all(&core, txid, lasts);
    let (_, error) = result?;
    if let Some(e) = error {
        return Err(CmdError::owned(format!("ERR Target instance replied with error: {e}")));
    }
    let mut r = Reply::new(buf, st.resp3);
    if dumps.iter().all(Vec::is_empty) {
        r.simple(b"NOKEY");
    } else {
        r.ok();
    }
    Ok(())
}

/// Sends the dumped keys to the target. Returns the keys it took and the
/// first error it gave for any of them.
async fn send(
    core: &Rc<Core>,
    req: &Request,
    dumped: Vec<&Dumped>,
) -> Result<(Vec<Vec<u8>>, Option<String>), CmdError> {
    if dumped.is_empty() {
        return Ok((Vec::new(), None));
    }
    let connect_err = || CmdError::new("IOERR error or timeout connecting to the client");
    let port: u16 =
        std::str::from_utf8(&req.port).ok().and_then(|p| p.parse().ok()).ok_or_else(connect_err)?;
    let ip: std::net::IpAddr = match req.host.parse() {
        Ok(ip) => ip,
        Err(_) if req.host == "localhost" => std::net::Ipv4Addr::LOCALHOST.into(),
        Err(_) => return Err(connect_err()),
    };
    let addr = SocketAddr::new(ip, port);
    let restore: &[u8] = if crate::cluster::enabled(core) { b"RESTORE-ASKING" } else { b"RESTORE" };
    // A connection kept from an earlier MIGRATE may have been closed by the
    // target meanwhile: then try once more on a fresh one, as Redis does.
    let replies = loop {
        let (sock, last_db, reused) = match take_cached(addr) {
            Some((sock, db)) => (sock, db, true),
            None => {
                // A refused connection shows as a failed write in Redis (its
                // connect only waits for the socket to become writable); a
                // timeout as a failed connect.
                let sock = within(req.timeout, Socket::connect(addr)).await.map_err(|e| match e.kind() {
                    std::io::ErrorKind::TimedOut => connect_err(),
                    _ => CmdError::new("IOERR error or timeout writing to target instance"),
                })?;
                let _ = sock.sock_ref().set_tcp_nodelay(true);
                (sock, None, false)
            }
        };
        let mut out = Outgoing::default();
        let mut expected = 0;
        if let Some((user, pass)) = &req.auth {
            match user {
                Some(u) => out.plain(&[b"AUTH", u, pass]),
                None => out.plain(&[b"AUTH", pass]),
            }
            expected += 1;
        }
        let sent_select = last_db != Some(req.db);
        if sent_select {
            out.plain(&[b"SELECT", req.db.to_string().as_bytes()]);
            expected += 1;
        }
        let restore = [restore.to_vec()];
        let replace = [b"REPLACE".to_vec()];
        let heads: Vec<[[Vec<u8>; 1]; 2]> =
            dumped.iter().map(|d| [[d.key.clone()], [d.ttl.to_string().into_bytes()]]).collect();
        for (d, [key, ttl]) in dumped.iter().zip(&heads) {
            let mut args: Vec<&[Vec<u8>]> = vec![&restore, key, ttl, &d.payload];
            if req.replace {
                args.push(&replace);
            }
            out.command(&args);
        }
        let written = within(req.timeout, out.write(&sock)).await.is_ok();
        let read = match written {
            true => read_lines(&sock, expected + dumped.len(), req.timeout).await,
            false => Err(std::io::Error::other("write failed")),
        };
        match (read, written) {
            (Ok(lines), _) => {
                let db = match sent_select {
                    true => lines.get(expected - 1).filter(|l| !l.starts_with('-')).map(|_| req.db),
                    false => last_db,
                };
                put_cached(addr, sock, db);
                break (lines, expected);
            }
            (Err(_), _) if reused => continue,
            (Err(_), true) => return Err(CmdError::new("IOERR error or timeout reading to target instance")),
            (Err(_), false) => {
                return Err(CmdError::new("IOERR error or timeout writing to target instance"))
            }
        }
    };
    let (replies, expected) = replies;
    let (setup, restored) = replies.split_at(expected);
    if let Some(e) = setup.iter().find(|l| l.starts_with('-')) {
        return Err(CmdError::owned(format!("ERR Target instance replied with error: {}", &e[1..])));
    }
    let mut error = None;
    let mut moved = Vec::new();
    for (d, line) in dumped.into_iter().zip(restored) {
        match line.strip_prefix('-') {
            Some(e) => {
                error.get_or_insert_with(|| e.to_string());
            }
            None => moved.push(d.key.clone()),
        }
    }
    Ok((moved, error))
}
