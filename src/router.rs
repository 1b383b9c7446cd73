//! Where a command runs, and batches of commands bound for one core.
//!
//! A connection reads a pipeline, runs the commands whose keys its own core
//! serves at once, and collects the others into one [`Batch`] per owning core.
//! Each batch travels as one message, runs there in order, and comes back
//! with its replies, which the connection splices into place.

use crate::core::Core;
use crate::hop::Responder;
use crate::txn;
use shoal_engine::command::{CmdId, Registry};
use std::rc::Rc;

/// Commands of one pipeline read bound for one core, with their replies once run.
/// Owns all its bytes, so it can cross cores.
pub struct Batch {
    pub resp3: bool,
    args: Vec<u8>,
    arg_ends: Vec<u32>,
    cmds: Vec<BatchCmd>,
    out: Vec<u8>,
    reply_ends: Vec<u32>,
}

struct BatchCmd {
    id: CmdId,
    db: u32,
    first_arg: u32,
    argc: u32,
}

impl Batch {
    pub fn new(resp3: bool) -> Batch {
        Batch {
            resp3,
            args: Vec::new(),
            arg_ends: Vec::new(),
            cmds: Vec::new(),
            out: Vec::new(),
            reply_ends: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.cmds.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cmds.is_empty()
    }

    /// Appends a command; returns its index in the batch.
    pub fn push(&mut self, id: CmdId, db: usize, argv: &[&[u8]]) -> usize {
        let first_arg = self.arg_ends.len() as u32;
        for a in argv {
            self.args.extend_from_slice(a);
            self.arg_ends.push(self.args.len() as u32);
        }
        self.cmds.push(BatchCmd { id, db: db as u32, first_arg, argc: argv.len() as u32 });
        self.cmds.len() - 1
    }

    fn argv<'a>(&'a self, i: usize, into: &mut Vec<&'a [u8]>) {
        argv_of(&self.args, &self.arg_ends, &self.cmds[i], into);
    }

    /// The reply of command `i`, once the batch has run.
    pub fn reply(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.reply_ends[i - 1] as usize };
        &self.out[start..self.reply_ends[i] as usize]
    }

    /// The lock intents of commands `from..`.
    fn intents(&self, core: &Core, from: usize) -> Vec<(u64, bool)> {
        let mut argv = Vec::new();
        let mut all = Vec::new();
        for i in from..self.cmds.len() {
            self.argv(i, &mut argv);
            let c = &self.cmds[i];
            all.extend(core.intents(c.id, &argv, c.db as usize));
        }
        all
    }
}

fn argv_of<'a>(args: &'a [u8], arg_ends: &[u32], c: &BatchCmd, into: &mut Vec<&'a [u8]>) {
    into.clear();
    for a in c.first_arg..c.first_arg + c.argc {
        let end = arg_ends[a as usize] as usize;
        let start = if a == 0 { 0 } else { arg_ends[a as usize - 1] as usize };
        into.push(&args[start..end]);
    }
}

/// Runs `batch` from command `from` on `core` and answers with it. When a
/// command meets a key locked by an active multi-core transaction, the rest of
/// the batch waits behind that transaction, keeping its order.
pub fn run_batch(core: &Rc<Core>, mut batch: Batch, from: usize, responder: Responder<Batch>) {
    match run_until_blocked(core, &mut batch, from, true) {
        None => responder.send(core, batch),
        Some(i) => {
            let rest = batch.intents(core, i);
            txn::run_after_locks(
                core,
                rest,
                Box::new(move |core| {
                    let mut batch = batch;
                    run_until_blocked(core, &mut batch, i, false);
                    responder.send(core, batch);
                }),
            );
        }
    }
}

/// Runs commands `from..` in order. With `check`, stops before the first one
/// whose keys an active transaction holds and returns its index.
fn run_until_blocked(core: &Rc<Core>, batch: &mut Batch, from: usize, check: bool) -> Option<usize> {
    let Batch { resp3, args, arg_ends, cmds, out, reply_ends } = batch;
    prefetch(core, args, arg_ends, &cmds[from..]);
    let mut argv = Vec::with_capacity(8);
    for (i, c) in cmds.iter().enumerate().skip(from) {
        argv_of(args, arg_ends, c, &mut argv);
        let db = c.db as usize;
        if check && !core.txq.borrow().is_idle() {
            let intents = core.intents(c.id, &argv, db);
            if core.txq.borrow().blocks(&intents) {
                return Some(i);
            }
        }
        core.exec(c.id, &argv, db, *resp3, out);
        reply_ends.push(out.len() as u32);
    }
    None
}

/// Starts loading the first keys of `cmds` into the cache before they run, as
/// the session does for the commands it runs itself (`Db::prefetch_keys`):
/// without it every command of a batch from another core waited for its
/// lookups' cache misses one after another (23% of a core's time at
/// `--threads 2`, GET pipeline 16, 1M keys).
fn prefetch(core: &Core, args: &[u8], arg_ends: &[u32], cmds: &[BatchCmd]) {
    let Some(db) = cmds.first().map(|c| c.db) else {
        return;
    };
    if cmds.len() < 2 {
        return;
    }
    let key = |c: &BatchCmd| {
        let a = c.first_arg as usize + 1;
        (c.db == db && c.argc >= 2).then(|| &args[arg_ends[a - 1] as usize..arg_ends[a] as usize])
    };
    let mut places = Vec::with_capacity(cmds.len());
    core.shard.borrow().dbs()[db as usize].prefetch_keys(cmds.iter().filter_map(key), &mut places);
}

/// The cores serving the keys of a shard command, or `None` when it has no keys.
/// `Some(Ok(core))` when they all live on one core, `Some(Err(()))` when they span several.
pub fn placement(core: &Core, id: CmdId, argv: &[&[u8]]) -> Option<Result<usize, ()>> {
    let cmd = Registry::get().entry(id).cmd;
    let mut positions = cmd.key_positions(argv);
    let first = positions.next()?;
    let shared = &core.shared;
    if shared.cores == 1 {
        return Some(Ok(0));
    }
    if crate::multi::reads_undeclared_keys(id, argv) {
        return Some(Err(()));
    }
    let home = shared.core_of(argv[first]);
    for p in positions {
        if shared.core_of(argv[p]) != home {
            return Some(Err(()));
        }
    }
    Some(Ok(home))
}
