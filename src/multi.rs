//! Commands over keys on several cores, as transactions (see txn.rs).
//!
//! A multi-core command takes one scheduling round trip to every core it
//! touches, carrying its first step (reads, or taking the keys it will
//! change); the coordinator then computes the reply and sends each core its
//! last step (the writes) with the release of the locks, without waiting for
//! it. A client can therefore never observe half of the command: until a
//! core has applied its part, the keys there stay locked.

use crate::core::{now_ms, Core};
use crate::txn::{self, Locks, TxId, TxMode, HELD};
use shoal_engine::command::{flags, CmdId, Registry, Run, Spread};
use shoal_engine::shard::Block;
use shoal_engine::{Entry, Reply};
use std::cell::RefCell;
use std::rc::Rc;

/// An argument vector that owns its bytes, to send to another core.
#[derive(Clone, Default, Debug)]
pub struct OwnedArgv {
    buf: Vec<u8>,
    ends: Vec<u32>,
}

impl OwnedArgv {
    pub fn push(&mut self, a: &[u8]) {
        self.buf.extend_from_slice(a);
        self.ends.push(self.buf.len() as u32);
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub fn get(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.buf[start..self.ends[i] as usize]
    }

    pub fn args(&self) -> Vec<&[u8]> {
        (0..self.len()).map(|i| self.get(i)).collect()
    }
}

impl From<&[&[u8]]> for OwnedArgv {
    fn from(argv: &[&[u8]]) -> Self {
        let mut o = OwnedArgv::default();
        for a in argv {
            o.push(a);
        }
        o
    }
}

/// A step to run on one core.
pub type Step<R> = Box<dyn FnOnce(&Rc<Core>) -> R + Send>;

/// Schedules a transaction on `parts` (core, locks) and runs each core's first
/// step (`first(i)` builds the step of part `i`) once the core admits it.
/// Retries with a fresh id when a core refuses, undoing the first steps that
/// ran (`undo` turns a step's result into its undo). Returns the id and the
/// results in part order; the caller must then conclude every part.
pub async fn transact<R: Send + 'static>(
    core: &Rc<Core>,
    mode: TxMode,
    parts: &[(usize, Locks)],
    first: impl Fn(usize) -> Step<R>,
    undo: impl Fn(R) -> Option<Step<()>>,
) -> (TxId, Vec<R>) {
    if mode == TxMode::Held {
        // The locks are held already: run the first steps and go on.
        let replies: Vec<_> = parts
            .iter()
            .enumerate()
            .map(|(i, (target, _))| {
                let step = first(i);
                core.call(*target, move |core| step(core))
            })
            .collect();
        let mut results = Vec::with_capacity(parts.len());
        for r in replies {
            results.push(r.await);
        }
        return (HELD, results);
    }
    core.stats.borrow_mut().multi_core_txs += 1;
    loop {
        let txid = core.shared.next_txid();
        let replies: Vec<_> = parts
            .iter()
            .enumerate()
            .map(|(i, (target, locks))| {
                let (step, locks) = (first(i), locks.clone());
                core.call_with(*target, move |core, responder| {
                    txn::schedule(
                        core,
                        txid,
                        locks,
                        false,
                        Box::new(move |core, admitted| {
                            let r = if admitted { Some(step(core)) } else { None };
                            responder.send(core, r);
                        }),
                    )
                })
            })
            .collect();
        let mut results: Vec<Option<R>> = Vec::with_capacity(parts.len());
        for r in replies {
            results.push(r.await);
        }
        if results.iter().all(Option::is_some) {
            return (txid, results.into_iter().map(|r| r.expect("admitted")).collect());
        }
        core.stats.borrow_mut().tx_retries += 1;
        for (r, (target, _)) in results.into_iter().zip(parts) {
            if let Some(r) = r {
                let u = undo(r);
                core.run_on(*target, move |core| {
                    txn::conclude(core, txid, |core| {
                        if let Some(u) = u {
                            u(core)
                        }
                    })
                });
            }
        }
    }
}

/// Ends transaction `txid` on each core with its last step, without waiting.
pub fn conclude_all(core: &Rc<Core>, txid: TxId, lasts: Vec<(usize, Option<Step<()>>)>) {
    if txid == HELD {
        for (target, last) in lasts {
            if let Some(f) = last {
                core.run_on(target, move |core| f(core));
            }
        }
        return;
    }
    for (target, last) in lasts {
        core.run_on(target, move |core| {
            txn::conclude(core, txid, |core| {
                if let Some(f) = last {
                    f(core)
                }
            })
        });
    }
}

/// One core's share of a multi-core command.
struct Share {
    core: usize,
    /// The command name followed by this core's keys (and their values, for MSET).
    argv: OwnedArgv,
    /// Which key of the original command each of this share's keys is.
    key_index: Vec<usize>,
    intents: Vec<(u64, bool)>,
}

/// Splits a command's keys by owning core, in order of first appearance.
fn shares(core: &Core, id: CmdId, argv: &[&[u8]], db: usize) -> Vec<Share> {
    let cmd = Registry::get().entry(id).cmd;
    let excl = !cmd.has_flag(flags::READONLY);
    let step = cmd.keys.step.max(1) as usize;
    let mut out: Vec<Share> = Vec::new();
    for (k, pos) in cmd.key_positions(argv).enumerate() {
        let home = core.shared.core_of(argv[pos]);
        let share = match out.iter().position(|s| s.core == home) {
            Some(i) => &mut out[i],
            None => {
                let mut a = OwnedArgv::default();
                a.push(argv[0]);
                out.push(Share { core: home, argv: a, key_index: Vec::new(), intents: Vec::new() });
                out.last_mut().expect("just pushed")
            }
        };
        for a in &argv[pos..(pos + step).min(argv.len())] {
            share.argv.push(a);
        }
        share.key_index.push(k);
        share.intents.push((core.fingerprint(db, argv[pos]), excl));
    }
    out
}

/// Runs a shard command whose keys live on several cores, appending its reply to `out`.
#[allow(clippy::too_many_arguments)]
pub async fn run(
    core: &Rc<Core>,
    mode: TxMode,
    id: CmdId,
    argv: &[&[u8]],
    db: usize,
    resp3: bool,
    out: &mut Vec<u8>,
    may_block: bool,
) -> Option<Block> {
    let entry = Registry::get().entry(id);
    let cmd = entry.cmd;
    // Key/value pairs (MSET, MSETNX) must come whole before anything is
    // split and sent: Redis refuses such a command outright.
    let step = cmd.keys.step.max(1) as usize;
    if step > 1 && (argv.len() - cmd.keys.first as usize) % step != 0 {
        let e = shoal_engine::CmdError::wrong_arity(&entry.fullname);
        record(core, id, crate::core::timer_start(), Some(&e));
        Reply::new(out, resp3).error(e.line());
        return None;
    }
    match cmd.spread {
        Spread::Gather => gather(core, mode, id, argv, db, resp3, out, may_block).await,
        spread => {
            split(core, mode, id, argv, db, resp3, spread, out).await;
            None
        }
    }
}

/// MGET, MSET, DEL, UNLINK, EXISTS, TOUCH: the same command on each core's keys.
#[allow(clippy::too_many_arguments)]
async fn split(
    core: &Rc<Core>,
    mode: TxMode,
    id: CmdId,
    argv: &[&[u8]],
    db: usize,
    resp3: bool,
    spread: Spread,
    out: &mut Vec<u8>,
) {
    let cmd = Registry::get().entry(id).cmd;
    let shares = shares(core, id, argv, db);
    let parts: Vec<(usize, Locks)> =
        shares.iter().map(|s| (s.core, Locks::keys(s.intents.clone()))).collect();
    let readonly = cmd.has_flag(flags::READONLY);
    // Reads run in the first step; writes wait for the last one, so a refused
    // attempt has nothing to undo. DEL and UNLINK count in the first step
    // which of their (distinct) keys exist, and delete in the last.
    let counts_first = spread == Spread::Sum && !readonly;
    let started = crate::core::timer_start();
    let (txid, firsts) = transact(
        core,
        mode,
        &parts,
        |i| {
            let argv = shares[i].argv.clone();
            Box::new(move |core: &Rc<Core>| -> Vec<u8> {
                let mut reply = Vec::new();
                if counts_first {
                    let mut keys = argv.args();
                    keys.remove(0);
                    keys.sort_unstable();
                    keys.dedup();
                    let now = now_ms();
                    let mut shard = core.shard.borrow_mut();
                    let n = keys.iter().filter(|k| shard.db(db).contains(k, now)).count();
                    Reply::new(&mut reply, resp3).int(n as i64);
                } else if readonly {
                    let _ = exec_quiet(&core.shard, id, &argv.args(), db, resp3, &mut reply, false, None);
                }
                reply
            })
        },
        |_| None,
    )
    .await;
    if !readonly {
        // Replicas get the command whole, numbered while every lock is held.
        let changed =
            spread != Spread::Sum || firsts.iter().any(|r| parse_int_reply(r).is_some_and(|n| n > 0));
        if changed {
            crate::master::record(core, vec![shoal_engine::shard::Op::new(db, argv)]);
        }
    }
    let lasts = shares
        .iter()
        .map(|s| {
            let last: Option<Step<()>> = if readonly {
                None
            } else {
                let argv = s.argv.clone();
                Some(Box::new(move |core: &Rc<Core>| {
                    let mut sink = Vec::new();
                    let _ = exec_quiet(&core.shard, id, &argv.args(), db, resp3, &mut sink, false, None);
                }))
            };
            (s.core, last)
        })
        .collect();
    conclude_all(core, txid, lasts);
    record(core, id, started, None);
    match spread {
        Spread::AllOk => Reply::new(out, resp3).ok(),
        Spread::Sum => {
            let mut total = 0i64;
            for r in &firsts {
                match parse_int_reply(r) {
                    Some(n) => total += n,
                    None => {
                        out.extend_from_slice(r);
                        return;
                    }
                }
            }
            Reply::new(out, resp3).int(total);
        }
        Spread::Concat => {
            let nkeys = shares.iter().map(|s| s.key_index.len()).sum();
            let mut elems: Vec<&[u8]> = vec![&[]; nkeys];
            for (s, r) in shares.iter().zip(&firsts) {
                let Some(items) = split_array(r) else {
                    out.extend_from_slice(r);
                    return;
                };
                for (k, item) in s.key_index.iter().zip(items) {
                    elems[*k] = item;
                }
            }
            Reply::new(out, resp3).array(nkeys);
            for e in elems {
                out.extend_from_slice(e);
            }
        }
        Spread::Gather => unreachable!(),
    }
}

/// The (database, key) pairs a command touches: its keys in the client's
/// database, except COPY ... DB n, whose destination is in database n.
fn gather_items(id: CmdId, argv: &[&[u8]], db: usize) -> Vec<(usize, Vec<u8>)> {
    let cmd = Registry::get().entry(id).cmd;
    let mut items: Vec<(usize, Vec<u8>)> = cmd.key_positions(argv).map(|p| (db, argv[p].to_vec())).collect();
    if cmd.name == "copy" {
        let target = shoal_engine::cmd::keys::copy_target_db(argv);
        if let (Some(t), Some(dst)) = (target, items.get_mut(1)) {
            dst.0 = t;
        }
    }
    items.sort();
    items.dedup();
    items
}

/// A key in a numbered database.
type DbKey = (usize, Vec<u8>);

/// SORT and SORT_RO with BY or GET patterns read keys their command line
/// does not name, which may live on any core: they run as a transaction
/// over every core, with the keys they read copied into the scratch
/// keyspace (see [`gather`]).
pub fn reads_undeclared_keys(id: CmdId, argv: &[&[u8]]) -> bool {
    let name = Registry::get().entry(id).cmd.name;
    matches!(name, "sort" | "sort_ro") && shoal_engine::cmd::sort::sort_reads_patterns(argv)
}

/// Copies the keys a SORT's patterns read (those not already in the
/// scratch keyspace) from their cores into it; returns them, for removal
/// after the command. Every core is locked whole by the caller.
async fn fetch_sort_keys(core: &Rc<Core>, argv: &[&[u8]], db: usize) -> Vec<DbKey> {
    let now = now_ms();
    let elements = match core.scratch.borrow_mut().db(db).peek(argv[1], now) {
        Some(e) => shoal_engine::cmd::sort::sort_source_elements(e.value()),
        None => return Vec::new(),
    };
    let mut by_core: Vec<Vec<Vec<u8>>> = vec![Vec::new(); core.shared.cores];
    {
        let mut scratch = core.scratch.borrow_mut();
        for k in shoal_engine::cmd::sort::sort_external_keys(argv, &elements) {
            if !scratch.db(db).contains(&k, now) {
                by_core[core.shared.core_of(&k)].push(k);
            }
        }
    }
    // Every request goes out before the first answer is awaited.
    let requests: Vec<_> = by_core
        .into_iter()
        .enumerate()
        .filter(|(_, keys)| !keys.is_empty())
        .map(|(c, keys)| {
            core.call(c, move |core| {
                let now = now_ms();
                let mut shard = core.shard.borrow_mut();
                keys.iter().filter_map(|k| shard.db(db).peek(k, now).cloned()).collect::<Vec<Entry>>()
            })
        })
        .collect();
    let mut fetched = Vec::new();
    for request in requests {
        let entries = request.await;
        let mut scratch = core.scratch.borrow_mut();
        for e in entries {
            fetched.push((db, e.key().to_vec()));
            scratch.db(db).put(e);
        }
    }
    fetched
}

/// Any other command over several cores: its keys are moved to this core's
/// scratch keyspace, the command runs there, and the results go home.
#[allow(clippy::too_many_arguments)]
async fn gather(
    core: &Rc<Core>,
    mode: TxMode,
    id: CmdId,
    argv: &[&[u8]],
    db: usize,
    resp3: bool,
    out: &mut Vec<u8>,
    may_block: bool,
) -> Option<Block> {
    let cmd = Registry::get().entry(id).cmd;
    let write = !cmd.has_flag(flags::READONLY);
    let databases = core.config.borrow().databases;
    let items: Vec<(usize, Vec<u8>)> =
        gather_items(id, argv, db).into_iter().filter(|(d, _)| *d < databases).collect();
    let patterns = core.shared.cores > 1 && reads_undeclared_keys(id, argv);
    let mut groups: Vec<(usize, Vec<DbKey>)> = Vec::new();
    if patterns {
        groups = (0..core.shared.cores).map(|c| (c, Vec::new())).collect();
    }
    for (d, k) in items {
        let home = core.shared.core_of(&k);
        match groups.iter_mut().find(|g| g.0 == home) {
            Some(g) => g.1.push((d, k)),
            None => groups.push((home, vec![(d, k)])),
        }
    }
    let parts: Vec<(usize, Locks)> = groups
        .iter()
        .map(|(c, keys)| {
            if patterns {
                return (*c, Locks::Shard { exclusive: true });
            }
            let intents = keys.iter().map(|(d, k)| (core.fingerprint(*d, k), write)).collect();
            (*c, Locks::keys(intents))
        })
        .collect();
    let (txid, taken) = transact(
        core,
        mode,
        &parts,
        |i| {
            let keys = groups[i].1.clone();
            Box::new(move |core: &Rc<Core>| -> Vec<(usize, Entry)> {
                let now = now_ms();
                let mut shard = core.shard.borrow_mut();
                keys.iter()
                    .filter_map(|(d, k)| {
                        let db = shard.db(*d);
                        let e = if write { db.remove(k, now) } else { db.peek(k, now).cloned() };
                        e.map(|e| (*d, e))
                    })
                    .collect()
            })
        },
        |entries| {
            Some(Box::new(move |core: &Rc<Core>| {
                if write {
                    let mut shard = core.shard.borrow_mut();
                    for (d, e) in entries {
                        shard.db(d).put(e);
                    }
                }
            }))
        },
    )
    .await;
    {
        let mut scratch = core.scratch.borrow_mut();
        for (d, e) in taken.into_iter().flatten() {
            scratch.db(d).put(e);
        }
    }
    let copies = if patterns { fetch_sort_keys(core, argv, db).await } else { Vec::new() };
    let dirty_before = core.scratch.borrow().dirty;
    let block = exec_on(core, &core.scratch, id, argv, db, resp3, out, may_block);
    // Keys that got elements must wake their waiters on their home cores,
    // once the entries are back there.
    let ready = std::mem::take(&mut core.scratch.borrow_mut().ready);
    let now = now_ms();
    let mut lasts = Vec::new();
    {
        let mut scratch = core.scratch.borrow_mut();
        for (d, k) in &copies {
            scratch.db(*d).remove(k, now);
        }
        let dirty = scratch.dirty - dirty_before;
        core.shard.borrow_mut().dirty += dirty;
        for (home, keys) in groups {
            let back: Vec<(usize, Entry)> =
                keys.iter().filter_map(|(d, k)| scratch.db(*d).remove(k, now).map(|e| (*d, e))).collect();
            let ready_here: Vec<(usize, Vec<u8>)> =
                ready.iter().filter(|(_, k)| core.shared.core_of(k) == home).cloned().collect();
            let last: Option<Step<()>> = if write {
                Some(Box::new(move |core: &Rc<Core>| {
                    let mut shard = core.shard.borrow_mut();
                    for (d, e) in back {
                        shard.db(d).put(e);
                    }
                    // Served once the transaction's locks are released.
                    shard.ready.extend(ready_here);
                }))
            } else {
                None
            };
            lasts.push((home, last));
        }
        // A handler only touches the keys it declares; anything else left here
        // would be a bug that leaked data between commands.
        debug_assert_eq!(scratch.keys(), 0, "gathered command left keys behind");
        if scratch.keys() > 0 {
            tracing::error!("{} left keys in the scratch keyspace", Registry::get().entry(id).fullname);
            scratch.dbs_mut().iter_mut().for_each(|d| d.clear());
        }
        // Reads in the scratch keyspace count as this core's keyspace hits and misses.
        let mut shard = core.shard.borrow_mut();
        for (d, s) in shard.dbs_mut().iter_mut().zip(scratch.dbs_mut()) {
            d.stats.hits += s.stats.hits;
            d.stats.misses += s.stats.misses;
            d.stats.expired_keys += s.stats.expired_keys;
            s.stats = Default::default();
        }
    }
    conclude_all(core, txid, lasts);
    block
}

/// Runs a shard command against `shard` (the core's own, or its scratch) and
/// counts it in this core's statistics.
#[allow(clippy::too_many_arguments)]
pub fn exec_on(
    core: &Core,
    shard: &RefCell<shoal_engine::Shard>,
    id: CmdId,
    argv: &[&[u8]],
    db: usize,
    resp3: bool,
    out: &mut Vec<u8>,
    may_block: bool,
) -> Option<Block> {
    let started = crate::core::timer_start();
    // Keys a script did not declare: in the scratch keyspace there are none
    // to reach (only the declared keys were gathered); on a core's own
    // keyspace, those this core serves that no transaction holds.
    let gathered = std::ptr::eq(shard, &core.scratch);
    let here = |db: usize, key: &[u8]| {
        !gathered
            && core.shared.core_of(key) == core.index()
            && core.txq.try_borrow().is_ok_and(|q| !q.blocks(&[(core.fingerprint(db, key), true)]))
    };
    let (result, block) = exec_quiet(shard, id, argv, db, resp3, out, may_block, Some(&here));
    if gathered {
        // The keys the gather took may have expired on the way: those DELs first.
        crate::master::collect(core, &core.shard);
    }
    crate::master::collect(core, shard);
    script_done(core);
    record(core, id, started, result.as_ref().err());
    block
}

thread_local! {
    /// A script on this thread ran past busy-reply-threshold.
    static SCRIPT_BUSY_HERE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Registers this core's busy-script hook: the engine calls it while a
/// script is past the threshold, and from then on the other cores answer BUSY.
pub fn watch_busy_scripts(shared: std::sync::Arc<crate::core::Shared>) {
    shoal_engine::script::set_busy_callback(Box::new(move || {
        if !SCRIPT_BUSY_HERE.replace(true) {
            shared.script_busy.store(true, std::sync::atomic::Ordering::Release);
        }
    }));
}

/// After a command: if it was a script that got busy, it is over now.
fn script_done(core: &Core) {
    if SCRIPT_BUSY_HERE.replace(false) {
        core.shared.script_busy.store(false, std::sync::atomic::Ordering::Release);
    }
}

fn record(core: &Core, id: CmdId, started: u64, error: Option<&shoal_engine::CmdError>) {
    let usec = crate::core::timer_usec(started);
    let mut stats = core.stats.borrow_mut();
    stats.record(id, usec, error.is_some());
    if let Some(e) = error {
        stats.record_error(e);
    }
}

/// Runs a shard command without counting it (one core's part of a multi-core command).
/// With `may_block`, a blocking command that finds nothing writes no reply
/// and returns how it wants to wait.
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
fn exec_quiet(
    shard: &RefCell<shoal_engine::Shard>,
    id: CmdId,
    argv: &[&[u8]],
    db: usize,
    resp3: bool,
    out: &mut Vec<u8>,
    may_block: bool,
    key_check: Option<&dyn Fn(usize, &[u8]) -> bool>,
) -> (Result<(), shoal_engine::CmdError>, Option<Block>) {
    let Run::Shard(handler) = Registry::get().entry(id).cmd.run else { unreachable!("a shard command") };
    let mark = out.len();
    let (result, block) = {
        let mut shard = shard.borrow_mut();
        let now = crate::core::command_time();
        let mut ctx = shoal_engine::Ctx::new(&mut shard, db, now, Reply::new(out, resp3));
        ctx.may_block = may_block;
        ctx.key_check = key_check;
        let result = shoal_engine::shard::call(&mut ctx, handler, argv);
        (result, ctx.block.take())
    };
    if let Err(e) = &result {
        out.truncate(mark);
        Reply::new(out, resp3).error(e.line());
    }
    (result, block)
}

fn parse_int_reply(r: &[u8]) -> Option<i64> {
    let body = r.strip_prefix(b":")?.strip_suffix(b"\r\n")?;
    shoal_engine::num::parse_i64(body)
}

/// Splits an array reply into its elements' bytes.
fn split_array(r: &[u8]) -> Option<Vec<&[u8]>> {
    let (n, mut rest) = header(r, b'*')?;
    let mut items = Vec::with_capacity(n.max(0) as usize);
    for _ in 0..n.max(0) {
        let len = element_len(rest)?;
        items.push(&rest[..len]);
        rest = &rest[len..];
    }
    Some(items)
}

fn header(r: &[u8], tag: u8) -> Option<(i64, &[u8])> {
    if r.first() != Some(&tag) {
        return None;
    }
    let end = memchr_crlf(r)?;
    let n = shoal_engine::num::parse_i64(&r[1..end])?;
    Some((n, &r[end + 2..]))
}

fn memchr_crlf(r: &[u8]) -> Option<usize> {
    r.windows(2).position(|w| w == b"\r\n")
}

/// The length of the first complete RESP element of `r`.
fn element_len(r: &[u8]) -> Option<usize> {
    let line = memchr_crlf(r)? + 2;
    match r.first()? {
        b'+' | b'-' | b':' | b'_' | b',' | b'#' | b'(' => Some(line),
        b'$' | b'=' | b'!' => {
            let n = shoal_engine::num::parse_i64(&r[1..line - 2])?;
            Some(if n < 0 { line } else { line + n as usize + 2 })
        }
        b'*' | b'~' | b'>' | b'%' => {
            let n = shoal_engine::num::parse_i64(&r[1..line - 2])?;
            let n = if r[0] == b'%' { n * 2 } else { n };
            let mut len = line;
            for _ in 0..n.max(0) {
                len += element_len(&r[len..])?;
            }
            Some(len)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn array_splitting() {
        let r = b"*3\r\n$1\r\na\r\n$-1\r\n:5\r\n";
        let items = split_array(r).unwrap();
        assert_eq!(items, [&b"$1\r\na\r\n"[..], b"$-1\r\n", b":5\r\n"]);
        assert_eq!(split_array(b"*1\r\n*2\r\n:1\r\n:2\r\n").unwrap(), [&b"*2\r\n:1\r\n:2\r\n"[..]]);
        assert_eq!(parse_int_reply(b":12\r\n"), Some(12));
    }
}
