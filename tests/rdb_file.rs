//! RDB files between Shoal's reader and writer (`shoal_engine::rdb::file`)
//! and redis-server 7.0: a file redis-server saved is read, written again by
//! Shoal, and loaded by another redis-server, whose DEBUG DIGEST (a digest of
//! every key, value and expiry) must equal the first one's.

mod support;

use shoal_engine::rdb::file::{load, RdbWriter};
use shoal_engine::rdb::LoadLimits;
use std::path::PathBuf;
use support::{q, Server};

struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn a_file_redis_saved_is_rewritten_by_shoal_and_loads_in_redis_unchanged() {
    let dir = Dir(std::env::temp_dir().join(format!("shoal-rdb-test-{}", std::process::id())));
    std::fs::create_dir_all(&dir.0).unwrap();
    let d = dir.0.display().to_string();
    let a = Server::redis(&["--dir", &d, "--dbfilename", "a.rdb", "--enable-debug-command", "yes"]);
    let mut c = a.conn();
    // Every encoding Redis 7.0 writes: compact and large forms of each type.
    let fill = "for i = 1, 3000 do \
        redis.call('RPUSH', 'biglist', 'element-' .. i, i, string.rep('x', i % 100)) \
        redis.call('HSET', 'bighash', 'f' .. i, 'v' .. i) \
        redis.call('SADD', 'bigset', 'm' .. i) \
        redis.call('SADD', 'intset', i) \
        redis.call('ZADD', 'bigzset', i / 7, 'z' .. i) \
        if i <= 500 then redis.call('XADD', 'stream', '*', 'n', i) end \
        end \
        redis.call('XGROUP', 'CREATE', 'stream', 'g', '0') \
        redis.call('XREADGROUP', 'GROUP', 'g', 'alice', 'COUNT', 10, 'STREAMS', 'stream', '>') \
        redis.call('RPUSH', 'list', 'a', 'b', '1') \
        redis.call('HSET', 'hash', 'f', 'v', 'n', '7') \
        redis.call('ZADD', 'zset', 1.5, 'a', 2, 'b') \
        redis.call('SET', 'int', '12345') \
        redis.call('SET', 'text', string.rep('compress me ', 20)) \
        redis.call('SET', 'ttl', 'v', 'PXAT', 4102444800000) \
        return 1";
    assert_eq!(q(&mut c, &["EVAL", fill, "0"]), redis::Value::Int(1));
    let library = "#!lua name=lib\nredis.register_function('f', function() return 1 end)";
    q(&mut c, &["FUNCTION", "LOAD", library]);
    q(&mut c, &["SELECT", "2"]);
    q(&mut c, &["SET", "other-db", "x", "EX", "100000"]);
    q(&mut c, &["SAVE"]);
    let digest = q(&mut c, &["DEBUG", "DIGEST"]);

    let file = std::fs::read(dir.0.join("a.rdb")).unwrap();
    let mut keys = Vec::new();
    let extras = load(&file, &LoadLimits::default(), |k| keys.push(k)).expect("redis-server's file loads");
    assert_eq!(extras.functions, [library.as_bytes()]);
    let aux = extras.aux;
    assert!(aux.iter().any(|(k, v)| k == b"redis-ver" && v == b"7.0.15"), "{aux:?}");
    assert_eq!(keys.len(), 13);

    let mut w = RdbWriter::new(&[("redis-ver", b"7.0.15")]);
    for db in [0, 2] {
        let mine: Vec<_> = keys.iter().filter(|k| k.db == db).collect();
        let expires = mine.iter().filter(|k| k.expire_at.is_some()).count();
        w.select_db(db, mine.len() as u64, expires as u64);
        for k in mine {
            w.key(&k.key, &k.value, k.expire_at);
        }
    }
    std::fs::write(dir.0.join("b.rdb"), w.finish()).unwrap();
    let b = Server::redis(&["--dir", &d, "--dbfilename", "b.rdb", "--enable-debug-command", "yes"]);
    let mut cb = b.conn();
    assert_eq!(q(&mut cb, &["DEBUG", "DIGEST"]), digest);
    assert_eq!(q(&mut cb, &["DBSIZE"]), redis::Value::Int(12));
}
