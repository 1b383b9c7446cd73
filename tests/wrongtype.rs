//! WRONGTYPE: every command that works on one type, run against a key of
//! every other type, compared with redis-server. Which commands check the
//! type, and when (before or after parsing their other arguments, before or
//! after creating a missing destination), is part of Redis's behaviour.

mod support;

use support::script::run_group;

/// A key of each type, spread over the cores.
const SETUP: &str = r#"
SET key:1 text
RPUSH key:2 a b
HSET key:3 f 1
SADD key:4 a b
ZADD key:5 1 a 2 b
XADD key:6 1-1 f v
"#;

const KEYS: &[(&str, &str)] = &[
    ("string", "key:1"),
    ("list", "key:2"),
    ("hash", "key:3"),
    ("set", "key:4"),
    ("zset", "key:5"),
    ("stream", "key:6"),
];

/// Command templates (`K` is the key under test) and the type they work on.
const COMMANDS: &[(&str, &str)] = &[
    ("string", "GET K"),
    ("string", "GETSET K x"),
    ("string", "GETDEL K"),
    ("string", "GETEX K PERSIST"),
    ("string", "SET K x GET"),
    ("string", "APPEND K x"),
    ("string", "STRLEN K"),
    ("string", "GETRANGE K 0 -1"),
    ("string", "SETRANGE K 0 x"),
    ("string", "INCR K"),
    ("string", "DECRBY K 2"),
    ("string", "INCRBYFLOAT K 1.5"),
    ("string", "MGET K"),
    ("string", "LCS K K"),
    ("string", "SETBIT K 1 1"),
    ("string", "GETBIT K 1"),
    ("string", "BITCOUNT K"),
    ("string", "BITPOS K 1"),
    ("string", "BITFIELD K GET u8 0"),
    ("string", "BITFIELD_RO K GET u8 0"),
    ("string", "BITOP AND key:9 K"),
    ("string", "PFADD K a"),
    ("string", "PFCOUNT K"),
    ("list", "LPUSH K x"),
    ("list", "RPUSHX K x"),
    ("list", "LPOP K"),
    ("list", "RPOP K 2"),
    ("list", "LLEN K"),
    ("list", "LRANGE K 0 -1"),
    ("list", "LINDEX K 0"),
    ("list", "LSET K 0 x"),
    ("list", "LINSERT K BEFORE a x"),
    ("list", "LREM K 0 a"),
    ("list", "LTRIM K 0 1"),
    ("list", "LPOS K a"),
    ("list", "LMOVE K key:9 LEFT LEFT"),
    ("list", "RPOPLPUSH K key:9"),
    ("list", "LMPOP 1 K LEFT"),
    ("list", "BLPOP K 0.01"),
    ("list", "BLMOVE K key:9 LEFT RIGHT 0.01"),
    ("hash", "HSET K f v"),
    ("hash", "HSETNX K f v"),
    ("hash", "HGET K f"),
    ("hash", "HMGET K f"),
    ("hash", "HDEL K f"),
    ("hash", "HEXISTS K f"),
    ("hash", "HLEN K"),
    ("hash", "HSTRLEN K f"),
    ("hash", "HKEYS K"),
    ("hash", "HVALS K"),
    ("hash", "HGETALL K"),
    ("hash", "HINCRBY K f 1"),
    ("hash", "HINCRBYFLOAT K f 1"),
    ("hash", "HRANDFIELD K"),
    ("hash", "HSCAN K 0"),
    ("set", "SADD K x"),
    ("set", "SREM K x"),
    ("set", "SISMEMBER K a"),
    ("set", "SMISMEMBER K a"),
    ("set", "SMEMBERS K"),
    ("set", "SCARD K"),
    ("set", "SPOP K"),
    ("set", "SRANDMEMBER K 2"),
    ("set", "SMOVE K key:9 a"),
    ("set", "SINTER K"),
    ("set", "SINTERCARD 1 K"),
    ("set", "SUNIONSTORE key:9 K"),
    ("set", "SDIFF K"),
    ("set", "SSCAN K 0"),
    ("zset", "ZADD K 1 x"),
    ("zset", "ZINCRBY K 1 a"),
    ("zset", "ZREM K a"),
    ("zset", "ZSCORE K a"),
    ("zset", "ZMSCORE K a"),
    ("zset", "ZCARD K"),
    ("zset", "ZCOUNT K -inf +inf"),
    ("zset", "ZLEXCOUNT K - +"),
    ("zset", "ZRANK K a"),
    ("zset", "ZRANGE K 0 -1"),
    ("zset", "ZRANGESTORE key:9 K 0 -1"),
    ("zset", "ZRANGEBYSCORE K -inf +inf"),
    ("zset", "ZREVRANGEBYLEX K + -"),
    ("zset", "ZPOPMIN K"),
    ("zset", "ZMPOP 1 K MAX"),
    ("zset", "BZPOPMAX K 0.01"),
    ("zset", "ZRANDMEMBER K"),
    ("zset", "ZUNIONSTORE key:9 1 K"),
    ("zset", "ZINTER 1 K"),
    ("zset", "ZDIFF 1 K"),
    ("zset", "ZINTERCARD 1 K"),
    ("zset", "ZREMRANGEBYRANK K 0 0"),
    ("zset", "ZSCAN K 0"),
    ("zset", "GEOADD K 13.3 38.1 x"),
    ("zset", "GEODIST K a b"),
    ("zset", "GEOHASH K a"),
    ("zset", "GEOPOS K a"),
    ("zset", "GEOSEARCH K FROMLONLAT 0 0 BYRADIUS 10 km"),
    ("zset", "GEORADIUS_RO K 0 0 10 km"),
    ("stream", "XADD K * f v"),
    ("stream", "XLEN K"),
    ("stream", "XRANGE K - +"),
    ("stream", "XREVRANGE K + -"),
    ("stream", "XDEL K 1-1"),
    ("stream", "XTRIM K MAXLEN 1"),
    ("stream", "XREAD STREAMS K 0"),
    ("stream", "XGROUP CREATE K g $"),
    ("stream", "XINFO STREAM K"),
    ("stream", "XSETID K 5-5"),
    ("stream", "XACK K g 1-1"),
    ("stream", "XPENDING K g"),
];

/// One script per type of key: every command of the other types against it.
fn scripts() -> Vec<(&'static str, &'static str)> {
    KEYS.iter()
        .map(|(ty, key)| {
            let mut s = String::from(SETUP);
            for (cmd_ty, template) in COMMANDS {
                if cmd_ty != ty {
                    let words: Vec<&str> =
                        template.split(' ').map(|w| if w == "K" { *key } else { w }).collect();
                    s.push_str(&words.join(" "));
                    s.push('\n');
                }
            }
            // The keys are unchanged afterwards.
            s.push_str(&format!("TYPE {key}\nOBJECT ENCODING {key}\nEXISTS key:9\n"));
            let name: &'static str = Box::leak(format!("against_{ty}").into_boxed_str());
            (name, &*Box::leak(s.into_boxed_str()))
        })
        .collect()
}

#[test]
fn wrongtype_against_every_type() {
    run_group(2, &scripts());
}

#[test]
fn wrongtype_against_every_type_4_cores() {
    run_group(4, &scripts());
}
