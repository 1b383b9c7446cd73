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
    /// Replication: the writes of the commands run since the server last
    /// took them, as the command lines that redo them on a replica (Redis's
    /// also-propagate list). `None` while no replication stream exists.
    pub propagated: Option<Vec<Op>>,
}

/// One write as a replica redoes it: a command line in a database, already
/// in RESP (one allocation per write, ready for the stream).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Op {
    pub db: usize,
    pub resp: Vec<u8>,
}

impl Op {
    pub fn new<A: AsRef<[u8]>>(db: usize, argv: &[A]) -> Op {
        let len: usize = argv.iter().map(|a| a.as_ref().len() + 16).sum();
        let mut resp = Vec::with_capacity(len + 16);
        let mut out = Reply::new(&mut resp, false);
        out.array(argv.len());
        for a in argv {
            out.bulk(a.as_ref());
        }
        Op { db, resp }
    }
}

/// Runs a command handler and, while a replication stream exists, records
/// what it changed (Redis's `call()` propagation): first a DEL for each key
/// it found expired, then its rewritten form if it gave one
/// ([`Ctx::propagate`]), else its own command line if it changed anything
/// (`dirty` moved).
pub fn call(ctx: &mut Ctx<'_>, handler: crate::command::Handler, argv: &[&[u8]]) -> crate::CmdResult {
    let Some(ops) = &ctx.shard.propagated else {
        return handler(ctx, argv);
    };
    let (mark, dirty) = (ops.len(), ctx.shard.dirty);
    ctx.rewritten = false;
    let result = handler(ctx, argv);
    let shard = &mut *ctx.shard;
    let expired = shard.take_expired();
    let ops = shard.propagated.as_mut().expect("set above");
    if !expired.is_empty() {
        ops.splice(mark..mark, expired);
    }
    if !ctx.rewritten && shard.dirty != dirty {
        ops.push(Op::new(ctx.db, argv));
    }
    result
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
            propagated: None,
        }
    }

    /// Starts (or stops) recording writes for a replication stream.
    pub fn set_propagation(&mut self, on: bool) {
        self.propagated = on.then(Vec::new);
        for db in &mut self.dbs {
            db.expired_log = on.then(Vec::new);
        }
    }

    /// The DELs of keys deleted on expiry since the last call (active or lazy).
    pub fn take_expired(&mut self) -> Vec<Op> {
        let mut ops = Vec::new();
        for (i, db) in self.dbs.iter_mut().enumerate() {
            if let Some(log) = db.expired_log.as_mut().filter(|l| !l.is_empty()) {
                ops.extend(log.drain(..).map(|k| Op::new(i, &[&b"DEL"[..], &k])));
            }
        }
        ops
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
    /// The handler recorded its effects itself ([`Ctx::propagate`]): its
    /// own command line is not propagated.
    pub rewritten: bool,
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
        Ctx { shard, db, now, out, may_block: false, block: None, key_check: None, rewritten: false }
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

    /// Whether writes are being recorded for replication: a handler that
    /// rewrites its command line builds the rewrite only then.
    pub fn propagating(&self) -> bool {
        self.shard.propagated.is_some()
    }

    /// Replication: the command's effect is `argv` (in the selected
    /// database) rather than its own command line. May be called more than
    /// once (SPOP with a count), or with nothing at all
    /// ([`Ctx::propagate_nothing`]).
    pub fn propagate(&mut self, argv: Vec<Vec<u8>>) {
        self.propagate_line(&argv);
    }

    /// [`Ctx::propagate`] with the line given as slices.
    pub fn propagate_line<A: AsRef<[u8]>>(&mut self, argv: &[A]) {
        self.rewritten = true;
        if let Some(ops) = &mut self.shard.propagated {
            ops.push(Op::new(self.db, argv));
        }
    }

    /// Replication: the command's own line is not propagated (a script,
    /// whose commands are propagated one by one).
    pub fn propagate_nothing(&mut self) {
        self.rewritten = true;
    }

    /// Marks `key` (in the selected database) as having received elements, so
    /// that clients blocked on it (BLPOP, BZPOPMIN, XREAD BLOCK...) get served.
    pub fn signal_ready(&mut self, key: &[u8]) {
        self.shard.ready.push((self.db, key.to_vec()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{run_at, shard};

    const NOW: u64 = 1_700_000_000_000;

    /// Runs each command and returns what it propagated, one line per op.
    fn effects(s: &mut Shard, argv: &[&str]) -> Vec<String> {
        run_at(s, NOW, argv);
        let ops = std::mem::take(s.propagated.as_mut().expect("propagation on"));
        ops.iter()
            .map(|op| {
                // Each bulk string's text, in order (the test values hold no CR or LF).
                let text = String::from_utf8_lossy(&op.resp).into_owned();
                let words: Vec<&str> = text.split("\r\n").skip(2).step_by(2).collect();
                format!("{}:{}", op.db, words.join(" "))
            })
            .collect()
    }

    #[test]
    fn writes_propagate_as_deterministic_commands() {
        let mut s = shard();
        assert!(effects_off(&mut s));
        s.set_propagation(true);
        assert_eq!(effects(&mut s, &["SET", "k", "v", "EX", "10"]), ["0:SET k v PXAT 1700000010000"]);
        assert_eq!(effects(&mut s, &["SET", "k", "v", "NX", "EX", "10"]), Vec::<String>::new());
        assert_eq!(effects(&mut s, &["GET", "k"]), Vec::<String>::new());
        assert_eq!(effects(&mut s, &["DEL", "nothing"]), Vec::<String>::new());
        assert_eq!(effects(&mut s, &["APPEND", "k", "w"]), ["0:APPEND k w"]);
        assert_eq!(effects(&mut s, &["EXPIRE", "k", "5"]), ["0:PEXPIREAT k 1700000005000"]);
        assert_eq!(effects(&mut s, &["GETEX", "k", "PERSIST"]), ["0:PERSIST k"]);
        assert_eq!(effects(&mut s, &["EXPIRE", "k", "-1"]), ["0:DEL k"]);
        assert_eq!(effects(&mut s, &["INCRBYFLOAT", "f", "1.5"]), ["0:SET f 1.5 KEEPTTL"]);
        assert_eq!(effects(&mut s, &["HINCRBYFLOAT", "h", "x", "2.5"]), ["0:HSET h x 2.5"]);
        effects(&mut s, &["SADD", "s", "a"]);
        assert_eq!(effects(&mut s, &["SPOP", "s"]), ["0:SREM s a"]);
        effects(&mut s, &["RPUSH", "l", "a", "b"]);
        assert_eq!(effects(&mut s, &["BLPOP", "nothing", "l", "0"]), ["0:LPOP l"]);
        assert_eq!(effects(&mut s, &["BLMOVE", "l", "m", "RIGHT", "LEFT", "0"]), ["0:LMOVE l m RIGHT LEFT"]);
        effects(&mut s, &["ZADD", "z", "1", "a"]);
        assert_eq!(effects(&mut s, &["BZPOPMIN", "z", "0"]), ["0:ZPOPMIN z 1"]);
        assert_eq!(effects(&mut s, &["XADD", "st", "*", "f", "v"]), ["0:XADD st 1700000000000-0 f v"]);
        assert_eq!(
            effects(&mut s, &["XADD", "st", "MAXLEN", "~", "5", "5-*", "f", "v"]),
            Vec::<String>::new(),
            "an ID not above the last is an error"
        );
        assert_eq!(
            effects(&mut s, &["XADD", "st", "MAXLEN", "~", "5", "*", "f", "v"]),
            ["0:XADD st MAXLEN = 2 1700000000000-1 f v"]
        );
        // A key found expired is deleted first, as a DEL of its own.
        run_at(&mut s, NOW, &["SET", "old", "1", "PXAT", "1700000000001"]);
        std::mem::take(s.propagated.as_mut().unwrap());
        assert_eq!(run_at(&mut s, NOW + 5, &["GET", "old"]), "$-1\r\n");
        let ops = std::mem::take(s.propagated.as_mut().unwrap());
        assert_eq!(ops, [Op::new(0, &[b"DEL", b"old"])]);
        // A script propagates the commands it ran, never itself.
        assert_eq!(
            effects(
                &mut s,
                &["EVAL", "redis.call('SET', KEYS[1], 'x'); return redis.call('INCR', 'n')", "1", "a"]
            ),
            ["0:SET a x", "0:INCR n"]
        );
    }

    fn effects_off(s: &mut Shard) -> bool {
        run_at(s, NOW, &["SET", "x", "1"]);
        s.propagated.is_none()
    }
}
