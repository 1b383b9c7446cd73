//! Publish/subscribe: messages reach subscribers on every core in the order
//! they were published, the counts and introspection add up over the cores,
//! a RESP2 subscriber is held to the commands Redis allows it, and a
//! subscriber that stops reading is disconnected at its output limit.

mod support;

use support::{lossy, q, RawConn, Server};

/// The RESP2 bytes of a message or pmessage frame.
fn frame(parts: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", parts.len()).into_bytes();
    for p in parts {
        out.extend_from_slice(format!("${}\r\n{p}\r\n", p.len()).as_bytes());
    }
    out
}

/// The RESP2 bytes of a (un)subscribe confirmation.
fn notice(word: &str, name: &str, count: usize) -> Vec<u8> {
    format!("*3\r\n${}\r\n{word}\r\n${}\r\n{name}\r\n:{count}\r\n", word.len(), name.len()).into_bytes()
}

fn int(v: redis::Value) -> i64 {
    match v {
        redis::Value::Int(n) => n,
        other => panic!("expected an integer, got {other:?}"),
    }
}

#[test]
fn messages_reach_subscribers_on_every_core_in_order() {
    let server = Server::shoal_threads(4);
    // Eight connections: the kernel spreads them over the four cores.
    let mut direct: Vec<RawConn> = (0..4).map(|_| server.raw()).collect();
    let mut patterned: Vec<RawConn> = (0..4).map(|_| server.raw()).collect();
    for s in &mut direct {
        assert_eq!(s.cmd(&["SUBSCRIBE", "news", "other"]), notice("subscribe", "news", 1));
        assert_eq!(s.read_reply(), notice("subscribe", "other", 2));
    }
    for s in &mut patterned {
        assert_eq!(s.cmd(&["PSUBSCRIBE", "n*"]), notice("psubscribe", "n*", 1));
    }
    let mut con = server.conn();
    assert_eq!(int(q(&mut con, &["PUBSUB", "NUMPAT"])), 1);
    assert_eq!(
        q(&mut con, &["PUBSUB", "NUMSUB", "news", "nobody"]),
        redis::Value::Array(vec![
            redis::Value::BulkString(b"news".to_vec()),
            redis::Value::Int(4),
            redis::Value::BulkString(b"nobody".to_vec()),
            redis::Value::Int(0),
        ])
    );
    for i in 0..100 {
        let msg = format!("m{i}");
        assert_eq!(int(q(&mut con, &["PUBLISH", "news", &msg])), 8, "receivers of message {i}");
    }
    assert_eq!(int(q(&mut con, &["PUBLISH", "other", "x"])), 4);
    assert_eq!(int(q(&mut con, &["PUBLISH", "elsewhere", "x"])), 0);
    for s in &mut direct {
        for i in 0..100 {
            assert_eq!(lossy(&s.read_reply()), lossy(&frame(&["message", "news", &format!("m{i}")])));
        }
        assert_eq!(s.read_reply(), frame(&["message", "other", "x"]));
    }
    for s in &mut patterned {
        for i in 0..100 {
            assert_eq!(lossy(&s.read_reply()), lossy(&frame(&["pmessage", "n*", "news", &format!("m{i}")])));
        }
    }
    let info = support::lossy(&match q(&mut con, &["INFO", "stats"]) {
        redis::Value::BulkString(b) => b,
        other => panic!("INFO reply {other:?}"),
    });
    assert!(info.contains("pubsub_channels:2\r\n"), "{info}");
    assert!(info.contains("pubsub_patterns:1\r\n"), "{info}");
}

#[test]
fn shard_channels_are_their_own_namespace() {
    let server = Server::shoal_threads(2);
    let mut sub = server.raw();
    assert_eq!(sub.cmd(&["SSUBSCRIBE", "{s}a"]), notice("ssubscribe", "{s}a", 1));
    // A shard subscription does not count with channels and patterns.
    assert_eq!(sub.cmd(&["SUBSCRIBE", "{s}a"]), notice("subscribe", "{s}a", 1));
    let mut con = server.conn();
    assert_eq!(int(q(&mut con, &["SPUBLISH", "{s}a", "hello"])), 1);
    assert_eq!(sub.read_reply(), frame(&["smessage", "{s}a", "hello"]));
    assert_eq!(int(q(&mut con, &["PUBLISH", "{s}a", "plain"])), 1);
    assert_eq!(sub.read_reply(), frame(&["message", "{s}a", "plain"]));
    assert_eq!(
        q(&mut con, &["PUBSUB", "SHARDCHANNELS"]),
        redis::Value::Array(vec![redis::Value::BulkString(b"{s}a".to_vec())])
    );
    assert_eq!(sub.cmd(&["SUNSUBSCRIBE"]), notice("sunsubscribe", "{s}a", 0));
    assert_eq!(int(q(&mut con, &["SPUBLISH", "{s}a", "gone"])), 0);
}

/// The same conversation with Shoal and with Redis gives the same bytes:
/// the RESP2 subscribed context, PING's reply in it, UNSUBSCRIBE with
/// nothing subscribed, and RESP3's push frames with no restriction.
#[test]
fn subscribed_context_matches_redis() {
    let script: &[&[&str]] = &[
        &["UNSUBSCRIBE"],
        &["SUBSCRIBE", "a", "b", "a"],
        &["GET", "x"],
        &["PING"],
        &["PING", "hi"],
        &["PSUBSCRIBE", "p*"],
        &["PUNSUBSCRIBE", "nope"],
        &["UNSUBSCRIBE", "a"],
        &["UNSUBSCRIBE"],
        &["PUNSUBSCRIBE"],
        &["PING"],
        &["SUBSCRIBE", "c"],
        &["RESET"],
        &["GET", "x"],
        &["HELLO", "3"],
        &["SUBSCRIBE", "a"],
        &["GET", "x"],
        &["PING"],
        &["UNSUBSCRIBE"],
    ];
    let run = |server: &Server| -> Vec<String> {
        let mut c = server.raw();
        let mut replies = Vec::new();
        for args in script {
            let mut reply = c.cmd(args);
            // Multi-channel (un)subscribes answer once per channel.
            let extra = match args[0] {
                "SUBSCRIBE" | "PSUBSCRIBE" if args.len() > 2 => args.len() - 2,
                _ => 0,
            };
            for _ in 0..extra {
                reply.extend(c.read_reply());
            }
            if args[0] == "UNSUBSCRIBE" && args.len() == 1 && lossy(&reply).contains("\r\n:2\r\n") {
                reply.extend(c.read_reply());
            }
            // HELLO's reply holds the server's name, version and client id.
            replies.push(if args[0] == "HELLO" { "(hello)".into() } else { lossy(&reply) });
        }
        replies
    };
    let redis = run(&Server::redis(&[]));
    let shoal = run(&Server::shoal(&[]));
    for (i, (r, s)) in redis.iter().zip(&shoal).enumerate() {
        assert_eq!(s, r, "reply to {:?}", script[i]);
    }
}

#[test]
fn closing_or_reset_releases_subscriptions() {
    let server = Server::shoal_threads(2);
    let mut con = server.conn();
    let numsub = |con: &mut redis::Connection| match q(con, &["PUBSUB", "NUMSUB", "ch"]) {
        redis::Value::Array(v) => int(v[1].clone()),
        other => panic!("{other:?}"),
    };
    let mut a = server.raw();
    let mut b = server.raw();
    a.cmd(&["SUBSCRIBE", "ch"]);
    b.cmd(&["SUBSCRIBE", "ch"]);
    assert_eq!(numsub(&mut con), 2);
    assert_eq!(b.cmd(&["RESET"]), b"+RESET\r\n");
    assert_eq!(numsub(&mut con), 1);
    drop(a);
    support::wait_until("the closed subscriber to be forgotten", support::WAIT, || numsub(&mut con) == 0);
    assert_eq!(int(q(&mut con, &["PUBLISH", "ch", "x"])), 0);
}

/// A subscriber that never reads has its pending messages bounded by
/// `client-output-buffer-limit pubsub`: past the hard limit it is
/// disconnected, and the server, the publisher and other clients go on.
#[test]
fn a_subscriber_that_does_not_read_is_disconnected_at_the_limit() {
    let server = Server::shoal_threads(2);
    let mut con = server.conn();
    assert_eq!(
        q(&mut con, &["CONFIG", "SET", "client-output-buffer-limit", "pubsub 256kb 0 0"]),
        redis::Value::Okay
    );
    assert_eq!(
        q(&mut con, &["CONFIG", "GET", "client-output-buffer-limit"]),
        redis::Value::Array(vec![
            redis::Value::BulkString(b"client-output-buffer-limit".to_vec()),
            redis::Value::BulkString(b"normal 0 0 0 slave 268435456 67108864 60 pubsub 262144 0 0".to_vec()),
        ])
    );
    let mut idle = server.raw();
    idle.cmd(&["SUBSCRIBE", "flood"]);
    let message = "x".repeat(64 * 1024);
    // The kernel's socket buffers take some megabytes first; the outbox then
    // passes its limit and the subscriber goes, after which nobody receives.
    let mut published = 0;
    support::wait_until("the idle subscriber to be dropped", support::WAIT, || {
        published += 1;
        int(q(&mut con, &["PUBLISH", "flood", &message])) == 0
    });
    assert!(published > 1);
    assert!(idle.closes_in_time(), "the subscriber's connection should be closed");
    assert_eq!(q(&mut con, &["PING"]), redis::Value::SimpleString("PONG".into()));
    // Bad limits are refused with Redis's words.
    let err = |v: redis::Value| match v {
        redis::Value::ServerError(e) => format!("{} {}", e.code(), e.details().unwrap_or("")),
        other => panic!("{other:?}"),
    };
    let bad = err(q(&mut con, &["CONFIG", "SET", "client-output-buffer-limit", "pubsub 1 2"]));
    assert!(bad.contains("Wrong number of arguments in buffer limit configuration."), "{bad}");
    let bad = err(q(&mut con, &["CONFIG", "SET", "client-output-buffer-limit", "master 1 2 3"]));
    assert!(bad.contains("Invalid client class specified in buffer limit configuration."), "{bad}");
}
