//! Replication, master side: the replication stream, its backlog, and the
//! replicas it feeds (PSYNC, SYNC, REPLCONF, WAIT).
//!
//! **The stream.** While a replication stream exists, every command run on
//! a core leaves in its shard what it changed, as the commands that redo it
//! deterministically ([`shoal_engine::shard::call`]). Right after the
//! command (still in the same synchronous run, so nothing can come between),
//! the core takes the next number of one process-wide sequence
//! ([`Shared::repl_seq`]) and queues the record for core 0. Commands that
//! conflict are ordered by the locks of the transactions that run them, and
//! a multi-core command takes its number at its coordinator while it holds
//! every lock, so the numbers order every pair of conflicting writes as
//! they took effect. Core 0 puts the records into the stream in number
//! order: SELECT when the database changes, MULTI/EXEC around a record of
//! several commands (a script, a multi-key command, a command and the
//! expired keys it deleted) and around an EXEC's commands.
//!
//! **The backlog** keeps the stream's last `repl-backlog-size` bytes, and
//! more while a replica still has to be sent them (bounded by
//! `client-output-buffer-limit replica`, past which the replica is
//! dropped, as Redis drops it). Replicas read it directly: each has a task
//! on core 0 that writes from its position, so the cores never wait for a
//! slow replica.
//!
//! **Full sync** is a save ([`crate::save`]) whose cut is also a point of
//! the stream: every core is locked whole, the sequence number read then
//! divides the writes in the snapshot from those after it, and the replica
//! is sent the RDB (diskless, `$EOF:` framing) and then the stream from
//! the offset where that number begins.

use crate::core::{now_ms, Core};
use crate::session::State;
use shoal_engine::command::eq_ic;
use shoal_engine::error::CmdError;
use shoal_engine::num::parse_i64;
use shoal_engine::shard::Op;
use shoal_engine::{Reply, Shard};
use shoal_net::resp::{Limits, Parsed, Parser};
use shoal_net::socket::Socket;
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// Bytes a replica's task copies out of the backlog per write.
const WRITE_CHUNK: usize = 64 << 10;
/// The backlog is kept in blocks of this size: it grows and shrinks by
/// whole blocks, so its memory follows its length.
const BLOCK: usize = 64 << 10;

/// The stream's last bytes, in blocks.
#[derive(Default)]
struct Backlog {
    blocks: VecDeque<Vec<u8>>,
    len: usize,
}

impl Backlog {
    fn len(&self) -> usize {
        self.len
    }

    fn push(&mut self, mut bytes: &[u8]) {
        self.len += bytes.len();
        while !bytes.is_empty() {
            if self.blocks.back().is_none_or(|b| b.len() == BLOCK) {
                self.blocks.push_back(Vec::with_capacity(BLOCK));
            }
            let last = self.blocks.back_mut().expect("a block");
            let n = bytes.len().min(BLOCK - last.len());
            last.extend_from_slice(&bytes[..n]);
            bytes = &bytes[n..];
        }
    }

    /// Drops whole blocks from the front while at least `keep` bytes stay.
    fn trim(&mut self, keep: usize) {
        while let Some(front) = self.blocks.front() {
            if self.len - front.len() < keep {
                break;
            }
            self.len -= front.len();
            self.blocks.pop_front();
        }
    }

    /// Up to `max` bytes from position `at` (0 = the first byte kept).
    fn read(&self, mut at: usize, max: usize) -> &[u8] {
        for b in &self.blocks {
            if at < b.len() {
                return &b[at..b.len().min(at + max)];
            }
            at -= b.len();
        }
        &[]
    }

    fn clear(&mut self) {
        self.blocks.clear();
        self.len = 0;
    }
}

/// One record of the stream.
pub enum Record {
    /// What one command (or one step) changed; `atomic` wraps several in MULTI/EXEC.
    Ops {
        ops: Vec<Op>,
        atomic: bool,
    },
    /// EXEC's queued commands begin and end: the records between replay as one transaction.
    Begin,
    End,
    /// Bytes of the master's own (PING, REPLCONF GETACK): never inside an EXEC's block.
    Raw(Vec<u8>),
}

/// A core's records on their way to core 0, in the order their numbers were taken.
#[derive(Default)]
pub struct Outbox {
    records: RefCell<Vec<(u64, Record)>>,
    waker: RefCell<Option<Waker>>,
}

/// Numbers `record` and queues it for core 0.
fn push(core: &Core, record: Record) {
    let seq = core.shared.repl_seq.fetch_add(1, Ordering::AcqRel);
    core.repl_out.records.borrow_mut().push((seq, record));
    if let Some(w) = core.repl_out.waker.borrow_mut().take() {
        w.wake();
    }
}

/// Takes what the commands just run on `shard` changed and numbers it: the
/// commands' effects as one record, then any key deleted on expiry outside
/// a command. A no-op while no replication stream exists.
pub fn collect(core: &Core, shard: &RefCell<Shard>) {
    let (ops, expired) = {
        let mut s = shard.borrow_mut();
        let Some(p) = s.propagated.as_mut() else {
            return;
        };
        let ops = std::mem::take(p);
        (ops, s.take_expired())
    };
    if !ops.is_empty() {
        let atomic = ops.len() > 1;
        push(core, Record::Ops { ops, atomic });
    }
    for op in expired {
        push(core, Record::Ops { ops: vec![op], atomic: false });
    }
}

/// Records a multi-core command's effect at its coordinator, which holds
/// every lock it needs: whatever this core had left to number goes first.
pub fn record(core: &Core, ops: Vec<Op>) {
    if core.shard.borrow().propagated.is_none() {
        return;
    }
    collect(core, &core.shard);
    let atomic = ops.len() > 1;
    push(core, Record::Ops { ops, atomic });
}

/// EXEC begins (or ends) running its queue under its locks.
pub fn bracket(core: &Core, begin: bool) {
    if core.shard.borrow().propagated.is_none() {
        return;
    }
    collect(core, &core.shard);
    push(core, if begin { Record::Begin } else { Record::End });
}

/// A multi-core command's last step ran: what it changed is the
/// coordinator's record already, and a key it found expired on the way is
/// rewritten by that record (which comes first), so neither is recorded again.
pub fn discard(core: &Core) {
    let mut s = core.shard.borrow_mut();
    if let Some(p) = s.propagated.as_mut() {
        p.clear();
        s.take_expired();
    }
}

/// Starts recording on this core (part of a full sync's cut).
pub fn start_recording(core: &Core) {
    for shard in [&core.shard, &core.scratch] {
        let mut s = shard.borrow_mut();
        if s.propagated.is_none() {
            s.set_propagation(true);
        }
    }
}

/// Core 0, a replica becoming a master (REPLICAOF NO ONE, a failover): its
/// stream goes on from the offset of its master's that it reached, so the
/// other replicas of that master (and the old master itself, after a
/// manual failover) continue with PSYNC rather than copying everything.
/// Every core records while this server is a replica (see
/// [`record_as_replica`]); the writes numbered from now on are the new
/// master's, and the backlog starts here.
pub fn continue_stream(core: &Core) {
    let seq = core.shared.repl_seq.load(Ordering::SeqCst);
    let mut m = core.master.borrow_mut();
    m.marks.push(Mark { seq, slot: Rc::default(), cut: true });
    let end = core.repl.borrow().offset;
    m.fill_marks(end);
}

/// Core 0, this server becoming a replica: every core records its writes
/// from now on (those applied from the master are dropped on core 0), so
/// that when it is promoted no write of its own is missing from the stream.
pub fn record_as_replica(core: &Rc<Core>) {
    for c in 0..core.shared.cores {
        core.run_on(c, |core| start_recording(core));
    }
}

/// Sends this core's records to core 0, a batch per turn of the executor.
pub async fn flusher(core: Rc<Core>) {
    loop {
        Pending { core: &core }.await;
        // Let the rest of this turn's commands add theirs.
        futures_lite::future::yield_now().await;
        let batch = std::mem::take(&mut *core.repl_out.records.borrow_mut());
        core.run_on(0, move |core| receive(core, batch));
    }
}

struct Pending<'a> {
    core: &'a Core,
}

impl Future for Pending<'_> {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.core.repl_out.records.borrow().is_empty() {
            *self.core.repl_out.waker.borrow_mut() = Some(cx.waker().clone());
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    }
}

/// Where a replica stands (INFO's `state`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum LinkState {
    /// Waiting for its snapshot to begin.
    WaitBgsave,
    /// Receiving the RDB.
    SendBulk,
    Online,
}

/// One replica connected to this master.
struct Replica {
    id: u64,
    ip: String,
    port: Cell<u16>,
    state: Cell<LinkState>,
    /// The offset of the next stream byte to send it.
    next: Cell<i64>,
    /// The offset it acknowledged having applied, and when (Unix ms).
    ack: Cell<i64>,
    ack_ms: Cell<u64>,
    fd: RawFd,
    closed: Cell<bool>,
    over_soft_since: Cell<Option<Instant>>,
    waker: RefCell<Option<Waker>>,
}

impl Replica {
    fn wake(&self) {
        if let Some(w) = self.waker.borrow_mut().take() {
            w.wake();
        }
    }

    fn close(&self) {
        if !self.closed.replace(true) {
            // SAFETY: the replica's own socket, open while its tasks run;
            // shutting it down ends their pending reads and writes.
            unsafe { libc::shutdown(self.fd, libc::SHUT_RDWR) };
        }
        self.wake();
    }
}

/// A sequence number whose stream offset someone waits for.
struct Mark {
    seq: u64,
    slot: Rc<MarkSlot>,
    /// A full sync's cut: the stream is kept from here.
    cut: bool,
}

/// Core 0's master state: the stream's order, the backlog, the replicas.
#[derive(Default)]
pub struct Master {
    /// Records that came ahead of a lower number still on its way.
    waiting: BTreeMap<u64, Record>,
    /// The next number to put into the stream.
    next: u64,
    /// The stream is kept (a full sync's cut reached it); until then records are dropped.
    active: bool,
    /// Open EXEC brackets, and the commands inside them.
    depth: usize,
    block: Vec<u8>,
    block_ops: usize,
    /// Raw records that came while a block was open: they follow it.
    after_block: Vec<u8>,
    /// The database the stream has selected; `None` makes the next record select one.
    db: Option<usize>,
    backlog: Backlog,
    /// The stream offset after the last record that carried writes (not a
    /// PING or GETACK of the master's own): what WAIT waits for.
    data_end: i64,
    replicas: Vec<Rc<Replica>>,
    /// Sequence numbers whose stream offset someone waits for (a full sync's
    /// cut, WAIT): filled once every lower number is in the stream.
    marks: Vec<Mark>,
    /// Woken on every acknowledgement (WAIT).
    ack_wakers: Vec<Waker>,
    pub full_syncs: u64,
    pub partial_ok: u64,
    pub partial_err: u64,
    next_replica_id: u64,
}

/// Core 0: takes a batch of records from a core.
fn receive(core: &Rc<Core>, batch: Vec<(u64, Record)>) {
    let mut m = core.master.borrow_mut();
    // On a replica the stream is its master's: its own records are dropped.
    let skip = core.shared.replica.load(Ordering::Relaxed);
    let base = core.repl.borrow().offset;
    let mut out = Vec::new();
    for (seq, r) in batch {
        if seq == m.next {
            m.step(r, &mut out, base, skip);
        } else {
            m.waiting.insert(seq, r);
        }
        while !m.waiting.is_empty() {
            let next = m.next;
            let Some(r) = m.waiting.remove(&next) else { break };
            m.step(r, &mut out, base, skip);
        }
    }
    m.fill_marks(base + out.len() as i64);
    if !out.is_empty() {
        m.append(core, &out);
    }
}

impl Master {
    /// Puts the next record into `out`, which follows stream offset `base`.
    fn step(&mut self, r: Record, out: &mut Vec<u8>, base: i64, skip: bool) {
        self.fill_marks(base + out.len() as i64);
        self.next += 1;
        if !self.active || skip {
            return;
        }
        let data = !matches!(r, Record::Raw(_));
        let before = out.len();
        self.emit(r, out);
        if data && out.len() > before {
            self.data_end = base + out.len() as i64;
        }
    }

    /// Fills the marks the stream has reached: `offset` is where it ends now.
    fn fill_marks(&mut self, offset: i64) {
        let next = self.next;
        if !self.marks.iter().any(|m| m.seq <= next) {
            return;
        }
        for m in &self.marks {
            if m.seq <= next {
                m.slot.offset.set(Some(if m.cut { offset } else { self.data_end }));
                if let Some(w) = m.slot.waker.take() {
                    w.wake();
                }
                if m.cut {
                    // A full sync begins here: the stream is kept from now
                    // on, and its next record selects its database.
                    self.active = true;
                    self.db = None;
                }
            }
        }
        self.marks.retain(|m| m.seq > next);
    }

    /// Writes a record's commands into `out` (or into the open EXEC block).
    fn emit(&mut self, r: Record, out: &mut Vec<u8>) {
        match r {
            Record::Begin => self.depth += 1,
            Record::End => {
                self.depth = self.depth.saturating_sub(1);
                if self.depth == 0 {
                    let block = std::mem::take(&mut self.block);
                    if std::mem::take(&mut self.block_ops) > 0 {
                        encode(out, &[b"MULTI"]);
                        out.extend_from_slice(&block);
                        encode(out, &[b"EXEC"]);
                    }
                    out.append(&mut self.after_block);
                }
            }
            Record::Raw(bytes) if self.depth > 0 => self.after_block.extend_from_slice(&bytes),
            Record::Raw(bytes) => out.extend_from_slice(&bytes),
            Record::Ops { ops, atomic } => {
                if self.depth > 0 {
                    self.block_ops += ops.len();
                    let mut block = std::mem::take(&mut self.block);
                    self.ops(&ops, &mut block);
                    self.block = block;
                } else if atomic {
                    encode(out, &[b"MULTI"]);
                    self.ops(&ops, out);
                    encode(out, &[b"EXEC"]);
                } else {
                    self.ops(&ops, out);
                }
            }
        }
    }

    fn ops(&mut self, ops: &[Op], out: &mut Vec<u8>) {
        for op in ops {
            if self.db != Some(op.db) {
                encode(out, &[b"SELECT", op.db.to_string().as_bytes()]);
                self.db = Some(op.db);
            }
            out.extend_from_slice(&op.resp);
        }
    }

    /// Adds bytes to the stream: the backlog grows, the offset moves, the
    /// replicas' tasks wake; then the backlog is trimmed.
    fn append(&mut self, core: &Core, bytes: &[u8]) {
        self.backlog.push(bytes);
        core.repl.borrow_mut().offset += bytes.len() as i64;
        for r in &self.replicas {
            r.wake();
        }
        self.trim(core);
    }

    /// The offset of the backlog's first byte.
    fn first_offset(&self, end: i64) -> i64 {
        end - self.backlog.len() as i64 + 1
    }

    /// Keeps `repl-backlog-size` bytes, and whatever a replica has yet to
    /// be sent, up to its output limit; a replica past it is dropped.
    fn trim(&mut self, core: &Core) {
        let end = core.repl.borrow().offset;
        let config = core.config.borrow();
        let (hard, soft, soft_secs) = config.client_output_buffer_limits[1];
        let mut keep = config.repl_backlog_size as i64;
        for r in &self.replicas {
            let owed = end + 1 - r.next.get();
            let over_soft = soft > 0 && owed > soft as i64;
            if !over_soft {
                r.over_soft_since.set(None);
            }
            let since = over_soft.then(|| *r.over_soft_since.get().get_or_insert_with(Instant::now));
            r.over_soft_since.set(since);
            let too_long = since.is_some_and(|t| t.elapsed() > Duration::from_secs(soft_secs));
            if (hard > 0 && owed > hard as i64) || too_long {
                tracing::warn!(
                    "Client replica {}:{} scheduled to be closed ASAP for overcoming of output buffer limits.",
                    r.ip,
                    r.port.get()
                );
                r.close();
            } else if !r.closed.get() {
                keep = keep.max(owed);
            }
        }
        self.backlog.trim(keep.max(0) as usize);
    }

    fn good_replicas(&self, max_lag: u64) -> usize {
        let now = now_ms();
        self.replicas
            .iter()
            .filter(|r| {
                r.state.get() == LinkState::Online && now.saturating_sub(r.ack_ms.get()) <= max_lag * 1000
            })
            .count()
    }
}

/// A command line in RESP, as the stream carries it.
fn encode(out: &mut Vec<u8>, args: &[&[u8]]) {
    let mut r = Reply::new(out, false);
    r.array(args.len());
    for a in args {
        r.bulk(a);
    }
}

/// Core 0: puts a command of its own into the stream (PING, REPLCONF
/// GETACK), numbered like a record so it lands between two of them.
fn emit_own(core: &Core, args: &[&[u8]]) {
    let mut bytes = Vec::new();
    encode(&mut bytes, args);
    push(core, Record::Raw(bytes));
}

/// The stream offset at which every write numbered below `seq` is in the
/// stream (a full sync's cut with `cut`; a WAIT otherwise).
async fn offset_at(core: &Rc<Core>, seq: u64, cut: bool) -> i64 {
    let slot: Rc<MarkSlot> = Rc::default();
    {
        let mut m = core.master.borrow_mut();
        m.marks.push(Mark { seq, slot: slot.clone(), cut });
        let end = core.repl.borrow().offset;
        m.fill_marks(end);
    }
    wait_mark(core, &slot).await
}

/// The stream offset once every write numbered so far is in the stream.
pub async fn settled_offset(core: &Rc<Core>) -> i64 {
    let seq = core.shared.repl_seq.load(Ordering::SeqCst);
    let active = core.master.borrow().active;
    if active {
        offset_at(core, seq, false).await
    } else {
        core.repl.borrow().offset
    }
}

/// Where a mark's offset is put, and who waits for it.
#[derive(Default)]
struct MarkSlot {
    offset: Cell<Option<i64>>,
    waker: Cell<Option<Waker>>,
}

/// Waits for a mark to be filled: the records below it are on their way
/// from the cores (each sends its own within a turn of its executor), and
/// core 0 fills the mark as it puts them into the stream.
async fn wait_mark(core: &Core, slot: &MarkSlot) -> i64 {
    let end = core.repl.borrow().offset;
    core.master.borrow_mut().fill_marks(end);
    futures_lite::future::poll_fn(|cx| match slot.offset.get() {
        Some(o) => Poll::Ready(o),
        None => {
            slot.waker.set(Some(cx.waker().clone()));
            Poll::Pending
        }
    })
    .await
}

/// What a connection said with REPLCONF before its PSYNC/SYNC.
#[derive(Clone, Debug, Default)]
pub struct ReplConf {
    pub listening_port: u16,
    pub ip: Option<String>,
    pub eof: bool,
    pub psync2: bool,
    pub rdb_only: bool,
}

/// REPLCONF option value ... from a client (a replica in the making).
pub fn replconf(st: &mut State, argv: &[&[u8]], buf: &mut Vec<u8>) -> Result<(), CmdError> {
    if argv.len() % 2 == 0 {
        return Err(shoal_engine::error::SYNTAX);
    }
    let mut conf = st.replconf.clone().unwrap_or_default();
    for pair in argv[1..].chunks(2) {
        let (opt, value) = (pair[0], pair[1]);
        if eq_ic(opt, "listening-port") {
            let port = parse_i64(value).ok_or(shoal_engine::error::NOT_INTEGER)?;
            conf.listening_port = port as u16;
        } else if eq_ic(opt, "ip-address") {
            if value.len() >= 46 {
                return Err(CmdError::owned(format!(
                    "ERR REPLCONF ip-address provided by replica instance is too long: {} bytes",
                    value.len()
                )));
            }
            conf.ip = Some(String::from_utf8_lossy(value).into_owned());
        } else if eq_ic(opt, "capa") {
            conf.eof |= eq_ic(value, "eof");
            conf.psync2 |= eq_ic(value, "psync2");
        } else if eq_ic(opt, "ack") || eq_ic(opt, "getack") {
            // From a client that is not a replica (or master): ignored, no reply.
            return Ok(());
        } else if eq_ic(opt, "rdb-only") {
            match parse_i64(value) {
                Some(0) => conf.rdb_only = false,
                Some(1) => conf.rdb_only = true,
                _ => return Err(CmdError::new("ERR value is out of range, must be positive")),
            }
        } else {
            return Err(CmdError::owned(format!(
                "ERR Unrecognized REPLCONF option: {}",
                String::from_utf8_lossy(opt)
            )));
        }
    }
    st.replconf = Some(conf);
    Reply::new(buf, st.resp3).ok();
    Ok(())
}

/// PSYNC replid offset, and SYNC: the connection becomes a replica. Its
/// socket moves to core 0, which answers and feeds it from then on.
/// (Replies of the same read still to be written refuse it: see `admin::run`.)
pub async fn sync(st: &mut State, argv: &[&[u8]], _buf: &mut Vec<u8>) -> Result<(), CmdError> {
    let core = st.core.clone();
    if core.shared.replica.load(Ordering::Relaxed) {
        if core.shared.master_link_down.load(Ordering::Relaxed) {
            return Err(CmdError::new("NOMASTERLINK Can't SYNC while not connected with my master"));
        }
        // Chained replication (a replica feeding replicas) is not built.
        return Err(CmdError::new("ERR Replica of a replica is not supported by this server"));
    }
    let psync = if argv.len() >= 3 && eq_ic(argv[0], "psync") {
        let offset = parse_i64(argv[2]).ok_or(shoal_engine::error::NOT_INTEGER)?;
        Some((String::from_utf8_lossy(argv[1]).into_owned(), offset))
    } else {
        None
    };
    let conf = st.replconf.clone().unwrap_or_default();
    let (fd, ip) = {
        let c = st.client.borrow();
        (c.fd, c.addr.ip().to_string())
    };
    // SAFETY: duplicates the connection's open socket; the copy belongs to
    // core 0 from here, and this connection ends without another byte.
    let dup = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
    if dup < 0 {
        return Err(CmdError::owned(format!("ERR {}", io::Error::last_os_error())));
    }
    // SAFETY: `dup` is a new descriptor nothing else owns.
    let owned = unsafe { OwnedFd::from_raw_fd(dup) };
    let ip = conf.ip.clone().unwrap_or(ip);
    core.run_on(0, move |core| {
        let core = core.clone();
        glommio::spawn_local(async move {
            serve(core, Socket::from_owned(owned), ip, conf, psync).await;
        })
        .detach();
    });
    st.close = true;
    Ok(())
}

/// Core 0: one replica, from its PSYNC to the end of its connection.
async fn serve(core: Rc<Core>, sock: Socket, ip: String, conf: ReplConf, psync: Option<(String, i64)>) {
    let sock = Rc::new(sock);
    let replica = {
        let mut m = core.master.borrow_mut();
        m.next_replica_id += 1;
        let end = core.repl.borrow().offset;
        let r = Rc::new(Replica {
            id: m.next_replica_id,
            ip,
            port: Cell::new(conf.listening_port),
            state: Cell::new(LinkState::WaitBgsave),
            next: Cell::new(end + 1),
            ack: Cell::new(0),
            ack_ms: Cell::new(now_ms()),
            fd: sock.raw_fd(),
            closed: Cell::new(false),
            over_soft_since: Cell::new(None),
            waker: RefCell::new(None),
        });
        if !conf.rdb_only {
            m.replicas.push(r.clone());
        }
        r
    };
    let reading = glommio::spawn_local(read_acks(core.clone(), replica.clone(), sock.clone()));
    let result = feed(&core, &replica, &sock, &conf, psync).await;
    if let Err(e) = &result {
        tracing::info!("Connection with replica {}:{} lost: {e}", replica.ip, replica.port.get());
    }
    replica.close();
    reading.await;
    let mut m = core.master.borrow_mut();
    m.replicas.retain(|r| r.id != replica.id);
    drop(m);
    refresh_good_replicas(&core);
}

/// Answers PSYNC/SYNC and sends the stream until the link ends.
async fn feed(
    core: &Rc<Core>,
    replica: &Rc<Replica>,
    sock: &Socket,
    conf: &ReplConf,
    psync: Option<(String, i64)>,
) -> io::Result<()> {
    let partial = psync.as_ref().and_then(|(id, offset)| can_continue(core, id, *offset));
    match partial {
        Some(offset) => {
            let replid = core.repl.borrow().replid.clone();
            let line = if conf.psync2 { format!("+CONTINUE {replid}\r\n") } else { "+CONTINUE\r\n".into() };
            replica.next.set(offset);
            replica.state.set(LinkState::Online);
            core.master.borrow_mut().partial_ok += 1;
            tracing::info!("Partial resynchronization request from {} accepted.", replica.ip);
            sock.write_all(line.as_bytes()).await?;
        }
        None => {
            if psync.as_ref().is_some_and(|(id, _)| id != "?") {
                core.master.borrow_mut().partial_err += 1;
            }
            full_sync(core, replica, sock, conf, psync.is_some()).await?;
            if conf.rdb_only {
                return Ok(());
            }
        }
    }
    refresh_good_replicas(core);
    loop {
        if replica.closed.get() {
            return Err(io::Error::new(io::ErrorKind::ConnectionAborted, "closed"));
        }
        let chunk = {
            let m = core.master.borrow();
            let end = core.repl.borrow().offset;
            let first = m.first_offset(end);
            let next = replica.next.get();
            if next < first {
                return Err(io::Error::other("fell behind the backlog"));
            }
            m.backlog.read((next - first) as usize, WRITE_CHUNK).to_vec()
        };
        if chunk.is_empty() {
            Wake { replica, core }.await;
            continue;
        }
        sock.write_all(&chunk).await?;
        replica.next.set(replica.next.get() + chunk.len() as i64);
    }
}

/// Waits until the stream has bytes this replica was not sent, or it closes.
struct Wake<'a> {
    replica: &'a Replica,
    core: &'a Core,
}

impl Future for Wake<'_> {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let end = self.core.repl.borrow().offset;
        if self.replica.closed.get() || self.replica.next.get() <= end {
            Poll::Ready(())
        } else {
            *self.replica.waker.borrow_mut() = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}

/// Redis's masterTryPartialResynchronization: the offset to continue from,
/// if this server's history holds the replica's and the backlog still has
/// what it missed.
fn can_continue(core: &Core, replid: &str, offset: i64) -> Option<i64> {
    let m = core.master.borrow();
    let r = core.repl.borrow();
    let ours = replid == r.replid || (replid == r.replid2 && offset <= r.second_offset);
    let first = m.first_offset(r.offset);
    (m.active && ours && offset >= first && offset <= r.offset + 1).then_some(offset)
}

/// +FULLRESYNC, a snapshot cut at a point of the stream, the RDB sent
/// straight to the socket, and the stream from that point.
async fn full_sync(
    core: &Rc<Core>,
    replica: &Rc<Replica>,
    sock: &Socket,
    conf: &ReplConf,
    psync: bool,
) -> io::Result<()> {
    tracing::info!("Replica {}:{} asks for synchronization", replica.ip, replica.port.get());
    // One snapshot at a time: wait for a BGSAVE (or another replica's sync) to end.
    while !crate::save::claim(core).await {
        if replica.closed.get() {
            return Err(io::Error::new(io::ErrorKind::ConnectionAborted, "closed"));
        }
        glommio::timer::sleep(Duration::from_millis(100)).await;
    }
    let (go, gate) = crossbeam::channel::bounded(1);
    let timeout = Duration::from_secs(core.config.borrow().repl_timeout);
    let eof = conf.eof && core.config.borrow().repl_diskless_sync;
    let target = crate::save::Target::Replica { fd: sock.raw_fd(), eof, go: gate, timeout };
    // The cut's number is read and its mark set in the same locked step,
    // before any core writes past it.
    let (job, slot) = crate::save::start_at_cut(core, target, |core| {
        let seq = core.shared.repl_seq.load(Ordering::Acquire);
        let slot: Rc<MarkSlot> = Rc::default();
        core.master.borrow_mut().marks.push(Mark { seq, slot: slot.clone(), cut: true });
        slot
    })
    .await;
    let offset = match slot {
        Some(slot) => wait_mark(core, &slot).await,
        None => return job.finish_replica(core).await.map_err(io::Error::other),
    };
    replica.next.set(offset + 1);
    replica.state.set(LinkState::SendBulk);
    core.master.borrow_mut().full_syncs += 1;
    let replid = core.repl.borrow().replid.clone();
    tracing::info!("Starting BGSAVE for SYNC with target: replicas sockets");
    let announced = match psync {
        true => sock.write_all(format!("+FULLRESYNC {replid} {offset}\r\n").as_bytes()).await,
        false => Ok(()),
    };
    // The writer sends the payload once the line is out (or gives up).
    let _ = go.send(());
    drop(go);
    let sent = job.finish_replica(core).await;
    announced?;
    sent.map_err(io::Error::other)?;
    tracing::info!("Synchronization with replica {}:{} succeeded", replica.ip, replica.port.get());
    replica.state.set(LinkState::Online);
    replica.ack_ms.set(now_ms());
    Ok(())
}

/// Reads what the replica sends: REPLCONF ACK <offset>.
async fn read_acks(core: Rc<Core>, replica: Rc<Replica>, sock: Rc<Socket>) {
    let mut parser = Parser::new();
    let mut buf = vec![0u8; 4096];
    let (mut start, mut end) = (0, 0);
    let limits = Limits { max_bulk_len: 1 << 20, authenticated: true };
    loop {
        if replica.closed.get() {
            return;
        }
        if end == buf.len() {
            if start == 0 {
                // A replica sends short commands only.
                replica.close();
                return;
            }
            buf.copy_within(start..end, 0);
            (start, end) = (0, end - start);
        }
        match sock.read(&mut buf[end..]).await {
            Ok(0) | Err(_) => {
                replica.close();
                return;
            }
            Ok(n) => end += n,
        }
        loop {
            match parser.parse(&buf[start..end], &limits) {
                Parsed::Command { consumed } => {
                    let args: Vec<&[u8]> = parser.args(&buf[start..end]).collect();
                    if args.len() >= 3 && eq_ic(args[0], "replconf") && eq_ic(args[1], "ack") {
                        if let Some(o) = parse_i64(args[2]) {
                            if o > replica.ack.get() {
                                replica.ack.set(o);
                            }
                            replica.ack_ms.set(now_ms());
                            let wakers = std::mem::take(&mut core.master.borrow_mut().ack_wakers);
                            wakers.into_iter().for_each(Waker::wake);
                        }
                    }
                    start += consumed;
                }
                Parsed::Empty { consumed } => start += consumed,
                Parsed::Incomplete { .. } => break,
                Parsed::Error(_) => {
                    replica.close();
                    return;
                }
            }
        }
        if start == end {
            (start, end) = (0, 0);
        }
    }
}

/// Once a second on core 0: PING into the stream every
/// `repl-ping-replica-period`, replicas silent past `repl-timeout` dropped,
/// `min-replicas-to-write` checked.
pub fn cron(core: &Rc<Core>, tick: u64) {
    let (period, timeout) = {
        let c = core.config.borrow();
        (c.repl_ping_replica_period.max(1), c.repl_timeout)
    };
    let (any, stale) = {
        let m = core.master.borrow();
        let now = now_ms();
        let stale: Vec<Rc<Replica>> = m
            .replicas
            .iter()
            .filter(|r| {
                r.state.get() == LinkState::Online && now.saturating_sub(r.ack_ms.get()) > timeout * 1000
            })
            .cloned()
            .collect();
        (!m.replicas.is_empty(), stale)
    };
    for r in stale {
        tracing::warn!("Disconnecting timedout replica (streaming sync): {}:{}", r.ip, r.port.get());
        r.close();
    }
    // A paused master's offset must stay where it announced it.
    if any && tick % period == 0 && !crate::pause::active(core) {
        emit_own(core, &[b"PING"]);
    }
    refresh_good_replicas(core);
}

/// Redis's refreshGoodSlavesCount: writes are refused while fewer replicas
/// than `min-replicas-to-write` acknowledged within `min-replicas-max-lag`.
pub fn refresh_good_replicas(core: &Core) {
    let replica = core.shared.replica.load(Ordering::Relaxed);
    let config = core.config.borrow();
    let good = core.master.borrow().good_replicas(config.min_replicas_max_lag);
    let too_few = !replica
        && config.min_replicas_to_write > 0
        && config.min_replicas_max_lag > 0
        && (good as u64) < config.min_replicas_to_write;
    core.shared.too_few_replicas.store(too_few, Ordering::Relaxed);
}

/// Core 0: this server became a replica. Its own replicas are dropped (they
/// will sync again), and the stream stops until a new cut.
pub fn stop(core: &Core) {
    let mut m = core.master.borrow_mut();
    for r in m.replicas.drain(..) {
        r.close();
    }
    m.active = false;
    m.backlog.clear();
    m.depth = 0;
    m.block.clear();
    m.block_ops = 0;
    m.after_block.clear();
    m.db = None;
}

/// CLIENT KILL TYPE replica: closes every replica's link; returns how many.
pub fn close_replicas(core: &Core) -> usize {
    let m = core.master.borrow();
    m.replicas.iter().for_each(|r| r.close());
    m.replicas.len()
}

/// WAIT numreplicas timeout.
pub async fn wait(st: &mut State, argv: &[&[u8]], buf: &mut Vec<u8>) -> Result<(), CmdError> {
    let core = st.core.clone();
    if core.shared.replica.load(Ordering::Relaxed) {
        return Err(CmdError::new(
            "ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.",
        ));
    }
    let wanted = parse_i64(argv[1]).ok_or(shoal_engine::error::NOT_INTEGER)?;
    let timeout = parse_i64(argv[2]).ok_or(CmdError::new("ERR timeout is not an integer or out of range"))?;
    if timeout < 0 {
        return Err(CmdError::new("ERR timeout is negative"));
    }
    // Every write this client made has its number already (its replies came).
    let seq = core.shared.repl_seq.load(Ordering::Acquire);
    let may_wait = st.tx_mode == crate::txn::TxMode::Fresh;
    let fd = st.client.borrow().fd;
    let cancel = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let cancel_here = cancel.clone();
    let acked = core.call_with(0, move |core, responder| {
        let core = core.clone();
        glommio::spawn_local(async move {
            let n = wait_on_core0(&core, seq, wanted, timeout as u64, may_wait, &cancel).await;
            responder.send(&core, n);
        })
        .detach();
    });
    let hangup = async {
        let _ = shoal_net::uring::hangup(fd).await;
        None
    };
    let acked = async { Some(acked.await) };
    match futures_lite::future::or(acked, hangup).await {
        Some(n) => {
            Reply::new(buf, st.resp3).int(n);
            Ok(())
        }
        None => {
            cancel_here.store(true, Ordering::Release);
            core.run_on(0, |core| {
                let wakers = std::mem::take(&mut core.master.borrow_mut().ack_wakers);
                wakers.into_iter().for_each(Waker::wake);
            });
            st.close = true;
            Ok(())
        }
    }
}

async fn wait_on_core0(
    core: &Rc<Core>,
    seq: u64,
    wanted: i64,
    timeout_ms: u64,
    may_wait: bool,
    cancel: &std::sync::atomic::AtomicBool,
) -> i64 {
    let active = core.master.borrow().active;
    let offset = if active { offset_at(core, seq, false).await } else { core.repl.borrow().offset };
    let count = |core: &Core| {
        core.master
            .borrow()
            .replicas
            .iter()
            .filter(|r| r.state.get() == LinkState::Online && r.ack.get() >= offset)
            .count() as i64
    };
    let n = count(core);
    if n >= wanted || !may_wait {
        return n;
    }
    // Ask the replicas for an acknowledgement now rather than at their next
    // second (not while paused: the offset must stay where it was announced).
    if !crate::pause::active(core) {
        emit_own(core, &[b"REPLCONF", b"GETACK", b"*"]);
    }
    let deadline = (timeout_ms > 0).then(|| Instant::now() + Duration::from_millis(timeout_ms));
    let acked = async {
        loop {
            AckWait { core, first: true }.await;
            let n = count(core);
            if n >= wanted || cancel.load(Ordering::Acquire) {
                return n;
            }
        }
    };
    match deadline {
        None => acked.await,
        Some(d) => {
            let timer = async {
                glommio::timer::sleep(d.saturating_duration_since(Instant::now())).await;
                count(core)
            };
            futures_lite::future::or(acked, timer).await
        }
    }
}

/// Waits for the next acknowledgement from any replica.
struct AckWait<'a> {
    core: &'a Core,
    first: bool,
}

impl Future for AckWait<'_> {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if std::mem::take(&mut self.first) {
            self.core.master.borrow_mut().ack_wakers.push(cx.waker().clone());
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    }
}

/// INFO replication's master lines: the replicas and the backlog.
pub fn info_lines(core: &Core, line: &mut dyn FnMut(String)) {
    let m = core.master.borrow();
    let online: Vec<&Rc<Replica>> = m.replicas.iter().collect();
    line(format!("connected_slaves:{}", online.len()));
    let config = core.config.borrow();
    if config.min_replicas_to_write > 0 && config.min_replicas_max_lag > 0 {
        line(format!("min_slaves_good_slaves:{}", m.good_replicas(config.min_replicas_max_lag)));
    }
    let now = now_ms();
    for (i, r) in online.iter().enumerate() {
        let state = match r.state.get() {
            LinkState::WaitBgsave => "wait_bgsave",
            LinkState::SendBulk => "send_bulk",
            LinkState::Online => "online",
        };
        let lag = now.saturating_sub(r.ack_ms.get()) / 1000;
        line(format!(
            "slave{i}:ip={},port={},state={state},offset={},lag={lag}",
            r.ip,
            r.port.get(),
            r.ack.get()
        ));
    }
}

/// INFO replication's backlog lines.
pub fn backlog_lines(core: &Core, line: &mut dyn FnMut(String)) {
    let m = core.master.borrow();
    let end = core.repl.borrow().offset;
    let size = core.config.borrow().repl_backlog_size;
    line(format!("repl_backlog_active:{}", u8::from(m.active)));
    line(format!("repl_backlog_size:{size}"));
    let (first, len) = if m.active { (m.first_offset(end), m.backlog.len()) } else { (0, 0) };
    line(format!("repl_backlog_first_byte_offset:{first}"));
    line(format!("repl_backlog_histlen:{len}"));
}

/// ROLE's replicas: address, port and acknowledged offset of each online one.
pub fn role_replicas(core: &Core) -> Vec<(String, u16, i64)> {
    let m = core.master.borrow();
    m.replicas
        .iter()
        .filter(|r| r.state.get() == LinkState::Online)
        .map(|r| (r.ip.clone(), r.port.get(), r.ack.get()))
        .collect()
}

/// Core 0's replication figures for INFO's stats and memory sections.
#[derive(Clone, Copy, Default, Debug)]
pub struct Figures {
    pub sync_full: u64,
    pub sync_partial_ok: u64,
    pub sync_partial_err: u64,
    /// The stream kept (Redis's `mem_total_replication_buffers`): the
    /// backlog and what replicas are still owed beyond it.
    pub buffers: usize,
    /// The part of it that is the backlog proper (`mem_replication_backlog`).
    pub backlog: usize,
}

pub fn figures(core: &Core) -> Figures {
    let m = core.master.borrow();
    let size = core.config.borrow().repl_backlog_size as usize;
    Figures {
        sync_full: m.full_syncs,
        sync_partial_ok: m.partial_ok,
        sync_partial_err: m.partial_err,
        buffers: m.backlog.len(),
        backlog: m.backlog.len().min(size),
    }
}
