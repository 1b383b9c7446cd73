//! One client connection: parses its pipeline, sends each command where its
//! keys live, and keeps the replies in the order the commands came.
//!
//! Within one read, commands for this core run at once; commands for another
//! core are collected into one batch per core and sent when the read is done
//! (or at a barrier); a command over keys on several cores, or one that
//! depends on all earlier commands having run (HELLO, INFO, FLUSHALL...), is a
//! barrier: everything before it is sent and awaited first. Replies of
//! commands that ran at once are held aside while an earlier command's reply
//! is still out on another core.

use crate::client::ClientInfo;
use crate::core::Core;
use crate::router::{self, Batch};
use crate::{admin, multi};
use shoal_engine::command::{flags, CmdId, Registry, Run};
use shoal_engine::{CmdError, Reply};
use shoal_net::conn::{Outbox, Step};
use shoal_net::resp::{Limits, Parsed, Parser};
use std::cell::RefCell;
use std::rc::Rc;

/// How many commands one call handles before the replies are written out.
const MAX_COMMANDS_PER_CALL: usize = 1024;

pub struct Session {
    parser: Parser,
    argv_cache: Vec<&'static [u8]>,
    /// The commands framed from the current input: (first, end) into `ranges`.
    cmds: Vec<(usize, usize)>,
    ranges: Vec<Arg>,
    /// Unescaped arguments of inline commands.
    side_args: Vec<u8>,
    /// Scratch for the prefetch passes: each key's place, reused across reads.
    located: RefCell<Vec<(usize, u64)>>,
    pub st: State,
}

/// Where an argument's bytes are: in the input, or in `side_args`.
#[derive(Clone, Copy)]
enum Arg {
    Input(usize, usize),
    Side(usize, usize),
}

/// Where a reply held aside comes from.
enum Part {
    Side(usize, usize),
    Batch(usize, usize),
}

/// The connection's state, apart from the parser.
pub struct State {
    pub core: Rc<Core>,
    pub client: Rc<RefCell<ClientInfo>>,
    pub db: usize,
    pub resp3: bool,
    pub authenticated: bool,
    pub close: bool,
    /// `Held` while EXEC runs the queued commands under its own locks.
    pub tx_mode: crate::txn::TxMode,
    /// Commands queued since MULTI.
    pub queue: Option<crate::transaction::Queue>,
    /// Keys under WATCH.
    pub watched: Vec<crate::transaction::Watched>,
    /// This connection's pub/sub subscriptions.
    pub subs: crate::pubsub::Subscriptions,
    /// Where messages for this connection go between its replies.
    pub outbox: Rc<Outbox>,
    /// Cluster mode: ASKING was sent (the next command may use an importing slot).
    pub asking: bool,
    /// Cluster mode: READONLY was sent (a replica serves reads of its master's slots).
    pub readonly: bool,
    /// This is the replication link's client of a master: it may write to a
    /// read-only replica, and its bulk strings have no length limit.
    pub master: bool,
    /// What REPLCONF said, for a PSYNC or SYNC to come.
    pub replconf: Option<crate::master::ReplConf>,
    /// Writes admitted in this read (see `pause`).
    pub writes_admitted: usize,
    batches: Vec<Option<Batch>>,
    parts: Vec<Part>,
    side: Vec<u8>,
    /// Some reply of this read is out on another core: later replies go aside.
    deferred: bool,
    /// A command for this core had to wait for locks: later ones queue behind it.
    local_deferred: bool,
}

impl Session {
    pub fn new(core: Rc<Core>, client: Rc<RefCell<ClientInfo>>, outbox: Rc<Outbox>) -> Session {
        let cores = core.shared.cores;
        // As in Redis, a connection made while no password is set is
        // authenticated (as the default user) and stays so if one is set later.
        let authenticated = client.borrow().authenticated;
        Session {
            parser: Parser::new(),
            argv_cache: Vec::new(),
            cmds: Vec::new(),
            ranges: Vec::new(),
            side_args: Vec::new(),
            located: RefCell::new(Vec::new()),
            st: State {
                core,
                client,
                db: 0,
                resp3: false,
                authenticated,
                close: false,
                tx_mode: crate::txn::TxMode::Fresh,
                queue: None,
                watched: Vec::new(),
                subs: Default::default(),
                outbox,
                asking: false,
                readonly: false,
                master: false,
                replconf: None,
                writes_admitted: 0,
                batches: (0..cores).map(|_| None).collect(),
                parts: Vec::new(),
                side: Vec::new(),
                deferred: false,
                local_deferred: false,
            },
        }
    }
}

/// Runs one command queued by MULTI, under the locks EXEC holds, and appends
/// its reply to `out`.
pub async fn run_queued(st: &mut State, id: CmdId, argv: &[&[u8]], out: &mut Vec<u8>) {
    let core = st.core.clone();
    let (db, resp3) = (st.db, st.resp3);
    match Registry::get().entry(id).cmd.run {
        Run::Shard(_) => match router::placement(&core, id, argv) {
            None => core.exec(id, argv, db, resp3, out),
            Some(Ok(c)) if c == core.index() => core.exec(id, argv, db, resp3, out),
            Some(Ok(c)) => {
                let owned = multi::OwnedArgv::from(argv);
                let reply = core
                    .call(c, move |core| {
                        let mut o = Vec::new();
                        core.exec(id, &owned.args(), db, resp3, &mut o);
                        o
                    })
                    .await;
                out.extend_from_slice(&reply);
            }
            Some(Err(())) => {
                multi::run(&core, st.tx_mode, id, argv, db, resp3, out, false).await;
            }
        },
        Run::Server(s) => admin::run(st, s, id, argv, out).await,
        Run::Container => unreachable!("resolve returns a subcommand"),
    }
}

/// Reuses the allocation of an argument vector across commands (the
/// collection happens in place, so no memory is allocated).
fn reuse<'a>(mut v: Vec<&'static [u8]>) -> Vec<&'a [u8]> {
    v.clear();
    v.into_iter().map(|a| a as &'a [u8]).collect()
}

fn recycle(mut v: Vec<&[u8]>) -> Vec<&'static [u8]> {
    v.clear();
    v.into_iter().map(|_| &[][..]).collect()
}

fn arg_of<'a>(ranges: &[Arg], side: &'a [u8], input: &'a [u8], i: usize) -> &'a [u8] {
    match ranges[i] {
        Arg::Input(a, b) => &input[a..b],
        Arg::Side(a, b) => &side[a..b],
    }
}

impl Session {
    fn arg<'a>(&'a self, input: &'a [u8], i: usize) -> &'a [u8] {
        arg_of(&self.ranges, &self.side_args, input, i)
    }

    /// Starts loading the entries, then the values, of the first keys of the
    /// framed commands that this core serves, so that running the commands
    /// finds them in cache.
    fn prefetch(&self, input: &[u8]) {
        if self.cmds.len() < 2 {
            return;
        }
        let core = &self.st.core;
        let me = core.index();
        let single = core.shared.cores == 1;
        let key = |&(first, end): &(usize, usize)| {
            let k = (end - first >= 2).then(|| self.arg(input, first + 1))?;
            (single || core.shared.core_of(k) == me).then_some(k)
        };
        let shard = core.shard.borrow();
        shard.dbs()[self.st.db]
            .prefetch_keys(self.cmds.iter().filter_map(key), &mut self.located.borrow_mut());
    }
}

impl shoal_net::conn::Session for Session {
    async fn on_input(&mut self, input: &[u8], out: &mut Vec<u8>) -> Step {
        let (mut consumed, mut need, mut error) = (0, None, None);
        let out_start = out.len();
        self.st.client.borrow_mut().busy = true;
        crate::core::tick();
        let limits = self.st.limits();
        // Frame a run of commands first, then look their keys up in passes,
        // then run them: the cache misses of a pipeline's lookups overlap.
        self.cmds.clear();
        self.ranges.clear();
        self.side_args.clear();
        while self.cmds.len() < MAX_COMMANDS_PER_CALL {
            let buf = &input[consumed..];
            match self.parser.parse(buf, &limits) {
                Parsed::Command { consumed: c } => {
                    let first = self.ranges.len();
                    match self.parser.arg_ranges() {
                        Some(r) => {
                            self.ranges.extend(r.iter().map(|&(a, b)| Arg::Input(consumed + a, consumed + b)))
                        }
                        None => {
                            for a in self.parser.args(buf) {
                                let start = self.side_args.len();
                                self.side_args.extend_from_slice(a);
                                self.ranges.push(Arg::Side(start, self.side_args.len()));
                            }
                        }
                    }
                    self.cmds.push((first, self.ranges.len()));
                    consumed += c;
                    // These may change the limits the next requests are framed with.
                    let name = self.arg(input, first);
                    if [&b"auth"[..], b"hello", b"config"].iter().any(|n| name.eq_ignore_ascii_case(n)) {
                        break;
                    }
                }
                Parsed::Empty { consumed: c } => consumed += c,
                Parsed::Incomplete { need: nd } => {
                    need = nd;
                    break;
                }
                Parsed::Error(e) => {
                    error = Some(e);
                    consumed = input.len();
                    break;
                }
            }
        }
        self.prefetch(input);
        let n = self.cmds.len();
        for i in 0..n {
            if self.st.close {
                break;
            }
            let (first, end) = self.cmds[i];
            let mut argv = reuse(std::mem::take(&mut self.argv_cache));
            let (ranges, side) = (&self.ranges, &self.side_args);
            argv.extend((first..end).map(|a| arg_of(ranges, side, input, a)));
            self.st.dispatch(&argv, out).await;
            self.argv_cache = recycle(argv);
        }
        if let Some(e) = error {
            self.st.flush(out).await;
            out.extend_from_slice(b"-ERR ");
            out.extend_from_slice(&e.message());
            out.extend_from_slice(b"\r\n");
            self.st.close = true;
        }
        self.st.flush(out).await;
        crate::pause::release(&mut self.st);
        {
            let mut stats = self.st.core.stats.borrow_mut();
            stats.net_input_bytes += consumed as u64;
            stats.net_output_bytes += (out.len() - out_start) as u64;
        }
        if n > 0 {
            self.st.client.borrow_mut().last_ms = crate::core::now_ms();
        }
        {
            let mut c = self.st.client.borrow_mut();
            c.busy = false;
            if c.killed {
                self.st.close = true;
            }
        }
        Step { consumed, close: self.st.close, need }
    }

    fn query_buffer_limit(&self) -> usize {
        self.st.core.config.borrow().client_query_buffer_limit as usize
    }

    fn on_buffers(&mut self, used: usize, capacity: usize) {
        let mut c = self.st.client.borrow_mut();
        c.qbuf = used;
        c.qbuf_free = capacity - used;
    }
}

impl State {
    fn limits(&self) -> Limits {
        let c = self.core.config.borrow();
        Limits {
            max_bulk_len: if self.master { u64::MAX } else { c.proto_max_bulk_len },
            authenticated: self.authenticated || c.requirepass.is_empty(),
        }
    }

    /// Whether this client must still authenticate.
    pub fn auth_required(&self) -> bool {
        !self.authenticated && !self.core.config.borrow().requirepass.is_empty()
    }

    async fn dispatch(&mut self, argv: &[&[u8]], out: &mut Vec<u8>) {
        let reg = Registry::get();
        let id = match reg.resolve(argv) {
            Ok(id) => id,
            Err(e) => {
                // Redis counts a known command with a bad arity as rejected.
                let known = reg.find(argv[0]);
                self.core.record_rejected(known.filter(|_| !e.line().starts_with("ERR unknown")), &e);
                crate::transaction::flag_failed(self);
                self.error(out, &e);
                return;
            }
        };
        let cmd = reg.entry(id).cmd;
        if self.auth_required() && !cmd.has_flag(flags::NO_AUTH) {
            let e = CmdError::new("NOAUTH Authentication required.");
            self.core.record_rejected(Some(id), &e);
            crate::transaction::flag_failed(self);
            self.error(out, &e);
            return;
        }
        // A write held by a pause (a manual failover) is checked afterwards:
        // this node may no longer serve its keys.
        let queued = self.queue.is_some()
            && !crate::transaction::runs_inside_multi(crate::transaction::ServerCmdOrShard::of(id));
        if !queued && !self.master && crate::pause::may_write(cmd) {
            crate::pause::admit(self, cmd, out).await;
        }
        if self.core.shared.cluster_routes.is_some()
            && !self.master
            && !self.cluster_checks(id, argv, out).await
        {
            return;
        }
        if let Some(e) = self.replica_refusal(cmd) {
            self.core.record_rejected(Some(id), &e);
            crate::transaction::flag_failed(self);
            self.error(out, &e);
            return;
        }
        if self.core.shared.script_busy.load(std::sync::atomic::Ordering::Acquire)
            && !cmd.has_flag(flags::ALLOW_BUSY)
        {
            // A script on some core ran past busy-reply-threshold.
            let e = match self.core.shared.scripts.busy_script() {
                Some(r) if !r.eval_mode => shoal_engine::script::BUSY_FUNCTION,
                _ => shoal_engine::script::BUSY_SCRIPT,
            };
            self.core.record_rejected(Some(id), &e);
            crate::transaction::flag_failed(self);
            self.error(out, &e);
            return;
        }
        if self.subs.active() && !self.resp3 {
            let name = &reg.entry(id).fullname;
            if name == "ping" {
                self.with_reply(out, |o| crate::pubsub::subscribed_ping(argv, o));
                return;
            }
            if !crate::pubsub::allowed_while_subscribed(name) {
                let e = CmdError::owned(format!(
                    "ERR Can't execute '{name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
                ));
                self.core.record_rejected(Some(id), &e);
                crate::transaction::flag_failed(self);
                self.error(out, &e);
                return;
            }
        }
        self.client.borrow_mut().last_cmd = Some(id);
        if queued {
            crate::transaction::queue(self, id, argv, out);
            return;
        }
        match cmd.run {
            Run::Shard(_) if cmd.has_flag(flags::BLOCKING) && self.tx_mode == crate::txn::TxMode::Fresh => {
                // A blocking command holds up the rest of the pipeline, as in
                // Redis; the replies before it go out now.
                self.flush(out).await;
                if !out.is_empty() {
                    let fd = self.client.borrow().fd;
                    if shoal_net::socket::write_all_fd(fd, out).await.is_err() {
                        self.close = true;
                        out.clear();
                        return;
                    }
                    out.clear();
                }
                let mut reply = Vec::new();
                crate::blocking::run(self, id, argv, &mut reply).await;
                out.extend_from_slice(&reply);
            }
            Run::Shard(_) => {
                let me = self.core.index();
                match router::placement(&self.core, id, argv) {
                    None if cmd.group == shoal_engine::command::Group::Scripting => {
                        // SCRIPT and FUNCTION change what every core runs:
                        // the earlier commands of the pipeline, batched for
                        // other cores, must run first.
                        self.flush(out).await;
                        self.run_here(id, argv, out, false)
                    }
                    None => self.run_here(id, argv, out, false),
                    Some(Ok(c)) if c == me => self.run_here(id, argv, out, true),
                    Some(Ok(c)) => self.enqueue(c, id, argv),
                    Some(Err(())) => {
                        self.flush(out).await;
                        multi::run(&self.core, self.tx_mode, id, argv, self.db, self.resp3, out, false).await;
                    }
                }
            }
            Run::Server(s) => admin::run(self, s, id, argv, out).await,
            Run::Container => unreachable!("resolve returns a subcommand"),
        }
    }

    /// A replica refuses clients' writes (`replica-read-only`), while its link
    /// is down every command but the stale ones (`replica-serve-stale-data
    /// no`), and while it loads its master's data every command Redis does
    /// not allow then.
    fn replica_refusal(&self, cmd: &shoal_engine::command::Command) -> Option<CmdError> {
        use std::sync::atomic::Ordering::Relaxed;
        let shared = &self.core.shared;
        if shared.bgsave_failed.load(Relaxed)
            && (cmd.has_flag(flags::WRITE) || cmd.name == "ping")
            && !self.master
            && crate::save::writes_stopped(&self.core)
        {
            return Some(shoal_engine::error::MISCONF);
        }
        if cmd.has_flag(flags::WRITE) && shared.too_few_replicas.load(Relaxed) {
            return Some(shoal_engine::error::NOREPLICAS);
        }
        if !self.master && cmd.has_flag(flags::WRITE) && shared.scripts.writes_refused.load(Relaxed) {
            return Some(shoal_engine::error::READONLY);
        }
        if shared.master_link_down.load(Relaxed)
            && !cmd.has_flag(flags::STALE)
            && !self.core.config.borrow().replica_serve_stale_data
        {
            return Some(shoal_engine::error::MASTERDOWN);
        }
        if shared.loading.load(Relaxed) && !cmd.has_flag(flags::LOADING) {
            return Some(shoal_engine::error::LOADING);
        }
        None
    }

    /// Cluster mode: redirects or refuses the command as Redis Cluster does,
    /// or runs it (on a migrating slot). False when the command is done with.
    async fn cluster_checks(&mut self, id: CmdId, argv: &[&[u8]], out: &mut Vec<u8>) -> bool {
        match crate::cluster::redirect(self, id, argv, out).await {
            crate::cluster::Redirect::Run => true,
            crate::cluster::Redirect::Done(reply) => {
                self.with_reply(out, |o| o.extend_from_slice(&reply));
                false
            }
            crate::cluster::Redirect::Refuse(e) => {
                self.core.record_rejected(Some(id), &e);
                let exec = Registry::get().entry(id).cmd.run;
                if matches!(exec, Run::Server(shoal_engine::command::ServerCmd::Exec)) {
                    // As Redis's discardTransaction.
                    self.queue = None;
                    self.watched.clear();
                } else {
                    crate::transaction::flag_failed(self);
                }
                self.error(out, &e);
                false
            }
        }
    }

    /// Runs a command on this core now, unless its keys are locked or an
    /// earlier command of this read is already waiting here.
    fn run_here(&mut self, id: CmdId, argv: &[&[u8]], out: &mut Vec<u8>, keyed: bool) {
        if keyed {
            if self.local_deferred {
                return self.enqueue(self.core.index(), id, argv);
            }
            let txq_idle = self.core.txq.borrow().is_idle();
            if !txq_idle {
                let intents = self.core.intents(id, argv, self.db);
                if self.core.txq.borrow().blocks(&intents) {
                    self.local_deferred = true;
                    return self.enqueue(self.core.index(), id, argv);
                }
            }
        }
        let (core, db, resp3) = (self.core.clone(), self.db, self.resp3);
        self.with_reply(out, |o| core.exec(id, argv, db, resp3, o));
    }

    fn enqueue(&mut self, core: usize, id: CmdId, argv: &[&[u8]]) {
        let resp3 = self.resp3;
        let batch = self.batches[core].get_or_insert_with(|| Batch::new(resp3));
        let i = batch.push(id, self.db, argv);
        self.parts.push(Part::Batch(core, i));
        self.deferred = true;
    }

    /// Writes a reply produced now, in its place.
    pub fn with_reply(&mut self, out: &mut Vec<u8>, f: impl FnOnce(&mut Vec<u8>)) {
        if self.deferred {
            let start = self.side.len();
            f(&mut self.side);
            self.parts.push(Part::Side(start, self.side.len()));
        } else {
            f(out);
        }
    }

    pub fn error(&mut self, out: &mut Vec<u8>, e: &CmdError) {
        let resp3 = self.resp3;
        self.with_reply(out, |o| Reply::new(o, resp3).error(e.line()));
    }

    /// Sends the pending batches, waits for them, and writes every held reply in order.
    pub async fn flush(&mut self, out: &mut Vec<u8>) {
        if !self.deferred {
            return;
        }
        let mut waiting = Vec::new();
        for (c, slot) in self.batches.iter_mut().enumerate() {
            if let Some(batch) = slot.take() {
                let reply = self
                    .core
                    .call_with(c, move |core, responder| router::run_batch(core, batch, 0, responder));
                waiting.push((c, reply));
            }
        }
        let mut done: Vec<Option<Batch>> = (0..self.batches.len()).map(|_| None).collect();
        for (c, reply) in waiting {
            done[c] = Some(reply.await);
        }
        for part in self.parts.drain(..) {
            match part {
                Part::Side(a, b) => out.extend_from_slice(&self.side[a..b]),
                Part::Batch(c, i) => out.extend_from_slice(done[c].as_ref().expect("sent batch").reply(i)),
            }
        }
        self.side.clear();
        self.deferred = false;
        self.local_deferred = false;
    }
}
