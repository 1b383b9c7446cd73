//! MULTI, EXEC, DISCARD, WATCH and UNWATCH.
//!
//! MULTI makes the session queue commands instead of running them. EXEC then
//! runs the queue as one cross-core transaction (see txn.rs): it locks every
//! key the queued commands name, on every core that serves one (or, when the
//! queue holds a whole-keyspace command such as FLUSHALL or KEYS, every core
//! whole), checks the WATCHed keys under those locks, and, unless one changed,
//! runs the commands one after the other while holding the locks. No other
//! client can observe or interleave with any part of it, whichever cores the
//! keys live on.
//!
//! WATCH remembers, for each key, the identity of its database and the
//! version its entry had (or that it was absent); every write stamps a new
//! version (engine/src/keyspace.rs), deletion and expiry make the key absent,
//! SWAPDB changes the database identity.

use crate::core::{command_time, Core};
use crate::multi::{conclude_all, transact, OwnedArgv, Step};
use crate::session::State;
use crate::txn::{Locks, TxMode};
use shoal_engine::command::{flags, CmdId, Registry, Run, ServerCmd};
use shoal_engine::error::CmdError;
use shoal_engine::Reply;
use std::collections::BTreeMap;
use std::rc::Rc;

/// A session's state between MULTI and EXEC.
#[derive(Default)]
pub struct Queue {
    commands: Vec<(CmdId, OwnedArgv)>,
    /// A command was refused while queueing: EXEC must abort.
    failed: bool,
}

impl Queue {
    /// The queued commands, in order.
    pub fn commands(&self) -> &[(CmdId, OwnedArgv)] {
        &self.commands
    }
}

/// A key under WATCH and what it was when watched.
#[derive(Clone, Debug)]
pub struct Watched {
    db: usize,
    key: Vec<u8>,
    db_id: u64,
    version: Option<u32>,
}

/// Whether a command is handled at once even inside MULTI (Redis's list).
pub fn runs_inside_multi(cmd: ServerCmdOrShard) -> bool {
    matches!(
        cmd,
        ServerCmdOrShard::Server(
            ServerCmd::Exec
                | ServerCmd::Discard
                | ServerCmd::Multi
                | ServerCmd::Watch
                | ServerCmd::Quit
                | ServerCmd::Reset
        )
    )
}

/// A command's kind, as far as MULTI cares.
#[derive(Clone, Copy)]
pub enum ServerCmdOrShard {
    Server(ServerCmd),
    Other,
}

impl ServerCmdOrShard {
    pub fn of(id: CmdId) -> ServerCmdOrShard {
        match Registry::get().entry(id).cmd.run {
            Run::Server(s) => ServerCmdOrShard::Server(s),
            _ => ServerCmdOrShard::Other,
        }
    }
}

/// Queues a command received between MULTI and EXEC, with Redis's replies.
pub fn queue(st: &mut State, id: CmdId, argv: &[&[u8]], out: &mut Vec<u8>) {
    let cmd = Registry::get().entry(id).cmd;
    if cmd.has_flag(flags::NO_MULTI) {
        st.queue.as_mut().expect("in MULTI").failed = true;
        st.error(out, &CmdError::new("ERR Command not allowed inside a transaction"));
        return;
    }
    st.queue.as_mut().expect("in MULTI").commands.push((id, OwnedArgv::from(argv)));
    let resp3 = st.resp3;
    st.with_reply(out, |o| Reply::new(o, resp3).simple(b"QUEUED"));
}

/// Marks the transaction as failed (a command was refused while queueing).
pub fn flag_failed(st: &mut State) {
    if let Some(q) = st.queue.as_mut() {
        q.failed = true;
    }
}

pub fn multi(st: &mut State, buf: &mut Vec<u8>) -> Result<(), CmdError> {
    if st.queue.is_some() {
        return Err(CmdError::new("ERR MULTI calls can not be nested"));
    }
    st.queue = Some(Queue::default());
    Reply::new(buf, st.resp3).ok();
    Ok(())
}

pub fn discard(st: &mut State, buf: &mut Vec<u8>) -> Result<(), CmdError> {
    if st.queue.take().is_none() {
        return Err(CmdError::new("ERR DISCARD without MULTI"));
    }
    st.watched.clear();
    Reply::new(buf, st.resp3).ok();
    Ok(())
}

pub fn unwatch(st: &mut State, buf: &mut Vec<u8>) -> Result<(), CmdError> {
    st.watched.clear();
    Reply::new(buf, st.resp3).ok();
    Ok(())
}

/// The keys of `argv` grouped by the core that serves them, in database `db`.
fn by_core<'a>(
    core: &Core,
    db: usize,
    keys: impl Iterator<Item = &'a [u8]>,
) -> BTreeMap<usize, Vec<(usize, Vec<u8>)>> {
    let mut out: BTreeMap<usize, Vec<(usize, Vec<u8>)>> = BTreeMap::new();
    for k in keys {
        out.entry(core.shared.core_of(k)).or_default().push((db, k.to_vec()));
    }
    out
}

pub async fn watch(st: &mut State, argv: &[&[u8]], buf: &mut Vec<u8>) -> Result<(), CmdError> {
    if st.queue.is_some() {
        return Err(CmdError::new("ERR WATCH inside MULTI is not allowed"));
    }
    let core = st.core.clone();
    let groups = by_core(&core, st.db, argv[1..].iter().copied());
    let mut waiting = Vec::new();
    for (c, keys) in groups {
        waiting.push(core.call(c, move |core| {
            let now = command_time();
            let mut shard = core.shard.borrow_mut();
            keys.into_iter()
                .map(|(db, key)| {
                    let d = shard.db(db);
                    let version = d.version(&key, now);
                    Watched { db, db_id: d.id(), key, version }
                })
                .collect::<Vec<_>>()
        }));
    }
    for w in waiting {
        for k in w.await {
            if !st.watched.iter().any(|o| o.db == k.db && o.key == k.key) {
                st.watched.push(k);
            }
        }
    }
    Reply::new(buf, st.resp3).ok();
    Ok(())
}

/// Adds the locks a queued command needs, by core: each of its keys, and for
/// MOVE and COPY ... DB the same key in the other database.
fn command_locks(
    core: &Core,
    id: CmdId,
    args: &[&[u8]],
    db: usize,
    out: &mut BTreeMap<usize, Vec<(u64, bool)>>,
) {
    let cmd = Registry::get().entry(id).cmd;
    for p in cmd.key_positions(args) {
        let k = args[p];
        out.entry(core.shared.core_of(k)).or_default().push((core.fingerprint(db, k), true));
    }
    let other = match cmd.name {
        "move" if args.len() == 3 => {
            shoal_engine::num::parse_i64(args[2]).filter(|&n| n >= 0).map(|n| (n as usize, args[1]))
        }
        "copy" => shoal_engine::cmd::keys::copy_target_db(args).map(|t| (t, args[2])),
        _ => None,
    };
    if let Some((t, k)) = other {
        out.entry(core.shared.core_of(k)).or_default().push((core.fingerprint(t, k), true));
    }
}

/// Whether every watched key on this core is as it was when watched.
fn unchanged(core: &Rc<Core>, watched: &[Watched]) -> bool {
    let now = command_time();
    let mut shard = core.shard.borrow_mut();
    watched.iter().all(|w| {
        let d = shard.db(w.db);
        d.id() == w.db_id && d.version(&w.key, now) == w.version
    })
}

/// Whole-keyspace commands: inside EXEC they need every core locked whole.
/// So does a SORT whose patterns read keys it does not declare.
fn is_global(id: CmdId, argv: &[&[u8]]) -> bool {
    crate::multi::reads_undeclared_keys(id, argv)
        || matches!(
            Registry::get().entry(id).cmd.run,
            Run::Server(
                ServerCmd::Dbsize
                    | ServerCmd::Keys
                    | ServerCmd::Scan
                    | ServerCmd::Randomkey
                    | ServerCmd::Flushall
                    | ServerCmd::Flushdb
                    | ServerCmd::Swapdb
            )
        )
}

pub async fn exec(st: &mut State, buf: &mut Vec<u8>) -> Result<(), CmdError> {
    let Some(queue) = st.queue.take() else {
        return Err(CmdError::new("ERR EXEC without MULTI"));
    };
    let watched = std::mem::take(&mut st.watched);
    if queue.failed {
        return Err(CmdError::new("EXECABORT Transaction discarded because of previous errors."));
    }
    let core = st.core.clone();

    // What to lock: every key of every queued command (in the database it
    // will run in, following the queued SELECTs), and the watched keys.
    let mut global = false;
    let mut intents: BTreeMap<usize, Vec<(u64, bool)>> = BTreeMap::new();
    let mut db = st.db;
    for (id, argv) in &queue.commands {
        let args = argv.args();
        let cmd = Registry::get().entry(*id).cmd;
        global |= is_global(*id, &args);
        match cmd.run {
            Run::Server(ServerCmd::Select) => {
                if let Some(n) = shoal_engine::num::parse_i64(args[1]) {
                    if n >= 0 && (n as usize) < core.config.borrow().databases {
                        db = n as usize;
                    }
                }
            }
            Run::Shard(_) => command_locks(&core, *id, &args, db, &mut intents),
            _ => {}
        }
    }
    let mut watched_by_core: BTreeMap<usize, Vec<Watched>> = BTreeMap::new();
    for w in &watched {
        let c = core.shared.core_of(&w.key);
        watched_by_core.entry(c).or_default().push(w.clone());
        intents.entry(c).or_default().push((core.fingerprint(w.db, &w.key), false));
    }
    let parts: Vec<(usize, Locks)> = if global {
        (0..core.shared.cores).map(|c| (c, Locks::Shard { exclusive: true })).collect()
    } else {
        intents.into_iter().map(|(c, i)| (c, Locks::keys(i))).collect()
    };

    // Lock, and check the watched keys under the locks.
    let checks: Vec<Vec<Watched>> =
        parts.iter().map(|(c, _)| watched_by_core.get(c).cloned().unwrap_or_default()).collect();
    let (txid, fine) = transact(
        &core,
        TxMode::Fresh,
        &parts,
        |i| {
            let w = checks[i].clone();
            Box::new(move |core: &Rc<Core>| unchanged(core, &w)) as Step<bool>
        },
        |_| None,
    )
    .await;
    let release = || parts.iter().map(|(c, _)| (*c, None)).collect();
    if !fine.iter().all(|&ok| ok) {
        conclude_all(&core, txid, release());
        Reply::new(buf, st.resp3).null_array();
        return Ok(());
    }

    // Run the queue under the locks; replicas get it as one transaction.
    crate::master::bracket(&core, true);
    st.tx_mode = TxMode::Held;
    let mut replies: Vec<u8> = Vec::new();
    let n = queue.commands.len();
    for (id, argv) in &queue.commands {
        let args = argv.args();
        Box::pin(crate::session::run_queued(st, *id, &args, &mut replies)).await;
    }
    st.tx_mode = TxMode::Fresh;
    crate::master::bracket(&core, false);
    conclude_all(&core, txid, release());
    let mut r = Reply::new(buf, st.resp3);
    r.array(n);
    r.raw(&replies);
    Ok(())
}
