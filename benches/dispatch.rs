//! A pipeline through the whole server path of one core, without the socket.
//!
//! `Session::on_input` is what the connection loop calls with the bytes of
//! each read: it frames the requests, looks their keys up in passes, resolves
//! and checks each command, runs it against the core's shard (or batches it
//! for another core) and appends the replies. Driving it directly measures
//! everything a request costs the server except the `recv`/`send` system calls
//! and the wait for readiness.
//!
//! The server here is one core (`--threads 1`, so every key is local) whose
//! database holds 1M keys `key:%012d` with 32-byte values; each iteration
//! hands the session one read holding 16 pipelined requests on random keys of
//! that keyspace and takes the 16 replies out, as under
//! `redis-benchmark -P 16 -r 1000000 -d 32` (perf/quick-compare):
//!
//! * `dispatch/pipeline_16_set`: 16 `SET key value` (32-byte values), each
//!   replacing the value of an existing key.
//! * `dispatch/pipeline_16_get`: 16 `GET key` of existing keys.
//!
//! Throughput: commands, and input bytes. The session runs inside a glommio
//! executor on this thread, as on a server core; time is taken around the
//! loop of iterations inside it (`iter_custom`).

mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use glommio::{LocalExecutor, LocalExecutorBuilder, Placement};
use shoal::client::ClientInfo;
use shoal::config::Config;
use shoal::core::{Core, Shared};
use shoal::session::Session;
use shoal_engine::{Rng, Value};
use shoal_net::conn::{Outbox, Session as _};
use std::cell::RefCell;
use std::hint::black_box;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

const KEYS: usize = 1_000_000;

/// Distinct pipelines per benchmark: 16384 of 16 random keys touch about a
/// quarter of the keyspace before they repeat, far more than the caches hold.
const PIPELINES: usize = 16_384;

const VALUE: &[u8; 32] = b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";

fn key(i: u64) -> String {
    format!("key:{i:012}")
}

/// `PIPELINES` reads of 16 `command` requests on random existing keys.
fn pipelines(command: &[u8], value: Option<&[u8]>, seed: u64) -> Vec<Vec<u8>> {
    let mut rng = Rng::new(seed);
    (0..PIPELINES)
        .map(|_| {
            let mut input = Vec::new();
            for _ in 0..16 {
                let k = key(rng.below(KEYS as u64));
                let mut args: Vec<&[u8]> = vec![command, k.as_bytes()];
                args.extend(value);
                input.extend(common::request(&args));
            }
            input
        })
        .collect()
}

/// A one-core server's core with 1M keys, and a session of a client
/// connected to it, as the accept loop sets one up.
fn server() -> Session {
    let config = Config { threads: 1, port: 0, ..Config::default() };
    let shared = Arc::new(Shared::new(&config, 1, vec![0]));
    let core = Rc::new(Core::new(0, shared.clone(), config, vec![None]));
    {
        let mut shard = core.shard.borrow_mut();
        let db = shard.db(0);
        for i in 0..KEYS as u64 {
            db.set(key(i).as_bytes(), Value::string(VALUE), 0, false, shoal::core::now_ms());
        }
    }
    let (addr, laddr) = (([127, 0, 0, 1], 40000).into(), ([127, 0, 0, 1], 6379).into());
    let client = Rc::new(RefCell::new(ClientInfo::new(shared.next_client_id(), addr, laddr, -1, true)));
    Session::new(core, client, Rc::new(Outbox::default()))
}

fn dispatch(c: &mut Criterion) {
    // Unpinned: one thread, and on a shared machine the scheduler's choice of
    // CPU disturbs it less than a pin to a busy one.
    let ex: LocalExecutor =
        LocalExecutorBuilder::new(Placement::Unbound).make().expect("a glommio executor on this thread");
    let mut session = server();
    let mut out = Vec::with_capacity(64 * 1024);

    let set_reply = b"+OK\r\n".repeat(16);
    let get_reply = [&b"$32\r\n"[..], VALUE, b"\r\n"].concat().repeat(16);
    let cases = [
        ("pipeline_16_set", pipelines(b"SET", Some(VALUE), 1), set_reply),
        ("pipeline_16_get", pipelines(b"GET", None, 2), get_reply),
    ];
    let mut group = c.benchmark_group("dispatch");
    for (name, inputs, expected) in &cases {
        // Every read is consumed whole and answered as Redis answers it.
        ex.run(async {
            out.clear();
            let step = session.on_input(&inputs[0], &mut out).await;
            assert_eq!(step.consumed, inputs[0].len());
            assert_eq!(out, *expected, "{name}");
        });
        let bytes = inputs.iter().map(|i| i.len() as u64).sum::<u64>() / PIPELINES as u64;
        group.throughput(Throughput::ElementsAndBytes { elements: 16, bytes });
        let mut next = 0;
        group.bench_function(*name, |b| {
            b.iter_custom(|iters| {
                ex.run(async {
                    let start = Instant::now();
                    for _ in 0..iters {
                        let input = &inputs[next];
                        next = (next + 1) % PIPELINES;
                        out.clear();
                        black_box(session.on_input(black_box(input), &mut out).await);
                    }
                    start.elapsed()
                })
            })
        });
    }
    group.finish();
}

// A pipeline takes microseconds, so a few seconds give a million of them;
// the whole `cargo bench` must stay within a few minutes.
criterion_group! {
    name = benches;
    config = common::config(Duration::from_secs(1), Duration::from_secs(3));
    targets = dispatch
}
criterion_main!(benches);
