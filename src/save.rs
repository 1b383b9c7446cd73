//! Snapshots of the whole data set, without fork: SAVE, BGSAVE, the `save`
//! points, SHUTDOWN's save, and loading the RDB file at startup.
//!
//! A save begins with a cut: a transaction that locks every core whole, so
//! that no multi-core command is half done on one side of it, and begins a
//! [`shoal_engine::keyspace::Snapshot`] of every database on every core.
//! From then on each core writes its slots out in steps of
//! [`STEP_BYTES`], between which its clients are served; a write to a slot
//! not written yet first writes the slot as it was (copy before write), so
//! the file holds the data exactly as it was at the cut while writes go on.
//! The steps' records go to a writer thread, which puts the RDB header, the
//! function libraries, the records (switching database as they come) and
//! the checksum into a temporary file, syncs it and renames it over
//! `dbfilename`. The cores' steps wait while more than [`QUEUE_LIMIT`]
//! bytes are queued for it, so a slow disk costs bounded memory.
//!
//! Core 0 keeps the state (one save at a time, the last save's time and
//! outcome, the writes counted at its cut) and checks the save points.

use crate::admin::{fan_out_write, fan_out_write_with, on_all_cores};
use crate::core::{now_ms, Core};
use crate::session::State;
use crate::txn::TxMode;
use crossbeam::channel;
use shoal_engine::command::eq_ic;
use shoal_engine::error::{CmdError, SYNTAX};
use shoal_engine::rdb::file::{LoadedKey, RdbWriter};
use shoal_engine::rdb::LoadLimits;
use shoal_engine::Reply;
use std::io::Write;
use std::os::fd::RawFd;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Bytes of records a core writes in one step before other tasks run...
const STEP_BYTES: usize = 256 << 10;
/// ...or keys it looks at (a step of small keys takes about 1 ms).
const STEP_KEYS: usize = 512;
/// Bytes queued for the writer beyond which the cores' steps wait (what a
/// write copies before it changes a slot is never held back).
const QUEUE_LIMIT: usize = 4 << 20;
/// Keys a load sends to another core per message.
const LOAD_BATCH: usize = 512;
/// After a failed save, the save points try again after this many seconds.
const RETRY_DELAY: u64 = 5;

const IN_PROGRESS: CmdError = CmdError::new("ERR Background save already in progress");
const FAILED: CmdError = CmdError::new("ERR");

/// What the cores send the writer.
enum Chunk {
    /// Key records of database `db`.
    Records { db: usize, bytes: Vec<u8> },
    /// A core has written everything; `dirty` is its write count at the cut.
    Done { dirty: u64 },
}

/// Numbers the saves, so that a core's task never touches another save's snapshot.
static NEXT_SAVE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// The cores' end of a snapshot's stream of records.
#[derive(Clone)]
struct Sink {
    id: u64,
    tx: channel::Sender<Chunk>,
    queued: Arc<AtomicUsize>,
    /// The writer gave up: the cores stop.
    failed: Arc<AtomicBool>,
}

/// The saving state, kept on core 0.
pub struct SaveState {
    /// When the save under way started.
    running: Option<Instant>,
    /// BGSAVE inside EXEC: core 0 starts it once no save runs.
    scheduled: bool,
    /// Unix time (s) of the last successful save (the start time until one).
    pub last_save: u64,
    /// Unix time (s) the last save started, for the save points' retry delay.
    last_try: u64,
    last_failed: bool,
    last_secs: Option<u64>,
    /// Writes counted (over every core) at the last successful save's cut.
    dirty_at_save: u64,
    saves: u64,
    /// The last load's keys loaded and keys skipped as expired.
    loaded: (u64, u64),
}

impl Default for SaveState {
    fn default() -> Self {
        SaveState {
            running: None,
            scheduled: false,
            last_save: now_ms() / 1000,
            last_try: 0,
            last_failed: false,
            last_secs: None,
            dirty_at_save: 0,
            saves: 0,
            loaded: (0, 0),
        }
    }
}

/// Where a snapshot goes.
pub enum Target {
    /// `dbfilename` in `dir` (SAVE, BGSAVE, the save points, SHUTDOWN).
    File,
    /// A replica's socket, once `go` says the line before the payload is
    /// out: diskless with the `$EOF:` framing when the replica takes it,
    /// else through a temporary file, sent with its length.
    Replica { fd: RawFd, eof: bool, go: channel::Receiver<()>, timeout: Duration },
}

/// A save under way: the cut is done, the writer is writing.
pub struct Job {
    result: Arc<Mutex<Option<std::io::Result<u64>>>>,
}

impl Job {
    async fn outcome(&self) -> std::io::Result<u64> {
        loop {
            if let Some(r) = self.result.lock().expect("save result").take() {
                return r;
            }
            glommio::timer::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Waits for a replica's payload to be sent and frees the save slot. A
    /// sync is not a save: the last save's time and status stay.
    pub async fn finish_replica(self, core: &Rc<Core>) -> Result<(), String> {
        let outcome = self.outcome().await;
        core.call(0, |core| core.save.borrow_mut().running = None).await;
        outcome.map(drop).map_err(|e| e.to_string())
    }

    /// Waits for the writer, then records the outcome on core 0. As in
    /// Redis, only a background save's failure counts as the last save's
    /// status (INFO, MISCONF); any success resets it.
    async fn finish(self, core: &Rc<Core>, background: bool) -> Result<(), String> {
        let outcome = self.outcome().await;
        let (ok, dirty) = match outcome {
            Ok(dirty) => (true, dirty),
            Err(e) => {
                tracing::warn!("Background saving error: {e}");
                (false, 0)
            }
        };
        core.call(0, move |core| {
            let mut s = core.save.borrow_mut();
            let started = s.running.take().expect("a save was running");
            s.last_secs = Some(started.elapsed().as_secs());
            if ok || background {
                s.last_failed = !ok;
                core.shared.bgsave_failed.store(!ok, Ordering::Relaxed);
            }
            if ok {
                s.last_save = now_ms() / 1000;
                s.dirty_at_save = dirty;
                s.saves += 1;
                tracing::info!("DB saved on disk");
            }
        })
        .await;
        if ok {
            Ok(())
        } else {
            Err("the save failed".into())
        }
    }
}

/// Claims the one save slot on core 0; false if a save is under way.
pub async fn claim(core: &Rc<Core>) -> bool {
    core.call(0, |core| {
        let mut s = core.save.borrow_mut();
        if s.running.is_some() {
            return false;
        }
        let unix = now_ms() / 1000;
        s.running = Some(Instant::now());
        s.last_try = unix;
        true
    })
    .await
}

/// Starts a save whose slot is claimed: the writer thread, then the cut.
/// Returns once every core has begun its snapshot.
async fn start(core: &Rc<Core>) -> Job {
    start_at_cut(core, Target::File, |_| ()).await.0
}

/// Starts a snapshot to `target`. `at_cut` runs on this core while every
/// core is locked, just before each begins its snapshot: what it returns
/// belongs to the cut (`None` if no cut was made: the writer did not start).
/// A replica's snapshot also starts the cores recording writes for the
/// replication stream, in the same locked step.
pub async fn start_at_cut<T: 'static>(
    core: &Rc<Core>,
    target: Target,
    at_cut: impl FnOnce(&Rc<Core>) -> T,
) -> (Job, Option<T>) {
    let (tx, rx) = channel::unbounded();
    let id = NEXT_SAVE.fetch_add(1, Ordering::Relaxed);
    let sink =
        Sink { id, tx, queued: Arc::new(AtomicUsize::new(0)), failed: Arc::new(AtomicBool::new(false)) };
    let result = Arc::new(Mutex::new(None));
    let file = core.config.borrow().dbfilename.clone();
    let aux = aux_fields();
    let functions: Vec<Vec<u8>> = core.shared.scripts.libraries().codes().map(|c| c.to_vec()).collect();
    let (cores, cpus) = (core.shared.cores, core.shared.allowed_cpus.clone());
    let (queued, failed, slot) = (sink.queued.clone(), sink.failed.clone(), result.clone());
    let replica = matches!(target, Target::Replica { .. });
    let go = match target {
        Target::File => None,
        Target::Replica { fd, eof, go, timeout } => Some((fd, eof, go, timeout)),
    };
    let spawned = std::thread::Builder::new().name("shoal-save".into()).spawn(move || {
        // Not pinned to the core that started it: it may run beside any core.
        crate::config::allow_cpus(&cpus);
        let write = |out: &mut dyn Write| write_rdb(out, &rx, &queued, &aux, &functions, cores);
        let r = match go {
            None => write_file(&file, write),
            Some((fd, eof, go, timeout)) => send_to_replica(fd, eof, &go, timeout, write),
        };
        if r.is_err() {
            failed.store(true, Ordering::Release);
        }
        *slot.lock().expect("save result") = Some(r);
    });
    if let Err(e) = spawned {
        sink.failed.store(true, Ordering::Release);
        *result.lock().expect("save result") = Some(Err(e));
        return (Job { result }, None);
    }
    let t = fan_out_write_with(core, TxMode::Fresh, at_cut, move |core| {
        if replica {
            crate::master::start_recording(core);
        }
        begin_on(core, sink.clone())
    })
    .await;
    // Each pair of cores' channel is FIFO: once every core has answered,
    // every core has made its cut.
    on_all_cores(core, |_| ()).await;
    (Job { result }, Some(t))
}

/// This core's part of the cut: a snapshot of every database, written out
/// by a task of its own.
fn begin_on(core: &Rc<Core>, sink: Sink) {
    let dirty = {
        let mut shard = core.shard.borrow_mut();
        for (i, db) in shard.dbs_mut().iter_mut().enumerate() {
            db.begin_snapshot(sink.id, i);
        }
        shard.dirty
    };
    glommio::spawn_local(write_steps(core.clone(), sink, dirty)).detach();
}

async fn write_steps(core: Rc<Core>, sink: Sink, dirty: u64) {
    loop {
        while sink.queued.load(Ordering::Acquire) > QUEUE_LIMIT && !sink.failed.load(Ordering::Acquire) {
            glommio::timer::sleep(Duration::from_millis(1)).await;
        }
        // `rdb-key-save-delay` makes each step one slot, followed by a wait per key.
        let delay = core.config.borrow().rdb_key_save_delay;
        let (step, step_keys) = if delay == 0 { (STEP_BYTES, STEP_KEYS) } else { (1, 1) };
        let (written, sent, keys) = {
            let mut shard = core.shard.borrow_mut();
            let (mut written, mut sent, mut produced, mut keys) = (true, true, 0, 0);
            for db in shard.dbs_mut().iter_mut().filter(|db| ours(db, sink.id)) {
                let before = db.snapshot().map_or(0, |s| s.keys());
                let Some(bytes) = db.snapshot_step(step.saturating_sub(produced).max(1), step_keys) else {
                    continue;
                };
                let snap = db.snapshot().expect("a snapshot");
                written &= snap.is_written();
                keys += snap.keys() - before;
                produced += bytes.len();
                if !bytes.is_empty() {
                    sink.queued.fetch_add(bytes.len(), Ordering::AcqRel);
                    sent &= sink.tx.send(Chunk::Records { db: snap.index(), bytes }).is_ok();
                }
                if produced >= step || keys >= step_keys as u64 {
                    written = false;
                    break;
                }
            }
            let stop = !sent || sink.failed.load(Ordering::Acquire);
            let written = written
                && shard
                    .dbs()
                    .iter()
                    .filter(|db| ours(db, sink.id))
                    .all(|db| db.snapshot().is_some_and(|s| s.is_written()));
            if written || stop {
                shard
                    .dbs_mut()
                    .iter_mut()
                    .filter(|db| ours(db, sink.id))
                    .for_each(|db| drop(db.end_snapshot()));
            }
            (written, !stop, keys)
        };
        if !sent {
            return;
        }
        if written {
            let _ = sink.tx.send(Chunk::Done { dirty });
            return;
        }
        match delay {
            0 => {
                // Clients that sent something meanwhile run before the next step.
                shoal_net::uring::poll_sockets();
                futures_lite::future::yield_now().await
            }
            d if d > 0 => glommio::timer::sleep(Duration::from_micros(d as u64 * keys)).await,
            d => {
                let waits =
                    (0..keys).filter(|_| core.shard.borrow_mut().rng.below(d.unsigned_abs()) == 0).count();
                glommio::timer::sleep(Duration::from_micros(waits as u64)).await;
            }
        }
    }
}

fn ours(db: &shoal_engine::Db, id: u64) -> bool {
    db.snapshot().is_some_and(|s| s.id() == id)
}

/// The auxiliary fields redis-server 7.0 puts at the head of its files.
fn aux_fields() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("redis-ver", crate::REDIS_VERSION.as_bytes().to_vec()),
        ("redis-bits", b"64".to_vec()),
        ("ctime", (now_ms() / 1000).to_string().into_bytes()),
        ("used-mem", crate::alloc::used_memory().to_string().into_bytes()),
        ("aof-base", b"0".to_vec()),
    ]
}

/// The writer thread's RDB: header and auxiliary fields, the function
/// libraries, the cores' records (switching database as they come), EOF and
/// checksum. Returns the write count at the cut (summed over the cores).
fn write_rdb(
    out: &mut dyn Write,
    rx: &channel::Receiver<Chunk>,
    queued: &AtomicUsize,
    aux: &[(&'static str, Vec<u8>)],
    functions: &[Vec<u8>],
    cores: usize,
) -> std::io::Result<u64> {
    let aux: Vec<(&str, &[u8])> = aux.iter().map(|(k, v)| (*k, v.as_slice())).collect();
    let mut w = RdbWriter::new(&aux);
    for code in functions {
        w.function(code);
    }
    let (mut current, mut done, mut dirty) = (None, 0, 0);
    while done < cores {
        match rx.recv() {
            Ok(Chunk::Records { db, bytes }) => {
                if current != Some(db) {
                    w.switch_db(db);
                    current = Some(db);
                }
                w.records(&bytes);
                queued.fetch_sub(bytes.len(), Ordering::AcqRel);
                if w.pending() >= 1 << 20 {
                    out.write_all(&w.take())?;
                }
            }
            Ok(Chunk::Done { dirty: d }) => {
                done += 1;
                dirty += d;
            }
            Err(_) => return Err(std::io::Error::other("a core stopped before its snapshot was written")),
        }
    }
    out.write_all(&w.finish())?;
    Ok(dirty)
}

/// Writes the RDB into `temp-<pid>.rdb`, syncs it and renames it over `file`.
fn write_file(
    file: &str,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<u64>,
) -> std::io::Result<u64> {
    let tmp = format!("temp-{}.rdb", std::process::id());
    let result = (|| {
        let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&tmp)?);
        let dirty = write(&mut out)?;
        out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&tmp, file)?;
        Ok(dirty)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Sends the RDB to a replica's socket once `go` says so: diskless between
/// `$EOF:<mark>` and the mark, or (for a replica that cannot take that)
/// written to a temporary file first and sent as `$<length>`.
fn send_to_replica(
    fd: RawFd,
    eof: bool,
    go: &channel::Receiver<()>,
    timeout: Duration,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<u64>,
) -> std::io::Result<u64> {
    let mut sock = SocketWriter { fd, timeout };
    if eof {
        let mark = crate::core::random_hex(40);
        let mut out = std::io::BufWriter::with_capacity(1 << 20, &mut sock);
        // Nothing goes to the socket before the line that announces the payload.
        go.recv().map_err(|_| std::io::Error::other("the sync was abandoned"))?;
        write!(out, "$EOF:{mark}\r\n")?;
        let dirty = write(&mut out)?;
        out.write_all(mark.as_bytes())?;
        out.flush()?;
        return Ok(dirty);
    }
    let tmp = format!("temp-sync-{}-{}.rdb", std::process::id(), NEXT_SAVE.fetch_add(1, Ordering::Relaxed));
    let result = (|| {
        // Written, then read back into the socket.
        let file =
            std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(true).open(&tmp)?;
        let mut file = std::io::BufWriter::with_capacity(1 << 20, file);
        let dirty = write(&mut file)?;
        let mut file = file.into_inner().map_err(|e| e.into_error())?;
        let len = file.metadata()?.len();
        go.recv().map_err(|_| std::io::Error::other("the sync was abandoned"))?;
        write!(sock, "${len}\r\n")?;
        use std::io::Seek;
        file.seek(std::io::SeekFrom::Start(0))?;
        std::io::copy(&mut file, &mut sock)?;
        Ok(dirty)
    })();
    let _ = std::fs::remove_file(&tmp);
    result
}

/// Blocking writes to a non-blocking socket, from a thread of its own: waits
/// (up to `timeout` each time) for room whenever the socket is full.
struct SocketWriter {
    fd: RawFd,
    timeout: Duration,
}

impl Write for SocketWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        loop {
            // SAFETY: the buffer is valid for reads of its length; the socket
            // stays open until the replica's task, which waits for this thread, ends.
            let n = unsafe { libc::send(self.fd, buf.as_ptr().cast(), buf.len(), libc::MSG_NOSIGNAL) };
            if n >= 0 {
                return Ok(n as usize);
            }
            let e = std::io::Error::last_os_error();
            match e.kind() {
                std::io::ErrorKind::Interrupted => continue,
                std::io::ErrorKind::WouldBlock => {
                    let mut p = libc::pollfd { fd: self.fd, events: libc::POLLOUT, revents: 0 };
                    let ms = self.timeout.as_millis().min(i32::MAX as u128) as i32;
                    // SAFETY: one valid pollfd.
                    let r = unsafe { libc::poll(&mut p, 1, ms) };
                    if r == 0 {
                        return Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "replica timed out"));
                    }
                }
                _ => return Err(e),
            }
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// SAVE: a snapshot like BGSAVE's, replied to when it is on disk. (Unlike
/// Redis's, other clients are served meanwhile.)
pub async fn save(st: &mut State, buf: &mut Vec<u8>) -> Result<(), CmdError> {
    if !claim(&st.core).await {
        return Err(IN_PROGRESS);
    }
    let job = start(&st.core).await;
    job.finish(&st.core, false).await.map_err(|_| FAILED)?;
    Reply::new(buf, st.resp3).ok();
    Ok(())
}

/// BGSAVE [SCHEDULE]: replies once every core has made its cut.
pub async fn bgsave(st: &mut State, argv: &[&[u8]], buf: &mut Vec<u8>) -> Result<(), CmdError> {
    match argv {
        [_] => {}
        [_, a] if eq_ic(a, "schedule") => {}
        _ => return Err(SYNTAX),
    }
    let core = st.core.clone();
    if st.tx_mode == TxMode::Held {
        // Inside EXEC, whose locks the cut would wait for: core 0 starts it
        // at its next tick, as Redis's cron starts a scheduled BGSAVE.
        let running = core
            .call(0, |core| {
                let mut s = core.save.borrow_mut();
                s.scheduled |= s.running.is_none();
                s.running.is_some()
            })
            .await;
        if running {
            return Err(IN_PROGRESS);
        }
        Reply::new(buf, st.resp3).simple(b"Background saving scheduled");
        return Ok(());
    }
    if !claim(&core).await {
        return Err(IN_PROGRESS);
    }
    tracing::info!("Background saving started");
    let job = start(&core).await;
    glommio::spawn_local(async move {
        let _ = job.finish(&core, true).await;
    })
    .detach();
    Reply::new(buf, st.resp3).simple(b"Background saving started");
    Ok(())
}

/// LASTSAVE: the Unix time of the last successful save.
pub async fn lastsave(st: &mut State, buf: &mut Vec<u8>) -> Result<(), CmdError> {
    let t = st.core.call(0, |core| core.save.borrow().last_save).await;
    Reply::new(buf, st.resp3).int(t as i64);
    Ok(())
}

/// A save for SHUTDOWN: waits for one under way, then saves what is there now.
pub async fn save_before_exit(core: &Rc<Core>) -> Result<(), String> {
    tracing::info!("Saving the final RDB snapshot before exiting.");
    save_now(core).await
}

/// Waits for a save under way to end, then saves what is there now.
async fn save_now(core: &Rc<Core>) -> Result<(), String> {
    while !claim(core).await {
        glommio::timer::sleep(Duration::from_millis(10)).await;
    }
    start(core).await.finish(core, false).await
}

/// FLUSHALL with save points writes the (now empty) data set, as Redis's
/// does. A save under way finishes first (Redis kills its child instead).
/// Inside EXEC, whose locks the cut would wait for, it runs after it.
pub async fn save_after_flushall(core: &Rc<Core>, mode: TxMode) {
    let save = {
        let core = core.clone();
        async move {
            if let Err(e) = save_now(&core).await {
                tracing::warn!("Saving after FLUSHALL failed: {e}");
            }
        }
    };
    match mode {
        TxMode::Held => drop(glommio::spawn_local(save).detach()),
        TxMode::Fresh => save.await,
    }
}

/// Whether writes stop after a failed background save (see [`Shared::bgsave_failed`]).
///
/// [`Shared::bgsave_failed`]: crate::core::Shared::bgsave_failed
pub fn writes_stopped(core: &Core) -> bool {
    let c = core.config.borrow();
    c.stop_writes_on_bgsave_error && !c.save.is_empty()
}

/// Whether the `save` points call for saving.
pub fn has_save_points(core: &Core) -> bool {
    !core.config.borrow().save.is_empty()
}

/// Core 0 starts a BGSAVE that was scheduled, once no other save runs.
pub async fn run_scheduled(core: &Rc<Core>) {
    if !core.save.borrow().scheduled || !claim(core).await {
        return;
    }
    core.save.borrow_mut().scheduled = false;
    tracing::info!("Background saving started");
    let job = start(core).await;
    let _ = job.finish(core, true).await;
}

/// Core 0's check of the save points, once a second: a BGSAVE when enough
/// writes happened in enough time since the last save.
pub async fn check_save_points(core: &Rc<Core>) {
    let points = core.config.borrow().save.clone();
    if points.is_empty() || core.save.borrow().running.is_some() {
        return;
    }
    let dirty: u64 = on_all_cores(core, |core| core.shard.borrow().dirty).await.into_iter().sum();
    let now = now_ms() / 1000;
    let due = {
        let s = core.save.borrow();
        let changes = dirty.saturating_sub(s.dirty_at_save);
        let elapsed = now.saturating_sub(s.last_save);
        let may_try = !s.last_failed || now.saturating_sub(s.last_try) > RETRY_DELAY;
        points
            .iter()
            .find(|&&(secs, n)| changes >= n && elapsed >= secs && may_try)
            .map(|&(secs, _)| (changes, secs))
    };
    let Some((changes, secs)) = due else { return };
    if !claim(core).await {
        return;
    }
    tracing::info!("{changes} changes in {secs} seconds. Saving...");
    let job = start(core).await;
    let _ = job.finish(core, true).await;
}

/// INFO's persistence section, from core 0's state; `dirty` is the write
/// count summed over the cores.
pub fn info_fields(core: &Core, dirty: u64) -> String {
    let s = core.save.borrow();
    let now = now_ms() / 1000;
    let current = s.running.map_or(-1, |started| started.elapsed().as_secs() as i64);
    let loading = u8::from(core.shared.loading.load(Ordering::Relaxed));
    format!(
        "# Persistence\r\nloading:{loading}\r\nasync_loading:0\r\nrdb_changes_since_last_save:{}\r\nrdb_bgsave_in_progress:{}\r\nrdb_last_save_time:{}\r\n\
         rdb_last_bgsave_status:{}\r\nrdb_last_bgsave_time_sec:{}\r\nrdb_current_bgsave_time_sec:{current}\r\n\
         rdb_saves:{}\r\nrdb_last_load_keys_expired:{}\r\nrdb_last_load_keys_loaded:{}\r\n\
         aof_enabled:0\r\naof_rewrite_in_progress:0\r\n",
        dirty.saturating_sub(s.dirty_at_save),
        u8::from(s.running.is_some()),
        s.last_save.min(now),
        if s.last_failed { "err" } else { "ok" },
        s.last_secs.map_or(-1, |t| t as i64),
        s.saves,
        s.loaded.1,
        s.loaded.0,
    )
}

/// Whether this start finds a file to load (the server then starts with LOADING set).
pub fn file_to_load(config: &crate::config::Config) -> bool {
    !config.dbfilename.is_empty() && std::path::Path::new(&config.dbfilename).is_file()
}

/// Loads `dbfilename` at startup, on core 0, while clients get LOADING. A
/// file that cannot be read ends the process, as it ends redis-server.
pub async fn load_at_startup(core: &Rc<Core>) {
    let file = core.config.borrow().dbfilename.clone();
    let started = Instant::now();
    let result = match std::fs::read(&file) {
        Ok(bytes) => load(core, &bytes, false).await,
        Err(e) => Err(format!("reading {file}: {e}")),
    };
    match result {
        Ok((keys, expired)) => {
            core.save.borrow_mut().loaded = (keys, expired);
            tracing::info!("Done loading RDB, keys loaded: {keys}, keys expired: {expired}.");
            tracing::info!("DB loaded from disk: {:.3} seconds", started.elapsed().as_secs_f64());
        }
        Err(e) => {
            tracing::error!("Fatal error loading the DB: {e}. Exiting.");
            std::process::exit(1);
        }
    }
    crate::alloc::release_freed();
    core.shared.loading.store(false, Ordering::Release);
}

/// Deals an RDB file's keys to the cores that own them, and puts its
/// function libraries in place of this server's. A replica's load (`replica`)
/// first empties every database and keeps keys whose time has passed (its
/// master deletes them); a load at startup skips them. Returns the keys
/// loaded and the keys skipped as expired.
pub async fn load(core: &Rc<Core>, payload: &[u8], replica: bool) -> Result<(u64, u64), String> {
    if replica {
        fan_out_write(core, TxMode::Fresh, None, |core| {
            let mut shard = core.shard.borrow_mut();
            shard.dbs_mut().iter_mut().for_each(|d| d.clear());
            shard.dirty += 1;
        })
        .await;
    }
    let limits = LoadLimits::from_config(&core.shard.borrow().config);
    let databases = core.config.borrow().databases;
    let (me, now) = (core.index(), now_ms());
    let mut batches: Vec<Vec<LoadedKey>> = (0..core.shared.cores).map(|_| Vec::new()).collect();
    let (mut bad_db, mut loaded, mut expired) = (None, 0u64, 0u64);
    let read = shoal_engine::rdb::file::load(payload, &limits, |k| {
        if k.db >= databases {
            bad_db = Some(k.db);
            return;
        }
        if !replica && k.expire_at.is_some_and(|at| at <= now) {
            expired += 1;
            return;
        }
        loaded += 1;
        let c = core.shared.core_of(&k.key);
        if c == me {
            insert(core, vec![k], now);
            return;
        }
        batches[c].push(k);
        if batches[c].len() >= LOAD_BATCH {
            let batch = std::mem::take(&mut batches[c]);
            core.run_on(c, move |core| insert(core, batch, now));
        }
    });
    for (c, batch) in batches.into_iter().enumerate() {
        if !batch.is_empty() {
            core.run_on(c, move |core| insert(core, batch, now));
        }
    }
    // Each pair of cores' channel is FIFO: once every core has answered,
    // every batch sent before has been inserted.
    on_all_cores(core, |_| ()).await;
    let extras = read.map_err(|e| format!("the RDB data could not be read: {e:?}"))?;
    core.shared
        .scripts
        .update_libraries(|libs| {
            libs.clear();
            extras
                .functions
                .iter()
                .try_for_each(|code| shoal_engine::script::functions::load(libs, code, true).map(drop))
        })
        .map_err(|e| format!("a function library could not be loaded: {e}"))?;
    if let Some(db) = bad_db {
        return Err(format!("the data has database {db}, beyond this server's {databases} databases"));
    }
    Ok((loaded, expired))
}

fn insert(core: &Core, keys: Vec<LoadedKey>, now: u64) {
    let mut shard = core.shard.borrow_mut();
    for k in keys {
        shard.db(k.db).insert_new(&k.key, k.value, k.expire_at.unwrap_or(0), now);
    }
}
