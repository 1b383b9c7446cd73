//! Bitmaps and HyperLogLogs, differentially: the same scripts against
//! Shoal (2 and 4 cores) and redis-server, replies compared exactly (see
//! `support/script.rs`). Both families are strings, so GET shows the bytes
//! each server built: a HyperLogLog must come out of Shoal byte for byte as
//! Redis builds it, sparse or dense, and be read back the same way.
//!
//! Keys `key:N` spread over the cores, so BITOP, PFCOUNT and PFMERGE run
//! here over keys that live on different cores.

mod support;

use support::script::run_group;

const BITMAPS: &[(&str, &str)] = &[
    (
        "setbit_getbit",
        r#"
        SETBIT key:1 7 1
        SETBIT key:1 7 1
        SETBIT key:1 0 1
        SETBIT key:1 100 0
        GET key:1
        STRLEN key:1
        OBJECT ENCODING key:1
        GETBIT key:1 0
        GETBIT key:1 7
        GETBIT key:1 8
        GETBIT key:1 100000
        GETBIT nosuch 3
        SETBIT key:2 4294967295 0
        STRLEN key:2
        DEL key:2
        SETBIT key:2 4294967296 1
        GETBIT key:2 4294967296
        SETBIT key:2 -1 1
        SETBIT key:2 x 1
        SETBIT key:2 1 2
        SETBIT key:2 1 -1
        SETBIT key:2 1 x
        SET key:3 12
        GETBIT key:3 2
        SETBIT key:3 6 1
        GET key:3
        OBJECT ENCODING key:3
        SET key:4 hello EX 1000
        SETBIT key:4 0 1
        !between 990 1000 TTL key:4
        GET key:4
        RPUSH key:5 a
        SETBIT key:5 0 1
        GETBIT key:5 0
        SETBIT key:1 1
        GETBIT key:1
        SETBIT key:1 1 1 1
        "#,
    ),
    (
        "bitcount_bitpos",
        r#"
        SET key:1 foobar
        BITCOUNT key:1
        BITCOUNT key:1 0 0
        BITCOUNT key:1 1 1
        BITCOUNT key:1 1 1 BYTE
        BITCOUNT key:1 5 30 BIT
        BITCOUNT key:1 -2 -1 bit
        BITCOUNT key:1 -100 100
        BITCOUNT key:1 -1 -2 foo
        BITCOUNT key:1 0 -2 foo
        BITCOUNT key:1 1
        BITCOUNT key:1 1 2 bit extra
        BITCOUNT key:1 a 1
        BITCOUNT key:1 0 9223372036854775807 BIT
        BITCOUNT key:1 -9223372036854775808 -1 BIT
        BITCOUNT nosuch
        BITCOUNT nosuch a b
        SET key:2 "\xff\xf0\x00"
        BITPOS key:2 0
        BITPOS key:2 1
        BITPOS key:2 0 1
        BITPOS key:2 1 2
        BITPOS key:2 0 0 0
        BITPOS key:2 0 0 1
        BITPOS key:2 0 3
        BITPOS key:2 0 -1
        BITPOS key:2 0 7 15 BIT
        BITPOS key:2 1 7 15 bit
        BITPOS key:2 0 0 11 BIT
        BITPOS key:2 0 -5 -1 BIT
        BITPOS key:2 1 -5 -1 BIT
        BITPOS key:2 1 0 -1 foo
        BITPOS key:2 1 a
        BITPOS key:2 1 0 a foo
        BITPOS key:2 2
        BITPOS key:2 x
        SET key:3 "\xff\xff"
        BITPOS key:3 0
        BITPOS key:3 0 0 -1
        BITPOS key:3 0 0 15 bit
        SET key:4 ""
        BITPOS key:4 0
        BITPOS key:4 1
        BITCOUNT key:4
        BITPOS nosuch 0
        BITPOS nosuch 1
        BITPOS nosuch 1 x
        SET key:5 12
        BITCOUNT key:5
        BITPOS key:5 1
        SADD key:6 a
        BITCOUNT key:6
        BITPOS key:6 1
        BITPOS key:6 5
        BITCOUNT
        BITPOS key:1
        "#,
    ),
    (
        "bitop_cross_core",
        r#"
        !cross key:1 key:2
        !cross key:2 key:3
        SET key:1 "\x0f\xf0"
        SET key:2 "\xff"
        SET key:3 "\x01\x02\x03\x04"
        BITOP AND key:4 key:1 key:2
        GET key:4
        OBJECT ENCODING key:4
        BITOP OR key:5 key:1 key:2 key:3
        GET key:5
        BITOP XOR key:6 key:1 key:2 key:3
        GET key:6
        BITOP NOT key:7 key:1
        GET key:7
        BITOP not key:8 key:3
        GET key:8
        BITOP AND key:1 key:1 key:3
        GET key:1
        BITOP NOT key:7 key:1 key:2
        BITOP NOT key:7 nosuch
        EXISTS key:7
        BITOP AND key:9 nosuch nosuch2
        EXISTS key:9
        BITOP OR key:9 nosuch key:2
        GET key:9
        BITOP FOO key:9 key:2
        SET key:10 v EX 1000
        BITOP OR key:10 key:2
        TTL key:10
        RPUSH key:11 a
        BITOP OR key:9 key:2 key:11
        GET key:9
        BITOP OR key:11 key:2
        TYPE key:11
        SET key:12 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        SET key:13 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
        BITOP AND key:14 key:12 key:13 key:3
        GET key:14
        BITOP XOR key:14 key:12 key:13 key:12
        GET key:14
        BITOP NOT key:14 key:13
        GET key:14
        BITOP OR key:9
        BITOP OR
        "#,
    ),
    (
        "bitfield",
        r#"
        BITFIELD key:1
        EXISTS key:1
        BITFIELD key:1 GET u8 0
        EXISTS key:1
        BITFIELD key:1 SET u8 0 255 GET u8 0 GET i8 0 GET u4 0 GET i64 0 GET u63 0
        BITFIELD key:1 SET i8 #1 -100 GET u8 8 GET i8 8
        GET key:1
        OBJECT ENCODING key:1
        BITFIELD key:1 INCRBY u2 100 1 INCRBY u2 100 1 INCRBY u2 100 1 INCRBY u2 100 1
        BITFIELD key:1 OVERFLOW SAT INCRBY u2 100 5 INCRBY u2 100 -10
        BITFIELD key:1 OVERFLOW FAIL INCRBY u2 100 5 INCRBY u2 100 2 GET u2 100
        BITFIELD key:1 OVERFLOW WRAP INCRBY i5 100 15 INCRBY i5 100 2 OVERFLOW SAT INCRBY i5 100 100 INCRBY i5 100 -100
        BITFIELD key:1 OVERFLOW SAT SET u8 0 -1 SET u8 0 256 SET i8 0 200 SET i8 0 -200
        BITFIELD key:1 OVERFLOW FAIL SET u8 0 -1 SET i8 0 -129 SET i8 0 -128
        BITFIELD key:1 OVERFLOW WRAP SET u8 0 -1 SET u8 0 256 SET i8 0 200 SET i8 0 -129
        BITFIELD key:1 SET i64 0 9223372036854775807 INCRBY i64 0 1 OVERFLOW SAT INCRBY i64 0 -1 INCRBY i64 0 9223372036854775807
        BITFIELD key:1 SET u63 0 9223372036854775807 INCRBY u63 0 1 OVERFLOW SAT SET u63 0 -1 INCRBY u63 0 -9223372036854775808
        BITFIELD key:1 SET i64 3 -1 GET u8 0 GET i64 3 GET u63 4
        GET key:1
        BITFIELD key:1 GET u64 0
        BITFIELD key:1 GET i65 0
        BITFIELD key:1 GET u0 0
        BITFIELD key:1 GET U8 0
        BITFIELD key:1 GET "u8\x00zz" 0
        BITFIELD key:1 GET u8 -1
        BITFIELD key:1 GET u8 4294967295
        BITFIELD key:1 GET u8 4294967296
        BITFIELD key:1 GET u8 #536870911
        BITFIELD key:1 GET u8 #536870912
        BITFIELD key:1 GET u8 #2305843009213693953
        BITFIELD key:1 SET u8 0
        BITFIELD key:1 SET u8 0 x
        BITFIELD key:1 GET
        BITFIELD key:1 FOO
        BITFIELD key:1 OVERFLOW
        BITFIELD key:1 OVERFLOW FOO GET u8 0
        BITFIELD key:1 GET u8 0 GET u65 0
        BITFIELD key:1 SET u8 0 x GET u65 0
        BITFIELD key:1 get u8 0 set u8 0 1 incrby u8 0 1 overflow sat
        SET key:2 12
        BITFIELD key:2 GET u8 0 GET u16 0
        BITFIELD key:2 SET u8 0 50
        GET key:2
        OBJECT ENCODING key:2
        BITFIELD key:3 OVERFLOW FAIL INCRBY u2 100 5
        GET key:3
        BITFIELD key:4 SET u8 #3 1 GET u32 0
        GET key:4
        RPUSH key:5 a
        BITFIELD key:5 GET u8 0
        BITFIELD key:5 SET u8 0 1
        BITFIELD key:5 GET u65 0
        BITFIELD key:5
        BITFIELD_RO key:6 GET u8 0
        SET key:6 "\x80\x01"
        BITFIELD_RO key:6 GET u8 0 GET i8 0 GET u16 0 GET i4 12 GET u8 #1 GET u8 #5
        BITFIELD_RO key:6
        BITFIELD_RO key:6 SET u8 0 1
        BITFIELD_RO key:6 OVERFLOW SAT GET u8 0
        BITFIELD_RO key:6 GET u64 0
        BITFIELD_RO key:6 SET u8 0 x
        BITFIELD_RO key:5 GET u8 0
        BITFIELD_RO key:5 INCRBY u8 0 1
        BITFIELD_RO
        BITFIELD
        "#,
    ),
    (
        "resp3_and_introspection",
        r#"
        HELLO 3
        BITFIELD key:1 OVERFLOW FAIL INCRBY i8 0 200 GET u8 0 SET u4 0 3
        BITFIELD_RO key:1 GET u8 0
        BITPOS key:1 1
        BITCOUNT key:1
        HELLO 2
        BITFIELD key:1 OVERFLOW FAIL INCRBY i8 0 200
        !noprose COMMAND INFO setbit getbit bitcount bitpos bitop bitfield bitfield_ro
        !noprose COMMAND INFO pfadd pfcount pfmerge pfdebug pfselftest
        COMMAND GETKEYS BITOP AND dest a b c
        COMMAND GETKEYS PFMERGE dest a b
        COMMAND GETKEYS PFCOUNT a b
        COMMAND GETKEYS PFDEBUG GETREG a
        COMMAND GETKEYS BITFIELD_RO a GET u8 0
        "#,
    ),
];

const HYPERLOGLOG: &[(&str, &str)] = &[
    (
        "pfadd_pfcount",
        r#"
        PFADD key:1
        PFADD key:1
        GET key:1
        OBJECT ENCODING key:1
        PFCOUNT key:1
        GET key:1
        PFADD key:1 a b c a
        PFADD key:1 a
        PFCOUNT key:1
        GET key:1
        PFADD key:1 d
        GET key:1
        PFCOUNT key:1
        GET key:1
        PFCOUNT nosuch
        EXISTS nosuch
        PFADD key:2 "" "\x00" "\xff\xfe" "a b"
        GET key:2
        PFCOUNT key:2
        PFADD
        PFCOUNT
        PFDEBUG ENCODING key:1
        PFDEBUG DECODE key:1
        PFDEBUG DECODE key:2
        PFDEBUG TODENSE key:2
        PFDEBUG ENCODING key:2
        PFDEBUG TODENSE key:2
        PFDEBUG DECODE key:2
        PFCOUNT key:2
        PFADD key:2 x
        GET key:2
        PFDEBUG GETREG key:1
        PFDEBUG ENCODING key:1
        PFDEBUG FOO key:1
        PFDEBUG FOO nosuch
        PFDEBUG GETREG key:1 extra
        PFSELFTEST
        PFSELFTEST x
        "#,
    ),
    (
        "union_and_merge_cross_core",
        r#"
        !cross key:1 key:2
        !cross key:2 key:3
        PFADD key:1 1 2 3
        PFADD key:2 3 4 5 6
        PFADD key:3 6 7 8 9 10
        PFCOUNT key:1 key:2
        PFCOUNT key:1 key:2 key:3 nosuch
        PFCOUNT key:3 key:3
        GET key:3
        PFMERGE key:4 key:1 key:2
        GET key:4
        PFCOUNT key:4
        PFMERGE key:4
        GET key:4
        PFMERGE key:5
        GET key:5
        PFMERGE key:6 nosuch
        GET key:6
        PFMERGE key:1 key:2 key:3
        GET key:1
        PFCOUNT key:1
        PFMERGE key:3 key:3
        GET key:3
        SET key:7 x EX 1000
        PFMERGE key:7 key:1
        SET key:8 hello
        PFADD key:8 a
        PFCOUNT key:8
        PFCOUNT key:1 key:8
        PFCOUNT key:8 key:1
        PFMERGE key:9 key:1 key:8
        EXISTS key:9
        PFMERGE key:8 key:1
        SET key:9 123
        PFADD key:9 a
        PFCOUNT key:9
        RPUSH key:10 a
        PFADD key:10 a
        PFCOUNT key:10
        PFCOUNT key:1 key:10
        PFMERGE key:10 key:1
        PFMERGE key:11 key:10
        PFDEBUG GETREG key:10
        PFDEBUG GETREG key:8
        PFMERGE
        "#,
    ),
    (
        "foreign_bytes",
        r#"
        SET key:1 "HYLL\x01\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\x80\\{\x80Dv\x80P\xb1\x84K\xfb\x80BZ"
        OBJECT ENCODING key:1
        PFADD key:1 a d
        PFCOUNT key:1
        OBJECT ENCODING key:1
        GET key:1
        SET key:2 "HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f\xff"
        PFCOUNT key:2
        SET key:3 "HYLL\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
        PFADD key:3 a
        SET key:3 "HYLL\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
        PFCOUNT key:3
        SET key:3 HYLL
        PFCOUNT key:3
        SET key:4 "HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80"
        PFCOUNT key:4
        PFCOUNT key:4 nosuch
        PFADD key:4 a
        PFMERGE key:5 key:4
        EXISTS key:5
        SET key:4 "HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x05\x00\x00\x00\x7f\xff"
        PFCOUNT key:4
        PFADD key:4 a
        PFCOUNT key:4
        GET key:4
        SET key:6 "HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f\xfe\x83"
        PFCOUNT key:6
        PFADD key:6 a b c
        GET key:6
        SET key:7 "HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f\xff\x7f\xff"
        PFADD key:7 a
        GET key:7
        PFDEBUG DECODE key:7
        SET key:8 "HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x40"
        PFADD key:8 a
        PFDEBUG DECODE key:8
        "#,
    ),
];

/// A generator of repeatable pseudo-random numbers (SplitMix64).
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A script argument: bytes written with the script's `\xHH` escapes.
fn quoted(bytes: &[u8]) -> String {
    let mut s = String::from("\"");
    for &b in bytes {
        s += &format!("\\x{b:02x}");
    }
    s.push('"');
    s
}

/// Long generated scripts: PFADD in batches of every size, into HyperLogLogs
/// that stay sparse, cross `hll-sparse-max-bytes`, or are dense, with GET
/// after each batch so that every intermediate value is compared byte for
/// byte; then merges and unions of them across cores, and values damaged at
/// random handed to every command.
fn generated() -> Vec<(&'static str, &'static str)> {
    let mut scripts = Vec::new();
    let mut rng = Mix(0x5EED);

    let mut grow = String::new();
    for (key, total) in [("key:1", 40u64), ("key:2", 400), ("key:3", 1800), ("key:4", 3000)] {
        let mut added = 0;
        while added < total {
            let batch = 1 + rng.below(if total > 1000 { 120 } else { 12 });
            let mut line = format!("PFADD {key}");
            for _ in 0..batch {
                line += &format!(" e{}", rng.below(total * 2));
            }
            grow += &line;
            grow += &format!("\nGET {key}\n");
            added += batch;
            if rng.below(4) == 0 {
                grow += &format!("PFCOUNT {key}\nGET {key}\n");
            }
        }
        grow += &format!("PFDEBUG ENCODING {key}\nPFCOUNT {key}\n");
    }
    grow += "PFCOUNT key:1 key:2\nPFCOUNT key:1 key:2 key:3 key:4\n";
    grow += "PFMERGE key:5 key:1 key:2\nGET key:5\nPFMERGE key:6 key:1 key:4\nGET key:6\n";
    grow += "PFMERGE key:2 key:3\nGET key:2\nPFMERGE key:7 key:2 key:1 key:3\nGET key:7\nPFCOUNT key:7\n";
    grow += "PFMERGE key:1 key:2\nGET key:1\nPFDEBUG ENCODING key:1\n";
    scripts.push(("generated_growth", grow));

    // Merges whose union overflows the sparse form, and very large sets.
    let mut big = String::new();
    for round in 0..6 {
        let key = format!("key:{}", 10 + round);
        let mut line = format!("PFADD {key}");
        for i in 0..(150 * (round + 1)) {
            line += &format!(" r{round}x{i}");
        }
        big += &line;
        big += &format!("\nGET {key}\n");
    }
    big += "PFMERGE key:20 key:10 key:11 key:12\nGET key:20\nPFDEBUG ENCODING key:20\n";
    big += "PFMERGE key:21 key:13 key:14 key:15\nGET key:21\nPFCOUNT key:21\n";
    big += "PFCOUNT key:10 key:11 key:12 key:13 key:14 key:15\n";
    for batch in 0..40 {
        let mut line = String::from("PFADD key:30");
        for i in 0..1000 {
            line += &format!(" big{}", batch * 1000 + i);
        }
        big += &line;
        big += "\n";
    }
    big += "PFCOUNT key:30\nGET key:30\nPFMERGE key:31 key:30 key:21\nGET key:31\nPFCOUNT key:31 key:20\n";
    scripts.push(("generated_merges_and_large", big));

    // Damaged values: a sound HyperLogLog with bytes changed, cut or added,
    // then every command on it, and GET to compare what each left behind.
    let mut damaged = String::new();
    for case in 0..120 {
        let key = format!("key:{}", case % 50 + 1);
        let elements = rng.below(60);
        damaged += &format!("DEL {key}\nPFADD {key}");
        for i in 0..elements {
            damaged += &format!(" d{case}x{i}");
        }
        damaged += "\n";
        if rng.below(5) == 0 {
            damaged += &format!("PFDEBUG TODENSE {key}\n");
        }
        // Fetched and rewritten through a scratch copy in the script itself:
        // the damage is applied to Redis's own bytes by position.
        damaged += &format!("GET {key}\n");
        let pos = 16 + rng.below(40);
        let byte = rng.below(256) as u8;
        damaged += &format!("SETRANGE {key} {pos} {}\n", quoted(&[byte]));
        if rng.below(3) == 0 {
            damaged +=
                &format!("SETRANGE {key} {} {}\n", 16 + rng.below(40), quoted(&[rng.below(256) as u8]));
        }
        if rng.below(4) == 0 {
            damaged += &format!("APPEND {key} {}\n", quoted(&[rng.below(256) as u8]));
        }
        damaged += &format!("GET {key}\nPFCOUNT {key}\nPFCOUNT {key} nosuch\nPFDEBUG DECODE {key}\n");
        damaged += &format!(
            "PFADD {key} a b c d{case}\nGET {key}\nPFMERGE key:60 {key}\nPFCOUNT {key}\nGET {key}\n"
        );
        damaged += "DEL key:60\n";
    }
    scripts.push(("generated_damage", damaged));

    // Bitmaps at random: every command over a few keys on both cores.
    let mut bits = String::new();
    for _ in 0..400 {
        let k = format!("key:{}", 1 + rng.below(4));
        let n = |rng: &mut Mix| rng.below(80) as i64 - 20;
        let line = match rng.below(8) {
            0 => format!("SETBIT {k} {} {}", rng.below(120), rng.below(2)),
            1 => format!("GETBIT {k} {}", rng.below(130)),
            2 => format!(
                "BITCOUNT {k} {} {} {}",
                n(&mut rng),
                n(&mut rng),
                ["BIT", "BYTE"][rng.below(2) as usize]
            ),
            3 => format!("BITPOS {k} {} {} {}", rng.below(2), n(&mut rng), n(&mut rng)),
            4 => format!("BITPOS {k} {} {}", rng.below(2), n(&mut rng)),
            5 => format!(
                "BITOP {} key:{} key:{} key:{}",
                ["AND", "OR", "XOR"][rng.below(3) as usize],
                1 + rng.below(4),
                1 + rng.below(4),
                1 + rng.below(4)
            ),
            6 => {
                let ty = format!("{}{}", ["i", "u"][rng.below(2) as usize], 1 + rng.below(40));
                format!(
                    "BITFIELD {k} OVERFLOW {} INCRBY {ty} {} {} GET {ty} {}",
                    ["WRAP", "SAT", "FAIL"][rng.below(3) as usize],
                    rng.below(100),
                    rng.below(2000) as i64 - 1000,
                    rng.below(100)
                )
            }
            _ => format!("GET {k}"),
        };
        bits += &line;
        bits += "\n";
    }
    scripts.push(("generated_bitmaps", bits));

    scripts.into_iter().map(|(n, s)| (n, &*Box::leak(s.into_boxed_str()))).collect()
}

#[test]
fn bitmaps() {
    run_group(2, BITMAPS);
}

#[test]
fn bitmaps_4_cores() {
    run_group(4, BITMAPS);
}

#[test]
fn hyperloglog() {
    run_group(2, HYPERLOGLOG);
}

#[test]
fn hyperloglog_4_cores() {
    run_group(4, HYPERLOGLOG);
}

#[test]
fn generated_scripts() {
    run_group(2, &generated());
}

#[test]
fn generated_scripts_4_cores() {
    run_group(4, &generated());
}
