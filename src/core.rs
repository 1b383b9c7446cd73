//! The state of one core, and running commands against it.
//!
//! Each executor thread owns one [`Core`]: its shard of the keyspace, its
//! transaction queue, its statistics, its clients and its channels to the
//! other cores. Nothing in it is shared with another thread except through
//! [`Shared`], which holds only what is fixed at start or atomic.

use crate::config::Config;
use crate::hop::{Peer, Pending};
use crate::stats::CoreStats;
use crate::txn::TxQueue;
use shoal_cluster::{CoreId, SlotMap};
use shoal_engine::command::{flags, CmdId, Registry};
use shoal_engine::{CmdError, Shard};
use std::cell::RefCell;

use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// What every core may read: fixed at start, or atomic.
pub struct Shared {
    pub cores: usize,
    pub slot_map: SlotMap,
    next_txid: AtomicU64,
    /// Numbers the records of the replication stream in the order their
    /// writes took effect (see `master`).
    pub repl_seq: AtomicU64,
    next_client_id: AtomicU64,
    pub connected_clients: AtomicUsize,
    pub started: Instant,
    pub started_unix: u64,
    pub run_id: String,
    pub port: u16,
    pub shutting_down: AtomicBool,
    pub config_file: Option<std::path::PathBuf>,
    pub executable: String,
    /// The CPU each core is pinned to.
    pub cpus: Vec<usize>,
    /// Every CPU the process may run on (helper threads run on any of them).
    pub allowed_cpus: Vec<usize>,
    /// Seeds the lock fingerprints, which every core must compute alike.
    pub lock_seed: u64,
    /// The slots each core serves, ascending (for SCAN).
    pub core_slots: Vec<Vec<u16>>,
    /// Lua scripts and function libraries, one store for every core.
    pub scripts: Arc<shoal_engine::script::Scripts>,
    /// A script has run past busy-reply-threshold on some core: the other
    /// cores answer BUSY to all but the commands Redis allows then.
    pub script_busy: AtomicBool,
    /// This server replicates a master (REPLICAOF).
    pub replica: AtomicBool,
    /// A replica is loading its master's data: clients get LOADING.
    pub loading: AtomicBool,
    /// A replica's link to its master is not up (for replica-serve-stale-data).
    pub master_link_down: AtomicBool,
    /// The last background save failed: with save points and
    /// `stop-writes-on-bgsave-error`, writes (and PING) get MISCONF.
    pub bgsave_failed: AtomicBool,
    /// Writes are refused for want of replicas (`min-replicas-to-write`).
    pub too_few_replicas: AtomicBool,
    /// Cluster mode: the routing table every core starts with.
    pub cluster_routes: Option<Arc<shoal_cluster::routes::Routes>>,
}

impl Shared {
    pub fn new(config: &Config, cores: usize, cpus: Vec<usize>) -> Shared {
        let started_unix = now_ms() / 1000;
        let slot_map = SlotMap::all(cores);
        let core_slots =
            (0..cores).map(|c| slot_map.slots_of(CoreId(c as u16)).map(|s| s.0).collect()).collect();
        Shared {
            cores,
            slot_map,
            core_slots,
            next_txid: AtomicU64::new(1),
            repl_seq: AtomicU64::new(0),
            next_client_id: AtomicU64::new(1),
            connected_clients: AtomicUsize::new(0),
            started: Instant::now(),
            started_unix,
            run_id: random_hex(40),
            port: config.port,
            shutting_down: AtomicBool::new(false),
            config_file: config.config_file.clone(),
            executable: std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default(),
            cpus,
            allowed_cpus: crate::config::available_cpus(),
            lock_seed: seed(),
            scripts: {
                let s = shoal_engine::script::Scripts::default();
                s.busy_reply_threshold_ms.store(config.busy_reply_threshold_ms, Ordering::Relaxed);
                Arc::new(s)
            },
            script_busy: AtomicBool::new(false),
            replica: AtomicBool::new(false),
            loading: AtomicBool::new(false),
            master_link_down: AtomicBool::new(false),
            bgsave_failed: AtomicBool::new(false),
            too_few_replicas: AtomicBool::new(crate::replica::too_few_replicas(config, false)),
            cluster_routes: None,
        }
    }

    pub fn next_txid(&self) -> u64 {
        self.next_txid.fetch_add(1, Ordering::Relaxed)
    }

    pub fn next_client_id(&self) -> u64 {
        self.next_client_id.fetch_add(1, Ordering::Relaxed)
    }

    /// The core that serves `key`.
    #[inline]
    pub fn core_of(&self, key: &[u8]) -> usize {
        self.slot_map.core_of(shoal_cluster::key_slot(key)).map_or(0, |c| c.index())
    }
}

/// One core's state. Lives on its executor thread, shared between that
/// thread's tasks through `Rc`; no borrow of a `RefCell` here is ever held
/// across an `.await`.
pub struct Core {
    pub id: CoreId,
    pub shared: Arc<Shared>,
    pub shard: RefCell<Shard>,
    pub txq: RefCell<TxQueue>,
    pub stats: RefCell<CoreStats>,
    pub clients: RefCell<crate::client::Clients>,
    /// This core's copy of the settings; CONFIG SET updates every core's.
    pub config: RefCell<Config>,
    pub peers: Vec<Option<Peer>>,
    pub pending: Pending,
    /// A keyspace for running commands over keys gathered from several cores.
    pub scratch: RefCell<Shard>,
    /// Hashes keys into lock fingerprints; the same on every core.
    hasher: foldhash::fast::FixedState,
    pub ops: RefCell<crate::stats::OpsMeter>,
    /// Clients (of any core) waiting on this core's keys.
    pub waiters: crate::blocking::WaitersCell,
    /// Where this core's blocked clients receive what they waited for.
    pub block_slots: crate::blocking::SlotsCell,
    pub blocked_clients: std::cell::Cell<usize>,
    /// Writes admitted on this core whose reads are not answered yet, and
    /// the unix ms until which new ones are held (0: none are); see `pause`.
    pub writes_running: std::cell::Cell<usize>,
    pub writes_paused_until: std::cell::Cell<u64>,
    /// The pub/sub subscriptions of this core's connections.
    pub pubsub: RefCell<crate::pubsub::Registry>,
    /// Cluster mode: who serves each slot (`None` when not in cluster mode).
    pub routes: RefCell<Option<Arc<shoal_cluster::routes::Routes>>>,
    /// The cluster bus, on the core that runs it.
    pub bus: RefCell<Option<Rc<crate::cluster::Bus>>>,
    /// Replication: the link to a master and the data set's replication
    /// id and offset (kept on core 0, which runs the link).
    pub repl: RefCell<crate::replica::Repl>,
    /// SAVE and BGSAVE: the save under way and the last one (kept on core 0).
    pub save: RefCell<crate::save::SaveState>,
    /// This core's replication records on their way to core 0.
    pub repl_out: crate::master::Outbox,
    /// Replication, master side: the stream, its backlog, the replicas (core 0).
    pub master: RefCell<crate::master::Master>,
}

pub fn keyslot(key: &[u8]) -> u16 {
    shoal_cluster::key_slot(key).0
}

impl Core {
    pub fn new(id: usize, shared: Arc<Shared>, config: Config, peers: Vec<Option<Peer>>) -> Core {
        let engine = engine_config(&config);
        let seed = seed();
        let shard = |config| {
            let mut s = Shard::new(config, keyslot, seed);
            s.scripts = shared.scripts.clone();
            RefCell::new(s)
        };
        Core {
            id: CoreId(id as u16),
            shard: shard(engine.clone()),
            scratch: shard(engine),
            txq: RefCell::new(TxQueue::default()),
            stats: RefCell::new(CoreStats::new(Registry::get().len())),
            clients: RefCell::new(Default::default()),
            config: RefCell::new(config),
            peers,
            pending: Pending::default(),
            hasher: foldhash::fast::FixedState::with_seed(shared.lock_seed),
            ops: RefCell::new(Default::default()),
            waiters: Default::default(),
            block_slots: Default::default(),
            blocked_clients: Default::default(),
            writes_running: Default::default(),
            writes_paused_until: Default::default(),
            pubsub: Default::default(),
            routes: RefCell::new(shared.cluster_routes.clone()),
            bus: RefCell::new(None),
            repl: Default::default(),
            save: Default::default(),
            repl_out: Default::default(),
            master: Default::default(),
            shared,
        }
    }

    pub fn index(&self) -> usize {
        self.id.index()
    }

    /// The lock fingerprint of `key` in database `db`.
    pub fn fingerprint(&self, db: usize, key: &[u8]) -> u64 {
        use std::hash::BuildHasher;
        self.hasher.hash_one(key) ^ (db as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }

    /// The lock intents of a shard command: one per key, exclusive when it writes.
    pub fn intents(&self, id: CmdId, argv: &[&[u8]], db: usize) -> Vec<(u64, bool)> {
        let cmd = Registry::get().entry(id).cmd;
        let excl = !cmd.has_flag(flags::READONLY);
        cmd.key_positions(argv)
            .map(|i| (self.fingerprint(db, argv[i]), excl))
            .chain(extra_db_intents(self, id, argv, db, excl))
            .collect()
    }

    /// Runs a shard command on this core and appends its reply (or error) to `out`.
    /// The caller has checked locks.
    #[inline]
    pub fn exec(&self, id: CmdId, argv: &[&[u8]], db: usize, resp3: bool, out: &mut Vec<u8>) {
        self.exec_may_block(id, argv, db, resp3, out, false);
    }

    /// Like [`Core::exec`]; with `may_block`, a blocking command that finds
    /// nothing writes no reply and says how it wants to wait.
    pub fn exec_may_block(
        &self,
        id: CmdId,
        argv: &[&[u8]],
        db: usize,
        resp3: bool,
        out: &mut Vec<u8>,
        may_block: bool,
    ) -> Option<shoal_engine::shard::Block> {
        if let Some(e) = crate::cluster::moved_meanwhile(self, id, argv) {
            shoal_engine::Reply::new(out, resp3).error(e.line());
            return None;
        }
        let block = crate::multi::exec_on(self, &self.shard, id, argv, db, resp3, out, may_block);
        if !self.shard.borrow().ready.is_empty() {
            crate::blocking::serve_ready(self);
        }
        block
    }

    /// Records an error reply given before a command ran (unknown command, arity...).
    pub fn record_rejected(&self, id: Option<CmdId>, e: &CmdError) {
        let mut stats = self.stats.borrow_mut();
        if let Some(id) = id {
            stats.cmds[id.0 as usize].rejected += 1;
        }
        stats.record_error(e);
    }
}

/// MOVE and COPY ... DB also touch the key in another database.
fn extra_db_intents(core: &Core, id: CmdId, argv: &[&[u8]], _db: usize, excl: bool) -> Vec<(u64, bool)> {
    let name = Registry::get().entry(id).cmd.name;
    let target = match name {
        "move" if argv.len() == 3 => {
            shoal_engine::num::parse_i64(argv[2]).filter(|&n| n >= 0).map(|n| n as usize)
        }
        "copy" => shoal_engine::cmd::keys::copy_target_db(argv),
        _ => None,
    };
    match target {
        Some(t) => {
            let key = if name == "move" { argv[1] } else { argv[2] };
            vec![(core.fingerprint(t, key), excl)]
        }
        _ => Vec::new(),
    }
}

pub fn engine_config(c: &Config) -> shoal_engine::EngineConfig {
    shoal_engine::EngineConfig {
        databases: c.databases,
        proto_max_bulk_len: c.proto_max_bulk_len,
        hash_max_listpack_entries: c.hash_max_listpack_entries,
        hash_max_listpack_value: c.hash_max_listpack_value,
        set_max_intset_entries: c.set_max_intset_entries,
        zset_max_listpack_entries: c.zset_max_listpack_entries,
        zset_max_listpack_value: c.zset_max_listpack_value,
        hll_sparse_max_bytes: c.hll_sparse_max_bytes,
        cluster_enabled: c.cluster.enabled,
        lazyfree_lazy_user_del: c.lazyfree_lazy_user_del,
    }
}

thread_local! {
    static COMMAND_CLOCK: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    static TIMER: quanta::Clock = quanta::Clock::new();
}

/// Reads the wall clock for the commands about to run on this thread (a
/// pipeline read, a batch, a message): Redis's per-call `mstime()`, read once
/// per group of commands instead of once per command.
pub fn tick() -> u64 {
    let now = now_ms();
    COMMAND_CLOCK.with(|c| c.set(now));
    now
}

/// The time of the commands running now (see [`tick`]).
pub fn command_time() -> u64 {
    let t = COMMAND_CLOCK.with(|c| c.get());
    if t == 0 {
        tick()
    } else {
        t
    }
}

/// A cheap timestamp for measuring command durations (the TSC where there is one).
pub fn timer_start() -> u64 {
    TIMER.with(|c| c.raw())
}

/// Microseconds since `start` (from [`timer_start`]).
pub fn timer_usec(start: u64) -> u64 {
    TIMER.with(|c| c.delta_as_nanos(start, c.raw())) / 1000
}

/// Unix time in milliseconds.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

fn seed() -> u64 {
    let mut b = [0u8; 8];
    if getrandom(&mut b) {
        u64::from_le_bytes(b)
    } else {
        now_ms() ^ (std::process::id() as u64) << 32
    }
}

fn getrandom(buf: &mut [u8]) -> bool {
    // SAFETY: the pointer and length describe `buf`, which the call fills.
    let n = unsafe { libc::getrandom(buf.as_mut_ptr().cast(), buf.len(), 0) };
    n == buf.len() as isize
}

/// `n` random lowercase hex digits (run_id).
pub fn random_hex(n: usize) -> String {
    let mut b = vec![0u8; n.div_ceil(2)];
    if !getrandom(&mut b) {
        let s = seed();
        for (i, x) in b.iter_mut().enumerate() {
            *x = (s >> ((i % 8) * 8)) as u8 ^ i as u8;
        }
    }
    let mut s: String = b.iter().map(|x| format!("{x:02x}")).collect();
    s.truncate(n);
    s
}
