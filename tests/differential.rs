//! Differential tests: the same command scripts run against Shoal
//! (`--threads 2`, so keys live on both cores) and a real redis-server, and
//! every reply is compared.
//!
//! Each script runs twice on fresh data: once command by command through the
//! `redis` crate, comparing `redis::Value`s, and once written as pipelines
//! on a raw TCP connection, comparing the exact reply bytes (which also tells
//! `$-1` from `*-1` and exercises Shoal's pipeline batching across cores).
//!
//! A script is plain text, one command per line, split like redis-cli splits
//! its input: words separated by spaces, `"double quotes"` with `\"`, `\\`,
//! `\r`, `\n`, `\t` and `\xHH` escapes (`""` is an empty argument). Lines
//! starting with `#` are comments. A line may start with a directive that
//! changes how the reply is compared, for the few replies that legitimately
//! differ between two servers:
//!
//! - `!shape CMD...`  only the reply's shape (types, lengths) must match: TIME, ids, idle times.
//! - `!sorted CMD...` the top-level array is compared as a sorted list: KEYS.
//! - `!between LO HI CMD...` both replies are integers in `[LO, HI]`: TTL after a relative EX.
//! - `!fields CMD...` a CLIENT INFO/LIST text: the field names must match, and the values
//!   of the fields that do not depend on the process (name, db, flags, cmd, resp...).
//! - `!info SECTION [FIELD...]` `INFO SECTION`, with only the given fields (all when none
//!   are given), sorted, and the timings (`usec`, `usec_per_call`) in commandstats masked.
//! - `!scan ARGS...`  a full SCAN iteration (`SCAN <cursor> ARGS...` until the cursor is 0);
//!   the sets of keys returned are compared, cursors are not.
//! - `!gone KEY`      polls (with a deadline) until KEY no longer exists, on both servers.
//! - `!cross K1 K2`   asserts (in the test itself) that Shoal keeps K1 and K2 on different cores.
//!
//! HELLO replies are compared with the client `id` field masked.
//!
//! Each test runs its group of scripts one after the other against one pair
//! of fresh servers, with FLUSHALL and new connections before each script
//! and each mode, and reports every mismatch of the group at once.
//!
//! To add a case, add a line to a script (or a script to a group); to add a
//! group, add a `const` and a line to the `groups!` list at the bottom.

mod support;

use support::core_of;
use support::script::{run_group, run_group_with, split_line};

const STRINGS_BASIC: &[(&str, &str)] = &[
    (
        "get_set",
        r#"
        GET key:1
        SET key:1 hello
        GET key:1
        SET key:1 world
        GET key:1
        SET key:2 ""
        GET key:2
        STRLEN key:2
        EXISTS key:2
        SET key:3 "with space and \"quotes\""
        GET key:3
        SET key:4 "\x00\xff\r\nbinary"
        GET key:4
        STRLEN key:4
        SET key:5 12345678901234567890
        GET key:5
        SET key:6 -0
        GET key:6
        SET key:7 " 12"
        GET key:7
        STRLEN nosuch
        TYPE key:1
        TYPE nosuch
        "#,
    ),
    (
        "setnx_setex_psetex",
        r#"
        SETNX key:1 a
        SETNX key:1 b
        GET key:1
        SETEX key:2 100 v
        GET key:2
        !between 95 100 TTL key:2
        SETEX key:2 0 v
        SETEX key:2 -5 v
        SETEX key:2 abc v
        SETEX key:2 1.5 v
        SETEX key:2 9223372036854775807 v
        SETEX key:2 9223372036854775 v
        PSETEX key:3 100000 v
        !between 95000 100000 PTTL key:3
        PSETEX key:3 0 v
        PSETEX key:3 -1 v
        PSETEX key:3 abc v
        PSETEX key:3 9223372036854775807 v
        GET key:3
        SETEX key:4 10
        PSETEX key:4 10
        SETNX key:4
        "#,
    ),
    (
        "getset_getdel",
        r#"
        GETSET key:1 a
        GETSET key:1 b
        GET key:1
        SET key:2 x EX 1000
        GETSET key:2 y
        TTL key:2
        GETDEL key:2
        GETDEL key:2
        EXISTS key:2
        GETDEL nosuch
        GETSET key:3
        GETDEL
        GETDEL a b
        "#,
    ),
    (
        "append_strlen",
        r#"
        APPEND key:1 hello
        APPEND key:1 " world"
        GET key:1
        STRLEN key:1
        APPEND key:1 ""
        APPEND key:2 ""
        EXISTS key:2
        SET key:3 10
        APPEND key:3 5
        GET key:3
        INCR key:3
        APPEND key:1
        STRLEN
        STRLEN a b
        "#,
    ),
    (
        "mget_mset_cross_core",
        r#"
        !cross key:1 key:2
        MSET key:1 a key:2 b key:3 c key:4 d key:5 e key:6 f key:7 g key:8 h key:9 i key:10 j
        MGET key:1 key:2 key:3 key:4 key:5 key:6 key:7 key:8 key:9 key:10 nosuch
        MGET key:10 key:9 key:1 key:1 key:2
        MSET key:1 x key:2 y key:1 z
        MGET key:1 key:2
        MSET key:1
        MSET key:1 a key:2
        MGET key:1 key:2
        MSET key:1 a key:2 b key:3
        MGET key:1 key:2 key:3
        MSET
        MGET
        MGET nosuch1 nosuch2
        MSETNX key:11 a key:12 b key:13 c
        MGET key:11 key:12 key:13
        MSETNX key:13 x key:14 y
        MGET key:13 key:14
        EXISTS key:14
        MSETNX key:15 a key:15 b
        GET key:15
        MSETNX key:16
        MSETNX key:16 a key:17
        DBSIZE
        "#,
    ),
    (
        "del_exists_touch_unlink",
        r#"
        MSET key:1 a key:2 b key:3 c key:4 d key:5 e key:6 f
        EXISTS key:1 key:2 key:3 nosuch
        EXISTS key:1 key:1 key:2 key:2
        EXISTS nosuch
        TOUCH key:1 key:2 key:3 nosuch
        TOUCH nosuch
        DEL key:1 key:2 nosuch
        DEL key:1
        EXISTS key:1 key:2
        UNLINK key:3 key:4 key:3
        UNLINK nosuch
        DEL key:5 key:6 key:5 key:6
        DBSIZE
        DEL
        EXISTS
        TOUCH
        UNLINK
        "#,
    ),
];

const ODD_KEYS: &[(&str, &str)] = &[(
    "empty_binary_tagged_keys",
    r#"
        SET "" empty-key
        GET ""
        EXISTS ""
        MSET "" a "\x00" b "\xff\xfe" c "key with spaces" d "\r\n" e
        MGET "" "\x00" "\xff\xfe" "key with spaces" "\r\n"
        !sorted KEYS *
        RENAME "\x00" "\x01"
        GET "\x01"
        DEL "" "\x01" "\xff\xfe"
        !sorted KEYS *
        MSET {user1}a 1 {user1}b 2 {user2}a 3 {}x 4 {x 5 "}y{" 6
        MGET {user1}a {user1}b {user2}a {}x {x "}y{"
        RENAME {user1}a {user2}b
        COPY {user1}b {user2}c
        MGET {user1}a {user1}b {user2}a {user2}b {user2}c
        LCS {user1}b {user2}c
        EXISTS {user1}a {user1}b {user2}a {user2}b {user2}c
        DEL {user1}b {user2}b
        DBSIZE
        SET key:1 "\x00\x00\x00"
        APPEND key:1 "\x00"
        STRLEN key:1
        GETRANGE key:1 1 2
        SETRANGE key:1 1 "\xff"
        GET key:1
        "#,
)];

const SET_OPTIONS: &[(&str, &str)] = &[
    (
        "nx_xx_get",
        r#"
        SET key:1 v NX
        SET key:1 v2 NX
        GET key:1
        SET key:1 v3 XX
        GET key:1
        SET key:2 v XX
        EXISTS key:2
        SET key:1 v NX XX
        SET key:1 v xx nx
        SET key:1 new GET
        SET key:3 x GET
        GET key:3
        SET key:1 a NX GET
        GET key:1
        SET key:4 a NX GET
        GET key:4
        SET key:1 b XX GET
        SET key:5 b XX GET
        EXISTS key:5
        SET key:1 c get
        SET key:1 v GET GET
        SET key:1 v NX NX
        "#,
    ),
    (
        "expiry_options",
        r#"
        SET key:1 v EX 1000
        !between 995 1000 TTL key:1
        SET key:1 v PX 1000000
        !between 995000 1000000 PTTL key:1
        SET key:1 v EXAT 4102444800
        EXPIRETIME key:1
        PEXPIRETIME key:1
        SET key:1 v PXAT 4102444800123
        PEXPIRETIME key:1
        EXPIRETIME key:1
        SET key:1 v2 KEEPTTL
        PEXPIRETIME key:1
        GET key:1
        SET key:1 v3
        TTL key:1
        SET key:1 v EX 100 PX 100
        SET key:1 v EX 100 EX 100
        SET key:1 v EX 100 KEEPTTL
        SET key:1 v KEEPTTL PXAT 4102444800000
        SET key:1 v EXAT 4102444800 PXAT 4102444800000
        SET key:1 v EX 0
        SET key:1 v EX -1
        SET key:1 v PX 0
        SET key:1 v PX -100
        SET key:1 v EXAT 0
        SET key:1 v PXAT -1
        SET key:1 v EX abc
        SET key:1 v PX 1.5
        SET key:1 v EX ""
        SET key:1 v EX 9223372036854775807
        SET key:1 v PX 9223372036854775807
        SET key:1 v EX 9223372036854775
        SET key:1 v EXAT 9223372036854775807
        SET key:1 v PXAT 9223372036854775807
        SET key:1 v EX
        SET key:1 v PX
        SET key:1 v FOO
        SET key:1 v EX 10 FOO
        GET key:1
        SET key:2 v EXAT 1
        EXISTS key:2
        SET key:2 v PXAT 1
        GET key:2
        SET key:2 v EX 1000 NX GET
        SET key:3 v XX EXAT 4102444800
        SET key:4 v NX PXAT 4102444800000 GET
        PEXPIRETIME key:4
        SET key:4 w XX KEEPTTL GET
        PEXPIRETIME key:4
        GET key:4
        "#,
    ),
    (
        "expire_with_px_1",
        r#"
        SET key:1 v PX 1
        !gone key:1
        GET key:1
        DBSIZE
        SET key:2 v PX 1 GET
        !gone key:2
        SET key:3 v
        PEXPIRE key:3 1
        !gone key:3
        TTL key:3
        SETEX key:4 1 v
        PSETEX key:5 1 v
        !gone key:5
        GETEX key:6 PX 1
        SET key:6 v
        GETEX key:6 PX 1
        !gone key:6
        GETEX key:6
        "#,
    ),
];

const NUMBERS: &[(&str, &str)] = &[
    (
        "incr_decr",
        r#"
        INCR key:1
        INCR key:1
        DECR key:1
        DECR key:2
        INCRBY key:1 10
        INCRBY key:1 -20
        DECRBY key:1 5
        DECRBY key:1 -5
        GET key:1
        INCRBY key:1 abc
        INCRBY key:1 1.5
        INCRBY key:1 ""
        INCRBY key:1 " 1"
        INCRBY key:1 9223372036854775808
        INCRBY key:1 -9223372036854775809
        DECRBY key:1 -9223372036854775808
        DECRBY key:1 9223372036854775807
        SET key:3 9223372036854775807
        INCR key:3
        INCRBY key:3 0
        GET key:3
        SET key:3 -9223372036854775808
        DECR key:3
        INCRBY key:3 -1
        DECRBY key:3 1
        INCR key:3
        SET key:4 abc
        INCR key:4
        DECR key:4
        INCRBY key:4 1
        SET key:4 "1 "
        INCR key:4
        SET key:4 01
        INCR key:4
        SET key:4 +1
        INCR key:4
        SET key:4 -0
        INCR key:4
        SET key:4 1.0
        INCR key:4
        SET key:4 ""
        INCR key:4
        SET key:4 12345678901234567890
        INCR key:4
        SET key:5 " 5"
        DECR key:5
        SET key:6 100
        INCRBY key:6 9223372036854775707
        INCRBY key:6 1
        INCR
        INCR a b
        INCRBY key:1
        DECRBY key:1 1 2
        "#,
    ),
    (
        "incrbyfloat",
        r#"
        INCRBYFLOAT key:1 10.5
        INCRBYFLOAT key:1 0.1
        INCRBYFLOAT key:1 -5
        INCRBYFLOAT key:2 0.1
        INCRBYFLOAT key:2 0.2
        GET key:2
        INCRBYFLOAT key:3 3.0
        INCRBYFLOAT key:3 5.0e3
        INCRBYFLOAT key:3 1e-5
        INCRBYFLOAT key:3 -1e-5
        INCRBYFLOAT key:3 2.0E2
        GET key:3
        INCRBYFLOAT key:3 abc
        INCRBYFLOAT key:3 ""
        INCRBYFLOAT key:3 inf
        INCRBYFLOAT key:3 -inf
        INCRBYFLOAT key:3 nan
        INCRBYFLOAT key:3 " 1"
        INCRBYFLOAT key:3 "1 "
        INCRBYFLOAT key:3 1e400
        INCRBYFLOAT key:3 0x10
        INCRBYFLOAT key:3 .5
        INCRBYFLOAT key:3 5.
        INCRBYFLOAT key:3 +1
        SET key:4 abc
        INCRBYFLOAT key:4 1
        SET key:4 1e308
        INCRBYFLOAT key:4 1e308
        GET key:4
        SET key:5 " 1.5"
        INCRBYFLOAT key:5 1
        SET key:5 "1.5 "
        INCRBYFLOAT key:5 1
        SET key:6 5
        INCRBYFLOAT key:6 0
        SET key:6 1.10
        INCRBYFLOAT key:6 0
        INCRBYFLOAT key:7 3.14159265358979323846
        INCRBYFLOAT key:8 -0.0
        INCRBYFLOAT key:9 1.23456789012345678901234567890
        INCRBYFLOAT key:10 100000000000000000000
        INCRBYFLOAT key:10 1
        INCRBYFLOAT key:11 0.0000000000000000001
        INCRBYFLOAT key:12 123456789.123456789
        INCR key:12
        INCRBYFLOAT
        INCRBYFLOAT key:1
        INCRBYFLOAT key:1 1 2
        "#,
    ),
];

const RANGES: &[(&str, &str)] = &[
    (
        "getrange_substr",
        r#"
        SET key:1 "Hello, World"
        GETRANGE key:1 0 4
        GETRANGE key:1 -5 -1
        GETRANGE key:1 0 -1
        GETRANGE key:1 0 100
        GETRANGE key:1 -100 3
        GETRANGE key:1 -100 -50
        GETRANGE key:1 5 2
        GETRANGE key:1 -1 -5
        GETRANGE key:1 11 11
        GETRANGE key:1 12 20
        GETRANGE key:1 0 0
        GETRANGE key:1 -1 0
        GETRANGE key:1 0 9223372036854775807
        GETRANGE key:1 -9223372036854775808 9223372036854775807
        GETRANGE key:1 -9223372036854775808 -9223372036854775808
        GETRANGE key:1 9223372036854775807 9223372036854775807
        GETRANGE key:1 0 9223372036854775808
        GETRANGE key:1 a 1
        GETRANGE key:1 0 b
        GETRANGE key:1 1.5 2
        GETRANGE nosuch 0 -1
        GETRANGE nosuch 0 10
        SET key:2 ""
        GETRANGE key:2 0 -1
        GETRANGE key:2 0 0
        GETRANGE key:2 -1 -1
        SET key:3 12345
        GETRANGE key:3 1 2
        GETRANGE key:3 -2 -1
        SUBSTR key:1 0 4
        SUBSTR key:1 -3 -1
        SUBSTR key:1 a b
        SUBSTR nosuch 0 1
        GETRANGE key:1 0
        SUBSTR key:1 0
        GETRANGE key:1 0 1 2
        "#,
    ),
    (
        "setrange",
        r#"
        SETRANGE key:1 0 Hello
        GET key:1
        SETRANGE key:1 6 World
        GET key:1
        STRLEN key:1
        SETRANGE key:1 1 a
        GET key:1
        SETRANGE key:1 0 ""
        SETRANGE key:2 5 ""
        EXISTS key:2
        SETRANGE key:2 0 ""
        EXISTS key:2
        SETRANGE key:2 3 x
        GET key:2
        SETRANGE key:2 -1 x
        SETRANGE key:2 abc x
        SETRANGE key:2 1.5 x
        SETRANGE key:2 536870912 x
        SETRANGE key:2 536870911 ""
        SETRANGE key:2 9223372036854775807 x
        SETRANGE key:2 -9223372036854775808 x
        SETRANGE key:3 536870912 ""
        SETRANGE key:3 536870912 x
        EXISTS key:3
        SET key:4 12345
        SETRANGE key:4 2 X
        GET key:4
        SET key:5 100
        SETRANGE key:5 3 0
        INCR key:5
        SETRANGE key:1 0
        SETRANGE key:1
        SETRANGE key:1 0 a b
        "#,
    ),
];

const SIZE_LIMITS: &[(&str, &str)] = &[(
    "proto_max_bulk_len_bounds_values",
    r#"
        CONFIG SET proto-max-bulk-len 1mb
        SETRANGE key:1 1048575 x
        STRLEN key:1
        SETRANGE key:1 1048576 x
        SETRANGE key:2 1048576 ""
        SETRANGE key:2 1048575 xy
        EXISTS key:2
        APPEND key:1 y
        STRLEN key:1
        SET key:3 abc
        SETRANGE key:3 1048574 xyz
        SETRANGE key:3 1048573 xyz
        STRLEN key:3
        GETRANGE key:3 1048573 -1
        GETRANGE key:3 -3 1048575
        CONFIG SET proto-max-bulk-len 512mb
        APPEND key:1 y
        STRLEN key:1
        "#,
)];

const LCS: &[(&str, &str)] = &[
    (
        "lcs_variants",
        r#"
        !cross key:1 key:2
        MSET key:1 ohmytext key:2 mynewtext
        LCS key:1 key:2
        LCS key:2 key:1
        LCS key:1 key:2 LEN
        LCS key:1 key:2 IDX
        LCS key:1 key:2 IDX MINMATCHLEN 4
        LCS key:1 key:2 IDX MINMATCHLEN 4 WITHMATCHLEN
        LCS key:1 key:2 IDX WITHMATCHLEN
        LCS key:1 key:2 WITHMATCHLEN IDX
        LCS key:1 key:2 idx minmatchlen 0
        LCS key:1 key:2 IDX MINMATCHLEN -1
        LCS key:1 key:2 IDX MINMATCHLEN 100
        LCS key:1 key:2 LEN IDX
        LCS key:1 key:2 IDX LEN
        LCS key:1 key:2 LEN WITHMATCHLEN
        LCS key:1 key:2 LEN MINMATCHLEN 2
        LCS key:1 key:2 MINMATCHLEN abc
        LCS key:1 key:2 MINMATCHLEN
        LCS key:1 key:2 FOO
        LCS key:1 nosuch
        LCS nosuch key:1 LEN
        LCS nosuch1 nosuch2 IDX
        LCS nosuch1 nosuch2 IDX WITHMATCHLEN
        LCS key:1 key:1
        LCS key:1 key:1 IDX WITHMATCHLEN
        MSET key:3 "" key:4 abc
        LCS key:3 key:4
        LCS key:3 key:4 IDX
        MSET key:5 ABCBDAB key:6 BDCABA
        LCS key:5 key:6
        LCS key:5 key:6 IDX WITHMATCHLEN
        MSET key:7 "aaaaaaaaaabbbbbbbbbbccccccccccdddddddddd" key:8 "ddddddddddccccccccccbbbbbbbbbbaaaaaaaaaa"
        LCS key:7 key:8
        LCS key:7 key:8 LEN
        LCS key:7 key:8 IDX MINMATCHLEN 5 WITHMATCHLEN
        LCS key:1
        LCS
        "#,
    ),
    (
        "lcs_resp3",
        r#"
        HELLO 3
        MSET key:1 ohmytext key:2 mynewtext
        LCS key:1 key:2 IDX
        LCS key:1 key:2 IDX MINMATCHLEN 4 WITHMATCHLEN
        LCS key:1 key:2 LEN
        LCS nosuch key:2 IDX
        "#,
    ),
];

const EXPIRY: &[(&str, &str)] = &[
    (
        "expired_keys_in_multi_key_commands",
        r#"
        !cross key:1 key:2
        MSET key:1 a key:2 b key:3 c key:4 d
        PEXPIREAT key:2 1
        SET key:5 e PXAT 1
        SET key:6 f PX 1
        !gone key:6
        MGET key:1 key:2 key:3 key:4 key:5 key:6
        EXISTS key:1 key:2 key:5 key:6
        TOUCH key:1 key:2 key:6
        MSETNX key:2 x key:7 y
        MGET key:2 key:7
        SET key:8 v PX 1
        !gone key:8
        MSETNX key:8 x key:9 y
        MGET key:8 key:9
        SET key:10 v PX 1
        !gone key:10
        RENAME key:10 key:11
        RENAMENX key:10 key:11
        SET key:12 v PX 1
        !gone key:12
        COPY key:12 key:13
        COPY key:1 key:12
        GET key:12
        SET key:14 v PX 1
        !gone key:14
        LCS key:14 key:1
        LCS key:1 key:14 LEN
        SET key:16 v PX 1
        !gone key:16
        DEL key:16 key:1
        UNLINK key:16 key:3
        DBSIZE
        SET key:17 v PX 1
        !gone key:17
        TYPE key:17
        OBJECT ENCODING key:17
        MOVE key:17 1
        EXPIRE key:17 100
        PERSIST key:17
        GETDEL key:17
        APPEND key:17 new
        TTL key:17
        SET key:18 5 PX 1
        !gone key:18
        INCR key:18
        TTL key:18
        SET key:19 abc PX 1
        !gone key:19
        SETRANGE key:19 1 x
        GET key:19
        !sorted KEYS *
        DBSIZE
        "#,
    ),
    (
        "expire_options",
        r#"
        SET key:1 v
        TTL key:1
        PTTL key:1
        EXPIRETIME key:1
        PEXPIRETIME key:1
        TTL nosuch
        PTTL nosuch
        EXPIRETIME nosuch
        PEXPIRETIME nosuch
        EXPIRE nosuch 100
        EXPIREAT key:1 4102444800 XX
        EXPIREAT key:1 4102444800 NX
        EXPIRETIME key:1
        EXPIREAT key:1 4102444801 NX
        EXPIREAT key:1 4102444801 XX
        EXPIRETIME key:1
        EXPIREAT key:1 4102444700 GT
        EXPIREAT key:1 4102444900 GT
        EXPIRETIME key:1
        EXPIREAT key:1 4102444950 LT
        EXPIREAT key:1 4102444800 LT
        EXPIRETIME key:1
        PEXPIREAT key:1 4102444800500
        PEXPIRETIME key:1
        EXPIRETIME key:1
        PEXPIREAT key:1 4102444800499 LT
        PEXPIRETIME key:1
        PERSIST key:1
        PERSIST key:1
        PERSIST nosuch
        TTL key:1
        EXPIREAT key:1 4102444800 GT
        EXPIREAT key:1 4102444800 LT
        EXPIRETIME key:1
        PERSIST key:1
        EXPIREAT key:1 4102444800 NX XX
        EXPIREAT key:1 4102444800 GT LT
        EXPIREAT key:1 4102444800 NX GT
        EXPIREAT key:1 4102444800 XX GT
        EXPIREAT key:1 4102444800 XX XX
        EXPIREAT key:1 4102444800 FOO
        EXPIREAT key:1 4102444800 NX FOO
        EXPIRE key:1 abc
        EXPIRE key:1 1.5
        EXPIRE key:1 ""
        EXPIRE key:1 9223372036854775807
        EXPIRE key:1 9223372036854775
        EXPIRE key:1 -9223372036854775808
        PEXPIRE key:1 9223372036854775807
        PEXPIRE key:1 -9223372036854775808
        EXPIREAT key:1 9223372036854775807
        PEXPIREAT key:1 9223372036854775807
        EXPIREAT key:1 -9223372036854775808
        TTL key:1
        EXISTS key:1
        SET key:2 v
        EXPIRE key:2 -1
        EXISTS key:2
        SET key:2 v
        PEXPIRE key:2 0
        EXISTS key:2
        SET key:2 v
        EXPIREAT key:2 1
        GET key:2
        SET key:2 v
        PEXPIREAT key:2 1000
        GET key:2
        SET key:3 v
        EXPIRE key:3 1000
        !between 995 1000 TTL key:3
        !between 995000 1000000 PTTL key:3
        PEXPIRE key:3 2000000 GT
        !between 1995 2000 TTL key:3
        PEXPIRE key:3 10 GT
        EXPIRE key:3 500 LT
        !between 495 500 TTL key:3
        EXPIRE key:3 10 NX
        EXPIRE key:3 100 XX
        !between 95 100 TTL key:3
        SET key:4 v
        EXPIRE key:4 10 GT
        EXPIRE key:4 10 XX
        TTL key:4
        EXPIRE key:4 10 LT
        !between 5 10 TTL key:4
        SET key:5 v
        EXPIRE key:5 -10 LT
        EXISTS key:5
        SET key:5 v
        EXPIRE key:5 -10 GT
        EXISTS key:5
        EXPIRE key:5
        EXPIRE
        PEXPIRE key:5
        EXPIREAT key:5
        PEXPIREAT key:5
        TTL
        TTL a b
        PTTL
        EXPIRETIME
        PEXPIRETIME a b
        PERSIST
        "#,
    ),
    (
        "getex",
        r#"
        SET key:1 v
        GETEX key:1
        GETEX key:1 EX 1000
        !between 995 1000 TTL key:1
        GETEX key:1 PERSIST
        TTL key:1
        GETEX key:1 PX 1000000
        !between 995000 1000000 PTTL key:1
        GETEX key:1 EXAT 4102444800
        EXPIRETIME key:1
        GETEX key:1 PXAT 4102444800123
        PEXPIRETIME key:1
        GETEX key:1 EX 0
        GETEX key:1 EX -1
        GETEX key:1 PX 0
        GETEX key:1 EX abc
        GETEX key:1 EX 9223372036854775807
        GETEX key:1 PX 9223372036854775807
        GETEX key:1 EXAT 9223372036854775807
        GETEX key:1 EX 10 PX 10
        GETEX key:1 EX 10 PERSIST
        GETEX key:1 PERSIST EX 10
        GETEX key:1 EX
        GETEX key:1 FOO
        GETEX key:1 KEEPTTL
        GETEX key:1 PERSIST PERSIST
        GETEX nosuch EX 10
        GETEX nosuch FOO
        GETEX nosuch EX abc
        PEXPIRETIME key:1
        GETEX key:1 EXAT 1
        EXISTS key:1
        GETEX
        "#,
    ),
    (
        "ttl_survives_writes",
        r#"
        SET key:1 v EXAT 4102444800
        APPEND key:1 x
        EXPIRETIME key:1
        SETRANGE key:1 0 y
        EXPIRETIME key:1
        SET key:2 5 EXAT 4102444800
        INCR key:2
        INCRBY key:2 5
        DECR key:2
        INCRBYFLOAT key:2 1.5
        EXPIRETIME key:2
        GETSET key:2 new
        EXPIRETIME key:2
        SET key:3 v EXAT 4102444800
        MSET key:3 w key:4 x
        EXPIRETIME key:3
        SET key:5 v EXAT 4102444800
        SETNX key:5 w
        EXPIRETIME key:5
        SETEX key:5 100 w
        EXPIRE key:5 50 GT
        EXPIRE key:5 200 GT
        EXPIRE key:5 50 LT
        PERSIST key:5
        GET key:5
        "#,
    ),
];

const KEYSPACE: &[(&str, &str)] = &[
    (
        "databases_with_cross_core_commands",
        r#"
        !cross key:1 key:2
        SELECT 1
        MSET key:1 a key:2 b key:3 c key:4 d
        MGET key:1 key:2 key:3 key:4
        SELECT 0
        MGET key:1 key:2 key:3 key:4
        EXISTS key:1 key:2
        MSET key:1 zero key:2 zero
        SELECT 1
        MGET key:1 key:2
        RENAME key:1 key:2
        MGET key:1 key:2
        COPY key:2 key:1 DB 2
        COPY key:3 key:5
        DEL key:3 key:4 key:5 key:6
        EXISTS key:1 key:2 key:3
        MSETNX key:1 x key:3 y
        MGET key:1 key:3
        SELECT 2
        MGET key:1 key:2
        SWAPDB 1 2
        MGET key:1 key:2 key:3
        SELECT 1
        MGET key:1 key:2 key:3
        SELECT 0
        MGET key:1 key:2
        !sorted KEYS *
        DBSIZE
        SELECT 2
        !sorted KEYS *
        !scan
        DBSIZE
        FLUSHDB
        SELECT 0
        DBSIZE
        "#,
    ),
    (
        "rename",
        r#"
        !cross key:1 key:2
        SET key:1 v1 EXAT 4102444800
        RENAME key:1 key:2
        GET key:1
        GET key:2
        EXPIRETIME key:2
        RENAME key:2 key:2
        GET key:2
        RENAME nosuch key:3
        RENAME nosuch nosuch
        SET key:3 v3
        RENAME key:2 key:3
        GET key:3
        EXPIRETIME key:3
        DBSIZE
        RENAMENX key:3 key:4
        GET key:4
        SET key:5 v5
        RENAMENX key:4 key:5
        GET key:4
        GET key:5
        RENAMENX key:5 key:5
        RENAMENX nosuch key:6
        RENAMENX nosuch nosuch
        SET key:6 v6 EXAT 4102444800
        SET key:7 v7 EXAT 4102444900
        RENAME key:6 key:7
        EXPIRETIME key:7
        SET key:8 8
        RENAME key:8 key:9
        OBJECT ENCODING key:9
        INCR key:9
        RENAME key:1
        RENAME
        RENAMENX key:1
        RENAME a b c
        "#,
    ),
    (
        "copy",
        r#"
        !cross key:1 key:2
        SET key:1 v1 EXAT 4102444800
        COPY key:1 key:2
        GET key:2
        EXPIRETIME key:2
        COPY key:1 key:2
        SET key:1 changed
        COPY key:1 key:2 REPLACE
        GET key:2
        TTL key:2
        COPY key:1 key:1
        COPY key:1 key:1 REPLACE
        COPY nosuch key:3
        EXISTS key:3
        COPY key:1 key:3 DB 1
        COPY key:1 key:3 DB 1
        COPY key:1 key:3 DB 1 REPLACE
        COPY key:1 key:1 DB 1
        COPY key:1 key:1 DB 1 REPLACE
        COPY key:1 key:1 DB 0
        COPY key:1 key:3 DB 16
        COPY key:1 key:3 DB -1
        COPY key:1 key:3 DB abc
        COPY key:1 key:3 DB
        COPY key:1 key:3 FOO
        COPY key:1 key:3 REPLACE REPLACE
        COPY key:1 key:3 DB 2 DB 3
        SET key:4 100
        COPY key:4 key:5
        OBJECT ENCODING key:5
        INCR key:5
        GET key:4
        SET key:6 "a string that is definitely longer than forty-four bytes"
        COPY key:6 key:7
        OBJECT ENCODING key:7
        SELECT 1
        GET key:3
        GET key:1
        EXPIRETIME key:3
        SELECT 0
        COPY key:1
        COPY
        "#,
    ),
    (
        "copy_repeated_options_cross_core",
        r#"
        !cross key:1 key:2
        SET key:1 v1
        COPY key:1 key:2 DB 2 DB 3
        SELECT 3
        EXISTS key:2
        GET key:2
        SELECT 2
        EXISTS key:2
        SELECT 0
        COPY key:1 key:4 DB 3 REPLACE DB 3
        COPY key:1 key:6 REPLACE REPLACE
        GET key:6
        SELECT 3
        MGET key:2 key:4
        "#,
    ),
    (
        "move",
        r#"
        SET key:1 v EXAT 4102444800
        MOVE key:1 1
        EXISTS key:1
        MOVE key:1 1
        MOVE nosuch 1
        SELECT 1
        GET key:1
        EXPIRETIME key:1
        MOVE key:1 1
        MOVE key:1 0
        SELECT 0
        GET key:1
        SET key:2 x
        SELECT 1
        SET key:2 y
        MOVE key:2 0
        GET key:2
        SELECT 0
        GET key:2
        MOVE key:2 16
        MOVE key:2 -1
        MOVE key:2 abc
        MOVE key:2 1.0
        MOVE key:2
        MOVE key:2 1 2
        "#,
    ),
    (
        "type_touch_randomkey",
        r#"
        RANDOMKEY
        TYPE nosuch
        SET key:1 v
        TYPE key:1
        RANDOMKEY
        MSET key:2 a key:3 b key:4 c
        !shape RANDOMKEY
        TYPE
        TYPE a b
        RANDOMKEY x
        "#,
    ),
    (
        "keys_patterns",
        r#"
        MSET key:1 a key:2 b key:3 c key:10 d key:11 e key:20 f other x "k*y" g "k?y" h "k\\y" i kay j
        !sorted KEYS *
        !sorted KEYS key:*
        !sorted KEYS key:1*
        !sorted KEYS key:?
        !sorted KEYS key:[12]
        !sorted KEYS key:[1-2]*
        !sorted KEYS key:[^1]
        !sorted KEYS key:[!1]*
        !sorted KEYS k\*y
        !sorted KEYS k\?y
        !sorted KEYS k\\y
        !sorted KEYS k?y
        !sorted KEYS *y
        !sorted KEYS *[
        !sorted KEYS [
        !sorted KEYS nosuch*
        !sorted KEYS ""
        !sorted KEYS KEY:*
        KEYS
        KEYS a b
        "#,
    ),
    (
        "scan",
        r#"
        !scan
        MSET key:1 a key:2 b key:3 c key:4 d key:5 e key:6 f key:7 g key:8 h key:9 i key:10 j key:11 k key:12 l key:13 m key:14 n key:15 o other x
        !scan
        !scan COUNT 1
        !scan COUNT 3
        !scan COUNT 1000
        !scan MATCH key:1*
        !scan MATCH key:1* COUNT 2
        !scan MATCH nosuch*
        !scan TYPE string
        !scan TYPE STRING
        !scan TYPE list
        !scan TYPE nosuchtype
        !scan MATCH * TYPE string COUNT 5
        SCAN abc
        SCAN 18446744073709551616
        SCAN 0 COUNT 0
        SCAN 0 COUNT -1
        SCAN 0 COUNT abc
        SCAN 0 COUNT
        SCAN 0 MATCH
        SCAN 0 FOO bar
        SCAN 0 TYPE
        SCAN
        "#,
    ),
    (
        "dbsize_flush",
        r#"
        DBSIZE
        MSET key:1 a key:2 b key:3 c
        DBSIZE
        SELECT 1
        DBSIZE
        SET key:1 x
        DBSIZE
        FLUSHDB
        DBSIZE
        SELECT 0
        DBSIZE
        FLUSHDB ASYNC
        DBSIZE
        MSET key:1 a key:2 b
        FLUSHDB SYNC
        DBSIZE
        FLUSHDB FOO
        FLUSHDB ASYNC SYNC
        FLUSHALL FOO
        FLUSHALL SYNC ASYNC
        SET key:1 a
        SELECT 2
        SET key:2 b
        FLUSHALL SYNC
        DBSIZE
        SELECT 0
        DBSIZE
        SET key:1 a
        FLUSHALL ASYNC
        DBSIZE
        FLUSHALL
        DBSIZE a
        "#,
    ),
    (
        "select_swapdb",
        r#"
        SET key:1 db0
        SELECT 1
        GET key:1
        SET key:1 db1
        SET key:2 only1
        SELECT 0
        SWAPDB 0 1
        GET key:1
        GET key:2
        DBSIZE
        SELECT 1
        GET key:1
        DBSIZE
        SWAPDB 1 1
        GET key:1
        SWAPDB 0 16
        SWAPDB -1 0
        SWAPDB abc 0
        SWAPDB 0 abc
        SWAPDB 1.5 0
        SWAPDB 0
        SWAPDB
        SELECT 16
        SELECT -1
        SELECT abc
        SELECT 1.0
        SELECT ""
        SELECT 15
        SET key:3 in15
        SELECT 0
        SWAPDB 15 0
        GET key:3
        SELECT
        SELECT 1 2
        "#,
    ),
];

const OBJECT: &[(&str, &str)] = &[(
    "object_encoding",
    r#"
        SET key:1 123
        OBJECT ENCODING key:1
        SET key:1 -123
        OBJECT ENCODING key:1
        SET key:1 9223372036854775807
        OBJECT ENCODING key:1
        SET key:1 9223372036854775808
        OBJECT ENCODING key:1
        SET key:1 0123
        OBJECT ENCODING key:1
        SET key:1 " 1"
        OBJECT ENCODING key:1
        SET key:1 abc
        OBJECT ENCODING key:1
        SET key:1 ""
        OBJECT ENCODING key:1
        SET key:1 12345678901234567890123456789012345678901234
        OBJECT ENCODING key:1
        SET key:1 123456789012345678901234567890123456789012345
        OBJECT ENCODING key:1
        SET key:1 abcdefghijabcdefghijabcdefghijabcdefghijabcd
        OBJECT ENCODING key:1
        SET key:1 abcdefghijabcdefghijabcdefghijabcdefghijabcde
        OBJECT ENCODING key:1
        SET key:2 abc
        APPEND key:2 def
        OBJECT ENCODING key:2
        SET key:3 5
        APPEND key:3 5
        OBJECT ENCODING key:3
        GET key:3
        INCR key:3
        OBJECT ENCODING key:3
        INCR key:4
        OBJECT ENCODING key:4
        INCRBYFLOAT key:5 1.5
        OBJECT ENCODING key:5
        INCRBYFLOAT key:5 1.5
        OBJECT ENCODING key:5
        INCRBY key:5 1
        OBJECT ENCODING key:5
        SETRANGE key:6 0 abc
        OBJECT ENCODING key:6
        SET key:7 abc
        SETRANGE key:7 0 x
        OBJECT ENCODING key:7
        SET key:8 12
        SETRANGE key:8 0 3
        OBJECT ENCODING key:8
        SETEX key:9 1000 42
        OBJECT ENCODING key:9
        MSET key:10 7 key:11 seven
        OBJECT ENCODING key:10
        OBJECT ENCODING key:11
        MSETNX key:12 8 key:13 eight
        OBJECT ENCODING key:12
        OBJECT ENCODING key:13
        GETSET key:14 99
        OBJECT ENCODING key:14
        SETNX key:15 10
        OBJECT ENCODING key:15
        PSETEX key:16 1000000 10
        OBJECT ENCODING key:16
        SET key:17 1 EX 1000
        OBJECT ENCODING key:17
        SET key:17 2 KEEPTTL
        OBJECT ENCODING key:17
        DECRBY key:18 -5
        OBJECT ENCODING key:18
        SET key:19 10000
        OBJECT ENCODING key:19
        OBJECT REFCOUNT key:19
        SET key:19 9999
        OBJECT REFCOUNT key:19
        SET key:19 abc
        OBJECT REFCOUNT key:19
        OBJECT REFCOUNT nosuch
        OBJECT ENCODING nosuch
        OBJECT FREQ key:1
        OBJECT FREQ nosuch
        !shape OBJECT IDLETIME key:1
        OBJECT IDLETIME nosuch
        OBJECT NOSUCH
        OBJECT NOSUCH key:1
        OBJECT
        OBJECT ENCODING
        OBJECT ENCODING a b
        OBJECT HELP extra
        "#,
)];

const CONNECTION: &[(&str, &str)] = &[
    (
        "ping_echo",
        r#"
        PING
        PING hello
        PING ""
        PING a b
        ping
        PiNg x
        ECHO hello
        ECHO ""
        ECHO "\x00\x01"
        ECHO
        ECHO a b
        "#,
    ),
    (
        "unknown_commands",
        r#"
        NOSUCHCOMMAND
        NOSUCHCOMMAND a b c
        NOSUCHCOMMAND "with space" b
        GETT key:1
        CLIENT NOSUCH
        CLIENT NOSUCH a b
        CONFIG NOSUCH
        COMMAND NOSUCH
        OBJECT NOSUCH
        CLIENT
        CONFIG
        "#,
    ),
    (
        "arity_every_command",
        r#"
        GET
        SET a
        SETNX a
        SETEX a 1
        PSETEX a 1
        GETSET a
        GETDEL
        GETEX
        MGET
        MSET a
        MSETNX a
        INCR
        DECR
        INCRBY a
        DECRBY a
        INCRBYFLOAT a
        APPEND a
        STRLEN
        GETRANGE a 0
        SUBSTR a 0
        SETRANGE a 0
        LCS a
        DEL
        UNLINK
        EXISTS
        TYPE
        MOVE a
        EXPIRE a
        PEXPIRE a
        EXPIREAT a
        PEXPIREAT a
        TTL
        PTTL
        EXPIRETIME
        PEXPIRETIME
        PERSIST
        RENAME a
        RENAMENX a
        COPY a
        KEYS
        SCAN
        DBSIZE x
        RANDOMKEY x
        TOUCH
        SWAPDB 0
        OBJECT
        OBJECT ENCODING
        OBJECT FREQ
        OBJECT IDLETIME
        OBJECT REFCOUNT
        PING a b
        ECHO
        AUTH
        SELECT
        RESET x
        CLIENT ID x
        CLIENT SETNAME
        CLIENT GETNAME x
        CLIENT INFO x
        CLIENT KILL
        COMMAND COUNT x
        COMMAND GETKEYS
        CONFIG GET
        CONFIG SET a
        CONFIG RESETSTAT x
        TIME x
        GET a b
        STRLEN a b
        TTL a b
        TYPE a b
        "#,
    ),
    (
        "quit",
        r#"
        SET key:1 v
        MSET key:2 a key:3 b
        MGET key:1 key:2 key:3
        GET key:2
        QUIT
        GET key:1
        GET key:2
        QUIT x y
        GET key:1
        "#,
    ),
    (
        "reset",
        r#"
        SELECT 1
        SET key:1 in1
        CLIENT SETNAME myname
        HELLO 3
        RESET
        GET key:1
        CLIENT GETNAME
        HELLO
        "#,
    ),
    (
        "hello",
        r#"
        HELLO
        HELLO 2
        HELLO 1
        HELLO 4
        HELLO 0
        HELLO abc
        HELLO -1
        HELLO 2 SETNAME
        HELLO 2 SETNAME "bad name"
        HELLO 2 SETNAME good-name
        CLIENT GETNAME
        HELLO 2 AUTH default
        HELLO 2 AUTH default anything
        HELLO 2 AUTH nosuchuser pass
        HELLO 2 FOO
        HELLO 3 FOO
        HELLO 2 SETNAME a SETNAME b
        CLIENT GETNAME
        AUTH pass
        AUTH default pass
        AUTH nosuchuser pass
        AUTH a b c
        HELLO 3 SETNAME third
        CLIENT GETNAME
        HELLO
        HELLO 2
        "#,
    ),
    (
        "time_client_shapes",
        r#"
        !shape TIME
        !shape CLIENT ID
        !shape CLIENT INFO
        !shape CLIENT LIST
        !fields CLIENT INFO
        !fields CLIENT LIST
        CLIENT GETNAME
        CLIENT SETNAME abc
        CLIENT GETNAME
        !fields CLIENT INFO
        SELECT 3
        !fields CLIENT LIST
        HELLO 3
        !fields CLIENT INFO
        HELLO 2
        SELECT 0
        CLIENT SETNAME ""
        CLIENT GETNAME
        CLIENT SETNAME "a b"
        CLIENT SETNAME "a\nb"
        CLIENT SETNAME a b
        CLIENT KILL ID 999999999
        CLIENT KILL ID abc
        CLIENT KILL ADDR 1.2.3.4:5
        CLIENT KILL 1.2.3.4:5
        CLIENT KILL LADDR 1.2.3.4:5
        CLIENT KILL TYPE master
        CLIENT KILL TYPE nosuch
        CLIENT KILL FOO bar
        CLIENT KILL ID
        CLIENT LIST TYPE nosuch
        CLIENT LIST ID abc
        CLIENT LIST FOO
        !shape CLIENT LIST TYPE pubsub
        !shape CLIENT LIST ID 999999999
        "#,
    ),
];

const SERVER: &[(&str, &str)] = &[
    (
        "config",
        r#"
        CONFIG GET databases
        CONFIG GET timeout
        CONFIG GET hz
        CONFIG GET maxclients
        CONFIG GET DATABASES
        !shape CONFIG GET port
        !sorted CONFIG GET databases hz
        CONFIG GET proto-max-bulk-len
        CONFIG GET client-query-buffer-limit
        CONFIG GET tcp-keepalive
        CONFIG GET tcp-backlog
        CONFIG GET loglevel
        CONFIG GET protected-mode
        CONFIG GET appendonly
        CONFIG GET save
        CONFIG GET daemonize
        CONFIG GET requirepass
        # The test fixture gives Shoal a pidfile of its own.
        !shape CONFIG GET pidfile
        CONFIG GET logfile
        CONFIG GET bind
        !sorted CONFIG GET hz timeout
        !sorted CONFIG GET hz hz
        CONFIG GET nosuchparam
        CONFIG GET nosuch*
        CONFIG SET hz 15 maxclients abc
        CONFIG GET hz
        CONFIG SET hz 15 maxclients 5000
        !sorted CONFIG GET hz maxclients
        CONFIG SET maxclients 10000 hz 10
        CONFIG SET hz 0
        CONFIG GET hz
        CONFIG SET hz 501
        CONFIG GET hz
        CONFIG SET hz 10
        CONFIG SET timeout -1
        CONFIG SET timeout 100
        CONFIG GET timeout
        CONFIG SET timeout 0
        CONFIG SET protected-mode maybe
        CONFIG SET loglevel nosuch
        CONFIG SET loglevel notice
        CONFIG GET loglevel
        CONFIG SET loglevel warning
        CONFIG SET proto-max-bulk-len 100
        CONFIG SET proto-max-bulk-len 2mb
        CONFIG GET proto-max-bulk-len
        CONFIG SET proto-max-bulk-len 536870912
        CONFIG SET client-query-buffer-limit 1mb
        CONFIG GET client-query-buffer-limit
        CONFIG SET client-query-buffer-limit 1gb
        CONFIG SET save ""
        CONFIG SET appendonly no
        CONFIG SET requirepass ""
        CONFIG SET hz 20
        CONFIG GET hz
        CONFIG SET hz 10
        CONFIG SET timeout 0
        CONFIG SET maxclients abc
        CONFIG SET maxclients 10000
        CONFIG SET hz abc
        CONFIG SET databases 4
        CONFIG SET nosuch 1
        CONFIG SET hz 10 hz 11
        CONFIG SET hz 10 timeout
        CONFIG GET hz
        CONFIG RESETSTAT
        CONFIG GET
        CONFIG SET
        CONFIG SET hz
        CONFIG RESETSTAT x
        "#,
    ),
    (
        "config_resp3",
        r#"
        HELLO 3
        CONFIG GET databases
        CONFIG GET hz
        CONFIG GET nosuch
        "#,
    ),
    (
        "info",
        r#"
        !shape INFO
        !shape INFO server
        !shape INFO all
        !shape INFO default
        !shape INFO everything
        !shape INFO server clients
        INFO keyspace
        MSET key:1 a key:2 b key:3 c
        SELECT 3
        SET key:1 x
        INFO keyspace
        INFO KEYSPACE
        INFO nosuchsection
        # avg_ttl is an estimate in Redis (sampled by the expiry cycle): shape only.
        SET key:4 d EXAT 4102444800
        !shape INFO keyspace
        "#,
    ),
    (
        "stats",
        r#"
        CONFIG RESETSTAT
        !info commandstats
        !info errorstats
        !info stats keyspace_hits keyspace_misses total_error_replies evicted_keys
        SET key:1 v
        GET key:1
        GET key:2
        GETRANGE key:1 0 -1
        GET
        NOSUCH
        INCR key:1
        SET key:1 v EX 0
        AUTH x
        CLIENT NOSUCH
        OBJECT FREQ key:1
        !info commandstats
        !info errorstats
        !info stats keyspace_hits keyspace_misses total_error_replies evicted_keys
        CONFIG RESETSTAT
        !info commandstats
        !info errorstats
        "#,
    ),
    (
        "stats_cross_core",
        r#"
        !cross key:1 key:2
        MSET key:1 a key:2 b key:3 c
        CONFIG RESETSTAT
        MGET key:1 key:2 key:4
        !info stats keyspace_hits keyspace_misses
        EXISTS key:1 key:2 key:4
        !info stats keyspace_hits keyspace_misses
        TOUCH key:1 key:2 key:4
        !info stats keyspace_hits keyspace_misses
        LCS key:1 key:2
        !info stats keyspace_hits keyspace_misses
        COPY key:1 key:2 REPLACE
        !info stats keyspace_hits keyspace_misses
        COPY key:2 key:5
        !info stats keyspace_hits keyspace_misses
        RENAME key:5 key:6
        MSET key:1 x key:2 y
        MSETNX key:7 x key:8 y
        DEL key:7 key:8 key:9
        UNLINK key:5 key:6
        !info commandstats
        !info stats keyspace_hits keyspace_misses
        "#,
    ),
    (
        "persistence",
        r#"
        CONFIG SET save "1"
        CONFIG SET save "3600 1 300"
        CONFIG SET save "0 1"
        CONFIG SET save "10 -1"
        CONFIG SET save "3600 x"
        CONFIG SET save "100 10 20 5"
        CONFIG GET save
        CONFIG SET save ""
        CONFIG GET save
        CONFIG SET dbfilename a/b.rdb
        BGSAVE now
        BGSAVE schedule now
        SAVE extra
        LASTSAVE extra
        SHUTDOWN SAVE NOSAVE
        SHUTDOWN ABORT NOSAVE
        COMMAND INFO save bgsave lastsave
        SAVE
        !info persistence rdb_changes_since_last_save rdb_bgsave_in_progress rdb_last_bgsave_status
        SET key:1 a
        INCR counter
        !info persistence rdb_changes_since_last_save rdb_bgsave_in_progress rdb_last_bgsave_status
        MULTI
        SAVE
        EXEC
        CONFIG SET dir /tmp
        CONFIG GET enable-protected-configs
        CONFIG GET stop-writes-on-bgsave-error
        CONFIG SET stop-writes-on-bgsave-error maybe
        "#,
    ),
    (
        "shutdown_errors",
        r#"
        SHUTDOWN ABORT
        SHUTDOWN FOO
        SHUTDOWN NOSAVE FOO
        PING
        "#,
    ),
];

/// COMMAND introspection and HELP texts.
const INTROSPECTION: &[(&str, &str)] = &[
    (
        "command",
        r#"
        !shape COMMAND COUNT
        !noprose COMMAND INFO get
        !noprose COMMAND INFO set
        !noprose COMMAND INFO mget
        !noprose COMMAND INFO mset
        !noprose COMMAND INFO nosuch
        !noprose COMMAND INFO GET nosuch
        !noprose COMMAND INFO object|encoding
        !noprose COMMAND INFO role
        ROLE
        ROLE extra
        COMMAND GETKEYS GET a
        COMMAND GETKEYS MSET a b c d
        COMMAND GETKEYS MGET a b c
        COMMAND GETKEYS SET a b EX 10
        COMMAND GETKEYS COPY a b
        COMMAND GETKEYS LCS a b
        COMMAND GETKEYS PING
        COMMAND GETKEYS NOSUCH a
        COMMAND GETKEYS GET
        COMMAND GETKEYS MSET a
        COMMAND GETKEYS OBJECT ENCODING a
        !sorted COMMAND LIST FILTERBY PATTERN *expire*
        !sorted COMMAND LIST FILTERBY PATTERN ms*
        COMMAND LIST FILTERBY
        COMMAND LIST FILTERBY FOO bar
        COMMAND LIST FOO
        !noprose COMMAND DOCS nosuch
        COMMAND COUNT x
        "#,
    ),
    (
        "command_docs",
        r#"
        !noprose COMMAND DOCS get
        !noprose COMMAND DOCS getrange
        "#,
    ),
    (
        "help_texts",
        r#"
        !help OBJECT HELP
        !help CLIENT HELP
        !help CONFIG HELP
        !help COMMAND HELP
        "#,
    ),
];

/// Run with `--requirepass secret` on both servers; the scripts start unauthenticated.
const AUTH: &[(&str, &str)] = &[
    (
        "noauth_then_auth",
        r#"
        PING
        GET key:1
        SET key:1 v
        MGET key:1 key:2
        SELECT 1
        CLIENT SETNAME x
        CLIENT ID
        CONFIG GET hz
        INFO
        DBSIZE
        NOSUCHCOMMAND a
        GET
        HELLO
        HELLO 3
        HELLO 2 SETNAME x
        AUTH wrong
        AUTH default wrong
        AUTH nosuchuser secret
        AUTH
        AUTH a b c
        HELLO 3 AUTH default wrong
        HELLO 3 AUTH nosuchuser secret
        GET key:1
        AUTH secret
        SET key:1 v
        MGET key:1 key:2
        RESET
        GET key:1
        AUTH default secret
        GET key:1
        RESET
        HELLO 3 AUTH default secret SETNAME authed
        CLIENT GETNAME
        GET nosuch
        MGET key:1 key:2
        AUTH wrong
        GET key:1
        QUIT
        "#,
    ),
    (
        "config_set_requirepass",
        r#"
        AUTH secret
        CONFIG GET requirepass
        CONFIG SET requirepass other
        GET key:1
        AUTH secret
        AUTH other
        CONFIG SET requirepass secret
        "#,
    ),
];

/// Run with `--databases 4` on both servers.
const FEW_DATABASES: &[(&str, &str)] = &[(
    "database_bounds",
    r#"
        CONFIG GET databases
        SELECT 3
        SELECT 4
        SET key:1 v
        MOVE key:1 4
        MOVE key:1 3
        COPY key:1 key:2 DB 4
        COPY key:1 key:2 DB 3
        SWAPDB 0 4
        SWAPDB 0 3
        SELECT 3
        MGET key:1 key:2
        !sorted KEYS *
        INFO keyspace
        "#,
)];

const RESP3: &[(&str, &str)] = &[
    (
        "resp3_replies",
        r#"
        HELLO 3
        GET nosuch
        SET key:1 v
        GET key:1
        MGET key:1 nosuch key:2
        SET key:2 v GET
        SET key:3 v NX GET
        INCR key:4
        INCRBYFLOAT key:5 1.5
        EXISTS key:1 key:2
        TTL key:1
        TYPE key:1
        OBJECT ENCODING key:4
        OBJECT ENCODING nosuch
        OBJECT REFCOUNT key:4
        GETEX nosuch
        GETDEL nosuch
        !shape RANDOMKEY
        !sorted KEYS *
        !scan
        CLIENT GETNAME
        CLIENT SETNAME n
        CLIENT GETNAME
        COMMAND INFO nosuch
        COMMAND GETKEYS MSET a b c d
        !shape CLIENT INFO
        !shape TIME
        !shape INFO server
        NOSUCH
        INCR key:1
        HELLO 2
        GET nosuch
        "#,
    ),
    (
        "resp3_db_and_flush",
        r#"
        HELLO 3
        SELECT 2
        SET key:1 v
        DBSIZE
        FLUSHDB
        FLUSHALL
        SWAPDB 0 1
        PING
        PING x
        ECHO x
        "#,
    ),
];

#[test]
fn auth() {
    run_group_with(2, &["--requirepass", "secret"], AUTH);
}

#[test]
fn few_databases() {
    run_group_with(2, &["--databases", "4"], FEW_DATABASES);
}

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
    strings_basic => 2, STRINGS_BASIC;
    odd_keys => 2, ODD_KEYS;
    set_options => 2, SET_OPTIONS;
    numbers => 2, NUMBERS;
    ranges => 2, RANGES;
    size_limits => 2, SIZE_LIMITS;
    lcs => 2, LCS;
    expiry => 2, EXPIRY;
    keyspace => 2, KEYSPACE;
    object => 2, OBJECT;
    connection => 2, CONNECTION;
    server => 2, SERVER;
    introspection => 2, INTROSPECTION;
    resp3 => 2, RESP3;
    strings_basic_4_cores => 4, STRINGS_BASIC;
    keyspace_4_cores => 4, KEYSPACE;
}

#[test]
fn script_keys_span_every_core() {
    for cores in [2, 4] {
        let hit: std::collections::HashSet<usize> =
            (1..=10).map(|i| core_of(format!("key:{i}").as_bytes(), cores)).collect();
        assert_eq!(hit.len(), cores, "key:1..key:10 should cover all {cores} cores");
    }
}

#[test]
fn line_splitting() {
    assert_eq!(
        split_line(r#"SET "a b" "" "\x41\r\n\"" c"#),
        vec![b"SET".to_vec(), b"a b".to_vec(), vec![], b"A\r\n\"".to_vec(), b"c".to_vec()]
    );
}
