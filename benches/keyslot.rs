//! Key to cluster slot (`shoal_cluster::key_slot`): CRC16/XMODEM of the key,
//! or of its `{hash tag}`, mod 16384. Every keyed command computes it at
//! least once on the way to the core and table that hold the key.
//!
//! * `keyslot/plain_16b`: a 16-byte key without braces (`key:000000123456`,
//!   redis-benchmark's shape), so the whole key is searched for `{` and hashed.
//! * `keyslot/tagged_20b`: `{user1000}.following`: the tag is found and only
//!   its 8 bytes are hashed.
//! * `keyslot/plain_100b`: a 100-byte key without braces.
//!
//! Throughput: key bytes.

mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use shoal_cluster::key_slot;
use std::hint::black_box;
use std::time::Duration;

fn keyslot(c: &mut Criterion) {
    let long = [b'k'; 100];
    let keys: [(&str, &[u8]); 3] =
        [("plain_16b", b"key:000000123456"), ("tagged_20b", b"{user1000}.following"), ("plain_100b", &long)];
    let mut group = c.benchmark_group("keyslot");
    for (name, key) in keys {
        group.throughput(Throughput::Bytes(key.len() as u64));
        group.bench_function(name, |b| b.iter(|| key_slot(black_box(key))));
    }
    group.finish();
}

// Short runs: nanosecond-scale loops settle quickly, and the whole
// `cargo bench` must stay within a few minutes on a 2-vCPU machine.
criterion_group! {
    name = benches;
    config = common::config(Duration::from_millis(500), Duration::from_secs(2));
    targets = keyslot
}
criterion_main!(benches);
