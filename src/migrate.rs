//! MIGRATE: moves keys to another server (Shoal or redis-server) as DUMP
//! payloads sent with RESTORE (RESTORE-ASKING in cluster mode), then deletes
//! them here unless COPY was given. This is what `redis-cli --cluster
//! reshard` moves slots with.
//!
//! Redis blocks its only thread for the whole exchange, so no command sees a
//! key both here and at the target. Here the keys are locked instead, as a
//! multi-core transaction locks them (`multi::transact`): from the dump to
//! the delete, commands on those keys wait, while every other key is served.

use crate::core::{now_ms, Core};
use crate::multi::{conclude_all, transact, Step};
use crate::session::State;
use crate::txn::Locks;
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

/// A key as dumped here: its payload and its remaining time to live (0 = none).
struct Dumped {
    key: Vec<u8>,
    payload: Vec<u8>,
    ttl: u64,
}

/// Dumps the keys of one core that exist.
fn dump_here(core: &Core, db: usize, keys: &[Vec<u8>]) -> Vec<Dumped> {
    let now = now_ms();
    let mut shard = core.shard.borrow_mut();
    let db = shard.db(db);
    let mut out = Vec::new();
    for key in keys {
        if let Some(e) = db.peek(key, now) {
            let ttl = match e.expire_at() {
                Some(at) => at.saturating_sub(now).max(1),
                None => 0,
            };
            out.push(Dumped { key: key.clone(), payload: shoal_engine::rdb::dump_value(e.value()), ttl });
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

async fn within<T>(limit: Duration, f: impl Future<Output = std::io::Result<T>>) -> std::io::Result<T> {
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

fn command(out: &mut Vec<u8>, args: &[&[u8]]) {
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
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
    let (txid, dumps) = transact(
        &core,
        st.tx_mode,
        &parts,
        |i| {
            let keys = by_core[i].1.clone();
            Box::new(move |core: &Rc<Core>| dump_here(core, db, &keys)) as Step<Vec<Dumped>>
        },
        |_| None,
    )
    .await;
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
        let mut out = Vec::new();
        let mut expected = 0;
        if let Some((user, pass)) = &req.auth {
            match user {
                Some(u) => command(&mut out, &[b"AUTH", u, pass]),
                None => command(&mut out, &[b"AUTH", pass]),
            }
            expected += 1;
        }
        let sent_select = last_db != Some(req.db);
        if sent_select {
            command(&mut out, &[b"SELECT", req.db.to_string().as_bytes()]);
            expected += 1;
        }
        for d in &dumped {
            let ttl = d.ttl.to_string();
            let mut args: Vec<&[u8]> = vec![restore, &d.key, ttl.as_bytes(), &d.payload];
            if req.replace {
                args.push(b"REPLACE");
            }
            command(&mut out, &args);
        }
        let written = within(req.timeout, sock.write_all(&out)).await.is_ok();
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
