//! Replication, replica side: REPLICAOF and the link that keeps this server a
//! copy of a master, Redis's or Shoal's, in Redis's replication protocol.
//!
//! The link runs on core 0, as the cluster bus does. It connects, shakes
//! hands (PING, AUTH with `masterauth`, REPLCONF listening-port and capa,
//! PSYNC), and then either continues from the offset it had (+CONTINUE) or
//! takes a full copy (+FULLRESYNC): the RDB payload, in either of Redis's
//! two framings (`$<length>` or diskless `$EOF:<mark>`), is read whole,
//! every core's databases are emptied, and the keys are dealt to the cores
//! that own them. From then on the master's command stream runs through a
//! [`Session`] of its own, as any client's commands do (so MULTI/EXEC,
//! multi-core keys and SELECT work as usual), except that it may write to a
//! read-only replica and its replies are dropped. REPLCONF GETACK is
//! answered by the link with the offset of the stream applied before it;
//! an ACK also goes out every second, as Redis's replicas send one.

use crate::core::{now_ms, random_hex, Core};
use crate::migrate::within;
use crate::session::{Session, State};
use shoal_engine::command::eq_ic;
use shoal_engine::error::CmdError;
use shoal_engine::num::parse_i64;
use shoal_engine::Reply;
use shoal_net::conn::Session as _;
use shoal_net::resp::{Limits, Parsed, Parser};
use shoal_net::socket::Socket;
use std::cell::RefCell;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// How often the link looks at its settings (a REPLICAOF that ends it) while
/// it waits for the master.
const POLL: Duration = Duration::from_millis(100);

/// Where a replica's link to its master stands (ROLE's words).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum LinkState {
    /// Waiting to (re)connect.
    Connect,
    Connecting,
    /// Connected, exchanging PING/AUTH/REPLCONF/PSYNC.
    Handshake,
    /// Receiving the RDB payload of a full sync.
    Sync,
    /// Applying the command stream.
    Connected,
}

impl LinkState {
    fn role_name(self) -> &'static str {
        match self {
            LinkState::Connect => "connect",
            LinkState::Connecting => "connecting",
            LinkState::Handshake => "handshake",
            LinkState::Sync => "sync",
            LinkState::Connected => "connected",
        }
    }
}

/// The master this server replicates, and how the link to it is doing.
struct Link {
    host: String,
    port: u16,
    state: LinkState,
    /// Unix ms of the last bytes from the master.
    last_io_ms: u64,
    /// Unix ms the link went down; 0 if it never was up.
    down_since_ms: u64,
    /// A full sync's payload: its size (None for the diskless framing) and
    /// how much of it has come.
    transfer: Option<(Option<u64>, u64)>,
    /// Bytes of the stream read from the master (applied or not).
    read_offset: i64,
}

/// Core 0's replication state.
pub struct Repl {
    /// The id of this data set's history, and of the one it continued (PSYNC2).
    pub(crate) replid: String,
    pub(crate) replid2: String,
    /// Bytes of the master's stream applied, or of this master's own stream
    /// (`master_repl_offset`).
    pub(crate) offset: i64,
    /// The first offset of `replid`'s history that `replid2` shares.
    pub(crate) second_offset: i64,
    /// `replid` and `offset` came from a master: a new link may ask to
    /// continue from them rather than copy everything again.
    can_continue: bool,
    link: Option<Link>,
    /// Bumped whenever the master changes; a link task from an older
    /// generation stops.
    generation: u64,
    /// Full and partial syncs this server asked for and got.
    pub full_syncs: u64,
    pub partial_syncs: u64,
}

impl Default for Repl {
    fn default() -> Repl {
        Repl {
            replid: random_hex(40),
            replid2: "0".repeat(40),
            offset: 0,
            second_offset: -1,
            can_continue: false,
            link: None,
            generation: 0,
            full_syncs: 0,
            partial_syncs: 0,
        }
    }
}

/// REPLICAOF host port | REPLICAOF NO ONE (and SLAVEOF).
pub async fn replicaof(st: &mut State, argv: &[&[u8]], buf: &mut Vec<u8>) -> Result<(), CmdError> {
    let core = st.core.clone();
    if crate::cluster::enabled(&core) {
        return Err(CmdError::new("ERR REPLICAOF not allowed in cluster mode."));
    }
    let target = if eq_ic(argv[1], "no") && eq_ic(argv[2], "one") {
        None
    } else {
        let port = parse_i64(argv[2])
            .filter(|p| (0..=65535).contains(p))
            .ok_or(CmdError::new("ERR Invalid master port"))?;
        Some((String::from_utf8_lossy(argv[1]).into_owned(), port as u16))
    };
    let line = core.call(0, move |core| set_master(core, target)).await;
    Reply::new(buf, st.resp3).simple(line.as_bytes());
    Ok(())
}

/// Makes this server a replica of `target`, or a master with `None`.
/// Runs on core 0. Returns the reply line.
pub fn set_master(core: &Rc<Core>, target: Option<(String, u16)>) -> &'static str {
    let mut repl = core.repl.borrow_mut();
    let mut start = None;
    let (mut promoted, mut demoted) = (false, false);
    match target {
        None => {
            if repl.link.take().is_some() {
                repl.generation += 1;
                // As Redis's shiftReplicationId: the data set goes on as a
                // new history that shares the old one up to here.
                repl.replid2 = std::mem::replace(&mut repl.replid, random_hex(40));
                repl.second_offset = repl.offset + 1;
                repl.can_continue = false;
                promoted = true;
                tracing::info!("MASTER MODE enabled");
            }
        }
        Some((host, port)) => {
            if let Some(l) = &repl.link {
                if l.host.eq_ignore_ascii_case(&host) && l.port == port {
                    return "OK Already connected to specified master";
                }
            }
            tracing::info!("REPLICAOF {host}:{port} enabled");
            if repl.link.is_none() {
                // As Redis's replicationCacheMasterUsingMyself: a master
                // asks its new master to continue its own history (which a
                // replica promoted in its place shares).
                repl.can_continue = true;
                demoted = true;
            }
            crate::master::stop(core);
            repl.generation += 1;
            repl.link = Some(Link {
                host,
                port,
                state: LinkState::Connect,
                last_io_ms: 0,
                down_since_ms: 0,
                transfer: None,
                read_offset: repl.offset,
            });
            start = Some(repl.generation);
        }
    }
    core.shared.replica.store(repl.link.is_some(), Ordering::Relaxed);
    core.shared.master_link_down.store(repl.link.is_some(), Ordering::Relaxed);
    let target = repl.link.as_ref().map(|l| (l.host.clone(), l.port));
    drop(repl);
    if promoted {
        crate::master::continue_stream(core);
    }
    if demoted {
        crate::master::record_as_replica(core);
    }
    refresh_read_only(core);
    // CONFIG GET replicaof says what REPLICAOF set.
    for c in 0..core.shared.cores {
        let target = target.clone();
        core.run_on(c, move |core| core.config.borrow_mut().replicaof = target);
    }
    if let Some(generation) = start {
        glommio::spawn_local(run_link(core.clone(), generation)).detach();
    }
    "OK"
}

/// How long ago a replica last heard from its master (ms): since the last
/// bytes while the link is up, since it went down otherwise (forever if it
/// never was up). 0 on a master.
pub fn data_age_ms(core: &Core) -> u64 {
    let repl = core.repl.borrow();
    let Some(l) = &repl.link else { return 0 };
    let since = if l.state == LinkState::Connected { l.last_io_ms } else { l.down_since_ms };
    now_ms().saturating_sub(since)
}

/// Writes from clients (and their scripts) are refused while this server is
/// a replica with `replica-read-only yes`; on a master, while fewer replicas
/// than `min-replicas-to-write` are good.
pub fn refresh_read_only(core: &Core) {
    let replica = core.shared.replica.load(Ordering::Relaxed);
    let read_only = replica && core.config.borrow().replica_read_only;
    core.shared.scripts.writes_refused.store(read_only, Ordering::Relaxed);
    crate::master::refresh_good_replicas(core);
}

/// Redis's checkGoodReplicasStatus, with no replicas.
pub fn too_few_replicas(config: &crate::config::Config, replica: bool) -> bool {
    let good_replicas = 0;
    !replica
        && config.min_replicas_to_write > 0
        && config.min_replicas_max_lag > 0
        && good_replicas < config.min_replicas_to_write
}

fn current(core: &Core, generation: u64) -> bool {
    core.repl.borrow().generation == generation
}

fn with_link(core: &Core, generation: u64, f: impl FnOnce(&mut Link)) {
    let mut repl = core.repl.borrow_mut();
    if repl.generation == generation {
        if let Some(l) = repl.link.as_mut() {
            f(l);
            let down = l.state != LinkState::Connected;
            core.shared.master_link_down.store(down, Ordering::Relaxed);
        }
    }
}

/// The link task: connects, syncs and applies the stream, and reconnects a
/// second after the link breaks, until the master changes.
async fn run_link(core: Rc<Core>, generation: u64) {
    // The master's client, kept across a broken link: a partial resync
    // continues its stream (its selected database, an open MULTI).
    let mut session: Option<Session> = None;
    while current(&core, generation) {
        let result = sync_and_stream(&core, generation, &mut session).await;
        if !current(&core, generation) {
            break;
        }
        if let Err(e) = result {
            tracing::warn!("replication link with master failed: {e}");
        }
        with_link(&core, generation, |l| {
            if l.state == LinkState::Connected {
                l.down_since_ms = now_ms();
            }
            l.state = LinkState::Connect;
            l.transfer = None;
        });
        core.shared.loading.store(false, Ordering::Relaxed);
        glommio::timer::sleep(Duration::from_secs(1)).await;
    }
}

/// The socket to the master and what has been read from it.
struct Conn {
    sock: Socket,
    buf: Vec<u8>,
    /// Where the unconsumed bytes of `buf` start.
    pos: usize,
}

fn io_err(what: impl Into<String>) -> io::Error {
    io::Error::other(what.into())
}

impl Conn {
    async fn send(&self, args: &[&[u8]]) -> io::Result<()> {
        let mut out = Vec::new();
        let mut r = Reply::new(&mut out, false);
        r.array(args.len());
        for a in args {
            r.bulk(a);
        }
        self.sock.write_all(&out).await
    }

    /// Reads more bytes within `limit`; checks every [`POLL`] that the link
    /// is still wanted.
    async fn fill(&mut self, core: &Core, generation: u64, limit: Duration) -> io::Result<()> {
        let deadline = std::time::Instant::now() + limit;
        if self.pos > 0 && self.pos * 2 >= self.buf.len() {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        let len = self.buf.len();
        self.buf.resize(len + 64 * 1024, 0);
        loop {
            if !current(core, generation) {
                self.buf.truncate(len);
                return Err(io_err("master changed"));
            }
            match within(POLL, self.sock.read(&mut self.buf[len..])).await {
                Ok(0) => {
                    self.buf.truncate(len);
                    return Err(io_err("connection closed by master"));
                }
                Ok(n) => {
                    self.buf.truncate(len + n);
                    let now = now_ms();
                    with_link(core, generation, |l| l.last_io_ms = now);
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::TimedOut && std::time::Instant::now() < deadline => {}
                Err(e) => {
                    self.buf.truncate(len);
                    return Err(e);
                }
            }
        }
    }

    /// One reply line without its line end. A master sends bare newlines to
    /// keep the link alive while it prepares a full sync: they are empty lines.
    async fn line(&mut self, core: &Core, generation: u64, limit: Duration) -> io::Result<String> {
        loop {
            if let Some(n) = self.buf[self.pos..].iter().position(|&b| b == b'\n') {
                let raw = &self.buf[self.pos..self.pos + n];
                let line = String::from_utf8_lossy(raw.strip_suffix(b"\r").unwrap_or(raw)).into_owned();
                self.pos += n + 1;
                return Ok(line);
            }
            self.fill(core, generation, limit).await?;
        }
    }

    /// A command's reply line, empty lines skipped.
    async fn reply(&mut self, core: &Core, generation: u64, limit: Duration) -> io::Result<String> {
        loop {
            let line = self.line(core, generation, limit).await?;
            if !line.is_empty() {
                return Ok(line);
            }
        }
    }
}

fn resolve(host: &str, port: u16) -> io::Result<SocketAddr> {
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return Ok(SocketAddr::new(ip, port));
    }
    use std::net::ToSocketAddrs;
    (host, port).to_socket_addrs()?.next().ok_or_else(|| io_err(format!("cannot resolve {host}")))
}

/// One life of the link: connect, handshake, sync, then apply the stream
/// until it breaks or the master changes.
async fn sync_and_stream(core: &Rc<Core>, generation: u64, session: &mut Option<Session>) -> io::Result<()> {
    let (host, port) = match core.repl.borrow().link.as_ref() {
        Some(l) => (l.host.clone(), l.port),
        None => return Ok(()),
    };
    let (timeout, auth) = {
        let c = core.config.borrow();
        (Duration::from_secs(c.repl_timeout.max(1)), (c.masteruser.clone(), c.masterauth.clone()))
    };
    with_link(core, generation, |l| l.state = LinkState::Connecting);
    let addr = resolve(&host, port)?;
    let sock = within(timeout, Socket::connect(addr)).await?;
    let _ = sock.sock_ref().set_tcp_nodelay(true);
    let mut conn = Conn { sock, buf: Vec::new(), pos: 0 };
    with_link(core, generation, |l| l.state = LinkState::Handshake);

    conn.send(&[b"PING"]).await?;
    let pong = conn.reply(core, generation, timeout).await?;
    // As Redis: anything positive, or an error saying a password is needed.
    if !pong.starts_with('+')
        && !pong.starts_with("-NOAUTH")
        && !pong.starts_with("-NOPERM")
        && !pong.starts_with("-ERR operation not permitted")
    {
        return Err(io_err(format!("error reply to PING from master: '{pong}'")));
    }
    if !auth.1.is_empty() {
        let (user, pass) = (auth.0.as_bytes(), auth.1.as_bytes());
        if user.is_empty() {
            conn.send(&[b"AUTH", pass]).await?;
        } else {
            conn.send(&[b"AUTH", user, pass]).await?;
        }
        let reply = conn.reply(core, generation, timeout).await?;
        if reply.starts_with('-') {
            return Err(io_err(format!("unable to AUTH to master: {reply}")));
        }
    }
    let my_port = core.config.borrow().port.to_string();
    conn.send(&[b"REPLCONF", b"listening-port", my_port.as_bytes()]).await?;
    let reply = conn.reply(core, generation, timeout).await?;
    if reply.starts_with('-') {
        tracing::info!("master does not understand REPLCONF listening-port: {reply}");
    }
    conn.send(&[b"REPLCONF", b"capa", b"eof", b"capa", b"psync2"]).await?;
    let reply = conn.reply(core, generation, timeout).await?;
    if reply.starts_with('-') {
        tracing::info!("master does not understand REPLCONF capa: {reply}");
    }

    let (id, from) = {
        let r = core.repl.borrow();
        match r.can_continue {
            true => (r.replid.clone(), (r.offset + 1).to_string()),
            false => ("?".to_string(), "-1".to_string()),
        }
    };
    conn.send(&[b"PSYNC", id.as_bytes(), from.as_bytes()]).await?;
    let reply = conn.reply(core, generation, timeout).await?;
    let words: Vec<&str> = reply.split(' ').collect();
    match words.as_slice() {
        ["+FULLRESYNC", id, offset] => {
            let offset: i64 = offset.parse().map_err(|_| io_err(format!("bad FULLRESYNC reply: {reply}")))?;
            full_sync(core, generation, &mut conn, timeout).await?;
            {
                let mut r = core.repl.borrow_mut();
                r.replid = id.to_string();
                r.replid2 = "0".repeat(40);
                r.second_offset = -1;
                r.offset = offset;
                r.can_continue = true;
                r.full_syncs += 1;
            }
            with_link(core, generation, |l| l.read_offset = offset);
            *session = None;
            send_ack(core, &conn).await?;
        }
        ["+CONTINUE", rest @ ..] => {
            let mut r = core.repl.borrow_mut();
            if let [new_id] = rest {
                if *new_id != r.replid {
                    // The master's history has a new id that continues ours.
                    r.replid2 = std::mem::replace(&mut r.replid, new_id.to_string());
                    r.second_offset = r.offset + 1;
                }
            }
            r.partial_syncs += 1;
            let offset = r.offset;
            drop(r);
            with_link(core, generation, |l| l.read_offset = offset);
            tracing::info!("partial resynchronization accepted");
        }
        _ => return Err(io_err(format!("unexpected reply to PSYNC from master: {reply}"))),
    }
    let now = now_ms();
    with_link(core, generation, |l| {
        l.state = LinkState::Connected;
        l.transfer = None;
        l.last_io_ms = now;
    });
    let session = session.get_or_insert_with(|| master_session(core, addr, &conn));
    stream(core, generation, &mut conn, session, timeout).await
}

/// Reads a full sync's RDB payload and loads it in place of every database.
async fn full_sync(core: &Rc<Core>, generation: u64, conn: &mut Conn, timeout: Duration) -> io::Result<()> {
    with_link(core, generation, |l| {
        l.state = LinkState::Sync;
        l.transfer = Some((None, 0));
    });
    let header = conn.reply(core, generation, timeout).await?;
    let Some(size) = header.strip_prefix('$') else {
        return Err(io_err(format!("bad protocol from master, expected the RDB payload: {header}")));
    };
    let (payload, start) = match size.strip_prefix("EOF:") {
        Some(mark) if mark.len() == 40 => {
            let mark = mark.as_bytes().to_vec();
            loop {
                let have = conn.buf.len() - conn.pos;
                with_link(core, generation, |l| l.transfer = Some((None, have as u64)));
                if have >= mark.len() && conn.buf.ends_with(&mark) {
                    // The buffer becomes the payload (not copied, and not
                    // kept as the link's buffer once loaded).
                    let end = conn.buf.len() - mark.len();
                    let mut payload = std::mem::take(&mut conn.buf);
                    payload.truncate(end);
                    let start = std::mem::replace(&mut conn.pos, 0);
                    break (payload, start);
                }
                conn.fill(core, generation, timeout).await?;
            }
        }
        Some(_) => return Err(io_err(format!("bad EOF mark from master: {header}"))),
        None => {
            let len: usize =
                size.parse().map_err(|_| io_err(format!("bad RDB length from master: {header}")))?;
            with_link(core, generation, |l| l.transfer = Some((Some(len as u64), 0)));
            let mut payload = Vec::with_capacity(len);
            loop {
                let take = (conn.buf.len() - conn.pos).min(len - payload.len());
                payload.extend_from_slice(&conn.buf[conn.pos..conn.pos + take]);
                conn.pos += take;
                let got = payload.len() as u64;
                with_link(core, generation, |l| l.transfer = Some((Some(len as u64), got)));
                if payload.len() == len {
                    break (payload, 0);
                }
                conn.fill(core, generation, timeout).await?;
            }
        }
    };
    tracing::info!("MASTER <-> REPLICA sync: loading {} bytes", payload.len() - start);
    core.shared.loading.store(true, Ordering::Relaxed);
    let result = crate::save::load(core, &payload[start..], true)
        .await
        .map(drop)
        .map_err(|e| io_err(format!("the master's data: {e}")));
    core.shared.loading.store(false, Ordering::Relaxed);
    // The payload can be as large as the data set: give its memory back.
    drop(payload);
    crate::alloc::release_freed();
    result
}

/// The session the master's commands run in: authenticated, allowed to
/// write to a read-only replica, its replies dropped.
fn master_session(core: &Rc<Core>, addr: SocketAddr, conn: &Conn) -> Session {
    let laddr = conn.sock.local_addr().unwrap_or(addr);
    // No descriptor: nothing the master sends may reply out of band.
    let info = crate::client::ClientInfo::new(core.shared.next_client_id(), addr, laddr, -1, true);
    let info = Rc::new(RefCell::new(info));
    let mut s = Session::new(core.clone(), info, Rc::new(shoal_net::conn::Outbox::default()));
    s.st.authenticated = true;
    s.st.master = true;
    s
}

async fn send_ack(core: &Core, conn: &Conn) -> io::Result<()> {
    let offset = core.repl.borrow().offset.to_string();
    conn.send(&[b"REPLCONF", b"ACK", offset.as_bytes()]).await
}

fn is_getack(parser: &Parser, buf: &[u8]) -> bool {
    parser.argc() >= 2 && eq_ic(parser.arg(buf, 0), "replconf") && eq_ic(parser.arg(buf, 1), "getack")
}

/// Applies the master's command stream until the link breaks or the master
/// changes.
async fn stream(
    core: &Rc<Core>,
    generation: u64,
    conn: &mut Conn,
    session: &mut Session,
    timeout: Duration,
) -> io::Result<()> {
    let mut parser = Parser::new();
    let mut out = Vec::new();
    let mut last_ack = std::time::Instant::now();
    loop {
        let limits = Limits {
            max_bulk_len: core.config.borrow().proto_max_bulk_len.max(512 << 20),
            authenticated: true,
        };
        // Frame the complete commands read so far; run them in runs that end
        // at each GETACK, which is answered with the offset before it.
        let data = &conn.buf[conn.pos..];
        let (mut at, mut run) = (0, 0);
        loop {
            match parser.parse(&data[at..], &limits) {
                Parsed::Command { consumed } => {
                    if is_getack(&parser, &data[at..]) {
                        apply(core, session, &data[run..at], &mut out).await?;
                        send_ack(core, conn).await?;
                        core.repl.borrow_mut().offset += consumed as i64;
                        run = at + consumed;
                    }
                    at += consumed;
                }
                Parsed::Empty { consumed } => at += consumed,
                Parsed::Incomplete { .. } => break,
                Parsed::Error(e) => {
                    return Err(io_err(format!(
                        "protocol error from master: {}",
                        String::from_utf8_lossy(&e.message())
                    )))
                }
            }
        }
        apply(core, session, &data[run..at], &mut out).await?;
        conn.pos += at;
        let read = core.repl.borrow().offset + (conn.buf.len() - conn.pos) as i64;
        with_link(core, generation, |l| l.read_offset = read);
        if last_ack.elapsed() >= Duration::from_secs(1) {
            send_ack(core, conn).await?;
            last_ack = std::time::Instant::now();
        }
        match conn.fill(core, generation, Duration::from_secs(1)).await {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                let last = core.repl.borrow().link.as_ref().map_or(0, |l| l.last_io_ms);
                if now_ms().saturating_sub(last) > timeout.as_millis() as u64 {
                    return Err(io_err("timeout: no data from master"));
                }
            }
            Err(e) => return Err(e),
        }
    }
}

/// Runs complete commands of the stream in the master's session and counts
/// them into the offset.
async fn apply(core: &Core, session: &mut Session, mut input: &[u8], out: &mut Vec<u8>) -> io::Result<()> {
    while !input.is_empty() {
        out.clear();
        let step = session.on_input(input, out).await;
        let offset = {
            let mut r = core.repl.borrow_mut();
            r.offset += step.consumed as i64;
            r.offset
        };
        // An error means this replica's data no longer follows the master's
        // (a command Shoal lacks, or a difference): say so, as Redis does.
        for e in error_replies(out) {
            tracing::warn!(
                "== CRITICAL == this replica got an error applying its master's stream (by offset {offset}): {}",
                String::from_utf8_lossy(e)
            );
        }
        input = &input[step.consumed..];
        if step.close || step.consumed == 0 {
            return Err(io_err("the master's command stream could not be applied"));
        }
    }
    out.clear();
    Ok(())
}

/// The error replies (without `-` and line end) among RESP2 replies, at
/// any depth (EXEC's replies are an array).
fn error_replies(mut buf: &[u8]) -> Vec<&[u8]> {
    let mut errors = Vec::new();
    while let Some(end) = buf.windows(2).position(|w| w == b"\r\n") {
        let (line, rest) = (&buf[..end], &buf[end + 2..]);
        buf = rest;
        let n =
            std::str::from_utf8(line.get(1..).unwrap_or_default()).ok().and_then(|n| n.parse::<i64>().ok());
        match line.first() {
            Some(b'-') => errors.push(&line[1..]),
            Some(b'$') if n.unwrap_or(-1) >= 0 => {
                let skip = n.unwrap_or(0) as usize + 2;
                buf = buf.get(skip..).unwrap_or_default();
            }
            // Arrays' elements follow as replies of their own.
            _ => {}
        }
    }
    errors
}

/// WAIT numreplicas timeout. This server has no replicas of its own (it
/// does not serve PSYNC yet), so no replica acknowledges anything: as Redis
/// with no replicas, WAIT answers 0 at once when it asks for none or runs
/// inside MULTI, and otherwise when the timeout passes (never, for 0) or the
/// client goes away.
/// What ROLE says, from core 0's state.
pub enum Role {
    Master { offset: i64, replicas: Vec<(String, u16, i64)> },
    Replica { host: String, port: u16, state: &'static str, offset: i64 },
}

pub fn role(core: &Core) -> Role {
    let r = core.repl.borrow();
    match &r.link {
        None => Role::Master { offset: r.offset, replicas: crate::master::role_replicas(core) },
        Some(l) => Role::Replica {
            host: l.host.clone(),
            port: l.port,
            state: l.state.role_name(),
            // As Redis: -1 while there is no live master client.
            offset: if l.state == LinkState::Connected { r.offset } else { -1 },
        },
    }
}

/// ROLE.
pub async fn role_command(st: &mut State, buf: &mut Vec<u8>) -> Result<(), CmdError> {
    let role = st.core.call(0, |core| role(core)).await;
    let mut r = Reply::new(buf, st.resp3);
    match role {
        Role::Master { offset, replicas } => {
            r.array(3);
            r.bulk(b"master");
            r.int(offset);
            r.array(replicas.len());
            for (ip, port, ack) in replicas {
                r.array(3);
                r.bulk(ip.as_bytes());
                r.bulk(port.to_string().as_bytes());
                r.bulk(ack.to_string().as_bytes());
            }
        }
        Role::Replica { host, port, state, offset } => {
            r.array(5);
            r.bulk(b"slave");
            r.bulk(host.as_bytes());
            r.int(port as i64);
            r.bulk(state.as_bytes());
            r.int(offset);
        }
    }
    Ok(())
}

/// INFO's replication section, from core 0's state.
pub fn info_section(core: &Core) -> String {
    let r = core.repl.borrow();
    let config = core.config.borrow();
    let now = now_ms();
    let mut s = String::new();
    let mut line = |t: String| {
        s.push_str(&t);
        s.push_str("\r\n");
    };
    line("# Replication".into());
    match &r.link {
        None => line("role:master".into()),
        Some(l) => {
            line("role:slave".into());
            line(format!("master_host:{}", l.host));
            line(format!("master_port:{}", l.port));
            let up = l.state == LinkState::Connected;
            line(format!("master_link_status:{}", if up { "up" } else { "down" }));
            // As Redis: -1 without a live master client; offsets of 1 before
            // any sync.
            let last_io = if up { (now.saturating_sub(l.last_io_ms) / 1000) as i64 } else { -1 };
            line(format!("master_last_io_seconds_ago:{last_io}"));
            line(format!("master_sync_in_progress:{}", u8::from(l.state == LinkState::Sync)));
            let (read, applied) = if r.can_continue { (l.read_offset, r.offset) } else { (1, 1) };
            line(format!("slave_read_repl_offset:{read}"));
            line(format!("slave_repl_offset:{applied}"));
            if let Some((total, read)) = l.transfer.filter(|_| l.state == LinkState::Sync) {
                // The diskless framing has no size: Redis shows -1 and
                // figures from it.
                let total = total.map_or(-1, |t| t as i64);
                let read = read as i64;
                line(format!("master_sync_total_bytes:{total}"));
                line(format!("master_sync_read_bytes:{read}"));
                line(format!("master_sync_left_bytes:{}", total - read));
                let perc = if total != 0 { read as f64 / total as f64 * 100.0 } else { 0.0 };
                line(format!("master_sync_perc:{perc:.2}"));
                line(format!("master_sync_last_io_seconds_ago:{}", now.saturating_sub(l.last_io_ms) / 1000));
            }
            if !up {
                let since = match l.down_since_ms {
                    0 => -1,
                    t => (now.saturating_sub(t) / 1000) as i64,
                };
                line(format!("master_link_down_since_seconds:{since}"));
            }
            line(format!("slave_priority:{}", config.replica_priority));
            line(format!("slave_read_only:{}", u8::from(config.replica_read_only)));
            line("replica_announced:1".into());
        }
    }
    crate::master::info_lines(core, &mut line);
    line("master_failover_state:no-failover".into());
    line(format!("master_replid:{}", r.replid));
    line(format!("master_replid2:{}", r.replid2));
    line(format!("master_repl_offset:{}", r.offset));
    line(format!("second_repl_offset:{}", r.second_offset));
    crate::master::backlog_lines(core, &mut line);
    s
}

#[cfg(test)]
mod tests {
    use super::error_replies;

    #[test]
    fn error_replies_are_found_at_any_depth_and_not_inside_bulk_strings() {
        let replies = b"+OK\r\n$5\r\n-nope\r\n*2\r\n:1\r\n-ERR inner\r\n$-1\r\n-WRONGTYPE top\r\n";
        assert_eq!(error_replies(replies), [&b"ERR inner"[..], b"WRONGTYPE top"]);
        assert!(error_replies(b"+OK\r\n:3\r\n").is_empty());
    }
}
