//! List commands and SORT, Shoal against redis-server: the same scripts run
//! on both (see `support::script` for the format and the directives), with
//! keys spread over the cores, and every reply is compared.
//!
//! Multi-key commands (LMOVE, RPOPLPUSH, LMPOP, BLPOP over several keys,
//! SORT ... STORE) are run with keys on different cores (`!cross` checks
//! it). Blocking commands only appear where they cannot block: with data
//! already there, or inside MULTI, where they give the timed-out reply; the
//! tests with clients that really block and wake are elsewhere.
//!
//! SORT's BY and GET patterns read keys the command does not declare; most
//! scripts here keep them next to the source key with a hash tag (`{s}w_*`
//! next to `{s}list`), and `sort_patterns_across_cores` spreads them over
//! the cores, where the server copies them to the command.
//!
//! Redis 7.0 keeps every list in a quicklist, so OBJECT ENCODING says
//! `quicklist` at every size; sorting a compact sorted set turns it into a
//! skiplist.

mod support;

use support::script::run_group;

const LISTS: &[(&str, &str)] = &[
    (
        "list_push_pop",
        r#"
        RPUSH key:1 a b c
        LPUSH key:1 x y
        LRANGE key:1 0 -1
        LPUSHX key:2 a
        RPUSHX key:2 a b
        EXISTS key:2
        LPUSHX key:1 p q
        RPUSHX key:1 r
        LLEN key:1
        LLEN nosuch
        LPUSH key:1
        RPUSHX key:1
        LPOP
        LPOP key:1
        RPOP key:1
        LPOP key:1 0
        LPOP key:1 2
        RPOP key:1 2
        LRANGE key:1 0 -1
        RPOP key:1 100
        EXISTS key:1
        LPOP nosuch
        LPOP nosuch 0
        LPOP nosuch 3
        RPOP nosuch 1
        LPOP key:1 -1
        LPOP key:1 abc
        LPOP key:1 1.5
        LPOP key:1 1 2
        RPOP nosuch -1
        RPOP nosuch 9223372036854775808
        RPUSH key:3 "" "\x00\xff" "hello world" 12345 -1 3.14 "\r\n"
        LRANGE key:3 0 -1
        LLEN key:3
        LPOP key:3 9223372036854775807
        EXISTS key:3
        RPUSH key:4 1
        LPOP key:4 1
        EXISTS key:4
        RPUSH key:5 a b
        RPOP key:5 0
        RPOP key:5
        LPOP key:5
        TYPE key:5
        RPUSH key:6 a
        OBJECT ENCODING key:6
        TYPE key:6
        HELLO 3
        LPOP nosuch
        LPOP nosuch 2
        RPUSH key:7 a b c
        LPOP key:7 2
        RPOP key:7
        LPOP key:7 0
        LPOP key:7 1
        HELLO 2
        "#,
    ),
    (
        "list_wrongtype",
        r#"
        SET key:1 x
        HSET key:2 f v
        SADD key:3 m
        ZADD key:4 1 m
        XADD key:5 1-1 f v
        RPUSH key:6 a b c
        LPUSH key:1 a
        RPUSH key:2 a
        LPUSHX key:3 a
        RPUSHX key:4 a
        LPOP key:5
        RPOP key:1 2
        LPOP key:2 0
        LLEN key:3
        LRANGE key:4 0 -1
        LINDEX key:5 0
        LSET key:1 0 x
        LINSERT key:2 BEFORE a b
        LREM key:3 0 a
        LTRIM key:4 0 1
        LPOS key:5 a
        LMOVE key:1 key:6 LEFT LEFT
        LMOVE key:6 key:1 LEFT LEFT
        LMOVE nosuch key:1 LEFT LEFT
        LRANGE key:6 0 -1
        RPOPLPUSH key:2 key:6
        RPOPLPUSH key:6 key:2
        LMPOP 2 key:3 key:6 LEFT
        LMPOP 2 nosuch key:4 LEFT
        LMPOP 2 key:6 key:4 LEFT
        BLPOP key:1 0
        BLPOP nosuch key:2 0
        BRPOP key:3 key:6 0
        BLMOVE key:4 key:6 LEFT LEFT 0
        BLMOVE key:6 key:4 LEFT LEFT 0
        BRPOPLPUSH key:5 key:6 0
        BLMPOP 0 2 key:1 key:6 RIGHT
        LRANGE key:6 0 -1
        TYPE key:1
        GET key:1
        "#,
    ),
    (
        "list_arity",
        r#"
        LPUSH key:1
        RPUSH
        LPUSHX key:1
        RPUSHX key:1
        LPOP
        RPOP key:1 1 1
        LLEN
        LLEN key:1 key:2
        LRANGE key:1 0
        LINDEX key:1
        LSET key:1 0
        LINSERT key:1 BEFORE a
        LREM key:1 0
        LTRIM key:1 0
        LPOS key:1
        LMOVE key:1 key:2 LEFT
        RPOPLPUSH key:1
        LMPOP 1 key:1
        BLPOP key:1
        BRPOP key:1
        BLMOVE key:1 key:2 LEFT LEFT
        BRPOPLPUSH key:1 key:2
        BLMPOP 0 1 key:1
        SORT
        SORT_RO
        "#,
    ),
    (
        "list_index_range",
        r#"
        RPUSH key:1 a b c d e
        LRANGE key:1 0 -1
        LRANGE key:1 1 3
        LRANGE key:1 -2 -1
        LRANGE key:1 -100 100
        LRANGE key:1 3 1
        LRANGE key:1 5 10
        LRANGE key:1 -1 -2
        LRANGE key:1 -9223372036854775808 9223372036854775807
        LRANGE key:1 9223372036854775807 -9223372036854775808
        LRANGE key:1 a 1
        LRANGE key:1 0 1.0
        LRANGE nosuch 0 -1
        LRANGE nosuch a b
        LINDEX key:1 0
        LINDEX key:1 -1
        LINDEX key:1 4
        LINDEX key:1 5
        LINDEX key:1 -5
        LINDEX key:1 -6
        LINDEX key:1 -9223372036854775808
        LINDEX key:1 9223372036854775807
        LINDEX key:1 x
        LINDEX nosuch x
        LINDEX nosuch 0
        LSET key:1 0 A
        LSET key:1 -1 E
        LSET key:1 2 "a much longer element than the others"
        LSET key:1 5 x
        LSET key:1 -6 x
        LSET key:1 x y
        LSET nosuch 0 x
        LSET nosuch x x
        LRANGE key:1 0 -1
        LINSERT key:1 BEFORE A first
        LINSERT key:1 after E last
        LINSERT key:1 AFTER b b2
        LINSERT key:1 before nothere x
        LINSERT key:1 middle b x
        LINSERT nosuch BEFORE a x
        LINSERT nosuch middle a x
        LRANGE key:1 0 -1
        LLEN key:1
        RPUSH key:2 x y x z x x
        LREM key:2 1 x
        LRANGE key:2 0 -1
        LREM key:2 -1 x
        LRANGE key:2 0 -1
        LREM key:2 0 x
        LRANGE key:2 0 -1
        LREM key:2 0 nothere
        LREM key:2 abc x
        LREM nosuch 0 x
        LREM nosuch abc x
        LREM key:2 -9223372036854775808 y
        LREM key:2 9223372036854775807 z
        EXISTS key:2
        RPUSH key:3 0 1 2 3 4 5 6 7 8 9
        LTRIM key:3 1 -2
        LRANGE key:3 0 -1
        LTRIM key:3 -3 100
        LRANGE key:3 0 -1
        LTRIM key:3 0 0
        LRANGE key:3 0 -1
        LTRIM key:3 a 1
        LTRIM key:3 1 0
        EXISTS key:3
        LTRIM nosuch 0 1
        LTRIM nosuch a 1
        RPUSH key:4 a b
        LTRIM key:4 -9223372036854775808 9223372036854775807
        LRANGE key:4 0 -1
        LTRIM key:4 5 10
        EXISTS key:4
        "#,
    ),
    (
        "list_lpos",
        r#"
        RPUSH key:1 a b c 1 2 3 c c
        LPOS key:1 c
        LPOS key:1 c RANK 2
        LPOS key:1 c RANK -1
        LPOS key:1 c RANK -3
        LPOS key:1 c RANK 4
        LPOS key:1 c RANK -4
        LPOS key:1 c COUNT 0
        LPOS key:1 c COUNT 2
        LPOS key:1 c COUNT 2 RANK -1
        LPOS key:1 c COUNT 0 RANK 2
        LPOS key:1 c COUNT 10 RANK -2
        LPOS key:1 c MAXLEN 3
        LPOS key:1 c MAXLEN 3 COUNT 0
        LPOS key:1 c MAXLEN 1 RANK -1
        LPOS key:1 c MAXLEN 0 COUNT 0
        LPOS key:1 c RANK -9223372036854775808
        LPOS key:1 c RANK -9223372036854775808 COUNT 1
        LPOS key:1 c RANK -9223372036854775807
        LPOS key:1 c RANK 9223372036854775807 COUNT 0
        LPOS key:1 c COUNT 9223372036854775807
        LPOS key:1 x
        LPOS key:1 x COUNT 1
        LPOS key:1 c RANK 0
        LPOS key:1 c RANK x
        LPOS key:1 c COUNT -1
        LPOS key:1 c COUNT x
        LPOS key:1 c MAXLEN -1
        LPOS key:1 c MAXLEN x
        LPOS key:1 c RANK
        LPOS key:1 c COUNT 1 MAXLEN
        LPOS key:1 c FOO 1
        LPOS key:1 c rank 1 count 1 maxlen 0 rank 2
        LPOS nosuch c
        LPOS nosuch c COUNT 1
        LPOS nosuch c RANK 0
        LPOS key:1 1
        LPOS key:1 ""
        HELLO 3
        LPOS key:1 x
        LPOS key:1 c COUNT 0
        HELLO 2
        "#,
    ),
    (
        "list_move",
        r#"
        !cross key:1 key:2
        !cross key:3 key:4
        RPUSH key:1 a b c d e
        LMOVE key:1 key:2 LEFT RIGHT
        LMOVE key:1 key:2 RIGHT LEFT
        LMOVE key:1 key:2 left left
        LMOVE key:1 key:2 right right
        LRANGE key:1 0 -1
        LRANGE key:2 0 -1
        LMOVE key:1 key:1 LEFT RIGHT
        LRANGE key:1 0 -1
        RPOPLPUSH key:2 key:2
        LRANGE key:2 0 -1
        RPOPLPUSH key:1 key:2
        EXISTS key:1
        LRANGE key:2 0 -1
        RPOPLPUSH key:1 key:2
        LMOVE key:1 key:2 LEFT LEFT
        LMOVE key:2 key:3 UP LEFT
        LMOVE key:2 key:3 LEFT DOWN
        LMOVE nosuch key:3 UP LEFT
        RPOPLPUSH key:2 key:3
        RPOPLPUSH key:2 key:4
        LRANGE key:3 0 -1
        LRANGE key:4 0 -1
        LMPOP 2 key:1 key:2 LEFT
        LMPOP 3 nosuch key:3 key:2 RIGHT COUNT 2
        LMPOP 3 nosuch key:3 key:2 RIGHT COUNT 2
        LMPOP 2 key:1 key:4 LEFT COUNT 100
        LMPOP 2 key:1 key:3 LEFT
        LMPOP 2 key:1 key:3 LEFT COUNT 1
        RPUSH key:5 1 2 3
        RPUSH key:6 4 5 6
        LMPOP 2 key:5 key:6 left count 2
        LMPOP 2 key:5 key:6 right count 2
        LMPOP 1 key:6 right
        LMPOP 0 key:1 LEFT
        LMPOP -1 key:1 LEFT
        LMPOP x key:1 LEFT
        LMPOP 3 key:1 key:2 LEFT
        LMPOP 9223372036854775807 key:1 LEFT
        LMPOP 1 key:1 MIDDLE
        LMPOP 1 key:1 LEFT COUNT
        LMPOP 1 key:1 LEFT COUNT 0
        LMPOP 1 key:1 LEFT COUNT -1
        LMPOP 1 key:1 LEFT COUNT x
        LMPOP 1 key:1 LEFT COUNT 1 COUNT 1
        LMPOP 1 key:1 LEFT FOO
        LMPOP 2 key:1 key:1 LEFT
        HELLO 3
        LMPOP 2 key:1 key:2 LEFT
        RPUSH key:7 a b
        LMPOP 2 key:1 key:7 RIGHT COUNT 5
        HELLO 2
        !sorted KEYS *
        "#,
    ),
    (
        "list_blocking_ready",
        r#"
        !cross key:1 key:2
        RPUSH key:1 a b c d e f
        BLPOP nosuch key:1 0
        BRPOP key:1 nosuch 0.5
        BLPOP key:2 key:1 1
        BRPOP key:1 0.001
        BLPOP key:1 "0x10"
        BLPOP key:1 1e3
        LRANGE key:1 0 -1
        RPUSH key:1 a b c d e
        BLMOVE key:1 key:2 LEFT RIGHT 0
        BLMOVE key:1 key:2 RIGHT LEFT 0.1
        BRPOPLPUSH key:1 key:2 0
        BRPOPLPUSH key:1 key:1 0
        LRANGE key:1 0 -1
        LRANGE key:2 0 -1
        BLMPOP 0 2 nosuch key:1 LEFT COUNT 5
        EXISTS key:1
        BLMPOP 0.1 2 key:1 key:2 RIGHT
        BLMPOP 1 1 key:2 left count 2
        RPUSH key:2 x y z
        BLPOP key:2 abc
        BLPOP key:2 -1
        BLPOP key:2 -0.001
        BLPOP key:2 inf
        BLPOP key:2 nan
        BLPOP key:2 1e20
        BLPOP key:2 ""
        BRPOP key:2 " 1"
        BLMOVE key:2 key:1 MIDDLE LEFT 0
        BLMOVE key:2 key:1 LEFT LEFT -1
        BLMOVE key:2 key:1 LEFT LEFT abc
        BLMOVE key:2 key:1 LEFT MIDDLE abc
        BRPOPLPUSH key:2 key:1 abc
        BRPOPLPUSH key:2 key:1 -5
        BLMPOP abc 1 key:2 LEFT
        BLMPOP -1 1 key:2 LEFT
        BLMPOP 0 0 key:2 LEFT
        BLMPOP 0 1 key:2 MIDDLE
        BLMPOP 0 1 key:2 LEFT COUNT 0
        BLMPOP 0 1 key:2 LEFT COUNT x
        BLMPOP 0 5 key:2 LEFT
        BLMPOP abc 0 key:2 LEFT
        LRANGE key:2 0 -1
        HELLO 3
        RPUSH key:3 x y
        BLPOP key:3 0
        BLMPOP 0 1 key:3 LEFT COUNT 3
        HELLO 2
        "#,
    ),
    (
        "list_blocking_in_multi",
        r#"
        !cross key:1 key:2
        MULTI
        BLPOP key:1 0
        BRPOP key:1 key:2 1
        BLMOVE key:1 key:2 LEFT LEFT 0
        BRPOPLPUSH key:1 key:2 0
        BLMPOP 0 2 key:1 key:2 LEFT
        BLMPOP 0 1 key:1 RIGHT COUNT 5
        EXEC
        RPUSH key:2 a b c
        MULTI
        BLPOP key:1 key:2 0
        BLMOVE key:2 key:1 RIGHT LEFT 0
        BLMPOP 0 2 key:1 key:2 LEFT COUNT 5
        BRPOP key:1 key:2 0
        BRPOP key:1 key:2 0
        EXEC
        LRANGE key:1 0 -1
        LRANGE key:2 0 -1
        HELLO 3
        MULTI
        BLPOP key:9 0
        BLMOVE key:9 key:1 LEFT LEFT 0
        BLMPOP 0 1 key:9 LEFT
        EXEC
        HELLO 2
        "#,
    ),
    (
        "list_resp3",
        r#"
        HELLO 3
        RPUSH key:1 a b c
        LRANGE key:1 0 -1
        LINDEX key:1 5
        LPOS key:1 z
        LMOVE nosuch key:1 LEFT LEFT
        RPOPLPUSH nosuch key:1
        LMPOP 1 nosuch LEFT
        LMPOP 1 key:1 LEFT
        RPOP nosuch
        RPOP nosuch 1
        SORT key:1 ALPHA GET nosuch_* GET #
        SORT_RO nosuch
        HELLO 2
        "#,
    ),
];

const SORTS: &[(&str, &str)] = &[
    (
        "sort_basic",
        r#"
        RPUSH key:1 3 1 2 10 -5 2.5 0x10 " 7" 1e2 -inf
        SORT key:1
        SORT key:1 DESC
        SORT key:1 ASC
        SORT key:1 DESC ASC
        SORT key:1 LIMIT 0 3
        SORT key:1 LIMIT 2 3 DESC
        SORT key:1 LIMIT -5 2
        SORT key:1 LIMIT 8 100
        SORT key:1 LIMIT 10 1
        SORT key:1 LIMIT 100 1
        SORT key:1 LIMIT 1 0
        SORT key:1 LIMIT 0 -1
        SORT key:1 LIMIT 0 -7
        SORT key:1 LIMIT 9223372036854775807 9223372036854775807
        SORT key:1 LIMIT -9223372036854775808 -9223372036854775808
        SORT key:1 LIMIT 1 2 LIMIT 3 4
        SORT key:1 ALPHA
        SORT key:1 ALPHA DESC LIMIT 0 4
        SORT_RO key:1
        SORT_RO key:1 ALPHA LIMIT 1 2
        SORT key:1 BY nosort
        SORT key:1 BY nosort DESC
        SORT key:1 BY nosort LIMIT 2 3
        SORT key:1 BY nosort LIMIT 2 3 DESC
        SORT key:1 BY nosort LIMIT 9 5 DESC
        SORT key:1 BY nosort LIMIT 10 5 DESC
        SORT key:1 BY nosort LIMIT -1 2
        SORT key:1 BY nosort ALPHA
        RPUSH key:2 b a 3
        SORT key:2
        SORT key:2 ALPHA
        SORT key:2 BY nosort
        RPUSH key:3 1 nan
        SORT key:3
        RPUSH key:4 1 "5 "
        SORT key:4
        # No weight overflowing or underflowing a double here: Redis reads
        # weights with strtod and checks errno without clearing it first, so
        # after one ERANGE its later numeric SORTs fail too, for a while (the
        # unit tests in engine/src/cmd/sort.rs cover those weights).
        RPUSH key:7 "2\x00x" 1 2 "" +0 -0 0
        SORT key:7
        SORT key:7 ALPHA
        RPUSH key:8 b a a c b
        SORT key:8 ALPHA
        SORT key:8 ALPHA DESC
        SORT nosuch
        SORT nosuch ALPHA LIMIT 0 1
        SORT nosuch foo
        SORT key:1 foo
        SORT key:1 LIMIT 1
        SORT key:1 LIMIT a 1
        SORT key:1 LIMIT 1 b
        SORT key:1 LIMIT 1.5 1
        SORT key:1 STORE
        SORT key:1 BY
        SORT key:1 GET
        SORT_RO key:1 STORE key:9
        SORT key:1 ALPHA ASC DESC ALPHA foo
        SET key:10 x
        SORT key:10
        SORT key:10 foo
        SORT key:10 LIMIT a b
        HSET key:11 f v
        SORT key:11
        SORT_RO key:11
        XADD key:12 1-1 f v
        SORT key:12
        "#,
    ),
    (
        "sort_sets_and_zsets",
        r#"
        SADD key:1 5 3 -1 10 7
        OBJECT ENCODING key:1
        SORT key:1
        SORT key:1 DESC LIMIT 1 2
        SORT key:1 BY nosort
        SORT key:1 ALPHA
        SADD key:2 banana apple cherry 10 2
        SORT key:2 ALPHA
        SORT key:2 ALPHA DESC LIMIT 0 2
        SORT key:2
        !sorted SORT key:2 BY nosort
        SORT_RO key:2 ALPHA
        SORT key:2 BY nosort STORE key:3
        LRANGE key:3 0 -1
        SORT key:2 BY nosort DESC STORE key:3
        LRANGE key:3 0 -1
        SORT key:2 BY nosort LIMIT 1 2 STORE key:3
        LRANGE key:3 0 -1
        ZADD key:4 3 c 1 a 2 b 0 z
        OBJECT ENCODING key:4
        SORT key:4 BY nosort
        OBJECT ENCODING key:4
        SORT key:4 BY nosort DESC
        SORT key:4 BY nosort LIMIT 1 2
        SORT key:4 BY nosort LIMIT 1 2 DESC
        SORT key:4 BY nosort LIMIT 3 10 DESC
        SORT key:4 BY nosort LIMIT 4 10 DESC
        SORT key:4 ALPHA
        SORT key:4 ALPHA DESC LIMIT 1 1
        SORT key:4
        ZADD key:5 1 10 2 9 3 8
        SORT_RO key:5 LIMIT 0 2
        OBJECT ENCODING key:5
        ZADD key:6 1 x
        SORT key:6 foo
        OBJECT ENCODING key:6
        SORT key:6
        OBJECT ENCODING key:6
        ZRANGE key:6 0 -1 WITHSCORES
        SORT key:4 BY nosort STORE key:7
        LRANGE key:7 0 -1
        TYPE key:7
        "#,
    ),
    (
        "sort_store",
        r#"
        !cross key:1 key:2
        !cross key:1 key:4
        RPUSH key:1 c a b
        SORT key:1 ALPHA STORE key:2
        LRANGE key:2 0 -1
        TYPE key:2
        OBJECT ENCODING key:2
        SORT key:1 ALPHA DESC STORE key:2
        LRANGE key:2 0 -1
        SET key:3 x
        SORT key:1 ALPHA STORE key:3
        TYPE key:3
        LRANGE key:3 0 -1
        SET key:4 y EX 1000
        SORT key:1 ALPHA STORE key:4
        TTL key:4
        SORT nosuch STORE key:4
        EXISTS key:4
        SORT nosuch STORE key:4
        SORT key:1 LIMIT 5 1 STORE key:2
        EXISTS key:2
        SORT key:1 STORE key:2
        EXISTS key:2
        SORT key:1 ALPHA STORE key:5 STORE key:6
        EXISTS key:5
        LRANGE key:6 0 -1
        SORT key:1 ALPHA STORE key:1
        LRANGE key:1 0 -1
        SORT key:1 ALPHA BY nosort DESC STORE key:7
        LRANGE key:7 0 -1
        SORT key:1 ALPHA GET # GET nosuch STORE key:8
        LRANGE key:8 0 -1
        SORT key:1 ALPHA GET # LIMIT 1 1 STORE key:8
        LRANGE key:8 0 -1
        SORT_RO key:1 ALPHA
        !sorted KEYS *
        "#,
    ),
    (
        "sort_patterns_same_core",
        r#"
        RPUSH {s}list c a b d e
        MSET {s}w_a 3 {s}w_b 1 {s}w_c 2 {s}w_d 2 {s}w_e x
        SORT {s}list BY {s}w_*
        SET {s}w_e 10
        SORT {s}list BY {s}w_*
        SORT {s}list BY {s}w_* DESC
        SORT {s}list BY {s}w_* LIMIT 1 2
        SORT {s}list BY {s}w_* GET #
        SORT {s}list BY {s}w_* GET # GET {s}w_*
        SORT {s}list BY {s}w_* GET {s}w_* GET nosuch GET {s}nosuch_* GET #
        SORT {s}list BY {s}w_* ALPHA
        SORT {s}list BY {s}w_* ALPHA DESC
        SORT {s}list BY {s}nosuch_*
        SORT {s}list BY {s}nosuch_* ALPHA
        SORT {s}list BY {s}nosuch_* ALPHA DESC
        SORT {s}list BY {s}nosuch_* ALPHA LIMIT 0 3
        SORT {s}list BY {s}nosuch_* ALPHA LIMIT 2 2 DESC
        SORT {s}list BY {s}nosuch_* LIMIT 0 3
        SORT {s}list BY nosort GET {s}w_*
        SORT {s}list BY nosort BY {s}w_*
        SORT {s}list BY {s}w_* BY nosort
        SORT {s}list GET {s}w_*
        SORT {s}list ALPHA GET {s}w_* GET #
        HSET {s}h_a f 10 g x
        HSET {s}h_b f 5
        HSET {s}h_c f 7.5
        HSET {s}h_d f 7.5
        SORT {s}list BY {s}h_*->f
        SORT {s}list BY {s}h_*->f DESC GET {s}h_*->f GET {s}h_*->g GET #
        SORT {s}list BY {s}h_*->f ALPHA
        SORT {s}list BY {s}h_*-> ALPHA
        SORT {s}list BY {s}h_*->nosuch
        SORT {s}list GET {s}h_*-> GET {s}h_*->f->g GET {s}h->*
        SORT {s}list BY {s}w_* GET {s}h_*->f
        SADD {s}bad 1
        SORT {s}list BY {s}bad
        SET {s}w_a notanumber
        SORT {s}list BY {s}w_*
        SORT {s}list BY {s}w_* ALPHA
        SORT {s}list BY {s}h_*->g
        SORT {s}list BY {s}w_* GET # STORE {s}dst
        SORT {s}list BY {s}h_*->f GET # GET {s}h_*->g STORE {s}dst
        LRANGE {s}dst 0 -1
        SORT_RO {s}list BY {s}h_*->f GET {s}h_*->f
        SADD {s}set a b c d
        SORT {s}set BY {s}h_*->f GET #
        SORT {s}set BY {s}h_*->f DESC LIMIT 0 2 GET # GET {s}h_*->f
        SORT {s}set BY nosort GET {s}h_*->f STORE {s}dst2
        LRANGE {s}dst2 0 -1
        ZADD {s}z 1 a 2 b 3 c 4 d
        SORT {s}z BY {s}h_*->f
        SORT {s}z BY nosort GET {s}h_*->f DESC
        SORT {s}z BY {s}h_*->f GET # LIMIT 1 2
        HELLO 3
        SORT {s}list BY {s}h_*->f GET {s}h_*->g GET #
        HELLO 2
        "#,
    ),
];

/// Scripts built in code: long lists (several chunks of 8 KB, elements of
/// every length class), and SORT ... BY ... LIMIT over many ties, whose
/// order only an exact copy of Redis's partial quicksort reproduces.
fn generated() -> Vec<(&'static str, &'static str)> {
    let seq = |from: usize, to: usize, tag: &str| -> String {
        (from..to).map(|i| format!("{tag}{i}")).collect::<Vec<_>>().join(" ")
    };
    let long = "L".repeat(200);
    let huge = "H".repeat(20_000);
    let big = format!(
        r#"
        RPUSH key:1 {a}
        LPUSH key:1 {b}
        LLEN key:1
        OBJECT ENCODING key:1
        LINDEX key:1 0
        LINDEX key:1 1999
        LINDEX key:1 3999
        LINDEX key:1 -2001
        LRANGE key:1 1990 2010
        LRANGE key:1 -5 -1
        LSET key:1 2000 {long}
        LSET key:1 2001 {huge}
        LINDEX key:1 2000
        LINDEX key:1 2001
        LINSERT key:1 BEFORE r1000 {huge}
        LINSERT key:1 AFTER l1000 {long}
        LPOS key:1 {long} COUNT 0
        LPOS key:1 r1000
        LPOS key:1 r1000 RANK -1 MAXLEN 10
        LREM key:1 1 {huge}
        LREM key:1 -1 {long}
        LLEN key:1
        LRANGE key:1 995 1010
        LTRIM key:1 500 -500
        LLEN key:1
        LRANGE key:1 0 5
        LRANGE key:1 -5 -1
        LPOP key:1 700
        RPOP key:1 700
        LLEN key:1
        LMOVE key:1 key:2 LEFT LEFT
        LMPOP 2 key:2 key:1 RIGHT COUNT 3
        LRANGE key:1 0 -1
        SORT key:1 ALPHA LIMIT 0 10
        SORT key:1 BY nosort LIMIT 100 10 DESC
        SORT key:1 ALPHA DESC STORE key:3
        LLEN key:3
        LRANGE key:3 0 10
        RPUSH key:4 {long} {huge} {long} x
        OBJECT ENCODING key:4
        LRANGE key:4 0 -1
        LPOS key:4 {long} COUNT 0
        LREM key:4 0 {long}
        LRANGE key:4 0 -1
        "#,
        a = seq(0, 2000, "r"),
        b = seq(0, 2000, "l"),
    );
    // 120 elements, weights with many ties: numeric ties fall back to the
    // element, ALPHA ties (and missing weights) are left to the sort.
    let elements = seq(0, 120, "e");
    let weights: String = (0..120)
        .filter(|i| i % 7 != 3)
        .map(|i| format!("{{t}}w_e{i} {}", (i * 37) % 5))
        .collect::<Vec<_>>()
        .join(" ");
    let mut ties = format!(
        r#"
        RPUSH {{t}}list {elements}
        MSET {weights}
        SORT {{t}}list BY {{t}}w_*
        SORT {{t}}list BY {{t}}w_* ALPHA
        SORT {{t}}list BY {{t}}w_* ALPHA DESC
        SORT {{t}}list BY {{t}}nosuch_* ALPHA
        "#
    );
    for (start, count) in [(0, 1), (0, 5), (3, 10), (40, 7), (100, 30), (119, 1), (0, 119), (1, 119), (60, 0)]
    {
        for opts in ["", "ALPHA", "ALPHA DESC", "DESC"] {
            ties += &format!("SORT {{t}}list BY {{t}}w_* {opts} LIMIT {start} {count}\n");
            ties += &format!("SORT {{t}}list BY {{t}}nosuch_* {opts} LIMIT {start} {count}\n");
        }
        ties += &format!("SORT {{t}}list BY {{t}}w_* ALPHA LIMIT {start} {count} GET # GET {{t}}w_*\n");
        ties += &format!("SORT {{t}}list BY {{t}}w_* ALPHA LIMIT {start} {count} STORE {{t}}dst\n");
        ties += "LRANGE {t}dst 0 -1\n";
    }
    for n in [6, 7, 8, 40, 41, 50] {
        ties += &format!("DEL {{t}}small\nRPUSH {{t}}small {}\n", seq(0, n, "s"));
        ties += &format!("SORT {{t}}small BY {{t}}nosuch_* ALPHA LIMIT 0 {}\n", n / 2);
        ties += &format!("SORT {{t}}small BY {{t}}nosuch_* ALPHA LIMIT 1 {n}\n");
        ties += &format!("SORT {{t}}small BY {{t}}nosuch_* ALPHA DESC LIMIT {} 3\n", n / 3);
    }
    vec![("list_big", Box::leak(big.into_boxed_str())), ("sort_ties", Box::leak(ties.into_boxed_str()))]
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
    lists => 2, LISTS;
    sorts => 2, SORTS;
    lists_4_cores => 4, LISTS;
    sorts_4_cores => 4, SORTS;
}

#[test]
fn generated_scripts() {
    run_group(2, &generated());
}

#[test]
fn generated_scripts_4_cores() {
    run_group(4, &generated());
}

/// SORT's BY and GET patterns reading keys on other cores than the source.
#[test]
fn sort_patterns_across_cores() {
    run_group(
        2,
        &[(
            "sort_patterns_across_cores",
            r#"
            !cross w_a w_b
            !cross key:1 w_a
            RPUSH key:1 a b c d
            MSET w_a 3 w_b 1 w_c 2 w_d 0
            HSET h_a f 1
            HSET h_b f 4
            SORT key:1 BY w_*
            SORT key:1 BY w_* GET # GET w_* GET h_*->f
            SORT key:1 BY h_*->f ALPHA
            SORT_RO key:1 BY w_* DESC
            SORT key:1 BY w_* GET w_* STORE key:2
            LRANGE key:2 0 -1
            MULTI
            SET w_a -5
            SORT key:1 BY w_* GET w_* GET #
            EXEC
            SORT key:1 BY nosort GET w_*
            SORT key:1 BY w_* LIMIT 1 2 GET h_*->f
            "#,
        )],
    );
}
