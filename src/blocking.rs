//! Blocking commands: BLPOP and friends, BZPOPMIN, XREAD BLOCK...
//!
//! A blocking command first runs like any other, with leave to block. If it
//! finds what it wants it answers at once. If not, its handler writes nothing
//! and asks to wait, and the client waits on the cores that serve its keys:
//!
//! * When every key lives on one core (the usual case, and any hash-tagged
//!   set of keys), that core runs the attempt and, if it blocks, registers the
//!   waiter in the same step, so that no push can slip in between. Whenever a
//!   command on that core gives one of the keys new elements, the core re-runs
//!   the waiters' commands there and then, first come first served, exactly as
//!   Redis serves blocked clients after each command, and sends the replies
//!   back to the clients' own cores.
//! * When the keys live on several cores, the client registers on each and is
//!   only told when one of them gets elements; it then runs the command again
//!   as a multi-core transaction, and waits again if someone else was faster.
//!
//! A waiting client also watches its socket: if it goes away, it leaves every
//! queue it was in. At the timeout it leaves them too (unless it was served in
//! the meantime) and the command runs once more without leave to block, so
//! that it gives its own "nothing there" reply.

use crate::core::Core;
use crate::multi::{self, OwnedArgv};
use crate::router;
use crate::session::State;
use crate::txn::TxMode;
use shoal_engine::command::{CmdId, Registry};
use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// What a waiting client learns.
pub enum Outcome {
    /// Its command ran on the key's core; here is the reply.
    Served(Vec<u8>),
    /// One of its keys got elements: run the command again.
    Retry,
}

/// A client waiting on keys of this core.
struct Waiter {
    origin: usize,
    slot: usize,
    id: CmdId,
    argv: OwnedArgv,
    db: usize,
    resp3: bool,
    /// The keys it waits on here.
    keys: Vec<(usize, Vec<u8>)>,
    /// All its keys are here: this core runs the command for it.
    serve_here: bool,
}

/// The clients waiting on this core's keys, first come first served per key.
#[derive(Default)]
pub struct Waiters {
    by_key: HashMap<(usize, Vec<u8>), VecDeque<u64>>,
    all: HashMap<u64, Waiter>,
}

impl Waiters {
    fn add(&mut self, wid: u64, w: Waiter) {
        for k in &w.keys {
            self.by_key.entry(k.clone()).or_default().push_back(wid);
        }
        self.all.insert(wid, w);
    }

    fn remove(&mut self, wid: u64) -> Option<Waiter> {
        let w = self.all.remove(&wid)?;
        for k in &w.keys {
            if let Some(q) = self.by_key.get_mut(k) {
                q.retain(|&x| x != wid);
                if q.is_empty() {
                    self.by_key.remove(k);
                }
            }
        }
        Some(w)
    }

    pub fn len(&self) -> usize {
        self.all.len()
    }

    pub fn is_empty(&self) -> bool {
        self.all.is_empty()
    }
}

/// Where waiting clients of this core receive their outcome.
#[derive(Default)]
pub struct Slots {
    slots: Vec<Option<(Option<Outcome>, Option<Waker>)>>,
    free: Vec<usize>,
}

impl Slots {
    fn alloc(&mut self) -> usize {
        match self.free.pop() {
            Some(i) => {
                self.slots[i] = Some((None, None));
                i
            }
            None => {
                self.slots.push(Some((None, None)));
                self.slots.len() - 1
            }
        }
    }

    fn release(&mut self, i: usize) {
        self.slots[i] = None;
        self.free.push(i);
    }

    fn fill(&mut self, i: usize, o: Outcome) {
        if let Some(Some((outcome, waker))) = self.slots.get_mut(i) {
            // A served reply is never replaced by a later notification.
            if !matches!(outcome, Some(Outcome::Served(_))) {
                *outcome = Some(o);
            }
            if let Some(w) = waker.take() {
                w.wake();
            }
        }
    }

    fn take(&mut self, i: usize) -> Option<Outcome> {
        self.slots[i].as_mut().and_then(|(o, _)| o.take())
    }
}

/// Waits for slot `i` of this core to be filled.
struct SlotWait {
    core: Rc<Core>,
    slot: usize,
}

impl Future for SlotWait {
    type Output = Outcome;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Outcome> {
        let mut slots = self.core.block_slots.borrow_mut();
        let entry = slots.slots[self.slot].as_mut().expect("live slot");
        match entry.0.take() {
            Some(o) => Poll::Ready(o),
            None => {
                entry.1 = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// Serves the clients waiting on keys that got elements. Runs after every
/// command that filled a key (and when a transaction releases its locks).
pub fn serve_ready(core: &Core) {
    if !core.txq.borrow().is_idle() {
        // Keys may be held by a transaction: its conclusion serves them.
        return;
    }
    loop {
        let mut ready = std::mem::take(&mut core.shard.borrow_mut().ready);
        if ready.is_empty() || core.waiters.borrow().is_empty() {
            return;
        }
        ready.sort();
        ready.dedup();
        for key in ready {
            serve_key(core, &key);
        }
    }
}

fn serve_key(core: &Core, key: &(usize, Vec<u8>)) {
    loop {
        let Some(wid) = core.waiters.borrow().by_key.get(key).and_then(|q| q.front().copied()) else {
            return;
        };
        let (serve_here, id, argv, db, resp3) = {
            let waiters = core.waiters.borrow();
            let w = &waiters.all[&wid];
            (w.serve_here, w.id, w.argv.clone(), w.db, w.resp3)
        };
        if serve_here {
            let mut out = Vec::new();
            let block = core.exec_may_block(id, &argv.args(), db, resp3, &mut out, true);
            if block.is_some() {
                // Still nothing for the first in line: the others wait too.
                return;
            }
            if let Some(w) = core.waiters.borrow_mut().remove(wid) {
                deliver(core, w.origin, w.slot, Outcome::Served(out));
            }
        } else if let Some(w) = core.waiters.borrow_mut().remove(wid) {
            // Told, it runs the command again itself; tell the others too, so
            // that the elements do not wait if it is served elsewhere.
            deliver(core, w.origin, w.slot, Outcome::Retry);
        }
    }
}

fn deliver(core: &Core, origin: usize, slot: usize, outcome: Outcome) {
    if origin == core.index() {
        core.block_slots.borrow_mut().fill(slot, outcome);
    } else {
        core.post(origin, Box::new(move |core: &Rc<Core>| core.block_slots.borrow_mut().fill(slot, outcome)));
    }
}

/// The keys a blocking command waits on: all its keys, except that BLMOVE and
/// BRPOPLPUSH wait on their source only.
fn wait_keys(id: CmdId, argv: &[&[u8]], db: usize) -> Vec<(usize, Vec<u8>)> {
    let cmd = Registry::get().entry(id).cmd;
    let mut keys: Vec<(usize, Vec<u8>)> = cmd.key_positions(argv).map(|p| (db, argv[p].to_vec())).collect();
    if matches!(cmd.name, "blmove" | "brpoplpush") {
        keys.truncate(1);
    }
    keys.dedup();
    keys
}

/// What a waiting client's wait ended with.
enum WaitEnd {
    Outcome(Outcome),
    Timeout,
    Hangup,
}

/// Runs a blocking command for a client: at once if it can, else waiting as
/// the module documentation describes. Appends the reply to `out`.
pub async fn run(st: &mut State, id: CmdId, argv: &[&[u8]], out: &mut Vec<u8>) {
    let core = st.core.clone();
    let (db, resp3) = (st.db, st.resp3);
    let fd = st.client.borrow().fd;
    let mut argv = OwnedArgv::from(argv);
    let slot = core.block_slots.borrow_mut().alloc();
    let single = match router::placement(&core, id, &argv.args()) {
        None => Some(core.index()),
        Some(Ok(c)) => Some(c),
        Some(Err(())) => None,
    };
    let end = match single {
        Some(home) => serve_on_one_core(st, home, id, &mut argv, db, resp3, slot, fd, out).await,
        None => serve_across_cores(st, id, &mut argv, db, resp3, slot, fd, out).await,
    };
    core.block_slots.borrow_mut().release(slot);
    if matches!(end, Some(WaitEnd::Hangup)) {
        st.close = true;
    }
}

/// Waits for the slot to be filled, the timeout, or the client to go away.
async fn wait(core: &Rc<Core>, slot: usize, timeout_ms: u64, fd: i32) -> WaitEnd {
    core.blocked_clients.set(core.blocked_clients.get() + 1);
    let outcome = async { WaitEnd::Outcome(SlotWait { core: core.clone(), slot }.await) };
    let hangup = async {
        let _ = shoal_net::uring::hangup(fd).await;
        WaitEnd::Hangup
    };
    let end = if timeout_ms == 0 {
        futures_lite::future::or(outcome, hangup).await
    } else {
        let timer = async {
            glommio::timer::sleep(Duration::from_millis(timeout_ms)).await;
            WaitEnd::Timeout
        };
        futures_lite::future::or(outcome, futures_lite::future::or(hangup, timer)).await
    };
    core.blocked_clients.set(core.blocked_clients.get() - 1);
    end
}

/// All keys on core `home`: it attempts, registers, and serves.
#[allow(clippy::too_many_arguments)]
async fn serve_on_one_core(
    st: &mut State,
    home: usize,
    id: CmdId,
    argv: &mut OwnedArgv,
    db: usize,
    resp3: bool,
    slot: usize,
    fd: i32,
    out: &mut Vec<u8>,
) -> Option<WaitEnd> {
    let core = st.core.clone();
    let wid = core.shared.next_txid();
    let origin = core.index();
    let attempt_argv = argv.clone();
    let attempt = core
        .call(home, move |core| {
            let mut reply = Vec::new();
            let args = attempt_argv.args();
            let block = core.exec_may_block(id, &args, db, resp3, &mut reply, true);
            if let Some(b) = &block {
                let argv = match &b.rewrite {
                    Some(r) => {
                        let refs: Vec<&[u8]> = r.iter().map(|a| a.as_slice()).collect();
                        OwnedArgv::from(refs.as_slice())
                    }
                    None => attempt_argv.clone(),
                };
                let keys = wait_keys(id, &argv.args(), db);
                core.waiters
                    .borrow_mut()
                    .add(wid, Waiter { origin, slot, id, argv, db, resp3, keys, serve_here: true });
            }
            (reply, block)
        })
        .await;
    let (reply, block) = attempt;
    let Some(block) = block else {
        out.extend_from_slice(&reply);
        return None;
    };
    if let Some(r) = &block.rewrite {
        let refs: Vec<&[u8]> = r.iter().map(|a| a.as_slice()).collect();
        *argv = OwnedArgv::from(refs.as_slice());
    }
    let end = wait(&core, slot, block.timeout_ms, fd).await;
    match end {
        WaitEnd::Outcome(Outcome::Served(ref reply)) => out.extend_from_slice(reply),
        WaitEnd::Outcome(Outcome::Retry) => unreachable!("a core that serves never asks to retry"),
        WaitEnd::Timeout | WaitEnd::Hangup => {
            let removed = core.call(home, move |core| core.waiters.borrow_mut().remove(wid).is_some()).await;
            if !removed {
                // Served in the meantime: the reply is in the slot (it was sent first).
                if let Some(Outcome::Served(reply)) = core.block_slots.borrow_mut().take(slot) {
                    if matches!(end, WaitEnd::Timeout) {
                        out.extend_from_slice(&reply);
                        return None;
                    }
                }
            } else if matches!(end, WaitEnd::Timeout) {
                let a = argv.clone();
                let reply = core
                    .call(home, move |core| {
                        let mut reply = Vec::new();
                        core.exec_may_block(id, &a.args(), db, resp3, &mut reply, false);
                        reply
                    })
                    .await;
                out.extend_from_slice(&reply);
            }
        }
    }
    Some(end)
}

/// Keys on several cores: register on each, and run the command again (as a
/// multi-core transaction) whenever told that a key got elements.
#[allow(clippy::too_many_arguments)]
async fn serve_across_cores(
    st: &mut State,
    id: CmdId,
    argv: &mut OwnedArgv,
    db: usize,
    resp3: bool,
    slot: usize,
    fd: i32,
    out: &mut Vec<u8>,
) -> Option<WaitEnd> {
    let core = st.core.clone();
    let origin = core.index();
    let mut deadline: Option<std::time::Instant> = None;
    loop {
        let mut reply = Vec::new();
        let block = multi::run(&core, TxMode::Fresh, id, &argv.args(), db, resp3, &mut reply, true).await;
        let Some(block) = block else {
            out.extend_from_slice(&reply);
            return None;
        };
        if let Some(r) = &block.rewrite {
            let refs: Vec<&[u8]> = r.iter().map(|a| a.as_slice()).collect();
            *argv = OwnedArgv::from(refs.as_slice());
        }
        let deadline = *deadline.get_or_insert_with(|| {
            std::time::Instant::now() + Duration::from_millis(block.timeout_ms.max(1))
        });
        // Register on every core that serves one of the keys.
        let mut by_core: HashMap<usize, Vec<(usize, Vec<u8>)>> = HashMap::new();
        for (d, k) in wait_keys(id, &argv.args(), db) {
            by_core.entry(core.shared.core_of(&k)).or_default().push((d, k));
        }
        let wid = core.shared.next_txid();
        let mut registered = Vec::new();
        for (c, keys) in by_core {
            let a = argv.clone();
            core.call(c, move |core| {
                core.waiters
                    .borrow_mut()
                    .add(wid, Waiter { origin, slot, id, argv: a, db, resp3, keys, serve_here: false });
            })
            .await;
            registered.push(c);
        }
        let cancel = |core: &Rc<Core>, registered: Vec<usize>| {
            for c in registered {
                core.run_on(c, move |core| {
                    core.waiters.borrow_mut().remove(wid);
                });
            }
        };
        // Elements may have come between the attempt and the registration.
        let mut reply = Vec::new();
        let again = multi::run(&core, TxMode::Fresh, id, &argv.args(), db, resp3, &mut reply, true).await;
        if again.is_none() {
            cancel(&core, registered);
            out.extend_from_slice(&reply);
            return None;
        }
        let timeout_ms = if block.timeout_ms == 0 {
            0
        } else {
            deadline.saturating_duration_since(std::time::Instant::now()).as_millis().max(1) as u64
        };
        let end = wait(&core, slot, timeout_ms, fd).await;
        cancel(&core, registered);
        core.block_slots.borrow_mut().take(slot);
        match end {
            WaitEnd::Outcome(_) => continue,
            WaitEnd::Timeout => {
                multi::run(&core, TxMode::Fresh, id, &argv.args(), db, resp3, out, false).await;
                return Some(WaitEnd::Timeout);
            }
            WaitEnd::Hangup => return Some(WaitEnd::Hangup),
        }
    }
}

/// How many clients of this core are blocked (INFO's blocked_clients).
pub fn blocked_here(core: &Core) -> usize {
    core.blocked_clients.get()
}

impl Core {
    /// Used by tests and INFO: the waiters registered on this core.
    pub fn waiting_here(&self) -> usize {
        self.waiters.borrow().len()
    }
}

pub type WaitersCell = RefCell<Waiters>;
pub type SlotsCell = RefCell<Slots>;
