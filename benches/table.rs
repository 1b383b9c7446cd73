//! One core's keyspace (`shoal_engine::Db`, its per-slot tables) at a million
//! keys: the lookups and stores every string command ends in, without command
//! parsing or replies.
//!
//! Keys are `key:%012d` (16 bytes) and values `val:%012d` (16 bytes, so both
//! live inline in the entry), slotted by the server's own CRC16 key slot, in
//! the server's allocator (the `shoal` library's global mimalloc). Lookups go
//! in a random order fixed up front, so nearly every one misses the CPU caches
//! as a server under `redis-benchmark -r 1000000` does.
//!
//! * `table/insert_1m`: `Db::set` (SET's store) of 1M new keys into an empty
//!   database, growth of the tables included; throughput in keys.
//! * `table/get_hit`, `table/get_miss`: one `Db::read` (GET's lookup, which
//!   also counts the hit and refreshes the access clock) of a present key /
//!   an absent key of the same shape, with 1M keys stored.
//! * `table/delete`: one `Db::remove` of a present key, with between 900k
//!   and 1M keys stored (the removed keys are put back between timed runs).
//! * `table/get_hit_x16/sequential` and `.../pipelined`: 16 reads of random
//!   present keys, one after the other, or as the session does for a pipeline
//!   (docs/PERFORMANCE.md, "Pipelined lookups"): locate every key and start
//!   loading its slot table, then its entry, then its value, and only then
//!   read them, so the 16 cache misses overlap. Throughput in keys.

mod common;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, SamplingMode, Throughput};
use shoal_engine::{Db, Rng, Value};
use std::hint::black_box;
use std::time::{Duration, Instant};

const KEYS: usize = 1_000_000;

/// A fixed command time: nothing here expires.
const NOW: u64 = 1_700_000_000_000;

const SEED: u64 = 0x5eed;

fn key(i: usize) -> [u8; 16] {
    let mut k = [0; 16];
    k.copy_from_slice(format!("key:{i:012}").as_bytes());
    k
}

fn value(i: usize) -> Value {
    Value::string(format!("val:{i:012}").as_bytes())
}

/// `0..n` in a random order (Fisher-Yates with the engine's generator).
fn shuffled(n: usize, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng = Rng::new(seed);
    for i in (1..n).rev() {
        order.swap(i, rng.below(i as u64 + 1) as usize);
    }
    order
}

fn filled(keys: &[[u8; 16]]) -> Db {
    let mut db = Db::new(shoal::core::keyslot, SEED);
    for (i, k) in keys.iter().enumerate() {
        db.set(k, value(i), 0, false, NOW);
    }
    db
}

fn table(c: &mut Criterion) {
    // The stored keys, and absent keys of the same shape, each in a random order.
    let present: Vec<[u8; 16]> = shuffled(KEYS, 1).into_iter().map(key).collect();
    let absent: Vec<[u8; 16]> = shuffled(KEYS, 2).into_iter().map(|i| key(KEYS + i)).collect();

    let mut group = c.benchmark_group("table");
    // One iteration builds a whole database: a few long samples, not many
    // short ones. criterion warns that 10 samples do not fit in 3 s; they
    // take as long as 10 iterations do, which is what is wanted.
    group.sampling_mode(SamplingMode::Flat).sample_size(10).measurement_time(Duration::from_secs(3));
    group.throughput(Throughput::Elements(KEYS as u64));
    group.bench_function("insert_1m", |b| {
        b.iter_batched(
            || Db::new(shoal::core::keyslot, SEED),
            |mut db| {
                for (i, k) in present.iter().enumerate() {
                    db.set(k, value(i), 0, false, NOW);
                }
                db
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();

    let mut db = filled(&present);
    let mut group = c.benchmark_group("table");
    group.throughput(Throughput::Elements(1));
    for (name, keys, hit) in [("get_hit", &present, true), ("get_miss", &absent, false)] {
        let mut next = 0;
        group.bench_function(name, |b| {
            b.iter(|| {
                let k = &keys[next];
                next = (next + 1) % KEYS;
                let found = db.read(black_box(k), NOW).is_some();
                debug_assert_eq!(found, hit);
                found
            })
        });
    }

    let mut next = 0;
    group.bench_function("delete", |b| {
        b.iter_custom(|iters| {
            // Delete in runs of at most 100k keys, so the database stays
            // between 900k and 1M keys; refill between runs, off the clock.
            const RUN: usize = 100_000;
            let mut elapsed = Duration::ZERO;
            let mut left = iters as usize;
            while left > 0 {
                let run = left.min(RUN).min(KEYS - next);
                let keys = &present[next..next + run];
                let start = Instant::now();
                for k in keys {
                    black_box(db.remove(black_box(k), NOW));
                }
                elapsed += start.elapsed();
                for (i, k) in keys.iter().enumerate() {
                    db.set(k, value(next + i), 0, false, NOW);
                }
                next = (next + run) % KEYS;
                left -= run;
            }
            elapsed
        })
    });

    group.throughput(Throughput::Elements(16));
    let mut next = 0;
    group.bench_function("get_hit_x16/sequential", |b| {
        b.iter(|| {
            let keys = &present[next..next + 16];
            next = (next + 16) % KEYS;
            for k in keys {
                black_box(db.read(k, NOW));
            }
        })
    });
    let mut next = 0;
    let mut places = Vec::with_capacity(16);
    group.bench_function("get_hit_x16/pipelined", |b| {
        b.iter(|| {
            let keys = &present[next..next + 16];
            next = (next + 16) % KEYS;
            db.prefetch_keys(keys.iter().map(|k| &k[..]), &mut places);
            for k in keys {
                black_box(db.read(k, NOW));
            }
        })
    });
    group.finish();
}

// Lookups settle within a second or two; the whole `cargo bench` must stay
// within a few minutes on a 2-vCPU machine.
criterion_group! {
    name = benches;
    config = common::config(Duration::from_millis(500), Duration::from_secs(2));
    targets = table
}
criterion_main!(benches);
