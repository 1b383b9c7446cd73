//! Ordering of operations that span cores.
//!
//! A command whose keys live on several cores runs as a transaction with a
//! global id from one atomic counter (the only shared write on this path, and
//! only for multi-core commands). On every core it touches, the transaction
//! registers intent locks on its keys (fingerprints of database + key, shared
//! for reads, exclusive for writes) and joins the core's queue of active
//! transactions, ordered by id. It runs its first step on a core as soon as it
//! is the lowest active id there or none of its locks conflicts with another
//! active transaction's; it keeps its locks until the coordinator concludes it.
//!
//! Every core therefore runs conflicting transactions in id order, provided no
//! transaction arrives after a conflicting one with a higher id already ran
//! there. That case is caught on arrival: each core remembers, in a small
//! table of watermarks indexed by key fingerprint, the highest id that ran on
//! those keys, and refuses a transaction whose id is lower. The coordinator
//! then releases what it holds elsewhere and retries with a fresh id. Refusals
//! need a conflict (or a fingerprint collision), so they are rare.
//!
//! A plain command (no transaction) runs at once unless one of its keys is
//! locked by an active transaction; then it queues behind it as a single-core
//! transaction with a fresh id, which is never refused.
//!
//! Deadlock cannot happen: a transaction only ever waits for lower ids, and the
//! lowest active id is runnable everywhere it is scheduled.

use crate::core::Core;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

pub type TxId = u64;

/// Whether an operation takes its own locks, or runs inside a transaction
/// that already holds every lock it needs (EXEC, scripts, serving blocked clients).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxMode {
    Fresh,
    Held,
}

/// The id `transact` returns in `Held` mode: there is nothing of its own to conclude.
pub const HELD: TxId = 0;

/// What a transaction locks on one core.
#[derive(Clone, Debug)]
pub enum Locks {
    /// (fingerprint, exclusive) per key, deduplicated.
    Keys(Vec<(u64, bool)>),
    /// The whole core (FLUSHALL, KEYS, DBSIZE...).
    Shard { exclusive: bool },
}

impl Locks {
    /// Builds a deduplicated key lock set; a key both read and written is locked exclusively.
    pub fn keys(mut intents: Vec<(u64, bool)>) -> Locks {
        intents.sort_unstable();
        intents.dedup_by(|b, a| {
            if a.0 == b.0 {
                a.1 |= b.1;
                true
            } else {
                false
            }
        });
        Locks::Keys(intents)
    }
}

const WATERMARKS: usize = 4096;

/// A step to run later on this core.
pub type LocalStep = Box<dyn FnOnce(&Rc<Core>)>;

/// Runs when the transaction may start here, with `false` if it was refused.
pub type OnRun = Box<dyn FnOnce(&Rc<Core>, bool)>;

enum State {
    Waiting(OnRun),
    Running,
}

struct Active {
    locks: Locks,
    state: State,
    /// Single-core transactions (queued plain commands) leave no watermark.
    single_core: bool,
}

pub struct TxQueue {
    active: BTreeMap<TxId, Active>,
    /// fingerprint -> (shared holders, exclusive holders) among active transactions.
    key_locks: HashMap<u64, (u32, u32)>,
    shard_shared: u32,
    shard_excl: u32,
    watermarks: Box<[TxId; WATERMARKS]>,
    shard_watermark: TxId,
    max_run: TxId,
}

impl Default for TxQueue {
    fn default() -> Self {
        TxQueue {
            active: BTreeMap::new(),
            key_locks: HashMap::new(),
            shard_shared: 0,
            shard_excl: 0,
            watermarks: Box::new([0; WATERMARKS]),
            shard_watermark: 0,
            max_run: 0,
        }
    }
}

impl TxQueue {
    /// No transaction is active here: plain commands need no lock check.
    #[inline]
    pub fn is_idle(&self) -> bool {
        self.active.is_empty()
    }

    pub fn active(&self) -> usize {
        self.active.len()
    }

    /// Whether a plain command with these intents must wait for an active transaction.
    pub fn blocks(&self, intents: &[(u64, bool)]) -> bool {
        if self.active.is_empty() {
            return false;
        }
        if self.shard_excl > 0 {
            return true;
        }
        intents.iter().any(|&(fp, excl)| {
            (excl && self.shard_shared > 0)
                || self.key_locks.get(&fp).is_some_and(|&(s, x)| x > 0 || (excl && s > 0))
        })
    }

    fn refuses(&self, txid: TxId, locks: &Locks) -> bool {
        match locks {
            Locks::Shard { .. } => self.max_run > txid,
            Locks::Keys(keys) => {
                self.shard_watermark > txid
                    || keys.iter().any(|&(fp, _)| self.watermarks[fp as usize % WATERMARKS] > txid)
            }
        }
    }

    fn add_locks(&mut self, locks: &Locks) {
        match *locks {
            Locks::Shard { exclusive: true } => self.shard_excl += 1,
            Locks::Shard { exclusive: false } => self.shard_shared += 1,
            Locks::Keys(ref keys) => {
                for &(fp, excl) in keys {
                    let e = self.key_locks.entry(fp).or_default();
                    if excl {
                        e.1 += 1
                    } else {
                        e.0 += 1
                    }
                }
            }
        }
    }

    fn remove_locks(&mut self, locks: &Locks) {
        match *locks {
            Locks::Shard { exclusive: true } => self.shard_excl -= 1,
            Locks::Shard { exclusive: false } => self.shard_shared -= 1,
            Locks::Keys(ref keys) => {
                for &(fp, excl) in keys {
                    let e = self.key_locks.get_mut(&fp).expect("held lock");
                    if excl {
                        e.1 -= 1
                    } else {
                        e.0 -= 1
                    }
                    if *e == (0, 0) {
                        self.key_locks.remove(&fp);
                    }
                }
            }
        }
    }

    /// Whether `txid` may run: it is the lowest active id, or nothing another
    /// active transaction holds conflicts with its locks.
    fn runnable(&self, txid: TxId) -> bool {
        if self.active.first_key_value().map(|(&id, _)| id) == Some(txid) {
            return true;
        }
        let me = &self.active[&txid];
        match me.locks {
            Locks::Shard { exclusive } => {
                let others_excl = self.shard_excl - exclusive as u32;
                let others_shared = self.shard_shared - (!exclusive) as u32;
                let any_key_excl = self.key_locks.values().any(|&(_, x)| x > 0);
                if exclusive {
                    others_excl == 0 && others_shared == 0 && self.key_locks.is_empty()
                } else {
                    others_excl == 0 && !any_key_excl
                }
            }
            Locks::Keys(ref keys) => {
                if self.shard_excl > 0 {
                    return false;
                }
                keys.iter().all(|&(fp, excl)| {
                    let (s, x) = self.key_locks[&fp];
                    let (os, ox) = if excl { (s, x - 1) } else { (s - 1, x) };
                    if excl {
                        os == 0 && ox == 0 && self.shard_shared == 0
                    } else {
                        ox == 0
                    }
                })
            }
        }
    }

    fn mark_running(&mut self, txid: TxId) -> OnRun {
        let a = self.active.get_mut(&txid).expect("active transaction");
        let State::Waiting(f) = std::mem::replace(&mut a.state, State::Running) else {
            unreachable!("a transaction starts once")
        };
        if !a.single_core {
            self.max_run = self.max_run.max(txid);
            match a.locks {
                Locks::Shard { .. } => self.shard_watermark = self.shard_watermark.max(txid),
                Locks::Keys(ref keys) => {
                    for &(fp, _) in keys {
                        let w = &mut self.watermarks[fp as usize % WATERMARKS];
                        *w = (*w).max(txid);
                    }
                }
            }
        }
        f
    }

    /// The waiting transactions that may run now, in id order, marked running.
    fn take_runnable(&mut self) -> Vec<(TxId, OnRun)> {
        let waiting: Vec<TxId> = self
            .active
            .iter()
            .filter(|(_, a)| matches!(a.state, State::Waiting(_)))
            .map(|(&id, _)| id)
            .collect();
        let mut ready = Vec::new();
        for id in waiting {
            if self.runnable(id) {
                ready.push((id, self.mark_running(id)));
            }
        }
        ready
    }
}

/// Schedules transaction `txid` on this core. `on_run` is called once: with
/// `true` when the transaction may run its first step here (possibly at once),
/// or at once with `false` when this core refuses it.
pub fn schedule(core: &Rc<Core>, txid: TxId, locks: Locks, single_core: bool, on_run: OnRun) {
    let start = {
        let mut q = core.txq.borrow_mut();
        if !single_core && q.refuses(txid, &locks) {
            drop(q);
            on_run(core, false);
            return;
        }
        q.add_locks(&locks);
        q.active.insert(txid, Active { locks, state: State::Waiting(on_run), single_core });
        if q.runnable(txid) {
            Some(q.mark_running(txid))
        } else {
            None
        }
    };
    if let Some(f) = start {
        f(core, true);
    }
}

/// Ends `txid` on this core: runs `last` (its final step, e.g. the writes or
/// an undo), releases its locks and starts what became runnable.
pub fn conclude(core: &Rc<Core>, txid: TxId, last: impl FnOnce(&Rc<Core>)) {
    // What this core had left to number goes first; what the last step
    // changes is the coordinator's record (or the step's own command's).
    crate::master::collect(core, &core.shard);
    last(core);
    crate::master::discard(core);
    let ready = {
        let mut q = core.txq.borrow_mut();
        let a = q.active.remove(&txid).expect("concluding an active transaction");
        debug_assert!(matches!(a.state, State::Running));
        q.remove_locks(&a.locks);
        q.take_runnable()
    };
    for (_, f) in ready {
        f(core, true);
    }
    // Clients blocked on keys the transaction filled are served now that
    // nothing holds the keys any more.
    if !core.shard.borrow().ready.is_empty() {
        crate::blocking::serve_ready(core);
    }
}

/// Queues a plain command (or the rest of a batch) behind the transactions
/// holding its keys: it runs as a single-core transaction and concludes itself.
pub fn run_after_locks(core: &Rc<Core>, intents: Vec<(u64, bool)>, f: LocalStep) {
    let txid = core.shared.next_txid();
    schedule(
        core,
        txid,
        Locks::keys(intents),
        true,
        Box::new(move |core, accepted| {
            debug_assert!(accepted);
            conclude(core, txid, f);
        }),
    );
}
