//! A core's whole keyspace and the context a command runs in.

use crate::keyspace::{Db, KeySlotFn, Rng};
use crate::reply::Reply;

/// Settings the engine's commands consult. Each core keeps its own copy;
/// CONFIG SET updates every core's.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    pub databases: usize,
    /// Largest string a command may build (APPEND, SETRANGE), Redis's `proto-max-bulk-len`.
    pub proto_max_bulk_len: u64,
    /// A hash stays one compact listpack up to this many fields...
    pub hash_max_listpack_entries: usize,
    /// ...each field and value at most this long.
    pub hash_max_listpack_value: usize,
    /// A set of integers stays an intset up to this many members.
    pub set_max_intset_entries: usize,
    /// A sorted set stays one listpack up to this many members...
    pub zset_max_listpack_entries: usize,
    /// ...each member at most this long.
    pub zset_max_listpack_value: usize,
    /// A HyperLogLog stays sparse up to this many bytes.
    pub hll_sparse_max_bytes: usize,
    /// Cluster mode: one database only, so MOVE and COPY ... DB are refused.
    pub cluster_enabled: bool,
    /// DEL frees large values on the lazyfree thread (`lazyfree-lazy-user-del`).
    pub lazyfree_lazy_user_del: bool,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            databases: 16,
            proto_max_bulk_len: 512 * 1024 * 1024,
            hash_max_listpack_entries: 128,
            hash_max_listpack_value: 64,
            set_max_intset_entries: 512,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
            hll_sparse_max_bytes: 3000,
            cluster_enabled: false,
            lazyfree_lazy_user_del: false,
        }
    }
}

/// The keys one core owns: `databases` numbered databases of per-slot tables.
pub struct Shard {
    dbs: Vec<Db>,
    pub rng: Rng,
    pub config: EngineConfig,
    /// Writes since start, Redis's `server.dirty`.
    pub dirty: u64,
    /// Keys that got elements a blocked client may be waiting for (Redis's
    /// `signalKeyAsReady`): (database, key). The server drains it after each command.
    pub ready: Vec<(usize, Vec<u8>)>,
    /// The process-wide store of Lua scripts and function libraries: the
    /// server gives every core's shard the same one.
    pub scripts: std::sync::Arc<crate::script::Scripts>,
}

impl Shard {
    pub fn new(config: EngineConfig, keyslot: KeySlotFn, seed: u64) -> Shard {
        let dbs = (0..config.databases).map(|_| Db::new(keyslot, seed)).collect();
        Shard {
            dbs,
            rng: Rng::new(seed ^ 0x9E37_79B9_7F4A_7C15),
            config,
            dirty: 0,
            ready: Vec::new(),
            scripts: std::sync::Arc::new(crate::script::Scripts::default()),
        }
    }

    pub fn db(&mut self, index: usize) -> &mut Db {
        &mut self.dbs[index]
    }

    pub fn dbs(&self) -> &[Db] {
        &self.dbs
    }

    pub fn dbs_mut(&mut self) -> &mut [Db] {
        &mut self.dbs
    }

    /// Two distinct databases at once (MOVE, COPY ... DB).
    pub fn two_dbs(&mut self, a: usize, b: usize) -> (&mut Db, &mut Db) {
        assert_ne!(a, b);
        if a < b {
            let (lo, hi) = self.dbs.split_at_mut(b);
            (&mut lo[a], &mut hi[0])
        } else {
            let (lo, hi) = self.dbs.split_at_mut(a);
            (&mut hi[0], &mut lo[b])
        }
    }

    pub fn swap_dbs(&mut self, a: usize, b: usize) {
        self.dbs.swap(a, b);
    }

    pub fn keys(&self) -> usize {
        self.dbs.iter().map(|d| d.len()).sum()
    }
}

/// What a command handler works with: the shard its keys live on, the
/// client's selected database, the time the command started and the reply.
pub struct Ctx<'a> {
    pub shard: &'a mut Shard,
    pub db: usize,
    /// Unix time in ms, read once per command so that one command sees one instant.
    pub now: u64,
    pub out: Reply<'a>,
    /// Whether a blocking command may block now: false inside MULTI and
    /// scripts, and when the server re-runs a blocked command at its timeout.
    /// When it may not, the handler gives its "nothing there" reply itself.
    pub may_block: bool,
    /// Set by a blocking command (BLPOP, BZPOPMIN, XREAD BLOCK...) that found
    /// nothing and may block: it wrote no reply, and the server parks the client.
    pub block: Option<Block>,
    /// For scripts: whether a key the script did not declare in KEYS may be
    /// accessed from here (database, key); None = any key.
    #[allow(clippy::type_complexity)]
    pub key_check: Option<&'a dyn Fn(usize, &[u8]) -> bool>,
}

/// How a command that found nothing wants to wait.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    /// How long to wait in ms; 0 = forever.
    pub timeout_ms: u64,
    /// The command line to run again when a key gets ready or the wait times
    /// out, when it differs from the original (XREAD's `$` becomes the last ID).
    pub rewrite: Option<Vec<Vec<u8>>>,
}

impl<'a> Ctx<'a> {
    pub fn new(shard: &'a mut Shard, db: usize, now: u64, out: Reply<'a>) -> Ctx<'a> {
        Ctx { shard, db, now, out, may_block: false, block: None, key_check: None }
    }

    /// The selected database and the reply, borrowed together.
    pub fn parts(&mut self) -> (&mut Db, &mut Reply<'a>) {
        (&mut self.shard.dbs[self.db], &mut self.out)
    }

    pub fn db(&mut self) -> &mut Db {
        &mut self.shard.dbs[self.db]
    }

    /// Counts `n` changes to the data (Redis's `server.dirty`).
    pub fn dirty(&mut self, n: u64) {
        self.shard.dirty += n;
    }

    /// Marks `key` (in the selected database) as having received elements, so
    /// that clients blocked on it (BLPOP, BZPOPMIN, XREAD BLOCK...) get served.
    pub fn signal_ready(&mut self, key: &[u8]) {
        self.shard.ready.push((self.db, key.to_vec()));
    }
}
