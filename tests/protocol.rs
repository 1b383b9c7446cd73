//! The wire protocol over raw TCP: inline commands, pipelines, every
//! protocol error (compared byte for byte with redis-server, and closing only
//! the offending connection), size limits, clients that vanish mid-request,
//! long pipelines, RESP3 framing, and requests split at every byte.

mod support;

use std::io::Write;
use support::{encode_str, lossy, wait_until, RawConn, Server, WAIT};

/// Shoal with two cores (so connections and keys land on both) and redis-server,
/// both started with `args`.
fn pair(args: &[&str]) -> (Server, Server) {
    let mut shoal_args = vec!["--threads", "2"];
    shoal_args.extend_from_slice(args);
    (Server::shoal(&shoal_args), Server::redis(args))
}

/// Sends `bytes` on a new connection and reads every reply until the server
/// closes it (the read timeout fails the test if it never does).
fn send_until_closed(server: &Server, bytes: &[u8]) -> Vec<u8> {
    let mut c = server.raw();
    // The server may close (and reset) the connection before taking all of a
    // large request: a failed write is expected then.
    let _ = c.stream.write_all(bytes);
    c.read_to_close()
}

/// Sends `bytes` and reads `n` replies.
fn exchange(c: &mut RawConn, bytes: &[u8], n: usize) -> Vec<u8> {
    c.send(bytes);
    (0..n).flat_map(|_| c.read_reply()).collect()
}

/// The replies to `bytes` (holding `n` requests) on a fresh connection to each server.
fn both(shoal: &Server, redis: &Server, bytes: &[u8], n: usize) -> (String, String) {
    (lossy(&exchange(&mut shoal.raw(), bytes, n)), lossy(&exchange(&mut redis.raw(), bytes, n)))
}

#[test]
fn inline_commands_match_redis() {
    let (shoal, redis) = pair(&[]);
    let cases: &[(&str, usize)] = &[
        ("PING\r\n", 1),
        ("ping\n", 1),
        ("PING hello\r\n", 1),
        ("ECHO   spaced     out\r\n", 1),
        ("SET key:1 \"a b c\"\r\nGET key:1\r\n", 2),
        ("SET key:2 'single quoted'\r\nGET key:2\r\n", 2),
        ("SET key:3 \"esc\\x41\\n\\t\\\"q\\\"\"\r\nGET key:3\r\n", 2),
        ("SET key:4 'it\\'s'\r\nGET key:4\r\n", 2),
        ("SET key:5 \"\"\r\nSTRLEN key:5\r\n", 2),
        ("\r\n\r\n\n   \r\nPING\r\n", 1),
        ("MSET key:6 a key:7 b\r\nMGET key:6 key:7 nosuch\r\n", 2),
        ("NOSUCH a b\r\n", 1),
        ("GET\r\n", 1),
        ("INCR key:8\r\nINCR key:8\r\nGET key:8\r\n", 3),
    ];
    let mut diffs = Vec::new();
    for (input, n) in cases {
        let (s, r) = both(&shoal, &redis, input.as_bytes(), *n);
        if s != r {
            diffs.push(format!("{input:?}\n  shoal: {s:?}\n  redis: {r:?}"));
        }
    }
    assert!(diffs.is_empty(), "inline replies differ:\n{}", diffs.join("\n"));
}

#[test]
fn mixed_pipeline_matches_redis() {
    let (shoal, redis) = pair(&[]);
    let mut bytes = Vec::new();
    bytes.extend_from_slice(b"PING\r\n");
    bytes.extend(encode_str(&["SET", "key:1", "multi"]));
    bytes.extend_from_slice(b"GET key:1\r\n");
    bytes.extend_from_slice(b"*0\r\n*-1\r\n\r\n");
    bytes.extend(encode_str(&["MSET", "key:2", "x", "key:3", "y"]));
    bytes.extend_from_slice(b"MGET key:1 key:2 key:3\r\n");
    bytes.extend(encode_str(&["SELECT", "1"]));
    bytes.extend_from_slice(b"GET key:1\r\n");
    bytes.extend(encode_str(&["SELECT", "0"]));
    bytes.extend_from_slice(b"*2\r\n$3\r\nGET\r\n$5\r\nkey:1\r\n");
    bytes.extend(encode_str(&["DEL", "key:1", "key:2", "key:3"]));
    let (s, r) = both(&shoal, &redis, &bytes, 10);
    assert_eq!(s, r);
}

/// A raw connection, authenticated if the server has a password.
fn authed(server: &Server) -> RawConn {
    let mut c = server.raw();
    if let Some(p) = &server.password {
        assert_eq!(c.cmd(&["AUTH", p]), b"+OK\r\n");
    }
    c
}

/// Opens a few connections (so both cores have some), each of which must
/// still work after another connection broke the protocol.
struct Bystanders {
    conns: Vec<RawConn>,
}

impl Bystanders {
    fn new(server: &Server) -> Bystanders {
        let mut conns: Vec<RawConn> = (0..4).map(|_| authed(server)).collect();
        assert_eq!(conns[0].cmd(&["MSET", "key:1", "survives", "key:2", "too"]), b"+OK\r\n");
        for c in &mut conns {
            assert_eq!(c.cmd(&["PING"]), b"+PONG\r\n");
        }
        Bystanders { conns }
    }

    fn check(&mut self, server: &Server, case: &str) {
        for c in &mut self.conns {
            assert_eq!(
                c.cmd(&["MGET", "key:1", "key:2"]),
                b"*2\r\n$8\r\nsurvives\r\n$3\r\ntoo\r\n",
                "{}: a bystander after {case}",
                server.kind.name()
            );
        }
        let mut fresh = authed(server);
        assert_eq!(fresh.cmd(&["PING"]), b"+PONG\r\n", "new connection after {case}");
    }
}

/// Each case: a name, the bytes one client sends. The client must get the
/// same bytes as from Redis (the replies before the error, then the error),
/// then be disconnected, and nobody else must notice.
fn run_protocol_error_cases(args: &[&str], cases: &[(&str, Vec<u8>)]) {
    let (shoal, redis) = pair(args);
    let mut by_shoal = Bystanders::new(&shoal);
    let mut by_redis = Bystanders::new(&redis);
    let mut diffs = Vec::new();
    for (name, bytes) in cases {
        let s = send_until_closed(&shoal, bytes);
        let r = send_until_closed(&redis, bytes);
        assert!(
            lossy(&r).contains("Protocol error"),
            "{name}: the case should make redis-server report a protocol error, got {:?}",
            lossy(&r)
        );
        if s != r {
            diffs.push(format!("{name}\n  shoal: {:?}\n  redis: {:?}", lossy(&s), lossy(&r)));
        }
        by_shoal.check(&shoal, name);
        by_redis.check(&redis, name);
    }
    assert!(diffs.is_empty(), "protocol errors differ from redis-server:\n{}", diffs.join("\n"));
}

#[test]
fn protocol_errors_match_redis_and_close_only_the_offender() {
    let long = |prefix: &str, fill: u8, n: usize| {
        let mut v = prefix.as_bytes().to_vec();
        v.extend(std::iter::repeat_n(fill, n));
        v
    };
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("invalid multibulk length (letters)", b"*abc\r\n".to_vec()),
        ("invalid multibulk length (sign)", b"*+1\r\n".to_vec()),
        ("invalid multibulk length (over INT_MAX)", b"*2147483648\r\n".to_vec()),
        ("invalid multibulk length after a good command", b"PING\r\n*x\r\n".to_vec()),
        ("expected '$'", b"*1\r\nPING\r\n".to_vec()),
        ("expected '$', got ':'", b"*2\r\n$4\r\nECHO\r\n:1\r\n".to_vec()),
        ("invalid bulk length (letters)", b"*1\r\n$abc\r\n".to_vec()),
        ("invalid bulk length (negative)", b"*1\r\n$-1\r\n".to_vec()),
        ("invalid bulk length (over proto-max-bulk-len)", b"*1\r\n$536870913\r\n".to_vec()),
        ("invalid bulk length (empty)", b"*1\r\n$\r\n".to_vec()),
        (
            "invalid bulk length after pipelined replies",
            [encode_str(&["SET", "key:9", "v"]), encode_str(&["GET", "key:9"]), b"*1\r\n$x\r\n".to_vec()]
                .concat(),
        ),
        ("too big inline request", long("", b'a', 70_000)),
        ("too big inline request after a command", long("PING\r\nGET ", b'a', 70_000)),
        ("too big mbulk count string", long("*", b'1', 70_000)),
        ("too big bulk count string", long("*1\r\n$", b'1', 70_000)),
        ("unbalanced double quotes", b"SET key:9 \"abc\r\n".to_vec()),
        ("unbalanced single quotes", b"SET key:9 'abc\r\n".to_vec()),
        ("closing quote not followed by a space", b"SET key:9 \"abc\"def\r\n".to_vec()),
        ("unbalanced quotes after a command", b"PING\r\nECHO \"x\r\n".to_vec()),
    ];
    run_protocol_error_cases(&[], &cases);
}

#[test]
fn unauthenticated_protocol_limits_match_redis() {
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("unauthenticated multibulk length", b"*11\r\n".to_vec()),
        ("unauthenticated multibulk length after NOAUTH", b"GET x\r\n*100\r\n".to_vec()),
        ("unauthenticated bulk length", b"*2\r\n$4\r\nAUTH\r\n$16385\r\n".to_vec()),
        ("invalid multibulk length while unauthenticated", b"*abc\r\n".to_vec()),
    ];
    run_protocol_error_cases(&["--requirepass", "secret"], &cases);

    // Just under the limits, and once authenticated, the same requests are fine.
    let (shoal, redis) = pair(&["--requirepass", "secret"]);
    for server in [&shoal, &redis] {
        let name = server.kind.name();
        let mut c = server.raw();
        let ten: Vec<String> = (0..9).map(|i| format!("k{i}")).collect();
        let mut argv = vec!["MGET"];
        argv.extend(ten.iter().map(String::as_str));
        assert_eq!(c.cmd(&argv), b"-NOAUTH Authentication required.\r\n", "{name}: 10 arguments");
        let big = "x".repeat(16384);
        assert_eq!(
            c.cmd(&["ECHO", &big]),
            b"-NOAUTH Authentication required.\r\n",
            "{name}: a 16384-byte argument"
        );
        assert_eq!(c.cmd(&["AUTH", "secret"]), b"+OK\r\n");
        let mut argv = vec!["MSET"];
        let kv: Vec<String> = (0..40).map(|i| format!("key:{i}")).collect();
        argv.extend(kv.iter().map(String::as_str));
        assert_eq!(c.cmd(&argv), b"+OK\r\n", "{name}: 41 arguments once authenticated");
        let bigger = "y".repeat(100_000);
        let reply = c.cmd(&["ECHO", &bigger]);
        assert_eq!(reply.len(), "$100000\r\n".len() + 100_000 + 2, "{name}: a 100 kB argument");
    }
}

#[test]
fn requests_over_proto_max_bulk_len() {
    let (shoal, redis) = pair(&["--proto-max-bulk-len", "1mb"]);
    for server in [&shoal, &redis] {
        let name = server.kind.name();
        let mut by = Bystanders::new(server);
        // Exactly the limit is allowed.
        let mut c = server.raw();
        let value = vec![b'v'; 1 << 20];
        c.send_cmd(&[b"SET", b"key:big", &value]);
        assert_eq!(c.read_reply(), b"+OK\r\n", "{name}: a 1 MiB value");
        assert_eq!(c.cmd(&["STRLEN", "key:big"]), b":1048576\r\n", "{name}: STRLEN of the 1 MiB value");
        // One byte more is a protocol error, before the data is even sent.
        let reply = send_until_closed(server, b"*3\r\n$3\r\nSET\r\n$7\r\nkey:big\r\n$1048577\r\n");
        assert_eq!(
            lossy(&reply),
            "-ERR Protocol error: invalid bulk length\r\n",
            "{name}: a 1 MiB + 1 argument"
        );
        by.check(server, "a bulk over proto-max-bulk-len");
        assert_eq!(c.cmd(&["STRLEN", "key:big"]), b":1048576\r\n");
    }
}

/// Writes `bytes` to a connection the server may close mid-way; returns
/// whatever was read before the close (reads until end of stream).
fn flood(server: &Server, head: &[u8], body_len: usize) -> Vec<u8> {
    let mut c = server.raw();
    let _ = c.stream.write_all(head);
    let chunk = vec![b'z'; 64 * 1024];
    let mut sent = 0;
    while sent < body_len {
        let n = chunk.len().min(body_len - sent);
        if c.stream.write_all(&chunk[..n]).is_err() {
            break;
        }
        sent += n;
    }
    c.read_to_close()
}

#[test]
fn client_exceeding_query_buffer_limit_is_disconnected() {
    let (shoal, redis) = pair(&["--client-query-buffer-limit", "1mb"]);
    for server in [&shoal, &redis] {
        let name = server.kind.name();
        let mut by = Bystanders::new(server);
        // A 4 MiB argument (allowed by proto-max-bulk-len) that never ends:
        // the unconsumed input passes 1 MiB and the client is closed without a reply.
        let got = flood(server, b"*3\r\n$3\r\nSET\r\n$5\r\nkey:q\r\n$4194304\r\n", 3 << 20);
        assert!(got.is_empty(), "{name}: expected a silent close, got {:?}", lossy(&got));
        by.check(server, "a client over the query buffer limit");
        let mut c = server.raw();
        assert_eq!(c.cmd(&["EXISTS", "key:q"]), b":0\r\n", "{name}");
        // Under the limit, a big request still works.
        let value = vec![b'w'; 512 * 1024];
        c.send_cmd(&[b"SET", b"key:q", &value]);
        assert_eq!(c.read_reply(), b"+OK\r\n", "{name}: 512 KiB under a 1 MiB limit");
    }
    // The limit can be changed at run time.
    let mut c = shoal.raw();
    assert_eq!(c.cmd(&["CONFIG", "SET", "client-query-buffer-limit", "2mb"]), b"+OK\r\n");
    let value = vec![b'w'; 1536 * 1024];
    c.send_cmd(&[b"SET", b"key:q", &value]);
    assert_eq!(c.read_reply(), b"+OK\r\n", "1.5 MiB under a 2 MiB limit");
}

fn connected_clients(server: &Server) -> i64 {
    let mut c = server.conn();
    let info = support::text(&support::q(&mut c, &["INFO", "clients"]));
    support::info_field(&info, "connected_clients").expect("connected_clients").parse().expect("a number")
}

#[test]
fn clients_vanishing_mid_request_leave_the_server_healthy() {
    let server = Server::shoal_threads(2);
    let mut keeper = server.raw();
    assert_eq!(keeper.cmd(&["SET", "key:1", "kept"]), b"+OK\r\n");
    let full = [
        encode_str(&["MSET", "key:2", "a", "key:3", "b", "key:4", "c"]),
        encode_str(&["SET", "key:5", "a-longer-value-to-cut"]),
        b"GET key:1\r\n".to_vec(),
    ]
    .concat();
    // Cut the request at every offset, on many connections (over both cores).
    for cut in 1..full.len() {
        let mut c = server.raw();
        c.send(&full[..cut]);
        drop(c);
    }
    // A big argument announced and only half sent.
    for _ in 0..8 {
        let mut c = server.raw();
        c.send(b"*3\r\n$3\r\nSET\r\n$5\r\nkey:6\r\n$1000000\r\n");
        c.send(&vec![b'h'; 500_000]);
        drop(c);
    }
    assert_eq!(keeper.cmd(&["GET", "key:1"]), b"$4\r\nkept\r\n");
    assert_eq!(keeper.cmd(&["EXISTS", "key:6"]), b":0\r\n");
    // Every vanished connection is eventually forgotten.
    wait_until("the vanished clients to be gone", WAIT, || connected_clients(&server) == 2);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["PING"]), b"+PONG\r\n");
}

#[test]
fn a_10000_command_pipeline_answers_in_order() {
    let server = Server::shoal_threads(2);
    let keys: Vec<String> = (0..64).map(|i| format!("key:{i}")).collect();
    let cores: std::collections::HashSet<usize> =
        keys.iter().map(|k| support::core_of(k.as_bytes(), 2)).collect();
    assert_eq!(cores.len(), 2);
    let mut requests = Vec::new();
    let mut expected = Vec::new();
    let mut counters = vec![0i64; keys.len()];
    let mut values: Vec<Option<String>> = vec![None; keys.len()];
    for i in 0..10_000usize {
        let k = (i * 7) % keys.len();
        let key = &keys[k];
        match i % 4 {
            0 => {
                let v = format!("v{i}");
                requests.push(encode_str(&["SET", &format!("s:{key}"), &v]));
                expected.push(b"+OK\r\n".to_vec());
                values[k] = Some(v);
            }
            1 => {
                requests.push(encode_str(&["GET", &format!("s:{key}")]));
                expected.push(match &values[k] {
                    Some(v) => format!("${}\r\n{v}\r\n", v.len()).into_bytes(),
                    None => b"$-1\r\n".to_vec(),
                });
            }
            2 => {
                requests.push(encode_str(&["INCR", key]));
                counters[k] += 1;
                expected.push(format!(":{}\r\n", counters[k]).into_bytes());
            }
            _ => {
                // A command over keys on both cores, between single-key ones.
                let other = &keys[(k + 1) % keys.len()];
                requests.push(encode_str(&["MGET", key, other]));
                let show = |j: usize| format!("${}\r\n{}\r\n", counters[j].to_string().len(), counters[j]);
                let j = (k + 1) % keys.len();
                let nil_or = |j: usize| {
                    if counters[j] == 0 {
                        "$-1\r\n".to_string()
                    } else {
                        show(j)
                    }
                };
                expected.push(format!("*2\r\n{}{}", nil_or(k), nil_or(j)).into_bytes());
            }
        }
    }
    let bytes: Vec<u8> = requests.concat();
    let mut c = server.raw();
    // Write from another thread while this one reads, so neither side can
    // block the other on full socket buffers.
    let mut writer = c.stream.try_clone().expect("clone stream");
    let t = std::thread::spawn(move || writer.write_all(&bytes).expect("write pipeline"));
    for (i, want) in expected.iter().enumerate() {
        let got = c.read_reply();
        assert_eq!(lossy(&got), lossy(want), "reply {i} of the pipeline (request {:?})", lossy(&requests[i]));
    }
    t.join().expect("writer");
    assert_eq!(c.cmd(&["PING"]), b"+PONG\r\n");
}

#[test]
fn resp3_framing_matches_redis() {
    let (shoal, redis) = pair(&[]);
    let script: &[&[&str]] = &[
        &["HELLO", "3"],
        &["GET", "nosuch"],
        &["MGET", "nosuch", "key:1"],
        &["SET", "key:1", "v"],
        &["SET", "key:1", "w", "GET"],
        &["SET", "key:2", "w", "NX", "GET"],
        &["CONFIG", "GET", "databases"],
        &["CONFIG", "GET", "nosuch"],
        &["INCRBYFLOAT", "key:3", "1.5"],
        &["COMMAND", "INFO", "nosuch"],
        &["OBJECT", "ENCODING", "nosuch"],
        &["CLIENT", "GETNAME"],
        &["LCS", "key:1", "key:2", "IDX"],
        &["GETEX", "nosuch"],
        &["TTL", "key:1"],
        &["EXISTS", "key:1"],
        &["KEYS", "nosuch"],
        &["NOSUCH"],
        &["HELLO", "2"],
        &["GET", "nosuch"],
        &["COMMAND", "INFO", "nosuch"],
    ];
    let run = |server: &Server| -> Vec<String> {
        let mut c = server.raw();
        script
            .iter()
            .map(|argv| {
                let raw = c.cmd(argv);
                if argv[0] == "HELLO" {
                    // The id differs; keep the type byte and length line.
                    lossy(&raw[..raw.iter().position(|&b| b == b'\n').unwrap() + 1])
                } else {
                    lossy(&raw)
                }
            })
            .collect()
    };
    let (s, r) = (run(&shoal), run(&redis));
    let diffs: Vec<String> = script
        .iter()
        .zip(s.iter().zip(&r))
        .filter(|(_, (s, r))| s != r)
        .map(|(argv, (s, r))| format!("{}\n  shoal: {s:?}\n  redis: {r:?}", argv.join(" ")))
        .collect();
    assert!(diffs.is_empty(), "RESP3 framing differs:\n{}", diffs.join("\n"));
    // Spot checks of the RESP3 types themselves.
    assert_eq!(s[0].as_bytes()[0], b'%', "HELLO 3 replies with a map");
    assert_eq!(s[1], "_\r\n", "a missing key is the RESP3 null");
    assert!(s[6].starts_with("%1\r\n"), "CONFIG GET replies with a map");
    // No implemented command replies with a RESP3 double: INCRBYFLOAT stays a bulk string.
    assert!(s[8].starts_with('$'), "INCRBYFLOAT: {:?}", s[8]);
    let mut c = shoal.raw();
    c.cmd(&["HELLO", "3"]);
    let info = lossy(&c.cmd(&["COMMAND", "INFO", "get"]));
    assert!(info.contains("~2\r\n+readonly\r\n+fast\r\n"), "COMMAND INFO flags are a RESP3 set: {info:?}");
}

/// A pipeline of varied requests: inline, multibulk, empty lines, a large argument.
fn varied_pipeline() -> (Vec<u8>, usize) {
    let big = "B".repeat(40_000);
    let parts: Vec<Vec<u8>> = vec![
        b"PING\r\n".to_vec(),
        encode_str(&["SET", "key:1", "one"]),
        b"\r\n".to_vec(),
        encode_str(&["SET", "key:2", &big]),
        b"GET key:1\r\n".to_vec(),
        encode_str(&["MGET", "key:1", "key:2", "key:3"]),
        b"SET key:3 \"quoted value\"\n".to_vec(),
        encode_str(&["INCR", "key:4"]),
        encode_str(&["STRLEN", "key:2"]),
        b"*0\r\n".to_vec(),
        encode_str(&["ECHO", ""]),
        encode_str(&["DEL", "key:1", "key:2", "key:3", "key:4"]),
    ];
    (parts.concat(), 10)
}

#[test]
fn requests_written_one_byte_at_a_time() {
    let (shoal, redis) = pair(&[]);
    let (bytes, n) = varied_pipeline();
    // Many small requests, one byte per write: every frame arrives split at every offset.
    let mut small = Vec::new();
    for i in 0..200 {
        small.extend(encode_str(&["SET", &format!("key:{i}"), &i.to_string()]));
        small.extend(encode_str(&["INCR", &format!("key:{i}")]));
        small.extend(format!("GET key:{i}\r\n").into_bytes());
        small.extend(encode_str(&["MGET", &format!("key:{i}"), &format!("key:{}", i + 1)]));
    }
    let run = |server: &Server, input: &[u8], n: usize| -> Vec<u8> {
        let mut c = server.raw();
        let mut writer = c.stream.try_clone().expect("clone");
        let input = input.to_vec();
        let t = std::thread::spawn(move || {
            for b in input.chunks(1) {
                writer.write_all(b).expect("write one byte");
            }
        });
        let out: Vec<u8> = (0..n).flat_map(|_| c.read_reply()).collect();
        t.join().expect("writer");
        out
    };
    for (input, n) in [(&bytes, n), (&small, 800)] {
        let s = run(&shoal, input, n);
        let r = run(&redis, input, n);
        assert_eq!(lossy(&s), lossy(&r));
    }
}

#[test]
fn requests_split_in_two_at_every_offset() {
    let server = Server::shoal_threads(2);
    let (bytes, n) = varied_pipeline();
    let mut reference = server.raw();
    let want = exchange(&mut reference, &bytes, n);
    let mut c = server.raw();
    let mut offsets: Vec<usize> = (1..200.min(bytes.len())).collect();
    offsets.extend((200..bytes.len()).step_by(997));
    offsets.extend(bytes.len() - 50..bytes.len());
    for cut in offsets {
        c.send(&bytes[..cut]);
        c.send(&bytes[cut..]);
        let got: Vec<u8> = (0..n).flat_map(|_| c.read_reply()).collect();
        assert_eq!(lossy(&got), lossy(&want), "split at byte {cut}");
    }
}

#[test]
fn server_survives_garbage_and_keeps_serving() {
    let server = Server::shoal_threads(2);
    let mut by = Bystanders::new(&server);
    // Deterministic pseudo-random garbage, on many connections.
    let mut x: u32 = 12345;
    for round in 0..50 {
        let mut c = server.raw();
        let mut junk = Vec::new();
        for _ in 0..(round * 37 % 500 + 1) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            junk.push(match x % 8 {
                0 => b'*',
                1 => b'$',
                2 => b'\r',
                3 => b'\n',
                4 => b'"',
                _ => (x >> 8) as u8,
            });
        }
        let _ = c.stream.write_all(&junk);
        drop(c);
    }
    by.check(&server, "garbage");
}

#[test]
fn large_values_across_cores() {
    let server = Server::shoal_threads(2);
    assert_ne!(support::core_of(b"key:1", 2), support::core_of(b"key:2", 2));
    let a: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let b: Vec<u8> = (0..2_000_000u32).map(|i| (i % 241) as u8 ^ 0x5a).collect();
    let mut c = server.raw();
    c.send_cmd(&[b"MSET", b"key:1", &a, b"key:2", &b]);
    assert_eq!(c.read_reply(), b"+OK\r\n");
    // Read back on several connections (whichever core each lands on), pipelined.
    for _ in 0..4 {
        let mut r = server.raw();
        let mut bytes = support::encode_str(&["MGET", "key:1", "key:2"]);
        bytes.extend(support::encode_str(&["GET", "key:2"]));
        bytes.extend(support::encode_str(&["STRLEN", "key:1"]));
        r.send(&bytes);
        let mget = r.read_reply();
        let mut want = format!("*2\r\n${}\r\n", a.len()).into_bytes();
        want.extend(&a);
        want.extend(format!("\r\n${}\r\n", b.len()).as_bytes());
        want.extend(&b);
        want.extend(b"\r\n");
        assert!(mget == want, "MGET of two large values across cores");
        let get = r.read_reply();
        assert_eq!(get.len(), format!("${}\r\n", b.len()).len() + b.len() + 2);
        assert_eq!(r.read_reply(), b":3000000\r\n");
    }
    // APPEND and GETRANGE on the large value, then a cross-core COPY and RENAME.
    assert_eq!(c.cmd(&["APPEND", "key:2", "tail"]), b":2000004\r\n");
    assert_eq!(c.cmd(&["GETRANGE", "key:2", "-4", "-1"]), b"$4\r\ntail\r\n");
    assert_eq!(c.cmd(&["COPY", "key:1", "key:4"]), b":1\r\n");
    assert_eq!(c.cmd(&["RENAME", "key:2", "key:3"]), b"+OK\r\n");
    assert_eq!(c.cmd(&["STRLEN", "key:4"]), b":3000000\r\n");
    assert_eq!(c.cmd(&["STRLEN", "key:3"]), b":2000004\r\n");
}
