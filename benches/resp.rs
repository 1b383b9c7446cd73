//! RESP on the wire: framing requests with the parser (`shoal_net::resp`)
//! and writing replies with the reply writer (`shoal_engine::Reply`).
//!
//! Each benchmark measures one thing, with no socket and no command run:
//!
//! * `resp_parse/pipeline_16_set`, `resp_parse/pipeline_16_get`: framing a
//!   read that holds 16 pipelined `SET key:0000001234NN <32 B>` (or `GET`)
//!   requests, as redis-benchmark sends them with `-P 16 -d 32`, and reading
//!   every argument's slice, as the session does. Throughput: input bytes and
//!   commands.
//! * `resp_parse/bulk_1mb/whole`: framing one `SET` whose value is 1 MiB,
//!   all of it already in the buffer. `resp_parse/bulk_1mb/reads_16k`: the
//!   same request arriving 16 KiB at a time (the connection's read size), so
//!   the parser is called once per read and resumes where it stopped.
//!   Throughput: input bytes.
//! * `resp_encode/<reply>/<resp2|resp3>`: appending one reply to a buffer
//!   that already has room (`+OK`, a 32-byte bulk, an integer, a null, an
//!   array of 100 bulks of 32 bytes), in each protocol version. Throughput:
//!   output bytes (and elements for the array).

mod common;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use shoal_engine::Reply;
use shoal_net::resp::{Limits, Parsed, Parser};
use std::hint::black_box;
use std::time::Duration;

/// The value of every SET: 32 bytes, as `redis-benchmark -d 32`.
const VALUE: &[u8; 32] = b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";

/// 16 pipelined requests on 16 different 16-byte keys.
fn pipeline(command: &[u8], value: Option<&[u8]>) -> Vec<u8> {
    let mut input = Vec::new();
    for i in 0..16 {
        let key = format!("key:{:012}", 123_440 + i);
        let mut args: Vec<&[u8]> = vec![command, key.as_bytes()];
        args.extend(value);
        input.extend(common::request(&args));
    }
    input
}

/// Frames every request of `input` and touches each argument; returns the
/// number of commands so the work cannot be dropped.
fn frame_all(parser: &mut Parser, input: &[u8], limits: &Limits) -> usize {
    let (mut at, mut commands) = (0, 0);
    while at < input.len() {
        let buf = &input[at..];
        match parser.parse(buf, limits) {
            Parsed::Command { consumed } => {
                for a in parser.args(buf) {
                    black_box(a);
                }
                commands += 1;
                at += consumed;
            }
            Parsed::Empty { consumed } => at += consumed,
            other => panic!("benchmark input did not frame: {other:?}"),
        }
    }
    commands
}

fn parse(c: &mut Criterion) {
    let limits = Limits::default();
    let mut group = c.benchmark_group("resp_parse");
    for (name, input) in
        [("pipeline_16_set", pipeline(b"SET", Some(VALUE))), ("pipeline_16_get", pipeline(b"GET", None))]
    {
        group.throughput(Throughput::ElementsAndBytes { elements: 16, bytes: input.len() as u64 });
        let mut parser = Parser::new();
        assert_eq!(frame_all(&mut parser, &input, &limits), 16);
        group.bench_function(name, |b| b.iter(|| frame_all(&mut parser, black_box(&input), &limits)));
    }

    let big = common::request(&[b"SET", b"key:000000123456", &vec![b'x'; 1 << 20]]);
    group.throughput(Throughput::Bytes(big.len() as u64));
    let mut parser = Parser::new();
    group.bench_function(BenchmarkId::new("bulk_1mb", "whole"), |b| {
        b.iter(|| frame_all(&mut parser, black_box(&big), &limits))
    });
    group.bench_function(BenchmarkId::new("bulk_1mb", "reads_16k"), |b| {
        b.iter(|| {
            // The connection calls the parser with everything received so
            // far, one 16 KiB read more each time, until the request is whole.
            let mut have = 0;
            loop {
                have = (have + 16 * 1024).min(big.len());
                match parser.parse(black_box(&big[..have]), &limits) {
                    Parsed::Incomplete { .. } => continue,
                    Parsed::Command { consumed } => break consumed,
                    other => panic!("benchmark input did not frame: {other:?}"),
                }
            }
        })
    });
    group.finish();
}

type WriteReply = fn(&mut Reply);

fn encode(c: &mut Criterion) {
    let mut group = c.benchmark_group("resp_encode");
    let mut out = Vec::with_capacity(8 * 1024);
    // (name, elements, how to write it)
    let replies: [(&str, u64, WriteReply); 5] = [
        ("ok", 1, |r| r.ok()),
        ("bulk_32b", 1, |r| r.bulk(black_box(VALUE))),
        ("integer", 1, |r| r.int(black_box(1_234_567))),
        ("null", 1, |r| r.null()),
        ("array_100_bulks", 100, |r| {
            r.array(100);
            for _ in 0..100 {
                r.bulk(black_box(VALUE));
            }
        }),
    ];
    for (name, elements, write) in replies {
        for resp3 in [false, true] {
            out.clear();
            write(&mut Reply::new(&mut out, resp3));
            let bytes = out.len() as u64;
            group.throughput(if elements > 1 {
                Throughput::ElementsAndBytes { elements, bytes }
            } else {
                Throughput::Bytes(bytes)
            });
            let proto = if resp3 { "resp3" } else { "resp2" };
            group.bench_function(BenchmarkId::new(name, proto), |b| {
                b.iter(|| {
                    out.clear();
                    write(&mut Reply::new(&mut out, black_box(resp3)));
                    black_box(out.len())
                })
            });
        }
    }
    group.finish();
}

// Short runs: these are nanosecond-scale loops that settle quickly, and the
// whole `cargo bench` must stay within a few minutes on a 2-vCPU machine.
criterion_group! {
    name = benches;
    config = common::config(Duration::from_millis(500), Duration::from_secs(2));
    targets = parse, encode
}
criterion_main!(benches);
