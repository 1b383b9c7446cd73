//! Differential tests of the stream commands: the same scripts against
//! Shoal (2 and 4 cores) and redis-server, every reply compared (see
//! tests/support/script.rs for the script language).
//!
//! IDs are given explicitly wherever a reply shows them, since `*` takes
//! the clock; replies that carry times (idle times, delivery and seen
//! times) are compared by shape only.

mod support;

use support::script::run_group;

const BASICS: &[(&str, &str)] = &[
    (
        "xadd_xlen_xrange",
        r#"
        XADD key:1 1-1 f v
        XADD key:1 1-2 f v2 g w
        XADD key:1 2-0 a 1 b 2 c 3
        XLEN key:1
        XRANGE key:1 - +
        XREVRANGE key:1 + -
        XRANGE key:1 1 1
        XRANGE key:1 1-2 +
        XRANGE key:1 (1-1 +
        XRANGE key:1 - (2-0
        XRANGE key:1 (1-1 (2-0
        XREVRANGE key:1 (2-0 -
        XREVRANGE key:1 + (1-1
        XRANGE key:1 - + COUNT 2
        XRANGE key:1 - + COUNT 0
        XRANGE key:1 - + COUNT -1
        XRANGE key:1 - + count 1 COUNT 3
        XREVRANGE key:1 + - COUNT 1
        XRANGE key:1 2 1
        XREVRANGE key:1 1 2
        XRANGE key:1 3 +
        XRANGE nosuch - +
        XRANGE nosuch - + COUNT 0
        XREVRANGE nosuch + -
        XLEN nosuch
        XRANGE key:1 - + COUNT
        XRANGE key:1 - + COUNT x
        XRANGE key:1 - + LIMIT 1
        XRANGE key:1 (- +
        XRANGE key:1 - (+
        XRANGE key:1 ( +
        XRANGE key:1 (18446744073709551615-18446744073709551615 +
        XRANGE key:1 - (0-0
        XRANGE key:1 - (0
        XRANGE key:1 abc +
        XRANGE key:1 1-x +
        XRANGE key:1 18446744073709551616 +
        XRANGE key:1 007-00 +
        XRANGE key:1 " 1" +
        XRANGE key:1 -1 +
        XRANGE key:1 0-1 2-0
        XRANGE key:1
        XREVRANGE key:1 +
        XLEN
        XLEN a b
        "#,
    ),
    (
        "xadd_ids",
        r#"
        XADD key:2 0-0 f v
        XADD key:2 0 f v
        XADD key:2 0-1 f v
        XADD key:2 0-1 f v
        XADD key:2 0-0 f v
        XADD key:2 5-* f v
        XADD key:2 5-* f v
        XADD key:2 4-* f v
        XADD key:2 6 f v
        XADD key:2 6-5 f v
        XADD key:2 6-5 f v
        XADD key:2 6-4 f v
        XADD key:2 7-18446744073709551615 f v
        XADD key:2 7-* f v
        XADD key:2 8-* f v
        XADD key:2 18446744073709551615-18446744073709551614 f v
        XADD key:2 18446744073709551615-* f v
        XADD key:2 18446744073709551615-* f v
        !shape XADD key:2 * f v
        XRANGE key:2 - +
        XLEN key:2
        XADD key:3 0-* f v
        XADD key:3 0-* f v
        XADD key:3 - f v
        XADD key:3 + f v
        XADD key:3 abc f v
        XADD key:3 1-2-3 f v
        XADD key:3 "9--05" f v
        XADD key:3 " 10-+1" f v
        XRANGE key:3 - +
        XADD key:4 * f
        XADD key:4 1-1 f
        XADD key:4 1-1
        XADD key:4 1-1 f v g
        EXISTS key:4
        XADD key:4 NOMKSTREAM 1-1 f v
        EXISTS key:4
        XADD key:4 nomkstream 1-1 f v
        XADD key:4 NOMKSTREAM 1-1 f v
        XADD key:4 1-2 "" ""
        XADD key:4 1-3 12 -5 "x y" "\x00\xff"
        XRANGE key:4 - +
        XADD key:4
        XADD key:4 1-9
        "#,
    ),
    (
        "wrongtype_and_encoding",
        r#"
        SET key:5 str
        XADD key:5 1-1 f v
        XLEN key:5
        XRANGE key:5 - +
        XREVRANGE key:5 + -
        XDEL key:5 1-1
        XTRIM key:5 MAXLEN 1
        XREAD STREAMS key:5 0
        XGROUP CREATE key:5 g 0
        XREADGROUP GROUP g c STREAMS key:5 >
        XACK key:5 g 1-1
        XPENDING key:5 g
        XCLAIM key:5 g c 0 1-1
        XAUTOCLAIM key:5 g c 0 0
        XINFO STREAM key:5
        XINFO GROUPS key:5
        XINFO CONSUMERS key:5 g
        XSETID key:5 1-1
        XADD key:6 1-1 f v
        TYPE key:6
        OBJECT ENCODING key:6
        GET key:6
        LPUSH key:6 a
        "#,
    ),
    (
        "xdel",
        r#"
        XADD key:7 1-1 a 1
        XADD key:7 1-2 b 2
        XADD key:7 1-3 c 3
        XADD key:7 1-4 d 4
        XDEL key:7 1-2
        XDEL key:7 1-2
        XDEL key:7 1-3 1-3 9-9
        XRANGE key:7 - +
        XINFO STREAM key:7
        XDEL key:7 1-1
        XINFO STREAM key:7
        XDEL key:7 1-4
        XLEN key:7
        EXISTS key:7
        XINFO STREAM key:7
        XADD key:7 1-5 e 5
        XINFO STREAM key:7
        XDEL key:7 abc
        XDEL key:7 1-5 abc
        XLEN key:7
        XDEL nosuch 1-1
        XDEL nosuch abc
        XDEL key:7 - +
        XDEL key:7 1
        XDEL key:7
        "#,
    ),
    (
        "xtrim_exact",
        r#"
        XADD key:8 1-1 f v
        XADD key:8 2-1 f v
        XADD key:8 3-1 f v
        XADD key:8 4-1 f v
        XADD key:8 5-1 f v
        XTRIM key:8 MAXLEN 10
        XTRIM key:8 MAXLEN 4
        XRANGE key:8 - +
        XTRIM key:8 MAXLEN = 3
        XTRIM key:8 MINID 4
        XRANGE key:8 - +
        XTRIM key:8 MINID = 4-1
        XTRIM key:8 MAXLEN 0
        XLEN key:8
        EXISTS key:8
        XINFO STREAM key:8
        XTRIM nosuch MAXLEN 0
        XTRIM key:8 MAXLEN -1
        XTRIM key:8 MAXLEN x
        XTRIM key:8 MAXLEN ~
        XTRIM key:8 MAXLEN
        XTRIM key:8 MINID x
        XTRIM key:8 MINID -
        XTRIM key:8 MINID +
        XTRIM key:8 MAXLEN 1 MINID 1
        XTRIM key:8 MINID 1 MAXLEN 1
        XTRIM key:8 MAXLEN 1 LIMIT 10
        XTRIM key:8 MAXLEN = 1 LIMIT 10
        XTRIM key:8 MAXLEN ~ 1 LIMIT -1
        XTRIM key:8 MAXLEN ~ 1 LIMIT x
        XTRIM key:8 LIMIT 10
        XTRIM key:8 LIMIT 0
        XTRIM key:8 NOMKSTREAM MAXLEN 1
        XTRIM key:8 MAXLEN 1 extra
        XTRIM key:8 foo
        XTRIM key:8 MAXLEN ~ 0 LIMIT 0
        XTRIM nosuch foo
        XADD key:9 1-1 f v
        XADD key:9 2-1 f v
        XADD key:9 3-1 f v
        XDEL key:9 2-1
        XTRIM key:9 MINID 3
        XINFO STREAM key:9
        XADD key:9 MAXLEN 1 4-1 f v
        XRANGE key:9 - +
        XADD key:9 MAXLEN 5 MINID 1 5-1 f v
        XADD key:9 MINID 5 5-1 f v
        XRANGE key:9 - +
        XADD key:9 MAXLEN ~ 0 LIMIT 5 6-1 f v
        XADD key:9 LIMIT 5 6-1 f v
        XADD key:9 LIMIT 0 6-1 f v
        XADD key:9 MAXLEN = 0 6-1 f v
        XLEN key:9
        XINFO STREAM key:9
        XADD key:9 NOMKSTREAM MAXLEN 0 7-1 f v
        XADD key:10 MAXLEN 0 1-1 f v
        EXISTS key:10
        XLEN key:10
        "#,
    ),
];

const EDGES: &[(&str, &str)] = &[(
    "edges",
    r#"
        XADD key:11 MAXLEN 9223372036854775808 1-1 f v
        XADD key:11 MAXLEN 9223372036854775807 1-1 f v
        XADD key:11 minid ~ 0 limit 0 2-1 f v
        XADD key:11 maxlen = 0 nomkstream 3-1 f v
        XADD key:11 MINID (5 4-1 f v
        XTRIM key:11 MINID (5
        XTRIM key:11 MINID ~ 5 LIMIT 9223372036854775808
        XADD key:11 4-1 f v 5-1 g
        XADD key:11 5-1 f v
        XADD key:11 6-1 f v
        XADD key:11 7-1 f v
        XREVRANGE key:11 (+ -
        XREVRANGE key:11 (7-1 (5-1
        XREVRANGE key:11 + - COUNT 9223372036854775807
        XRANGE key:11 - + COUNT 9223372036854775808
        XDEL key:11 5-1 5-1 6-1
        XGROUP CREATE key:11 g 0 entriesread 1
        XGROUP create key:12 g $ mkstream
        XREADGROUP GROUP g c COUNT 0 STREAMS key:11 >
        XREADGROUP GROUP g c COUNT -5 STREAMS key:11 0
        XACK key:11 g 7-1 7-1 4-1
        XCLAIM key:11 g c2 0 - 7-1
        XCLAIM key:11 g c2 0 7-1 -
        XCLAIM key:11 g c2 0 7-1 FORCE LASTID 0-1 RETRYCOUNT 9223372036854775807 JUSTID
        XPENDING key:11 g - + -9223372036854775808
        !shape XPENDING key:11 g - + 9223372036854775807
        XPENDING key:11 g IDLE 9223372036854775807 - + 1
        !shape XINFO STREAM key:11 FULL COUNT 9223372036854775807
        XGROUP SETID key:11 g 1-1 ENTRIESREAD 0
        XINFO GROUPS key:11
        XREAD COUNT 9223372036854775807 STREAMS key:11 key:12 0 0
        XREAD COUNT 9223372036854775808 STREAMS key:11 0
        XREAD BLOCK 9223372036854775808 STREAMS key:11 0
        XLEN key:12
        XINFO STREAM key:12
        XSETID key:12 0-0
        XSETID key:12 5-5 ENTRIESADDED 0 MAXDELETEDID 5-5
        XINFO STREAM key:12
        "#,
)];

const READ: &[(&str, &str)] = &[
    (
        "xread",
        r#"
        !cross key:1 key:2
        XADD key:1 1-1 a 1
        XADD key:1 2-1 b 2
        XADD key:2 1-5 c 3
        XREAD STREAMS key:1 0
        XREAD STREAMS key:1 key:2 0 0
        XREAD STREAMS key:1 key:2 1-1 1-4
        XREAD COUNT 1 STREAMS key:1 key:2 0-0 0-0
        XREAD COUNT 0 STREAMS key:1 0
        XREAD COUNT -3 STREAMS key:1 0
        XREAD STREAMS key:1 key:2 $ $
        XREAD STREAMS key:1 2-1
        XREAD STREAMS nosuch 0
        XREAD STREAMS nosuch key:2 $ 0
        XREAD STREAMS key:1 nosuch key:2 0 0 0
        XREAD STREAMS key:2 key:2 0 1-4
        XREAD STREAMS key:1 1
        XREAD STREAMS key:1 (1
        XREAD STREAMS key:1 -
        XREAD STREAMS key:1 +
        XREAD STREAMS key:1 >
        XREAD STREAMS key:1 key:2 0
        XREAD STREAMS key:1
        XREAD COUNT x STREAMS key:1 0
        XREAD COUNT STREAMS key:1 0
        XREAD BLOCK x STREAMS key:1 0
        XREAD BLOCK -1 STREAMS key:1 0
        XREAD BLOCK 0 STREAMS key:1 0
        XREAD BLOCK 10 COUNT 1 STREAMS key:1 0
        XREAD GROUP g c STREAMS key:1 0
        XREAD NOACK STREAMS key:1 0
        XREAD FOO STREAMS key:1 0
        XREAD COUNT 1 key:1 0
        XREAD streams key:1 0
        XREAD STREAMS streams 0
        XREAD STREAMS key:1 key:1 0 1-1
        XDEL key:1 2-1
        XREAD STREAMS key:1 1-1
        XADD key:3 1-1 f v
        XDEL key:3 1-1
        XREAD STREAMS key:3 0
        SET key:4 x
        XREAD STREAMS key:1 key:4 0 0
        XREAD STREAMS key:4 key:1 0 abc
        XREAD STREAMS key:1 key:4 abc 0
        "#,
    ),
    (
        "multi_and_block",
        r#"
        XADD key:1 1-1 a 1
        MULTI
        XREAD BLOCK 0 STREAMS key:1 $
        XREAD BLOCK 100 STREAMS key:1 0
        XREAD BLOCK 0 STREAMS nosuch 0
        EXEC
        XGROUP CREATE key:1 g $
        XADD key:2 1-1 b 2
        XGROUP CREATE key:2 g 0
        MULTI
        XREADGROUP GROUP g c BLOCK 0 STREAMS key:1 >
        XREADGROUP GROUP g c BLOCK 0 STREAMS key:1 key:2 > >
        XREADGROUP GROUP g c BLOCK 10 STREAMS key:1 0
        XREADGROUP GROUP g c BLOCK 0 NOACK STREAMS key:2 >
        XREAD BLOCK 0 STREAMS key:1 key:2 $ $
        EXEC
        XPENDING key:2 g
        XINFO GROUPS key:1
        XREADGROUP GROUP g c BLOCK 0 STREAMS key:2 0
        "#,
    ),
    (
        "resp3",
        r#"
        HELLO 3
        XADD key:1 1-1 a 1
        XADD key:2 1-1 b 2
        XREAD STREAMS key:1 key:2 0 0
        XREAD STREAMS key:1 $
        XRANGE key:1 - + COUNT 0
        XADD key:3 NOMKSTREAM 1-1 f v
        XGROUP CREATE key:1 g 0
        XREADGROUP GROUP g c STREAMS key:1 >
        XREADGROUP GROUP g c STREAMS key:1 >
        XREADGROUP GROUP g c STREAMS key:1 0
        XDEL key:1 1-1
        XREADGROUP GROUP g c STREAMS key:1 0
        XPENDING key:1 g
        XGROUP CREATE key:2 g2 $
        XPENDING key:2 g2
        XINFO STREAM key:1
        XINFO STREAM key:2
        XINFO GROUPS key:1
        XGROUP CREATE key:5 g $ MKSTREAM
        XINFO STREAM key:5
        XINFO STREAM key:5 FULL
        XINFO GROUPS key:5
        XAUTOCLAIM key:1 g c 0 0
        "#,
    ),
];

const RESP3_GROUPS: &[(&str, &str)] = &[(
    "resp3_groups",
    r#"
        !cross key:1 key:2
        HELLO 3
        XADD key:1 1-1 a 1
        XADD key:1 2-1 b 2
        XADD key:1 3-1 c 3
        XADD key:2 1-1 d 4
        XGROUP CREATE key:1 g 0
        XGROUP CREATE key:2 g $
        XREADGROUP GROUP g c COUNT 2 STREAMS key:1 key:2 > >
        XDEL key:1 2-1
        XINFO GROUPS key:1
        XINFO GROUPS key:2
        XREADGROUP GROUP g c STREAMS key:1 key:2 0 0
        XREADGROUP GROUP g c STREAMS key:2 >
        XCLAIM key:1 g c2 0 1-1 2-1 JUSTID
        XPENDING key:1 g
        XPENDING key:2 g
        XAUTOCLAIM key:1 g c3 0 0 JUSTID
        !shape XINFO STREAM key:1 FULL
        !shape XPENDING key:1 g - + 10
        !shape XPENDING key:1 g IDLE 0 - + 10 c3
        !shape XINFO CONSUMERS key:1 g
        XGROUP DELCONSUMER key:1 g c2
        XGROUP CREATECONSUMER key:1 g c4
        XINFO STREAM key:1
        XREAD COUNT 1 STREAMS key:1 key:2 0 0
        XREAD STREAMS key:1 key:2 $ $
        XREADGROUP GROUP g c STREAMS key:1 nosuch > >
        XSETID key:1 3-1 ENTRIESADDED 3 MAXDELETEDID 2-1
        XINFO STREAM key:1
        XTRIM key:1 MAXLEN 0
        XINFO STREAM key:1
        XINFO GROUPS key:1
        !help XINFO HELP
        !help XGROUP HELP
        "#,
)];

const GROUPS: &[(&str, &str)] = &[
    (
        "xgroup",
        r#"
        XGROUP CREATE key:1 g $
        XGROUP CREATE key:1 g $ MKSTREAM
        XGROUP CREATE key:1 g $
        XGROUP CREATE key:1 g2 0 MKSTREAM
        XGROUP CREATE key:1 g3 0 ENTRIESREAD 5
        XGROUP CREATE key:1 g4 0 ENTRIESREAD -1
        XGROUP CREATE key:1 g5 0 ENTRIESREAD -2
        XGROUP CREATE key:1 g5 0 ENTRIESREAD x
        XGROUP CREATE key:1 g5 0 ENTRIESREAD
        XGROUP CREATE key:1 g5 0 FOO
        XGROUP CREATE key:1 g5 0 MKSTREAM ENTRIESREAD 1 MKSTREAM
        XGROUP CREATE key:1 g5 0 MKSTREAM MKSTREAM MKSTREAM MKSTREAM
        XGROUP CREATE key:1 g5 -
        XGROUP CREATE key:1 g5 +
        XGROUP CREATE key:1 g5 abc
        XGROUP CREATE key:1 g5 5
        XGROUP CREATE key:1 g6 18446744073709551615-18446744073709551615
        XINFO GROUPS key:1
        XGROUP CREATE nosuch g 0
        XGROUP CREATE nosuch g abc MKSTREAM
        EXISTS nosuch
        XGROUP SETID key:1 g 5-5
        XGROUP SETID key:1 g -
        XGROUP SETID key:1 g +
        XGROUP SETID key:1 g $
        XGROUP SETID key:1 g 7 ENTRIESREAD 3
        XGROUP SETID key:1 g 7 ENTRIESREAD -2
        XGROUP SETID key:1 g 7 MKSTREAM
        XGROUP SETID key:1 g 7 ENTRIESREAD 1 extra
        XGROUP SETID key:1 nosuch 0
        XGROUP SETID nosuch g 0
        XGROUP SETID key:1 g abc
        XINFO GROUPS key:1
        XGROUP CREATECONSUMER key:1 g c1
        XGROUP CREATECONSUMER key:1 g c1
        XGROUP CREATECONSUMER key:1 g c2
        XGROUP CREATECONSUMER key:1 nosuch c1
        XGROUP CREATECONSUMER nosuch g c1
        XINFO GROUPS key:1
        XGROUP DELCONSUMER key:1 g c1
        XGROUP DELCONSUMER key:1 g c1
        XGROUP DELCONSUMER key:1 nosuch c1
        XGROUP DESTROY key:1 g2
        XGROUP DESTROY key:1 g2
        XGROUP DESTROY nosuch g2
        XINFO GROUPS key:1
        XGROUP
        XGROUP FOO
        XGROUP FOO key:1 g
        XGROUP CREATE key:1
        XGROUP CREATE key:1 g
        XGROUP DESTROY key:1
        XGROUP DESTROY key:1 g x
        XGROUP CREATECONSUMER key:1 g
        XGROUP DELCONSUMER key:1 g c x
        XGROUP SETID key:1 g
        !help XGROUP HELP
        XGROUP HELP x
        xgroup create key:1 G7 0
        XINFO GROUPS key:1
        "#,
    ),
    (
        "xreadgroup",
        r#"
        !cross key:1 key:2
        XADD key:1 1-1 a 1
        XADD key:1 2-1 b 2
        XADD key:1 3-1 c 3
        XADD key:2 1-1 d 4
        XGROUP CREATE key:1 g 0
        XGROUP CREATE key:2 g 0
        XREADGROUP GROUP g alice COUNT 1 STREAMS key:1 >
        XREADGROUP GROUP g bob STREAMS key:1 key:2 > >
        XREADGROUP GROUP g bob STREAMS key:1 key:2 > >
        XINFO GROUPS key:1
        XINFO GROUPS key:2
        XPENDING key:1 g
        XPENDING key:2 g
        XREADGROUP GROUP g alice STREAMS key:1 0
        XREADGROUP GROUP g bob STREAMS key:1 0
        XREADGROUP GROUP g bob COUNT 1 STREAMS key:1 0
        XREADGROUP GROUP g bob STREAMS key:1 2-1
        XREADGROUP GROUP g carol STREAMS key:1 0
        XREADGROUP GROUP g dave STREAMS key:1 >
        XINFO GROUPS key:1
        !shape XINFO CONSUMERS key:1 g
        XDEL key:1 2-1
        XREADGROUP GROUP g bob STREAMS key:1 0
        XADD key:1 4-1 e 5
        XADD key:1 5-1 f 6
        XREADGROUP GROUP g alice NOACK STREAMS key:1 >
        XPENDING key:1 g
        XINFO GROUPS key:1
        XGROUP SETID key:1 g 0
        XREADGROUP GROUP g erin STREAMS key:1 >
        XPENDING key:1 g
        XGROUP SETID key:1 g 0 ENTRIESREAD 0
        XINFO GROUPS key:1
        XREADGROUP GROUP g erin COUNT 1 STREAMS key:1 >
        XINFO GROUPS key:1
        XREADGROUP GROUP nosuch c STREAMS key:1 >
        XREADGROUP GROUP g c STREAMS nosuch >
        XREADGROUP GROUP g c STREAMS key:1 $
        XREADGROUP GROUP g c STREAMS key:1 abc
        XREADGROUP STREAMS key:1 > x y
        XREADGROUP GROUP g STREAMS key:1 >
        XREADGROUP GROUP g c STREAMS key:1
        XREADGROUP GROUP g c STREAMS key:1 key:2 >
        XREADGROUP GROUP g c FOO STREAMS key:1 >
        XREADGROUP GROUP g c BLOCK x STREAMS key:1 >
        XREADGROUP GROUP g c COUNT x STREAMS key:1 >
        XREADGROUP GROUP g c NOACK NOACK STREAMS key:1 0
        XREADGROUP GROUP g c COUNT 1 GROUP g2 c2 STREAMS key:1 >
        XREADGROUP GROUP g c BLOCK 10 STREAMS key:1 0
        XREADGROUP GROUP g c BLOCK 0 STREAMS key:1 key:2 999 999
        SET key:3 x
        XREADGROUP GROUP g c STREAMS key:3 >
        XREADGROUP GROUP g c STREAMS key:1 key:3 > >
        "#,
    ),
    (
        "xack_xpending",
        r#"
        XADD key:3 1-1 a 1
        XADD key:3 2-1 b 2
        XADD key:3 3-1 c 3
        XADD key:3 4-1 d 4
        XGROUP CREATE key:3 g 0
        XREADGROUP GROUP g c1 COUNT 2 STREAMS key:3 >
        XREADGROUP GROUP g c2 STREAMS key:3 >
        XPENDING key:3 g
        !shape XPENDING key:3 g - + 10
        !shape XPENDING key:3 g - + 10 c1
        XPENDING key:3 g - + 10 nosuch
        !shape XPENDING key:3 g - + 2
        !shape XPENDING key:3 g (1-1 + 10
        !shape XPENDING key:3 g - (4-1 10
        XPENDING key:3 g 5 + 10
        XPENDING key:3 g + - 10
        XPENDING key:3 g - + 0
        XPENDING key:3 g - + -1
        XPENDING key:3 g IDLE 100000 - + 10
        !shape XPENDING key:3 g IDLE 0 - + 10
        !shape XPENDING key:3 g IDLE -5 - + 10 c2
        XPENDING key:3 g IDLE 100000 - + 10 c2
        !shape XPENDING key:3 g - + 10 c1 extra
        XPENDING key:3 g IDLE x - + 10
        XPENDING key:3 g IDLE 10 - +
        XPENDING key:3 g - + x
        XPENDING key:3 g x + 10
        XPENDING key:3 g - x 10
        XPENDING key:3 g (- + 10
        XPENDING key:3 g - (0 10
        XPENDING key:3 g - +
        XPENDING key:3 g -
        XPENDING key:3 g - + 1 c a b c
        XPENDING key:3 nosuch
        XPENDING nosuch g
        XPENDING nosuch g x y z
        XACK key:3 g 1-1
        XACK key:3 g 1-1
        XACK key:3 g 2-1 3-1 9-9
        XPENDING key:3 g
        XACK key:3 g abc
        XACK key:3 g 4-1 abc
        XPENDING key:3 g
        XACK key:3 nosuch abc
        XACK nosuch g abc
        XACK key:3 g 4-1 4-1
        XPENDING key:3 g
        XACK key:3 g
        XINFO GROUPS key:3
        "#,
    ),
    (
        "xclaim",
        r#"
        XADD key:4 1-1 a 1
        XADD key:4 2-1 b 2
        XADD key:4 3-1 c 3
        XADD key:4 4-1 d 4
        XGROUP CREATE key:4 g 0
        XREADGROUP GROUP g c1 STREAMS key:4 >
        XCLAIM key:4 g c2 100000 1-1
        XCLAIM key:4 g c2 0 1-1
        XCLAIM key:4 g c2 0 2-1 JUSTID
        XCLAIM key:4 g c2 0 3-1 RETRYCOUNT 7
        !shape XPENDING key:4 g - + 10
        XPENDING key:4 g
        XCLAIM key:4 g c3 0 9-9
        XCLAIM key:4 g c3 0 9-9 FORCE
        XDEL key:4 4-1
        XCLAIM key:4 g c3 0 4-1
        XPENDING key:4 g
        XADD key:4 5-1 e 5
        XCLAIM key:4 g c3 0 5-1
        XCLAIM key:4 g c3 0 5-1 FORCE
        XCLAIM key:4 g c4 0 5-1 FORCE JUSTID
        XCLAIM key:4 g c4 0 5-1 FORCE RETRYCOUNT -4
        XINFO GROUPS key:4
        XCLAIM key:4 g c4 0 1-1 IDLE 5000
        !shape XPENDING key:4 g - + 10
        !shape XPENDING key:4 g IDLE 4000 - + 10
        XCLAIM key:4 g c4 0 1-1 TIME 1000 RETRYCOUNT 2
        XCLAIM key:4 g c4 0 1-1 TIME -1
        XCLAIM key:4 g c4 0 1-1 IDLE -100000 JUSTID
        XCLAIM key:4 g c5 0 1-1 1-1 JUSTID
        XPENDING key:4 g
        XCLAIM key:4 g c5 0 FORCE
        XCLAIM key:4 g c5 0 1-1 LASTID 99-9
        XINFO GROUPS key:4
        XCLAIM key:4 g c5 0 LASTID 100-0
        XINFO GROUPS key:4
        XCLAIM key:4 g c5 0 1-1 LASTID abc
        XCLAIM key:4 g c5 0 1-1 IDLE
        XCLAIM key:4 g c5 0 1-1 IDLE x
        XCLAIM key:4 g c5 0 1-1 TIME x
        XCLAIM key:4 g c5 0 1-1 RETRYCOUNT x
        XCLAIM key:4 g c5 0 1-1 FOO
        XCLAIM key:4 g c5 0 1-1 abc 2-1
        XCLAIM key:4 g c5 x 1-1
        XCLAIM key:4 g c5 -5 1-1 JUSTID
        XCLAIM key:4 nosuch c5 x 1-1
        XCLAIM nosuch g c5 x 1-1
        XCLAIM key:4 g c5 0
        !shape XINFO CONSUMERS key:4 g
        XPENDING key:4 g
        "#,
    ),
    (
        "xautoclaim",
        r#"
        XADD key:5 1-1 a 1
        XADD key:5 2-1 b 2
        XADD key:5 3-1 c 3
        XADD key:5 4-1 d 4
        XADD key:5 5-1 e 5
        XGROUP CREATE key:5 g 0
        XREADGROUP GROUP g c1 STREAMS key:5 >
        XAUTOCLAIM key:5 g c2 100000 0
        XAUTOCLAIM key:5 g c2 0 0 COUNT 2
        XAUTOCLAIM key:5 g c2 0 3-1 COUNT 1 JUSTID
        XDEL key:5 4-1
        XAUTOCLAIM key:5 g c3 0 (3-1
        XPENDING key:5 g
        XAUTOCLAIM key:5 g c3 0 - JUSTID
        XDEL key:5 1-1 2-1
        XAUTOCLAIM key:5 g c3 0 - COUNT 1
        XAUTOCLAIM key:5 g c3 0 + COUNT 1
        XPENDING key:5 g
        XAUTOCLAIM key:5 g c3 0 0 COUNT 0
        XAUTOCLAIM key:5 g c3 0 0 COUNT -1
        XAUTOCLAIM key:5 g c3 0 0 COUNT x
        XAUTOCLAIM key:5 g c3 0 0 COUNT 576460752303423488
        XAUTOCLAIM key:5 g c3 0 0 COUNT 576460752303423487
        XAUTOCLAIM key:5 g c3 0 0 COUNT
        XAUTOCLAIM key:5 g c3 0 0 FOO
        XAUTOCLAIM key:5 g c3 x 0
        XAUTOCLAIM key:5 g c3 0 x
        XAUTOCLAIM key:5 g c3 0 (-
        XAUTOCLAIM key:5 g c3 0 (18446744073709551615-18446744073709551615
        XAUTOCLAIM key:5 nosuch c3 0 0
        XAUTOCLAIM nosuch g c3 0 0
        XAUTOCLAIM nosuch g c3 x 0
        XAUTOCLAIM key:5 g c3 -10 0 JUSTID JUSTID
        XAUTOCLAIM key:5 g c4 100000 0
        !shape XINFO CONSUMERS key:5 g
        XINFO GROUPS key:5
        "#,
    ),
    (
        "xautoclaim_attempts",
        r#"
        XADD key:6 1-1 a 1
        XADD key:6 2-1 b 2
        XADD key:6 3-1 c 3
        XADD key:6 4-1 d 4
        XADD key:6 5-1 e 5
        XADD key:6 6-1 f 6
        XGROUP CREATE key:6 g 0
        XREADGROUP GROUP g c1 STREAMS key:6 >
        XAUTOCLAIM key:6 g c2 100000 0 COUNT 1
        XDEL key:6 1-1 2-1 3-1 4-1 5-1 6-1
        XAUTOCLAIM key:6 g c2 0 0 COUNT 4
        XAUTOCLAIM key:6 g c2 0 0 COUNT 4
        XPENDING key:6 g
        "#,
    ),
    (
        "lag_and_counters",
        r#"
        XADD key:7 1-1 a 1
        XADD key:7 2-1 b 2
        XADD key:7 3-1 c 3
        XGROUP CREATE key:7 g1 0
        XGROUP CREATE key:7 g2 $
        XGROUP CREATE key:7 g3 2-1
        XGROUP CREATE key:7 g4 0 ENTRIESREAD 100
        XINFO GROUPS key:7
        XREADGROUP GROUP g1 c COUNT 1 STREAMS key:7 >
        XREADGROUP GROUP g3 c STREAMS key:7 >
        XINFO GROUPS key:7
        XDEL key:7 2-1
        XINFO GROUPS key:7
        XREADGROUP GROUP g1 c STREAMS key:7 >
        XINFO GROUPS key:7
        XADD key:7 4-1 d 4
        XINFO GROUPS key:7
        XTRIM key:7 MAXLEN 1
        XINFO GROUPS key:7
        XINFO STREAM key:7
        XSETID key:7 10-0
        XINFO GROUPS key:7
        XINFO STREAM key:7
        XADD key:7 11-0 e 5
        XINFO GROUPS key:7
        XDEL key:7 4-1 11-0
        XINFO GROUPS key:7
        XINFO STREAM key:7
        "#,
    ),
];

const INFO_AND_SETID: &[(&str, &str)] = &[
    (
        "xinfo_full_exact",
        r#"
        XADD key:5 1-1 a 1
        XADD key:5 2-2 b 2 c 3
        XADD key:5 3-3 b 4 c 5
        XINFO STREAM key:5 FULL
        XINFO STREAM key:5 FULL COUNT 2
        XGROUP CREATE key:5 g1 1-1
        XGROUP CREATE key:5 g0 0 ENTRIESREAD 1
        XINFO STREAM key:5 FULL
        XDEL key:5 2-2
        XINFO STREAM key:5 FULL COUNT 1
        XINFO STREAM key:5
        "#,
    ),
    (
        "introspection",
        r#"
        !noprose COMMAND INFO XADD XRANGE XREVRANGE XLEN XDEL XTRIM XACK XPENDING XCLAIM XAUTOCLAIM XSETID
        !noprose COMMAND INFO xgroup|create xgroup|setid xgroup|destroy xgroup|createconsumer xgroup|delconsumer xgroup|help
        !noprose COMMAND INFO xinfo|stream xinfo|groups xinfo|consumers xinfo|help
        COMMAND GETKEYS XREAD STREAMS a b 0 0
        COMMAND GETKEYS XREAD COUNT 1 BLOCK 0 STREAMS streams b 0 0
        COMMAND GETKEYS XREADGROUP GROUP streams c NOACK STREAMS a 0
        COMMAND GETKEYS XREAD STREAMS a b 0
        COMMAND GETKEYS XREAD FOO STREAMS a 0
        COMMAND GETKEYS XREAD COUNT streams STREAMS a 0
        COMMAND GETKEYS XREADGROUP GROUP g c STREAMS a b 0
        COMMAND GETKEYS XREAD STREAMS a b c 0 0 0 0
        COMMAND GETKEYS XREAD STREAMS a b 0 STREAMS
        COMMAND GETKEYS XADD k * f v
        COMMAND GETKEYS XGROUP CREATE k g $
        COMMAND GETKEYS XINFO STREAM k
        "#,
    ),
    (
        "keyspace_stats_and_watch",
        r#"
        CONFIG RESETSTAT
        XADD key:6 1-1 f v
        XREAD STREAMS key:6 nosuch 0 0
        XRANGE key:6 - +
        XLEN nosuch
        XDEL key:6 9-9
        XGROUP CREATE key:6 g 0
        XREADGROUP GROUP g c STREAMS key:6 >
        XACK key:6 g 1-1
        XPENDING key:6 g
        XINFO STREAM key:6
        !info stats keyspace_hits keyspace_misses
        WATCH key:6
        XDEL key:6 9-9
        XTRIM key:6 MAXLEN 5
        MULTI
        XLEN key:6
        EXEC
        WATCH key:6
        XADD key:6 2-2 f v
        MULTI
        XLEN key:6
        EXEC
        WATCH key:6
        XTRIM key:6 MAXLEN 1
        MULTI
        XLEN key:6
        EXEC
        WATCH key:6
        XDEL key:6 2-2
        MULTI
        XLEN key:6
        EXEC
        XADD key:6 3-3 f v
        WATCH key:6
        XREADGROUP GROUP g c2 STREAMS key:6 >
        XGROUP SETID key:6 g 0
        XREADGROUP GROUP g c2 STREAMS key:6 >
        XACK key:6 g 3-3
        XCLAIM key:6 g c3 0 3-3 FORCE JUSTID
        XAUTOCLAIM key:6 g c4 0 0 JUSTID
        XGROUP CREATECONSUMER key:6 g c5
        XGROUP DELCONSUMER key:6 g c5
        XGROUP CREATE key:6 g2 0
        XGROUP DESTROY key:6 g2
        XSETID key:6 99-0
        XTRIM key:6 MAXLEN 5
        MULTI
        XLEN key:6
        EXEC
        "#,
    ),
    (
        "xinfo",
        r#"
        XINFO STREAM nosuch
        XINFO GROUPS nosuch
        XINFO CONSUMERS nosuch g
        XADD key:1 1-1 a 1 b 2
        XADD key:1 2-1 a 3 b 4
        XADD key:1 3-1 c 5
        XINFO STREAM key:1
        XINFO GROUPS key:1
        XINFO CONSUMERS key:1 g
        XGROUP CREATE key:1 g 0
        XGROUP CREATE key:1 a 0
        XINFO STREAM key:1
        XINFO GROUPS key:1
        XINFO CONSUMERS key:1 g
        XREADGROUP GROUP g c1 COUNT 2 STREAMS key:1 >
        XREADGROUP GROUP g c0 STREAMS key:1 >
        !shape XINFO CONSUMERS key:1 g
        !shape XINFO STREAM key:1 FULL
        !shape XINFO STREAM key:1 FULL COUNT 1
        !shape XINFO STREAM key:1 FULL COUNT 0
        !shape XINFO STREAM key:1 FULL COUNT -1
        XINFO STREAM key:1 FULL COUNT x
        XINFO STREAM key:1 FULL COUNT
        XINFO STREAM key:1 FULL FOO 1
        XINFO STREAM key:1 FOO
        XINFO STREAM key:1 full count 1 x
        XINFO STREAM nosuch FOO
        XINFO GROUPS key:1 x
        XINFO CONSUMERS key:1
        XINFO CONSUMERS key:1 nosuch
        XINFO FOO key:1
        XINFO
        XINFO STREAM
        !help XINFO HELP
        XINFO HELP x
        XGROUP CREATE key:2 g $ MKSTREAM
        XINFO STREAM key:2
        XINFO STREAM key:2 FULL
        "#,
    ),
    (
        "xsetid",
        r#"
        XSETID nosuch 1-1
        XADD key:3 5-5 f v
        XSETID key:3 5-4
        XSETID key:3 5-5
        XSETID key:3 6
        XINFO STREAM key:3
        XADD key:3 6-0 f v
        XADD key:3 6-* f v
        XSETID key:3 10-0 ENTRIESADDED 1
        XSETID key:3 10-0 ENTRIESADDED 2
        XSETID key:3 10-0 ENTRIESADDED -1
        XSETID key:3 10-0 ENTRIESADDED x
        XSETID key:3 10-0 MAXDELETEDID 11-0
        XSETID key:3 10-0 MAXDELETEDID 3-3
        XSETID key:3 10-0 MAXDELETEDID 0-0 ENTRIESADDED 40
        XINFO STREAM key:3
        XSETID key:3 10-0 MAXDELETEDID x
        XSETID key:3 10-0 FOO
        XSETID key:3 10-0 ENTRIESADDED
        XSETID key:3 +
        XSETID key:3 abc
        XSETID key:3 -
        XDEL key:3 5-5 6-0 6-1
        XSETID key:3 1-1
        XINFO STREAM key:3
        XADD key:3 2-2 f v
        XADD key:3 1-2 f v
        XSETID key:3 18446744073709551615-18446744073709551615
        XADD key:3 * f v
        XADD key:3 18446744073709551615-* f v
        XADD key:3 NOMKSTREAM * f v
        XSETID key:3
        SET key:4 x
        XSETID key:4 1-1
        XSETID key:4 abc
        "#,
    ),
];

/// A script whose text is built at run time.
fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// Streams long enough to span several nodes, so that approximate
/// trimming (which only drops whole nodes) and XINFO's node counts show
/// where Redis splits them: every 100 entries, or when a node's listpack
/// would reach 4096 bytes.
fn big_streams() -> Vec<(&'static str, &'static str)> {
    let mut scripts = Vec::new();

    let mut s = String::new();
    for i in 1..=350 {
        s.push_str(&format!("XADD key:1 {i}-{} f {i}\n", i % 7));
    }
    s.push_str(
        "XINFO STREAM key:1\n\
         XTRIM key:1 MAXLEN ~ 300\n\
         XTRIM key:1 MAXLEN ~ 240\n\
         XINFO STREAM key:1\n\
         XTRIM key:1 MAXLEN ~ 10 LIMIT 150\n\
         XTRIM key:1 MAXLEN ~ 10 LIMIT 99\n\
         XTRIM key:1 MAXLEN ~ 10 LIMIT 100\n\
         XINFO STREAM key:1\n\
         XTRIM key:1 MINID ~ 320\n\
         XTRIM key:1 MINID ~ 260-5\n\
         XINFO STREAM key:1\n\
         XTRIM key:1 MAXLEN 75\n\
         XINFO STREAM key:1\n\
         XRANGE key:1 - + COUNT 3\n\
         XADD key:1 MAXLEN ~ 20 400-0 f v\n\
         XINFO STREAM key:1\n\
         XADD key:1 MINID ~ 0 401-0 f v\n\
         XADD key:1 MAXLEN ~ 2 LIMIT 0 402-0 f v\n\
         XINFO STREAM key:1\n\
         XRANGE key:1 - +\n",
    );
    scripts.push(("approximate_trim", leak(s)));

    // Large values fill nodes by bytes before they reach 100 entries.
    let mut s = String::new();
    for i in 1..=60 {
        let v = "x".repeat((i * 37) % 300);
        s.push_str(&format!("XADD key:2 {i}-0 field{} \"{v}\" n {}\n", i % 3, i * 1000));
    }
    for i in 61..=80 {
        s.push_str(&format!("XADD key:2 {i}-0 field{} 12345 n -{}\n", i % 3, i * 99_999));
    }
    s.push_str(&format!("XADD key:2 81-0 big {}\n", "y".repeat(5000)));
    s.push_str("XADD key:2 82-0 f v\n");
    s.push_str(
        "XINFO STREAM key:2\n\
         XTRIM key:2 MAXLEN ~ 70\n\
         XINFO STREAM key:2\n\
         XDEL key:2 40-0 41-0 42-0\n\
         XINFO STREAM key:2\n\
         XTRIM key:2 MINID ~ 60\n\
         XINFO STREAM key:2\n\
         XREVRANGE key:2 + - COUNT 5\n\
         XRANGE key:2 55 65\n",
    );
    scripts.push(("byte_limits", leak(s)));

    // Deleting every entry of a node drops the node; the radix tree shrinks.
    let mut s = String::new();
    for i in 1..=250 {
        s.push_str(&format!("XADD key:3 {}-{} a b\n", i * 1000, i));
    }
    s.push_str("XINFO STREAM key:3\n");
    let ids: Vec<String> = (101..=200).map(|i| format!("{}-{}", i * 1000, i)).collect();
    s.push_str(&format!("XDEL key:3 {}\n", ids.join(" ")));
    s.push_str(
        "XINFO STREAM key:3\n\
         XRANGE key:3 99000 202000\n\
         XREVRANGE key:3 202000 99000\n\
         XTRIM key:3 MINID ~ 201000\n\
         XINFO STREAM key:3\n\
         XGROUP CREATE key:3 g 0\n\
         XREADGROUP GROUP g c COUNT 3 STREAMS key:3 >\n\
         XINFO GROUPS key:3\n",
    );
    scripts.push(("node_deletion", leak(s)));

    // A head node of tombstones only: exact MINID trimming leaves it behind.
    let mut s = String::new();
    for i in 1..=150 {
        s.push_str(&format!("XADD key:4 {i}-0 f v\n"));
    }
    s.push_str(
        "XDEL key:4 100-0\n\
         XTRIM key:4 MINID 100-0\n\
         XINFO STREAM key:4\n\
         XTRIM key:4 MAXLEN 49\n\
         XINFO STREAM key:4\n\
         XTRIM key:4 MAXLEN ~ 49\n\
         XINFO STREAM key:4\n",
    );
    scripts.push(("tombstone_nodes", leak(s)));

    // Random sizes, numbers that a listpack stores as integers (and strings
    // that only look like numbers), ID jumps and negative sequence deltas:
    // the byte count that decides node boundaries must match to the byte.
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut next = move |n: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % n
    };
    let values = [
        "0",
        "127",
        "128",
        "-1",
        "4095",
        "4096",
        "-4096",
        "-4097",
        "32767",
        "32768",
        "8388607",
        "8388608",
        "2147483647",
        "2147483648",
        "-2147483649",
        "9223372036854775807",
        "9223372036854775808",
        "-0",
        "007",
        " 1",
        "1.5",
        "",
    ];
    for round in 0..3 {
        let key = format!("key:{}", 5 + round);
        let mut s = String::new();
        let (mut ms, mut seq) = (1u64, 0u64);
        for i in 0..400 {
            match next(10) {
                0 => ms += 1 << (next(40) + 1),
                1 => {
                    ms += 1;
                    seq = 0;
                }
                _ => seq += 1 + next(3),
            }
            let fields = 1 + next(3);
            let mut line = format!("XADD {key} {ms}-{seq}");
            for f in 0..fields {
                let name = if next(4) == 0 { format!("f{}", next(100)) } else { format!("f{f}") };
                let value = match next(3) {
                    0 => values[next(values.len() as u64) as usize].to_string(),
                    1 => (next(1 << 20) as i64 - (1 << 19)).to_string(),
                    _ => {
                        let max = if next(20) == 0 { 5000 } else { 120 };
                        "v".repeat(next(max) as usize)
                    }
                };
                line.push_str(&format!(" {name} \"{value}\""));
            }
            s.push_str(&line);
            s.push('\n');
            if i % 37 == 36 {
                s.push_str(&format!("XINFO STREAM {key}\n"));
            }
            if i % 53 == 52 {
                s.push_str(&format!("XDEL {key} {ms}-{seq} {ms}-{}\n", seq.saturating_sub(1)));
            }
            if i % 97 == 96 {
                s.push_str(&format!("XTRIM {key} MAXLEN ~ {}\nXINFO STREAM {key}\n", next(300)));
            }
        }
        s.push_str(&format!("XINFO STREAM {key}\nXRANGE {key} - + COUNT 50\nXREVRANGE {key} + - COUNT 50\n"));
        scripts.push(("random_entries", leak(s)));
    }
    scripts
}

#[test]
fn basics() {
    run_group(2, BASICS);
}

#[test]
fn edges() {
    run_group(2, EDGES);
}

#[test]
fn read() {
    run_group(2, READ);
}

#[test]
fn groups() {
    run_group(2, GROUPS);
}

#[test]
fn resp3_groups() {
    run_group(2, RESP3_GROUPS);
}

#[test]
fn info_and_setid() {
    run_group(2, INFO_AND_SETID);
}

#[test]
fn big_streams_and_nodes() {
    run_group(2, &big_streams());
}

#[test]
fn four_cores() {
    run_group(4, READ);
    run_group(4, GROUPS);
    run_group(4, RESP3_GROUPS);
}
