//! Freeing off the core, as Redis's lazyfree thread does: UNLINK of a large
//! value and FLUSHALL/FLUSHDB ASYNC hand what they delete to one background
//! thread, so that freeing a million elements (milliseconds) or a database
//! of millions of keys (seconds) does not stall the core's other clients.
//!
//! Values are plain owned data (no reference counting shared with the
//! core), so dropping them on another thread is safe; the allocator
//! (mimalloc) returns the memory to the owning thread's heap.

use crate::keyspace::Db;
use crate::value::Value;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::Sender;
use std::sync::OnceLock;

/// Values whose freeing costs more than this many allocations go to the
/// thread (Redis's `LAZYFREE_THRESHOLD`).
pub const THRESHOLD: usize = 64;

/// Something to drop, and how many objects it counts for.
struct Garbage {
    _what: Box<dyn Send>,
    objects: u64,
}

static PENDING: AtomicU64 = AtomicU64::new(0);
static FREED: AtomicU64 = AtomicU64::new(0);
static THREAD: OnceLock<Sender<Garbage>> = OnceLock::new();

/// Starts the thread now (else the first use starts it). The thread takes
/// the CPU affinity of the thread that starts it: the server starts it
/// before pinning its cores.
pub fn start() {
    sender();
}

fn sender() -> &'static Sender<Garbage> {
    THREAD.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel::<Garbage>();
        std::thread::Builder::new()
            .name("shoal-lazyfree".into())
            .spawn(move || {
                for g in rx {
                    let n = g.objects;
                    drop(g);
                    PENDING.fetch_sub(n, Ordering::Relaxed);
                    FREED.fetch_add(n, Ordering::Relaxed);
                }
            })
            .expect("starting the lazyfree thread");
        tx
    })
}

fn send(what: Box<dyn Send>, objects: u64) {
    PENDING.fetch_add(objects, Ordering::Relaxed);
    if let Err(e) = sender().send(Garbage { _what: what, objects }) {
        // The thread is gone (it never exits while the process runs): free here.
        PENDING.fetch_sub(objects, Ordering::Relaxed);
        drop(e);
    }
}

/// Roughly how many allocations freeing `v` takes (Redis's
/// `lazyfreeGetFreeEffort`): the elements of a table or skiplist, the
/// chunks of a list, the nodes and pending entries of a stream; 1 for a
/// string or a compact encoding.
pub fn free_effort(v: &Value) -> usize {
    match v {
        Value::Str(_) => 1,
        Value::List(l) => l.chunk_count(),
        Value::Set(s) if s.encoding() == "hashtable" => s.len(),
        Value::Hash(h) if h.encoding() == "hashtable" => h.len(),
        Value::ZSet(z) if !z.is_compact() => z.len(),
        Value::Stream(s) => {
            let pending: usize = s.groups().map(|(_, g)| g.pending().len() + g.consumer_count()).sum();
            s.log().len() as usize / 100 + 1 + pending
        }
        _ => 1,
    }
}

/// Drops `v`, on the lazyfree thread when that is worth it.
pub fn free_value(v: Value) {
    if free_effort(&v) > THRESHOLD {
        send(Box::new(v), 1);
    }
}

/// Drops a whole database on the lazyfree thread (FLUSHALL ASYNC); it
/// counts as one object per key, as in Redis.
pub fn free_db(db: Db) {
    let keys = db.len() as u64;
    if keys > 0 {
        send(Box::new(db), keys);
    }
}

/// INFO's `lazyfree_pending_objects`.
pub fn pending() -> u64 {
    PENDING.load(Ordering::Relaxed)
}

/// INFO's `lazyfreed_objects`.
pub fn freed() -> u64 {
    FREED.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::List;

    #[test]
    fn large_values_are_freed_by_the_thread() {
        let small: List = [&b"a"[..], b"b"].into_iter().collect();
        assert_eq!(free_effort(&Value::List(Box::new(small))), 1);
        let items: Vec<Vec<u8>> = (0..200_000).map(|i| format!("element-{i}").into_bytes()).collect();
        let big: List = items.iter().map(|v| &v[..]).collect();
        let v = Value::List(Box::new(big));
        assert!(free_effort(&v) > THRESHOLD);
        let before = freed();
        free_value(v);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while freed() == before {
            assert!(std::time::Instant::now() < deadline, "the lazyfree thread freed nothing");
            std::thread::yield_now();
        }
    }
}
