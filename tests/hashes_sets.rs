//! Hash and set commands, Shoal against redis-server: the same scripts run on
//! both (see `support::script` for the format and the directives), with keys
//! spread over the cores, and every reply is compared.
//!
//! Replies whose order is a hash table's iteration order (HGETALL of a
//! `hashtable` hash, SMEMBERS of a `hashtable` set, SINTER...) are compared
//! sorted (`!sorted`); random ones (HRANDFIELD, SRANDMEMBER, SPOP) by shape,
//! or sorted when every element comes back. The compact encodings' orders
//! (insertion order for a listpack hash, ascending for an intset) are
//! compared exactly. The encoding limits are set explicitly, so the scripts
//! do not depend on either server's defaults.

mod support;

use support::script::run_group;

const HASHES: &[(&str, &str)] = &[
    (
        "hash_basic",
        r#"
        HSET key:1 a 1 b 2
        HSET key:1 a 3 c
        HSET key:1 a 1 b 2 c 3
        HSET key:1
        HMSET key:1 a 1 b
        HMSET key:1 a 1 c 5
        HGET key:1 a
        HGET key:1 c
        HGET key:1 nosuch
        HGET nosuch a
        HMGET key:1 a nosuch b
        HMGET nosuch a b
        HSETNX key:1 a 9
        HSETNX key:1 d 4
        HSETNX key:2 x y
        HSETNX key:1 a
        HGETALL key:1
        HKEYS key:1
        HVALS key:1
        HLEN key:1
        HLEN nosuch
        HEXISTS key:1 a
        HEXISTS key:1 zz
        HEXISTS nosuch a
        HSTRLEN key:1 a
        HSTRLEN key:1 nosuch
        HSTRLEN nosuch a
        HSET key:1 neg -123 big 9223372036854775807 s "hello world" e "" bin "\x00\xff\r\n"
        HSTRLEN key:1 neg
        HSTRLEN key:1 big
        HSTRLEN key:1 e
        HSTRLEN key:1 bin
        HGET key:1 e
        HGET key:1 bin
        HGETALL key:1
        HDEL key:1 nosuch
        HDEL key:1 a nosuch b
        HGETALL key:1
        HDEL nosuch a
        HDEL key:1 c d neg big s e bin
        EXISTS key:1
        HDEL key:1
        HGETALL nosuch
        HKEYS nosuch
        HVALS nosuch
        HSET key:3 01 x 1 y -0 z "" w
        HGETALL key:3
        HGET key:3 01
        HGET key:3 1
        HGET key:3 ""
        HDEL key:3 1
        HGETALL key:3
        TYPE key:3
        "#,
    ),
    (
        "hash_wrongtype",
        r#"
        SET key:1 x
        SADD key:2 a
        HSET key:1 a b
        HSETNX key:1 a b
        HGET key:1 a
        HMGET key:1 a
        HMSET key:1 a b
        HDEL key:1 a
        HEXISTS key:1 a
        HLEN key:1
        HSTRLEN key:1 a
        HKEYS key:1
        HVALS key:1
        HGETALL key:2
        HINCRBY key:2 a 1
        HINCRBY key:1 a x
        HINCRBYFLOAT key:1 a 1
        HINCRBYFLOAT key:1 a x
        HRANDFIELD key:1
        HRANDFIELD key:1 1
        HRANDFIELD key:1 x
        HSCAN key:1 0
        HSCAN key:1 x
        HSCAN key:2 0 COUNT 0
        GET key:1
        "#,
    ),
    (
        "hash_incr",
        r#"
        HINCRBY key:4 f 5
        HINCRBY key:4 f -10
        HINCRBY key:4 f abc
        HINCRBY key:4 f 1.5
        HINCRBY key:4 f 9223372036854775808
        HINCRBY key:4 f 9223372036854775807
        HINCRBY key:4 f 9223372036854775807
        HSET key:4 m 9223372036854775807 n -9223372036854775808 str abc sp " 1" z 01 w 1.0
        HINCRBY key:4 m 1
        HINCRBY key:4 m 0
        HINCRBY key:4 m -1
        HINCRBY key:4 n -1
        HINCRBY key:4 n 1
        HINCRBY key:4 str 1
        HINCRBY key:4 sp 1
        HINCRBY key:4 z 1
        HINCRBY key:4 w 1
        HINCRBY key:5 f 3
        HGET key:5 f
        HINCRBY key:4
        HGETALL key:4
        HINCRBYFLOAT key:6 a 10.5
        HINCRBYFLOAT key:6 a 0.1
        HINCRBYFLOAT key:6 a -5.0e+3
        HINCRBYFLOAT key:6 b 1.5
        HINCRBYFLOAT key:6 b 0.5
        HINCRBYFLOAT key:6 b abc
        HINCRBYFLOAT key:6 b inf
        HINCRBYFLOAT key:6 b -inf
        HINCRBYFLOAT key:6 b nan
        HINCRBYFLOAT key:6 b ""
        HINCRBYFLOAT key:6 b " 1"
        HINCRBYFLOAT key:6 b 1e5000
        HINCRBYFLOAT key:6 x 0x10
        HINCRBYFLOAT key:6 x 3.0000000000000000001
        HINCRBYFLOAT key:6 y 1.1
        HINCRBYFLOAT key:6 y 2.2
        HINCRBYFLOAT key:6 z 5e3
        HINCRBYFLOAT key:6 z 1.5e-7
        HSET key:6 s abc i 17 inf inf
        HINCRBYFLOAT key:6 s 1
        HINCRBYFLOAT key:6 i 0.25
        HINCRBYFLOAT key:6 inf 1
        HGETALL key:6
        HINCRBYFLOAT key:7 big 1e70
        HINCRBYFLOAT key:7 c 1e308
        HINCRBYFLOAT key:7 c 1e308
        HINCRBYFLOAT key:7 c 1e308
        HGET key:7 c
        HLEN key:7
        HINCRBYFLOAT key:7
        "#,
    ),
    (
        "hash_random",
        r#"
        HSET key:8 a 1 b 2 c 3
        HRANDFIELD key:8 3
        HRANDFIELD key:8 10
        HRANDFIELD key:8 3 WITHVALUES
        HRANDFIELD key:8 9223372036854775807
        HRANDFIELD key:8 4611686018427387903 withvalues
        HRANDFIELD key:8 0
        HRANDFIELD key:8 0 WITHVALUES
        HRANDFIELD nosuch 3
        HRANDFIELD nosuch -3 WITHVALUES
        HRANDFIELD nosuch
        HRANDFIELD key:8 x
        HRANDFIELD key:8 1 2
        HRANDFIELD key:8 1 WITHVALUES x
        HRANDFIELD key:8 1 withvalue
        HRANDFIELD key:8 -9223372036854775808
        HRANDFIELD key:8 4611686018427387904 WITHVALUES
        HRANDFIELD key:8 -4611686018427387904 WITHVALUES
        !shape HRANDFIELD key:8
        !shape HRANDFIELD key:8 1
        !shape HRANDFIELD key:8 2
        !shape HRANDFIELD key:8 -5
        !shape HRANDFIELD key:8 -5 WITHVALUES
        !shape HRANDFIELD key:8 2 WITHVALUES
        HSET key:9 only 1
        HRANDFIELD key:9
        HRANDFIELD key:9 -3
        HRANDFIELD key:9 -2 WITHVALUES
        HRANDFIELD key:9 1 WITHVALUES
        HELLO 3
        HRANDFIELD key:8 3 WITHVALUES
        HRANDFIELD key:8 10 WITHVALUES
        HRANDFIELD key:9 -2 WITHVALUES
        HRANDFIELD nosuch
        HRANDFIELD nosuch 2 WITHVALUES
        !shape HRANDFIELD key:8 -4 WITHVALUES
        !shape HRANDFIELD key:8 2 WITHVALUES
        HELLO 2
        "#,
    ),
    (
        "hash_scan",
        r#"
        HSET key:10 a 1 b 2 c 3
        HSCAN key:10 0
        HSCAN key:10 0 MATCH a*
        HSCAN key:10 0 MATCH * COUNT 1
        HSCAN key:10 7 COUNT 1
        HSCAN key:10 x
        HSCAN key:10 " 0"
        HSCAN key:10 -1
        HSCAN key:10 +0
        HSCAN key:10 ""
        HSCAN key:10 18446744073709551615
        HSCAN key:10 18446744073709551616
        HSCAN key:10 0 COUNT 0
        HSCAN key:10 0 COUNT -1
        HSCAN key:10 0 COUNT x
        HSCAN key:10 0 COUNT
        HSCAN key:10 0 MATCH
        HSCAN key:10 0 NOVALUES
        HSCAN key:10 0 TYPE string
        HSCAN key:10 0 count 5 match [ab] COUNT 1
        HSCAN nosuch 0 COUNT 0
        HSCAN nosuch x
        HSET key:11 1 10 22 -3 333 x
        HSCAN key:11 0 MATCH 2*
        HSCAN key:11 0 MATCH *3
        HGETALL key:11
        "#,
    ),
    (
        "hash_resp3",
        r#"
        HELLO 3
        HSET key:12 a 1 b 2 c 3
        HGETALL key:12
        HGETALL nosuch
        HKEYS key:12
        HVALS nosuch
        HMGET nosuch a
        HGET nosuch a
        HSCAN key:12 0
        HINCRBYFLOAT key:12 a 1.5
        HINCRBY key:12 b 1
        HEXISTS key:12 a
        HELLO 2
        "#,
    ),
];

/// Scripts whose commands are generated: the encoding boundaries need
/// hundreds of fields on one line.
fn generated() -> Vec<(&'static str, &'static str)> {
    let fields = |n: usize, prefix: &str| -> String {
        (0..n).map(|i| format!("{prefix}{i} v{i}")).collect::<Vec<_>>().join(" ")
    };
    let members = |n: usize, prefix: &str| -> String {
        (0..n).map(|i| format!("{prefix}{i}")).collect::<Vec<_>>().join(" ")
    };
    let long = "x".repeat(64);
    let longer = "x".repeat(65);
    let hash = format!(
        r#"
        CONFIG SET hash-max-listpack-entries 128
        CONFIG SET hash-max-listpack-value 64
        HSET key:13 {f128}
        OBJECT ENCODING key:13
        HLEN key:13
        HGETALL key:13
        HSET key:13 f0 changed
        OBJECT ENCODING key:13
        HSET key:13 f128 v128
        OBJECT ENCODING key:13
        HLEN key:13
        !sorted HKEYS key:13
        !sorted HVALS key:13
        !sorted HGETALL key:13
        HDEL key:13 {m100}
        OBJECT ENCODING key:13
        !sorted HGETALL key:13
        HGET key:13 f120
        HSTRLEN key:13 f0
        HINCRBY key:13 n 5
        HINCRBYFLOAT key:13 n 0.5
        !shape HRANDFIELD key:13 3
        !sorted HRANDFIELD key:13 100
        !sorted HRANDFIELD key:13 100 WITHVALUES
        HSET key:14 f {long}
        OBJECT ENCODING key:14
        HSET key:14 f {longer}
        OBJECT ENCODING key:14
        HGET key:14 f
        HSET key:15 {longer} v
        OBJECT ENCODING key:15
        HSET key:16 a 1 b {longer}
        OBJECT ENCODING key:16
        HSET key:17 a 1
        HSETNX key:17 a {longer}
        OBJECT ENCODING key:17
        HSETNX key:17 b {longer}
        OBJECT ENCODING key:17
        HSET key:18 a 1
        HINCRBYFLOAT key:18 a 1e70
        OBJECT ENCODING key:18
        CONFIG SET hash-max-listpack-entries 2
        CONFIG SET hash-max-listpack-value 4
        HSET key:19 a 1 b 1234
        OBJECT ENCODING key:19
        HSET key:19 c 3
        OBJECT ENCODING key:19
        HSET key:20 a 1
        HINCRBY key:20 a 99999
        OBJECT ENCODING key:20
        CONFIG SET hash-max-listpack-entries 0
        HSET key:21 a 1
        OBJECT ENCODING key:21
        CONFIG SET hash-max-listpack-entries 128
        CONFIG SET hash-max-listpack-value 64
        "#,
        f128 = fields(128, "f"),
        m100 = (0..100).map(|i| format!("f{i}")).collect::<Vec<_>>().join(" "),
    );
    let set = format!(
        r#"
        CONFIG SET set-max-intset-entries 512
        SADD key:22 {i512}
        OBJECT ENCODING key:22
        SCARD key:22
        SISMEMBER key:22 511
        SMEMBERS key:22
        SADD key:22 512
        OBJECT ENCODING key:22
        !sorted SMEMBERS key:22
        SREM key:22 {i500}
        OBJECT ENCODING key:22
        !sorted SMEMBERS key:22
        !shape SPOP key:22 10
        OBJECT ENCODING key:22
        EXISTS key:22
        SADD key:23 {i512}
        SADD key:23 a
        OBJECT ENCODING key:23
        !sorted SPOP key:23 513
        SADD key:23 {i600}
        OBJECT ENCODING key:23
        !shape SPOP key:23 590
        OBJECT ENCODING key:23
        SCARD key:23
        SADD key:24 {i520}
        SUNIONSTORE key:25 key:24
        OBJECT ENCODING key:25
        SREM key:24 {i500}
        OBJECT ENCODING key:24
        SUNION key:24
        SDIFF key:24 nosuch
        !sorted SINTER key:24 key:24
        SUNIONSTORE key:26 key:24
        OBJECT ENCODING key:26
        SMEMBERS key:26
        SADD key:27 {s600}
        SCARD key:27
        SRANDMEMBER key:27 0
        !shape SRANDMEMBER key:27 5
        !shape SRANDMEMBER key:27 -700
        !sorted SRANDMEMBER key:27 1000
        !sorted SRANDMEMBER key:27 600
        !shape SRANDMEMBER key:27 550
        SINTERCARD 1 key:27 LIMIT 10
        !sorted SPOP key:27 1000
        EXISTS key:27
        CONFIG SET set-max-intset-entries 3
        SADD key:28 1 2 3
        OBJECT ENCODING key:28
        SADD key:28 4
        OBJECT ENCODING key:28
        CONFIG SET set-max-intset-entries 0
        SADD key:29 1
        OBJECT ENCODING key:29
        CONFIG SET set-max-intset-entries 512
        "#,
        i512 = members(512, ""),
        i500 = members(500, ""),
        i520 = members(520, ""),
        i600 = members(600, ""),
        s600 = members(600, "m"),
    );
    vec![
        ("hash_encodings", Box::leak(hash.into_boxed_str())),
        ("set_encodings", Box::leak(set.into_boxed_str())),
    ]
}

const SETS: &[(&str, &str)] = &[
    (
        "set_basic",
        r#"
        SADD key:1 3 1 2
        SADD key:1 2 4
        SADD key:1
        SMEMBERS key:1
        SCARD key:1
        SCARD nosuch
        SISMEMBER key:1 1
        SISMEMBER key:1 5
        SISMEMBER key:1 01
        SISMEMBER nosuch 1
        SMISMEMBER key:1 1 5 2
        SMISMEMBER nosuch 1 2
        SMISMEMBER key:1
        SREM key:1 5
        SREM key:1 1 5 3
        SMEMBERS key:1
        SREM nosuch a
        SREM key:1 2 4
        EXISTS key:1
        SADD key:2 a b c
        SADD key:2 a
        SREM key:2
        SCARD key:2
        SISMEMBER key:2 b
        SMISMEMBER key:2 c d a
        SADD key:3 -5 9223372036854775807 -9223372036854775808 0 100000
        SMEMBERS key:3
        SADD key:4 "" "\x00" "a b"
        SISMEMBER key:4 ""
        SCARD key:4
        SMEMBERS nosuch
        TYPE key:3
        "#,
    ),
    (
        "set_wrongtype",
        r#"
        SET key:1 x
        HSET key:2 a 1
        SADD key:3 a
        SADD key:1 a
        SREM key:1 a
        SISMEMBER key:1 a
        SMISMEMBER key:1 a
        SMEMBERS key:2
        SCARD key:1
        SPOP key:1
        SPOP key:1 1
        SPOP key:1 x
        SRANDMEMBER key:1
        SRANDMEMBER key:2 1
        SRANDMEMBER key:1 x
        SMOVE key:1 key:3 a
        SMOVE key:3 key:1 a
        SMOVE nosuch key:1 a
        SMOVE key:1 nosuch a
        SINTER key:1
        SINTER nosuch key:1
        SINTER key:3 key:2
        SINTERCARD 1 key:1
        SINTERCARD 2 nosuch key:1
        SINTERSTORE key:5 key:1
        SUNION key:1
        SUNION nosuch key:2
        SUNIONSTORE key:5 key:1
        SDIFF key:1
        SDIFF nosuch key:1
        SDIFF key:3 key:1
        SDIFFSTORE key:5 key:1
        SSCAN key:1 0
        SSCAN key:1 x
        SSCAN key:1 0 COUNT 0
        SMEMBERS key:3
        "#,
    ),
    (
        "set_pop_and_random",
        r#"
        SADD key:5 5 -1 100
        SPOP key:5 0
        SPOP key:5 -1
        SPOP key:5 x
        SPOP key:5 1 2
        SRANDMEMBER key:5 3
        SRANDMEMBER key:5 10
        SRANDMEMBER key:5 9223372036854775807
        SRANDMEMBER key:5 0
        SRANDMEMBER key:5 -0
        SRANDMEMBER nosuch 3
        SRANDMEMBER nosuch -3
        SRANDMEMBER nosuch
        SRANDMEMBER key:5 x
        SRANDMEMBER key:5 1 2
        SRANDMEMBER key:5 -9223372036854775808
        !shape SRANDMEMBER key:5
        !shape SRANDMEMBER key:5 1
        !shape SRANDMEMBER key:5 2
        !shape SRANDMEMBER key:5 -10
        SPOP nosuch
        SPOP nosuch 0
        SPOP nosuch 5
        !shape SPOP key:5
        !shape SPOP key:5 1
        SCARD key:5
        SADD key:5 7 8
        !shape SPOP key:5 3
        EXISTS key:5
        SADD key:6 b a c
        !sorted SPOP key:6 10
        EXISTS key:6
        SADD key:7 1 2 3 a
        !sorted SPOP key:7 4
        SADD key:8 solo
        SRANDMEMBER key:8
        SRANDMEMBER key:8 -3
        SPOP key:8
        EXISTS key:8
        SADD key:9 1 2 3 4 5 6 7 8 9 10
        !shape SPOP key:9 2
        !shape SPOP key:9 7
        SCARD key:9
        HELLO 3
        SADD key:10 1 2 3
        SPOP nosuch 3
        SPOP nosuch
        SPOP key:10 0
        SRANDMEMBER key:10 10
        SRANDMEMBER nosuch 3
        !shape SPOP key:10 2
        !shape SPOP key:10 10
        HELLO 2
        "#,
    ),
    (
        "set_move",
        r#"
        !cross key:1 key:2
        SADD key:1 1 2 a
        SADD key:2 x
        SMOVE key:1 key:2 1
        SMOVE key:1 key:2 nosuch
        SMOVE key:1 key:1 2
        SMOVE key:1 key:1 nosuch
        !sorted SMEMBERS key:1
        !sorted SMEMBERS key:2
        SMOVE key:1 key:3 2
        SMEMBERS key:3
        OBJECT ENCODING key:3
        SMOVE key:1 key:2 a
        EXISTS key:1
        !sorted SMEMBERS key:2
        SMOVE key:2 key:2 q
        SMOVE nosuch key:2 a
        SMOVE key:2 key:4 x
        OBJECT ENCODING key:4
        SMOVE key:2 key:3 1
        SMEMBERS key:3
        SMOVE key:3
        "#,
    ),
    (
        "set_algebra",
        r#"
        !cross key:1 key:2
        !cross key:2 key:3
        SADD key:1 1 2 3 4
        SADD key:2 2 3 4 5
        SADD key:3 3 4 x
        SINTER key:1 key:2
        !sorted SINTER key:1 key:2 key:3
        SINTER key:1 nosuch
        SINTER key:2 key:1
        SINTER key:1
        SINTERCARD 2 key:1 key:2
        SINTERCARD 3 key:1 key:2 key:3
        SINTERCARD 3 key:1 key:2 nosuch
        SINTERCARD 2 key:1 key:2 LIMIT 1
        SINTERCARD 2 key:1 key:2 LIMIT 0
        SINTERCARD 2 key:1 key:2 LIMIT 2 limit 1
        SINTERCARD 0 key:1
        SINTERCARD -1 key:1
        SINTERCARD x key:1
        SINTERCARD 3 key:1 key:2
        SINTERCARD 1 key:1 key:2
        SINTERCARD 2 key:1 key:2 LIMIT
        SINTERCARD 2 key:1 key:2 LIMIT -1
        SINTERCARD 2 key:1 key:2 LIMIT x
        SINTERCARD 2 key:1 key:2 FOO 1
        SINTERCARD 9223372036854775807 key:1
        SINTERCARD
        SINTERCARD 1
        SINTERSTORE key:4 key:1 key:2
        SMEMBERS key:4
        SINTERSTORE key:4 key:1 nosuch
        EXISTS key:4
        SINTERSTORE key:4 key:1 key:3
        SMEMBERS key:4
        OBJECT ENCODING key:4
        SUNION key:1 key:2 nosuch
        SUNION nosuch
        !sorted SUNION key:1 key:3
        SUNIONSTORE key:5 key:1 key:2
        SMEMBERS key:5
        SUNIONSTORE key:5 nosuch
        EXISTS key:5
        SDIFF key:2 key:1
        SDIFF key:2 nosuch key:1
        SDIFF nosuch key:1
        SDIFF key:2 key:2
        SDIFF key:1 key:3 key:2
        !sorted SDIFF key:3 key:1
        SDIFFSTORE key:6 key:2 key:1
        SMEMBERS key:6
        SDIFFSTORE key:6 key:2 key:2
        EXISTS key:6
        SET key:7 v EX 100
        SUNIONSTORE key:7 key:1
        TTL key:7
        SMEMBERS key:7
        SDIFFSTORE key:7 nosuch
        EXISTS key:7
        SINTERSTORE key:1 key:1 key:2
        SMEMBERS key:1
        SINTERSTORE key:8
        SUNIONSTORE key:8
        SDIFF
        HELLO 3
        SINTER key:1 key:2
        SINTER key:1 nosuch
        SUNION key:1 key:2
        SDIFF key:2 key:1
        SMEMBERS nosuch
        SINTERCARD 2 key:1 key:2
        HELLO 2
        "#,
    ),
    (
        "set_scan",
        r#"
        SADD key:11 3 1 2 20
        SSCAN key:11 0
        SSCAN key:11 0 MATCH 2*
        SSCAN key:11 99 COUNT 1
        SSCAN key:11 x
        SSCAN key:11 -1
        SSCAN key:11 ""
        SSCAN key:11 0 COUNT 0
        SSCAN key:11 0 TYPE set
        SSCAN key:11 0 MATCH
        SSCAN nosuch 0 COUNT 0
        SADD key:12 b
        SSCAN key:12 0 MATCH [ab]
        SSCAN key:12 0 MATCH c*
        HELLO 3
        SSCAN key:11 0
        HELLO 2
        "#,
    ),
];

macro_rules! groups {
    ($($name:ident => $cores:expr, $scripts:expr;)*) => {
        $(
            #[test]
            fn $name() {
                run_group($cores, $scripts);
            }
        )*
    };
}

groups! {
    hashes => 2, HASHES;
    sets => 2, SETS;
    hashes_4_cores => 4, HASHES;
    sets_4_cores => 4, SETS;
}

#[test]
fn encodings() {
    run_group(2, &generated());
}

#[test]
fn encodings_4_cores() {
    run_group(4, &generated());
}
