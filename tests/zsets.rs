//! Sorted set and geo commands, Shoal against redis-server: the same scripts
//! run on both (see `support::script` for the format and the directives),
//! with keys spread over the cores, and every reply is compared.
//!
//! A sorted set's order is total (score, then member bytes), so almost every
//! reply is compared exactly, both encodings included. The exceptions are
//! random (ZRANDMEMBER: by shape, or sorted when every member comes back)
//! and ZSCAN of a `skiplist` set, whose order is a hash table's in Redis (by
//! shape, with a COUNT large enough to get everything in one call). Geo
//! scores are compared exactly: they are the stored 52-bit geohashes, and
//! must be the very numbers Redis stores. The encoding limits are set
//! explicitly, so the scripts do not depend on either server's defaults.

mod support;

use support::script::run_group;

const BASICS: &[(&str, &str)] = &[
    (
        "zadd",
        r#"
        ZADD key:1 1 a 2 b 3 c
        ZADD key:1 4 a 5 d
        ZRANGE key:1 0 -1 WITHSCORES
        ZADD key:1 NX 10 a 11 e
        ZADD key:1 XX 20 a 21 f
        ZRANGE key:1 0 -1 WITHSCORES
        ZADD key:1 XX CH 20 a 22 b 3 c
        ZADD key:1 CH NX 1 a 1 g
        ZADD key:1 GT CH 5 a 50 b
        ZADD key:1 LT CH 5 a 100 b
        ZADD key:1 GT 1 newgt
        ZADD key:1 LT 1000 newlt
        ZRANGE key:1 0 -1 WITHSCORES
        ZADD key:1 INCR 5 a
        ZADD key:1 INCR -5 zz
        ZADD key:1 NX INCR 5 a
        ZADD key:1 XX INCR 5 nosuch
        ZADD key:1 GT INCR -1 a
        ZADD key:1 LT INCR -1 a
        ZADD key:1 GT INCR 0 a
        ZADD key:1 INCR 1 a 2 b
        ZADD key:1 NX XX 1 a
        ZADD key:1 GT LT 1 a
        ZADD key:1 GT NX 1 a
        ZADD key:1 LT NX 1 a
        ZADD key:1 NX
        ZADD key:1 1
        ZADD key:1 1 a 2
        ZADD key:1 x a
        ZADD key:1 1 a x b
        ZADD key:1 nan a
        ZADD key:1 " 1" a
        ZADD key:1 "1 " a
        ZADD key:1 "" a
        ZADD key:1 1e400 a
        ZADD key:1 FOO 1 a
        ZADD key:1 ch ch ch nx 1 q
        ZADD key:2 XX 1 a
        EXISTS key:2
        ZADD key:2 XX INCR 1 a
        EXISTS key:2
        ZADD key:2 NX 1 a
        ZADD key:2 NX INCR 1 a
        ZADD key:3 0.1 a 1e300 b -0 c +inf d -inf e 0x10 f 1.5e-5 g 123456789012345678 h 3.0 i -2.5 j 5e-324 k
        ZRANGE key:3 0 -1 WITHSCORES
        ZSCORE key:3 c
        ZSCORE key:3 a
        ZSCORE key:3 h
        ZADD key:3 INCR +inf d
        ZADD key:3 INCR -inf d
        ZADD key:3 INCR inf e
        ZSCORE key:3 d
        ZADD key:4 1 a 1 a 2 a
        ZRANGE key:4 0 -1 WITHSCORES
        ZADD key:4 CH 2 a 2 a
        ZADD key:5 1 "" 2 "\x00\xff" 3 "hello world"
        ZRANGE key:5 0 -1 WITHSCORES
        ZSCORE key:5 ""
        HELLO 3
        ZADD key:1 INCR 0.5 a
        ZADD key:1 NX INCR 0.5 a
        ZSCORE key:3 a
        ZSCORE key:3 d
        ZSCORE key:3 nosuch
        HELLO 2
        "#,
    ),
    (
        "zincrby_zscore_zrem",
        r#"
        ZINCRBY key:6 1 a
        ZINCRBY key:6 2.5 a
        ZINCRBY key:6 -10 a
        ZINCRBY key:6 0.1 b
        ZINCRBY key:6 0.2 b
        ZINCRBY key:6 x a
        ZINCRBY key:6 nan a
        ZINCRBY key:6 inf a
        ZINCRBY key:6 -inf a
        ZINCRBY key:6 1e308 c
        ZINCRBY key:6 1e308 c
        ZINCRBY key:6 nx a
        ZINCRBY key:6 1
        ZINCRBY key:6 1 a b
        ZRANGE key:6 0 -1 WITHSCORES
        ZSCORE key:6 a
        ZSCORE key:6 nosuch
        ZSCORE nosuch a
        ZSCORE key:6
        ZMSCORE key:6 a nosuch b
        ZMSCORE nosuch a b
        ZMSCORE key:6
        ZCARD key:6
        ZCARD nosuch
        ZCARD key:6 x
        ZREM key:6 nosuch
        ZREM key:6 a nosuch a
        ZREM nosuch a
        ZREM key:6
        ZCARD key:6
        ZREM key:6 b c
        EXISTS key:6
        ZADD key:7 1 a 2 b
        ZREM key:7 a b zz
        EXISTS key:7
        HELLO 3
        ZADD key:8 1.5 a 2 b
        ZMSCORE key:8 a nosuch b
        ZMSCORE nosuch a
        ZINCRBY key:8 1 a
        HELLO 2
        "#,
    ),
    (
        "wrongtype",
        r#"
        SET key:1 x
        LPUSH key:2 a
        HSET key:3 f v
        SADD key:4 a
        ZADD key:1 1 a
        ZADD key:2 1 a
        ZINCRBY key:3 1 a
        ZREM key:1 a
        ZSCORE key:1 a
        ZMSCORE key:1 a
        ZCARD key:2
        ZCOUNT key:1 0 1
        ZCOUNT key:1 x 1
        ZLEXCOUNT key:1 - +
        ZRANK key:1 a
        ZREVRANK key:1 a
        ZRANGE key:1 0 -1
        ZRANGE key:1 0 -1 BYSCORE
        ZRANGESTORE key:9 key:1 0 -1
        ZRANGESTORE key:1 key:9 0 -1
        TYPE key:1
        SET key:1 x
        ZREVRANGE key:1 0 -1
        ZRANGEBYSCORE key:1 0 1
        ZREVRANGEBYSCORE key:1 1 0
        ZRANGEBYLEX key:1 - +
        ZREVRANGEBYLEX key:1 + -
        ZPOPMIN key:1
        ZPOPMAX key:1 2
        ZPOPMIN key:1 -1
        ZMPOP 1 key:1 MIN
        ZMPOP 2 key:9 key:1 MIN
        BZPOPMIN key:1 0
        BZPOPMAX key:9 key:1 0
        BZMPOP 0 1 key:1 MAX
        ZRANDMEMBER key:1
        ZRANDMEMBER key:1 2
        ZRANDMEMBER key:1 -2 WITHSCORES
        ZUNION 2 key:1 key:9
        ZINTER 1 key:2
        ZDIFF 2 key:9 key:3
        ZUNIONSTORE key:9 1 key:1
        ZINTERSTORE key:9 2 key:4 key:2
        ZDIFFSTORE key:9 1 key:3
        ZINTERCARD 1 key:1
        ZREMRANGEBYRANK key:1 0 1
        ZREMRANGEBYSCORE key:1 0 1
        ZREMRANGEBYLEX key:1 - +
        ZSCAN key:1 0
        ZSCAN key:1 x
        GEOADD key:1 1 1 a
        GEODIST key:1 a b
        GEOHASH key:1 a
        GEOPOS key:1 a
        GEORADIUS key:1 1 1 1 km
        GEORADIUSBYMEMBER key:1 a 1 km
        GEORADIUS_RO key:1 1 1 1 km
        GEORADIUSBYMEMBER_RO key:1 a 1 km
        GEOSEARCH key:1 FROMLONLAT 1 1 BYRADIUS 1 km
        GEOSEARCHSTORE key:9 key:1 FROMLONLAT 1 1 BYRADIUS 1 km
        ZADD key:9 1 a
        GEOSEARCHSTORE key:1 key:9 FROMLONLAT 1 1 BYRADIUS 1 km
        ZUNIONSTORE key:1 1 key:9
        TYPE key:1
        GET key:1
        "#,
    ),
    (
        "arity",
        r#"
        ZADD key:1
        ZADD key:1 1
        ZINCRBY key:1 1
        ZREM key:1
        ZSCORE key:1
        ZMSCORE key:1
        ZCARD
        ZCOUNT key:1 0
        ZLEXCOUNT key:1 -
        ZRANK key:1
        ZRANK key:1 a b
        ZREVRANK key:1 a WITHSCORE
        ZRANGE key:1 0
        ZRANGESTORE key:1 key:2 0
        ZREVRANGE key:1 0
        ZRANGEBYSCORE key:1 0
        ZRANGEBYLEX key:1 -
        ZPOPMIN
        ZMPOP 1 key:1
        BZPOPMIN key:1
        BZMPOP 0 1 key:1
        ZRANDMEMBER
        ZUNION 1
        ZUNIONSTORE key:1 1
        ZINTERCARD 1
        ZREMRANGEBYRANK key:1 0
        ZSCAN key:1
        GEOADD key:1 1 1
        GEODIST key:1 a
        GEOHASH
        GEOPOS
        GEORADIUS key:1 1 1 1
        GEORADIUSBYMEMBER key:1 a 1
        GEOSEARCH key:1 FROMLONLAT 1 1 BYRADIUS
        GEOSEARCHSTORE key:2 key:1 FROMLONLAT 1 1 BYRADIUS 1
        "#,
    ),
    (
        "numbers",
        r#"
        ZADD key:1 1 a 2 b 3 c 4 key:3
        ZRANGEBYSCORE key:1 -inf +inf LIMIT 0 9223372036854775807
        ZRANGEBYSCORE key:1 -inf +inf LIMIT 9223372036854775807 1
        ZRANGEBYSCORE key:1 -inf +inf LIMIT -9223372036854775808 1
        ZREVRANGEBYSCORE key:1 +inf -inf LIMIT 3 9223372036854775807
        ZREVRANGEBYSCORE key:1 +inf -inf LIMIT 4 1
        ZREVRANGEBYSCORE key:1 +inf -inf LIMIT 3 1
        ZRANGE key:1 -inf +inf BYSCORE LIMIT 1 -2
        ZINTERCARD 9223372036854775807 key:1
        ZINTERCARD 2147483648 key:1
        ZUNION 9223372036854775807 key:1
        ZUNION 2147483647 key:1
        ZUNIONSTORE key:3 9223372036854775807 key:1
        ZMPOP 9223372036854775807 key:1 MIN
        ZMPOP 2147483647 key:1 MIN
        BZMPOP 0 9223372036854775807 key:1 MIN
        ZMPOP 1 key:1 MIN COUNT 9223372036854775807
        ZADD key:2 1 a 2 b
        ZMPOP 1 key:2 MAX COUNT 2147483648
        ZPOPMIN key:1 9223372036854775807
        ZADD key:1 1 a 2 b 3 c 4 key:3
        ZPOPMAX key:1 9223372036854775808
        ZRANDMEMBER key:1 9223372036854775807
        ZRANDMEMBER key:1 -9223372036854775808
        ZRANDMEMBER key:1 4611686018427387903 WITHSCORES
        ZSCAN key:1 18446744073709551615
        ZSCAN key:1 18446744073709551616
        ZSCAN key:1 0 COUNT -1
        ZSCAN key:1 0 COUNT 9223372036854775807
        ZSCAN key:1 0 MATCH * COUNT 1 MATCH a
        ZRANGEBYLEX key:1 - + LIMIT 0 9223372036854775807
        ZREMRANGEBYRANK key:1 -9223372036854775808 9223372036854775807
        ZADD key:1 1 a 2 b 3 c 4 key:3
        ZRANGE key:1 -9223372036854775808 9223372036854775807
        ZREVRANGE key:1 -9223372036854775808 9223372036854775807
        ZRANGESTORE key:3 key:1 0 -1 REV
        ZRANGE key:3 0 -1 WITHSCORES
        ZRANGESTORE key:3 key:1 +inf -inf BYSCORE REV LIMIT 1 2
        ZRANGE key:3 0 -1 WITHSCORES
        ZRANGESTORE key:3 key:1 -inf +inf BYSCORE LIMIT 1 -1
        ZRANGE key:3 0 -1 WITHSCORES
        ZRANGESTORE key:3 key:1 -inf +inf BYSCORE LIMIT -1 1
        EXISTS key:3
        ZCOUNT key:1 (1 (1
        ZCOUNT key:1 1 (1
        ZCOUNT key:1 (4 4
        ZCOUNT key:1 4 4
        ZCOUNT key:1 -0 0
        ZCOUNT key:1 0x1p1 4
        ZCOUNT key:1 1e-400 4
        ZCOUNT key:1 -1e400 1e400
        ZCOUNT key:1 "1\x00abc" 4
        ZCOUNT key:1 "(\x001" 4
        ZRANGEBYLEX key:1 "+\x00x" -
        ZRANGEBYLEX key:1 - "+\x00"
        ZRANGEBYLEX key:1 "-\x00" "+"
        ZADD key:1 1 "a\x00b"
        ZRANGEBYLEX key:1 "[a\x00" +
        ZRANGEBYLEX key:1 "(a" "[a\x00c"
        ZSCORE key:1 "a\x00b"
        ZINCRBY key:1 1e308 big
        ZINCRBY key:1 1e308 big
        ZINCRBY key:1 -inf big
        ZINCRBY key:1 inf big
        ZINCRBY key:1 -inf big
        ZSCORE key:1 big
        ZADD key:1 INCR 1e308 big2
        ZADD key:1 INCR 1.7976931348623157e308 big2
        ZSCORE key:1 big2
        ZUNION 2 key:1 key:1 WEIGHTS inf -inf WITHSCORES
        ZUNION 2 key:1 key:1 WEIGHTS inf inf AGGREGATE MIN WITHSCORES
        ZINTER 1 key:1 WEIGHTS 1e308 WITHSCORES
        ZINTER 2 key:1 key:1 WEIGHTS 1e308 1e308 WITHSCORES
        ZINTER 2 key:1 key:1 WEIGHTS -0 0 WITHSCORES
        ZUNION 1 key:1 WEIGHTS 0 AGGREGATE MAX WITHSCORES
        "#,
    ),
];

const RANGES: &[(&str, &str)] = &[
    (
        "ranks",
        r#"
        ZADD key:10 1 a 2 b 3 c 4 d 5 e
        ZRANGE key:10 0 -1
        ZRANGE key:10 0 -1 WITHSCORES
        ZRANGE key:10 1 3
        ZRANGE key:10 -2 -1
        ZRANGE key:10 -100 100
        ZRANGE key:10 3 1
        ZRANGE key:10 5 10
        ZRANGE key:10 -1 -2
        ZRANGE key:10 0 0 withscores
        ZRANGE key:10 0 -1 REV
        ZRANGE key:10 0 1 REV WITHSCORES
        ZRANGE key:10 -2 -1 REV
        ZRANGE key:10 0 -1 REV REV
        ZRANGE key:10 0 -1 WITHSCORES WITHSCORES
        ZRANGE key:10 0 -1 LIMIT 0 1
        ZRANGE key:10 0 -1 LIMIT 0
        ZRANGE key:10 0 -1 FOO
        ZRANGE key:10 x 1
        ZRANGE key:10 0 1.5
        ZRANGE key:10 0 9223372036854775807
        ZRANGE key:10 -9223372036854775808 -9223372036854775808
        ZRANGE key:10 0 9223372036854775808
        ZRANGE nosuch 0 -1
        ZRANGE nosuch x 1
        ZREVRANGE key:10 0 -1
        ZREVRANGE key:10 0 1 WITHSCORES
        ZREVRANGE key:10 -1 -1
        ZREVRANGE key:10 0 -1 REV
        ZREVRANGE key:10 0 -1 WITHSCORES FOO
        ZREVRANGE key:10 0 -1 BYSCORE
        ZREVRANGE nosuch 0 -1
        ZRANK key:10 a
        ZRANK key:10 e
        ZRANK key:10 nosuch
        ZRANK nosuch a
        ZREVRANK key:10 a
        ZREVRANK key:10 e
        ZREVRANK key:10 nosuch
        ZRANK key:10 a WITHSCORE
        HELLO 3
        ZRANGE key:10 0 -1 WITHSCORES
        ZRANGE key:10 0 1 REV WITHSCORES
        ZREVRANGE key:10 0 0 WITHSCORES
        ZRANGE key:10 0 -1
        ZRANK key:10 c
        ZRANK key:10 nosuch
        HELLO 2
        "#,
    ),
    (
        "scores",
        r#"
        ZADD key:11 1 a 2 b 2 c 3 d 4 e 5 f -inf ninf +inf pinf
        ZRANGEBYSCORE key:11 -inf +inf
        ZRANGEBYSCORE key:11 -inf +inf WITHSCORES
        ZRANGEBYSCORE key:11 2 3
        ZRANGEBYSCORE key:11 (2 3
        ZRANGEBYSCORE key:11 2 (3
        ZRANGEBYSCORE key:11 (2 (3
        ZRANGEBYSCORE key:11 (2 (2
        ZRANGEBYSCORE key:11 2 2
        ZRANGEBYSCORE key:11 3 2
        ZRANGEBYSCORE key:11 (-inf (+inf
        ZRANGEBYSCORE key:11 -inf -inf
        ZRANGEBYSCORE key:11 inf inf
        ZRANGEBYSCORE key:11 10 20
        ZRANGEBYSCORE key:11 -20 -10
        ZRANGEBYSCORE key:11 " 2" 3
        ZRANGEBYSCORE key:11 "" 3
        ZRANGEBYSCORE key:11 ( 3
        ZRANGEBYSCORE key:11 0x2 3
        ZRANGEBYSCORE key:11 2e0 3.0
        ZRANGEBYSCORE key:11 x 3
        ZRANGEBYSCORE key:11 2 "3 "
        ZRANGEBYSCORE key:11 nan 3
        ZRANGEBYSCORE key:11 ((2 3
        ZRANGEBYSCORE key:11 [2 3
        ZRANGEBYSCORE key:11 -inf +inf LIMIT 0 2
        ZRANGEBYSCORE key:11 -inf +inf LIMIT 2 2
        ZRANGEBYSCORE key:11 -inf +inf LIMIT 2 -1
        ZRANGEBYSCORE key:11 -inf +inf LIMIT 2 -5
        ZRANGEBYSCORE key:11 -inf +inf LIMIT -1 2
        ZRANGEBYSCORE key:11 -inf +inf LIMIT 100 2
        ZRANGEBYSCORE key:11 -inf +inf LIMIT 0 0
        ZRANGEBYSCORE key:11 -inf +inf LIMIT 1 2 WITHSCORES
        ZRANGEBYSCORE key:11 -inf +inf WITHSCORES LIMIT 1 2
        ZRANGEBYSCORE key:11 -inf +inf LIMIT 1
        ZRANGEBYSCORE key:11 -inf +inf LIMIT x 1
        ZRANGEBYSCORE key:11 -inf +inf LIMIT 1 x
        ZRANGEBYSCORE key:11 -inf +inf LIMIT 0 1 LIMIT 1 1
        ZRANGEBYSCORE key:11 -inf +inf FOO
        ZRANGEBYSCORE key:11 -inf +inf REV
        ZRANGEBYSCORE key:11 -inf +inf BYSCORE
        ZRANGEBYSCORE nosuch -inf +inf
        ZRANGEBYSCORE nosuch x +inf
        ZREVRANGEBYSCORE key:11 +inf -inf
        ZREVRANGEBYSCORE key:11 +inf -inf WITHSCORES
        ZREVRANGEBYSCORE key:11 3 2
        ZREVRANGEBYSCORE key:11 (3 2
        ZREVRANGEBYSCORE key:11 3 (2
        ZREVRANGEBYSCORE key:11 2 3
        ZREVRANGEBYSCORE key:11 +inf -inf LIMIT 1 3
        ZREVRANGEBYSCORE key:11 +inf -inf LIMIT 1 -1
        ZREVRANGEBYSCORE key:11 4 -inf LIMIT 2 2
        ZREVRANGEBYSCORE key:11 +inf -inf LIMIT 20 1
        ZRANGE key:11 2 3 BYSCORE
        ZRANGE key:11 (1 +inf BYSCORE LIMIT 1 2 WITHSCORES
        ZRANGE key:11 3 2 BYSCORE REV
        ZRANGE key:11 +inf -inf BYSCORE REV LIMIT 0 3
        ZRANGE key:11 -inf +inf REV BYSCORE
        ZRANGE key:11 -inf +inf BYSCORE BYSCORE
        ZRANGE key:11 -inf +inf BYSCORE BYLEX
        ZRANGE key:11 0 -1 BYSCORE
        ZCOUNT key:11 -inf +inf
        ZCOUNT key:11 2 3
        ZCOUNT key:11 (2 3
        ZCOUNT key:11 (2 (3
        ZCOUNT key:11 3 2
        ZCOUNT key:11 (-inf (+inf
        ZCOUNT key:11 x 1
        ZCOUNT key:11 1 x
        ZCOUNT nosuch 0 1
        ZCOUNT nosuch x 1
        HELLO 3
        ZRANGEBYSCORE key:11 2 3 WITHSCORES
        ZREVRANGEBYSCORE key:11 +inf 4 WITHSCORES
        ZRANGE key:11 -inf +inf BYSCORE LIMIT 0 2 WITHSCORES
        HELLO 2
        "#,
    ),
    (
        "lex",
        r#"
        ZADD key:12 0 a 0 b 0 c 0 d 0 e 0 f 0 g 0 aa 0 "" 0 "\xff"
        ZRANGEBYLEX key:12 - +
        ZRANGEBYLEX key:12 [b [d
        ZRANGEBYLEX key:12 (b [d
        ZRANGEBYLEX key:12 [b (d
        ZRANGEBYLEX key:12 (b (d
        ZRANGEBYLEX key:12 (b (b
        ZRANGEBYLEX key:12 [b [b
        ZRANGEBYLEX key:12 [d [b
        ZRANGEBYLEX key:12 - [c
        ZRANGEBYLEX key:12 [c +
        ZRANGEBYLEX key:12 + -
        ZRANGEBYLEX key:12 - -
        ZRANGEBYLEX key:12 + +
        ZRANGEBYLEX key:12 [ [a
        ZRANGEBYLEX key:12 ( [a
        ZRANGEBYLEX key:12 [a (aa
        ZRANGEBYLEX key:12 [a [aa
        ZRANGEBYLEX key:12 [zzz +
        ZRANGEBYLEX key:12 a +
        ZRANGEBYLEX key:12 - c
        ZRANGEBYLEX key:12 -a +
        ZRANGEBYLEX key:12 - +b
        ZRANGEBYLEX key:12 "" +
        ZRANGEBYLEX key:12 - + LIMIT 1 3
        ZRANGEBYLEX key:12 - + LIMIT 1 -1
        ZRANGEBYLEX key:12 - + LIMIT -1 1
        ZRANGEBYLEX key:12 - + LIMIT 100 1
        ZRANGEBYLEX key:12 - + WITHSCORES
        ZRANGEBYLEX key:12 - + LIMIT 1
        ZRANGEBYLEX nosuch - +
        ZRANGEBYLEX nosuch x +
        ZREVRANGEBYLEX key:12 + -
        ZREVRANGEBYLEX key:12 [d [b
        ZREVRANGEBYLEX key:12 (d (b
        ZREVRANGEBYLEX key:12 [b [d
        ZREVRANGEBYLEX key:12 + - LIMIT 2 3
        ZREVRANGEBYLEX key:12 (c - LIMIT 0 2
        ZRANGE key:12 [b [d BYLEX
        ZRANGE key:12 [d [b BYLEX REV
        ZRANGE key:12 - + BYLEX LIMIT 2 2
        ZRANGE key:12 + - BYLEX REV LIMIT 2 2
        ZRANGE key:12 - + BYLEX WITHSCORES
        ZRANGE key:12 a b BYLEX
        ZLEXCOUNT key:12 - +
        ZLEXCOUNT key:12 [b [d
        ZLEXCOUNT key:12 (b (d
        ZLEXCOUNT key:12 + -
        ZLEXCOUNT key:12 [d [b
        ZLEXCOUNT key:12 a b
        ZLEXCOUNT nosuch - +
        ZLEXCOUNT nosuch a b
        ZADD key:13 1 a 2 b 3 c
        ZRANGEBYLEX key:13 - +
        ZRANGEBYLEX key:13 [b +
        ZLEXCOUNT key:13 [b +
        "#,
    ),
    (
        "rangestore",
        r#"
        ZADD key:14 1 a 2 b 3 c 4 d 5 e
        ZRANGESTORE key:15 key:14 0 -1
        ZRANGE key:15 0 -1 WITHSCORES
        ZRANGESTORE key:15 key:14 1 2
        ZRANGE key:15 0 -1 WITHSCORES
        ZRANGESTORE key:16 key:14 (1 4 BYSCORE LIMIT 1 2
        ZRANGE key:16 0 -1 WITHSCORES
        ZRANGESTORE key:16 key:14 4 1 BYSCORE REV
        ZRANGE key:16 0 -1 WITHSCORES
        ZRANGESTORE key:17 key:14 [b [d BYLEX
        ZRANGE key:17 0 -1 WITHSCORES
        ZRANGESTORE key:17 key:14 [d [b BYLEX REV LIMIT 0 1
        ZRANGE key:17 0 -1 WITHSCORES
        ZRANGESTORE key:17 key:14 5 10
        EXISTS key:17
        ZRANGESTORE key:17 nosuch 0 -1
        EXISTS key:17
        SET key:18 x
        ZRANGESTORE key:18 key:14 0 0
        TYPE key:18
        ZRANGE key:18 0 -1
        ZRANGESTORE key:18 key:14 0 -1 WITHSCORES
        ZRANGESTORE key:18 key:14 0 -1 LIMIT 0 1
        ZRANGESTORE key:18 key:14 x 1
        ZRANGESTORE key:14 key:14 0 1
        ZRANGE key:14 0 -1 WITHSCORES
        OBJECT ENCODING key:14
        "#,
    ),
    (
        "remove_ranges",
        r#"
        ZADD key:20 1 a 2 b 3 c 4 d 5 e 6 f 7 g
        ZREMRANGEBYRANK key:20 0 0
        ZREMRANGEBYRANK key:20 -1 -1
        ZREMRANGEBYRANK key:20 10 20
        ZREMRANGEBYRANK key:20 3 1
        ZREMRANGEBYRANK key:20 x 1
        ZREMRANGEBYRANK key:20 1 1.5
        ZRANGE key:20 0 -1
        ZREMRANGEBYSCORE key:20 (2 3
        ZREMRANGEBYSCORE key:20 10 20
        ZREMRANGEBYSCORE key:20 x 1
        ZREMRANGEBYSCORE key:20 (4 (4
        ZRANGE key:20 0 -1
        ZREMRANGEBYLEX key:20 x y
        ZREMRANGEBYLEX key:20 [d [d
        ZRANGE key:20 0 -1
        ZREMRANGEBYLEX key:20 - +
        EXISTS key:20
        ZREMRANGEBYRANK nosuch 0 -1
        ZREMRANGEBYSCORE nosuch 0 1
        ZREMRANGEBYLEX nosuch - +
        ZREMRANGEBYLEX nosuch x +
        ZREMRANGEBYSCORE nosuch x 1
        ZREMRANGEBYRANK nosuch x 1
        ZADD key:21 1 a 2 b 3 c
        ZREMRANGEBYRANK key:21 -100 100
        EXISTS key:21
        ZADD key:21 1 a 2 b 3 c
        ZREMRANGEBYSCORE key:21 -inf +inf
        EXISTS key:21
        "#,
    ),
    (
        "pops",
        r#"
        ZADD key:22 1 a 2 b 3 c 4 d 5 e
        ZPOPMIN key:22
        ZPOPMAX key:22
        ZPOPMIN key:22 2
        ZPOPMIN key:22 0
        ZPOPMIN key:22 -1
        ZPOPMIN key:22 x
        ZPOPMIN key:22 1 2
        ZPOPMAX key:22 100
        EXISTS key:22
        ZPOPMIN key:22
        ZPOPMIN key:22 0
        ZPOPMAX nosuch 5
        ZPOPMAX nosuch -1
        ZADD key:22 1 a 2 b 3 c 4 d 5 e
        ZMPOP 1 key:22 MIN
        ZMPOP 1 key:22 MAX COUNT 2
        ZMPOP 3 nosuch key:23 key:22 MIN COUNT 10
        ZMPOP 1 key:22 MIN
        ZMPOP 0 key:22 MIN
        ZMPOP -1 key:22 MIN
        ZMPOP x key:22 MIN
        ZMPOP 2 key:22 MIN
        ZMPOP 1 key:22 FOO
        ZMPOP 1 key:22 MIN COUNT 0
        ZMPOP 1 key:22 MIN COUNT -1
        ZMPOP 1 key:22 MIN COUNT x
        ZMPOP 1 key:22 MIN COUNT 1 COUNT 1
        ZMPOP 1 key:22 MIN COUNT
        ZMPOP 1 key:22 MIN FOO
        ZADD key:24 1 a 2 b 3 c
        ZADD key:25 10 x 20 y
        BZPOPMIN key:24 0
        BZPOPMAX key:24 0
        BZPOPMIN nosuch key:25 key:24 1
        BZPOPMAX nosuch key:25 0.5
        ZADD key:27 1 a 2 b 3 c 4 d 5 e 6 f
        BZPOPMIN key:27 -1
        BZPOPMIN key:27 x
        BZPOPMIN key:27 1e30
        BZPOPMIN key:27 inf
        BZPOPMIN key:27 9223372036854775
        BZPOPMIN key:27 9223372036854776
        BZPOPMIN key:27 0.001
        BZMPOP 1e30 1 key:27 MIN
        BZMPOP inf 1 key:27 MIN
        BZMPOP 0.001 1 key:27 MIN
        BZMPOP 0 2 key:24 key:25 MIN
        ZADD key:25 1 p 2 q 3 r
        BZMPOP 0 1 key:25 MAX COUNT 5
        BZMPOP -1 1 key:25 MIN
        BZMPOP x 1 key:25 MIN
        BZMPOP 0 0 key:25 MIN
        BZMPOP 0 1 key:25 FOO
        BZMPOP 0 1 key:25 MIN COUNT 0
        EXISTS key:24 key:25
        MULTI
        BZPOPMIN key:24 0
        BZPOPMAX key:24 key:25 10
        BZMPOP 0 2 key:24 key:25 MIN
        ZADD key:24 5 z
        BZPOPMIN key:24 0
        BZMPOP 0 1 key:24 MIN
        EXEC
        HELLO 3
        ZADD key:26 1 a 2 b 3 c 4 d 5 e
        ZPOPMIN key:26
        ZPOPMIN key:26 1
        ZPOPMAX key:26 2
        ZMPOP 1 key:26 MIN
        ZMPOP 1 nosuch MIN
        ZADD key:26 9 z
        BZPOPMIN key:26 0
        MULTI
        BZPOPMIN key:26 0
        BZMPOP 0 1 key:26 MIN
        EXEC
        HELLO 2
        "#,
    ),
];

const MULTIKEY: &[(&str, &str)] = &[
    (
        "union_inter_diff",
        r#"
        ZADD key:1 1 a 2 b 3 c
        ZADD key:2 10 b 20 c 30 d
        ZADD key:3 100 c 200 d 300 e
        SADD key:4 a d x
        ZUNION 2 key:1 key:2
        ZUNION 2 key:1 key:2 WITHSCORES
        ZUNION 3 key:1 key:2 key:3 WITHSCORES
        ZUNION 3 key:1 key:2 key:3 WEIGHTS 1 2 3 WITHSCORES
        ZUNION 3 key:1 key:2 key:3 WEIGHTS 1 2 -1 AGGREGATE MIN WITHSCORES
        ZUNION 3 key:1 key:2 key:3 AGGREGATE MAX WITHSCORES
        ZUNION 3 key:1 key:2 key:3 AGGREGATE sum WEIGHTS 0 0 0 WITHSCORES
        ZUNION 2 key:1 key:4 WITHSCORES
        ZUNION 2 key:1 nosuch WITHSCORES
        ZUNION 1 nosuch
        ZINTER 2 key:1 key:2
        ZINTER 2 key:1 key:2 WITHSCORES
        ZINTER 3 key:1 key:2 key:3 WITHSCORES
        ZINTER 2 key:2 key:3 WEIGHTS 2 0.5 WITHSCORES
        ZINTER 2 key:2 key:3 AGGREGATE MIN WITHSCORES
        ZINTER 2 key:2 key:3 AGGREGATE MAX WITHSCORES
        ZINTER 2 key:2 key:4 WITHSCORES
        ZINTER 2 key:4 key:1 WITHSCORES
        ZINTER 2 key:1 nosuch
        ZDIFF 2 key:1 key:2
        ZDIFF 2 key:1 key:2 WITHSCORES
        ZDIFF 3 key:3 key:1 key:2 WITHSCORES
        ZDIFF 2 key:1 key:4 WITHSCORES
        ZDIFF 2 key:4 key:1 WITHSCORES
        ZDIFF 1 nosuch
        ZDIFF 2 nosuch key:1
        ZDIFF 2 key:1 nosuch WITHSCORES
        ZUNION 0 key:1
        ZUNION -1 key:1
        ZUNION x key:1
        ZUNION 3 key:1 key:2
        ZINTER 0 key:1
        ZDIFF 0 key:1
        ZUNION 2 key:1 key:2 WEIGHTS 1
        ZUNION 2 key:1 key:2 WEIGHTS 1 x
        ZUNION 2 key:1 key:2 WEIGHTS 1 nan
        ZUNION 2 key:1 key:2 AGGREGATE AVG
        ZUNION 2 key:1 key:2 AGGREGATE
        ZUNION 2 key:1 key:2 FOO
        ZDIFF 2 key:1 key:2 WEIGHTS 1 1
        ZDIFF 2 key:1 key:2 AGGREGATE SUM
        ZINTER 2 key:1 key:2 WITHSCORES WITHSCORES
        ZADD key:5 inf a -inf b
        ZADD key:6 -inf a inf b 1 c
        ZUNION 2 key:5 key:6 WITHSCORES
        ZINTER 2 key:5 key:6 WITHSCORES
        ZUNION 2 key:5 key:6 WEIGHTS 0 1 WITHSCORES
        ZUNION 2 key:5 key:6 WEIGHTS -1 1 AGGREGATE MAX WITHSCORES
        ZADD key:7 0.1 a 0.2 b
        ZADD key:8 0.2 a 0.1 b
        ZUNION 3 key:7 key:8 key:7 WITHSCORES
        ZINTER 3 key:8 key:7 key:8 WEIGHTS 3 0.3 1e-3 WITHSCORES
        HELLO 3
        ZUNION 2 key:1 key:2 WITHSCORES
        ZINTER 2 key:1 key:2
        ZDIFF 2 key:1 key:2 WITHSCORES
        HELLO 2
        "#,
    ),
    (
        "stores",
        r#"
        ZADD key:1 1 a 2 b 3 c
        ZADD key:2 10 b 20 c 30 d
        SADD key:3 c d e
        ZUNIONSTORE key:10 2 key:1 key:2
        ZRANGE key:10 0 -1 WITHSCORES
        ZUNIONSTORE key:10 2 key:1 key:2 WEIGHTS 2 1 AGGREGATE MAX
        ZRANGE key:10 0 -1 WITHSCORES
        ZINTERSTORE key:11 2 key:1 key:2
        ZRANGE key:11 0 -1 WITHSCORES
        ZINTERSTORE key:11 3 key:1 key:2 key:3 AGGREGATE MIN
        ZRANGE key:11 0 -1 WITHSCORES
        ZDIFFSTORE key:12 2 key:2 key:1
        ZRANGE key:12 0 -1 WITHSCORES
        ZDIFFSTORE key:12 2 key:3 key:2
        ZRANGE key:12 0 -1 WITHSCORES
        ZUNIONSTORE key:13 1 nosuch
        EXISTS key:13
        SET key:13 x
        ZINTERSTORE key:13 2 key:1 nosuch
        EXISTS key:13
        SET key:13 x EX 100
        ZUNIONSTORE key:13 1 key:1
        TTL key:13
        TYPE key:13
        ZDIFFSTORE key:13 2 key:1 key:1
        EXISTS key:13
        ZUNIONSTORE key:1 2 key:1 key:2
        ZRANGE key:1 0 -1 WITHSCORES
        ZINTERSTORE key:2 2 key:1 key:2 WEIGHTS 1 -1
        ZRANGE key:2 0 -1 WITHSCORES
        ZUNIONSTORE key:14 2 key:1 key:2 WITHSCORES
        ZUNIONSTORE key:14 0 key:1
        ZINTERSTORE key:14 3 key:1 key:2
        ZDIFFSTORE key:14 1 key:1 WEIGHTS 1
        ZUNIONSTORE key:14 1 key:1 WEIGHTS x
        OBJECT ENCODING key:1
        ZINTERCARD 2 key:1 key:2
        ZINTERCARD 3 key:1 key:2 key:3
        ZINTERCARD 2 key:1 key:3 LIMIT 1
        ZINTERCARD 2 key:1 key:3 LIMIT 0
        ZINTERCARD 2 key:1 key:3 LIMIT 100
        ZINTERCARD 2 key:1 key:3 LIMIT -1
        ZINTERCARD 2 key:1 key:3 LIMIT x
        ZINTERCARD 2 key:1 key:3 LIMIT
        ZINTERCARD 2 key:1 key:3 FOO
        ZINTERCARD 2 key:1 key:3 WEIGHTS 1 1
        ZINTERCARD 1 nosuch
        ZINTERCARD 0 key:1
        ZINTERCARD -1 key:1
        ZINTERCARD 3 key:1 key:2
        "#,
    ),
    (
        "random_and_scan",
        r#"
        ZADD key:30 1 a 2 b 3 c 4 d 5 e
        ZRANDMEMBER key:30 5
        ZRANDMEMBER key:30 10 WITHSCORES
        ZRANDMEMBER key:30 0
        ZRANDMEMBER key:30 0 WITHSCORES
        !shape ZRANDMEMBER key:30
        !shape ZRANDMEMBER key:30 3
        !shape ZRANDMEMBER key:30 -10
        !shape ZRANDMEMBER key:30 -10 WITHSCORES
        !shape ZRANDMEMBER key:30 1
        ZRANDMEMBER key:30 x
        ZRANDMEMBER key:30 1 FOO
        ZRANDMEMBER key:30 1 WITHSCORES FOO
        ZRANDMEMBER key:30 -9223372036854775808 WITHSCORES
        ZRANDMEMBER key:30 -9223372036854775807 WITHSCORES
        ZRANDMEMBER key:30 4611686018427387904 WITHSCORES
        ZRANDMEMBER nosuch
        ZRANDMEMBER nosuch 5
        ZRANDMEMBER nosuch 5 WITHSCORES
        ZRANDMEMBER nosuch x
        ZADD key:31 1 only
        ZRANDMEMBER key:31
        ZRANDMEMBER key:31 -3 WITHSCORES
        ZSCAN key:30 0
        ZSCAN key:30 0 MATCH [ab]
        ZSCAN key:30 0 COUNT 1
        ZSCAN key:30 0 MATCH c* COUNT 100
        ZSCAN key:30 x
        ZSCAN key:30 -1
        ZSCAN key:30 0 COUNT 0
        ZSCAN key:30 0 COUNT x
        ZSCAN key:30 0 FOO
        ZSCAN key:30 0 MATCH
        ZSCAN nosuch 0
        ZSCAN nosuch 0 COUNT 0
        ZSCAN nosuch x
        HELLO 3
        ZRANDMEMBER key:30 10 WITHSCORES
        !shape ZRANDMEMBER key:30 -2 WITHSCORES
        !shape ZRANDMEMBER key:30 2 WITHSCORES
        ZRANDMEMBER nosuch
        ZSCAN key:30 0
        HELLO 2
        "#,
    ),
];

const GEO: &[(&str, &str)] = &[
    (
        "geo_basic",
        r#"
        GEOADD key:40 13.361389 38.115556 Palermo 15.087269 37.502669 Catania
        ZRANGE key:40 0 -1 WITHSCORES
        GEOADD key:40 13.361389 38.115556 Palermo
        GEOADD key:40 CH 13.361390 38.115556 Palermo
        GEOADD key:40 NX 0 0 Palermo 1 1 New
        GEOADD key:40 XX 2 2 New 3 3 Newer
        GEOADD key:40 XX CH 12 38 Palermo
        GEOADD key:40 NX XX 1 1 a
        GEOADD key:40 GT 1 1 a
        GEOADD key:40 CH
        GEOADD key:40 1 1
        GEOADD key:40 1 1 a 2
        GEOADD key:40 181 0 a
        GEOADD key:40 0 86 a
        GEOADD key:40 -180 -85.05112878 edge1 180 85.05112878 edge2
        GEOADD key:40 0 85.05112879 a
        GEOADD key:40 x 1 a
        GEOADD key:40 1 x a
        GEOADD key:40 1 nan a
        GEOADD key:40 1 1 a 1 91 b
        EXISTS key:41
        GEOADD key:41 181 0 a
        EXISTS key:41
        GEOADD key:41 XX 1 1 a
        EXISTS key:41
        ZRANGE key:40 0 -1 WITHSCORES
        GEOADD key:42 0 0 zero -0.0000001 -0.0000001 neg 179.9999999 85.05 ne 139.6917 35.6895 tokyo -74.0060 40.7128 nyc -0.1278 51.5074 london 151.2093 -33.8688 sydney
        ZRANGE key:42 0 -1 WITHSCORES
        GEOPOS key:42 zero neg ne tokyo nyc london sydney nosuch
        GEOPOS key:40 edge1 edge2
        GEOPOS nosuch a b
        GEOPOS key:42
        GEOHASH key:42 zero neg ne tokyo nyc london sydney nosuch
        GEOHASH key:40 edge1 edge2 Palermo Catania
        GEOHASH nosuch a
        GEOHASH key:42
        GEODIST key:42 tokyo nyc
        GEODIST key:42 tokyo nyc m
        GEODIST key:42 tokyo nyc KM
        GEODIST key:42 tokyo nyc ft
        GEODIST key:42 tokyo nyc mi
        GEODIST key:42 london sydney km
        GEODIST key:42 zero neg
        GEODIST key:42 zero zero
        GEODIST key:42 tokyo nosuch
        GEODIST key:42 nosuch tokyo
        GEODIST nosuch a b
        GEODIST key:42 tokyo nyc yd
        GEODIST key:42 tokyo nyc km extra
        GEODIST nosuch a b yd
        ZADD key:43 1 notgeo -1 neg 4503599627370496 toobig 3.5 frac
        GEOPOS key:43 notgeo neg toobig frac
        GEOHASH key:43 notgeo neg frac
        GEODIST key:43 notgeo frac
        HELLO 3
        GEOPOS key:42 tokyo nosuch
        GEODIST key:42 tokyo nyc
        GEOHASH key:42 tokyo nosuch
        GEODIST key:42 tokyo nosuch
        HELLO 2
        "#,
    ),
    (
        "geo_radius",
        r#"
        GEOADD key:44 13.361389 38.115556 Palermo 15.087269 37.502669 Catania 12.758489 38.788135 edge1 17.241510 38.788135 edge2 13.5 37.3 south 14.0 38.5 middle
        GEORADIUS key:44 15 37 200 km
        GEORADIUS key:44 15 37 200 km ASC
        GEORADIUS key:44 15 37 200 km DESC
        GEORADIUS key:44 15 37 200 km WITHDIST
        GEORADIUS key:44 15 37 200 km WITHCOORD WITHDIST WITHHASH ASC
        GEORADIUS key:44 15 37 200 km WITHHASH
        GEORADIUS key:44 15 37 200 km WITHCOORD
        GEORADIUS key:44 15 37 200 km COUNT 1
        GEORADIUS key:44 15 37 200 km COUNT 2 DESC
        GEORADIUS key:44 15 37 200 km COUNT 2 ANY
        GEORADIUS key:44 15 37 200 km COUNT 100 ANY ASC
        GEORADIUS key:44 15 37 200 km ANY
        GEORADIUS key:44 15 37 200 km COUNT 0
        GEORADIUS key:44 15 37 200 km COUNT -1
        GEORADIUS key:44 15 37 200 km COUNT x
        GEORADIUS key:44 15 37 200 km COUNT
        GEORADIUS key:44 15 37 200000 m
        GEORADIUS key:44 15 37 124.27 mi WITHDIST
        GEORADIUS key:44 15 37 656168 ft WITHDIST
        GEORADIUS key:44 15 37 300 km WITHDIST ASC
        GEORADIUS key:44 15 37 1000 km WITHDIST DESC
        GEORADIUS key:44 15 37 0 km
        GEORADIUS key:44 15.087269 37.502669 0 m
        GEORADIUS key:44 15 37 -1 km
        GEORADIUS key:44 15 37 x km
        GEORADIUS key:44 15 37 1 yd
        GEORADIUS key:44 200 37 1 km
        GEORADIUS key:44 x 37 1 km
        GEORADIUS key:44 15 37 200 km FOO
        GEORADIUS key:44 15 37 200 km STORE
        GEORADIUS nosuch 15 37 200 km
        GEORADIUS nosuch 15 37 x km
        GEORADIUS key:44 15 37 20000 km ASC
        GEORADIUS key:44 0 0 20000 km DESC COUNT 3
        GEORADIUSBYMEMBER key:44 Palermo 100 km
        GEORADIUSBYMEMBER key:44 Palermo 200 km WITHDIST ASC
        GEORADIUSBYMEMBER key:44 Palermo 200 km WITHDIST WITHCOORD DESC COUNT 2
        GEORADIUSBYMEMBER key:44 nosuch 100 km
        GEORADIUSBYMEMBER nosuch nosuch 100 km
        GEORADIUSBYMEMBER key:44 Palermo x km
        GEORADIUSBYMEMBER key:44 Palermo 100 yd
        GEORADIUS_RO key:44 15 37 200 km WITHDIST ASC
        GEORADIUS_RO key:44 15 37 200 km STORE key:45
        GEORADIUSBYMEMBER_RO key:44 Catania 150 km WITHDIST ASC
        GEORADIUSBYMEMBER_RO key:44 Catania 150 km STOREDIST key:45
        GEORADIUS key:44 15 37 200 km STORE key:45
        ZRANGE key:45 0 -1 WITHSCORES
        GEORADIUS key:44 15 37 200 km STOREDIST key:46
        ZRANGE key:46 0 -1 WITHSCORES
        GEORADIUS key:44 15 37 200 km STOREDIST key:46 COUNT 1 DESC
        ZRANGE key:46 0 -1 WITHSCORES
        GEORADIUS key:44 15 37 200 km STORE key:45 WITHDIST
        GEORADIUS key:44 15 37 1 km STORE key:45
        EXISTS key:45
        GEORADIUS nosuch 15 37 1 km STORE key:46
        EXISTS key:46
        GEORADIUSBYMEMBER key:44 Palermo 300 km STORE key:47 ASC COUNT 3
        ZRANGE key:47 0 -1 WITHSCORES
        GEORADIUSBYMEMBER key:44 Palermo 300 km STORE key:47 STOREDIST key:48
        EXISTS key:47
        ZRANGE key:48 0 -1 WITHSCORES
        HELLO 3
        GEORADIUS key:44 15 37 200 km WITHCOORD WITHDIST WITHHASH ASC
        GEORADIUS key:44 15 37 200 km ASC
        HELLO 2
        "#,
    ),
    (
        "geo_search",
        r#"
        GEOADD key:50 13.361389 38.115556 Palermo 15.087269 37.502669 Catania 12.758489 38.788135 edge1 17.241510 38.788135 edge2
        GEOSEARCH key:50 FROMLONLAT 15 37 BYRADIUS 200 km ASC
        GEOSEARCH key:50 FROMLONLAT 15 37 BYRADIUS 200 km DESC WITHDIST
        GEOSEARCH key:50 FROMLONLAT 15 37 BYBOX 400 400 km ASC WITHCOORD WITHDIST WITHHASH
        GEOSEARCH key:50 FROMLONLAT 15 37 BYBOX 400 400 km ASC
        GEOSEARCH key:50 FROMLONLAT 15 37 BYBOX 400 100 km ASC
        GEOSEARCH key:50 FROMLONLAT 15 37 BYBOX 100 400 km ASC
        GEOSEARCH key:50 FROMLONLAT 15 37 BYBOX 0 0 km
        GEOSEARCH key:50 FROMMEMBER Palermo BYRADIUS 100 km
        GEOSEARCH key:50 FROMMEMBER Palermo BYBOX 300 300 km WITHDIST ASC
        GEOSEARCH key:50 FROMMEMBER Palermo BYRADIUS 500 km COUNT 2 ASC
        GEOSEARCH key:50 FROMMEMBER Palermo BYRADIUS 500 km COUNT 2 ANY
        GEOSEARCH key:50 FROMMEMBER Palermo BYRADIUS 500 km COUNT 3 DESC
        GEOSEARCH key:50 FROMMEMBER nosuch BYRADIUS 500 km
        GEOSEARCH nosuch FROMMEMBER nosuch BYRADIUS 500 km
        GEOSEARCH nosuch FROMLONLAT 15 37 BYRADIUS 500 km
        GEOSEARCH key:50 BYRADIUS 500 km
        GEOSEARCH key:50 FROMLONLAT 15 37
        GEOSEARCH key:50 FROMLONLAT 15 37 FROMMEMBER Palermo BYRADIUS 1 km
        GEOSEARCH key:50 FROMMEMBER Palermo FROMLONLAT 15 37 BYRADIUS 1 km
        GEOSEARCH key:50 FROMLONLAT 15 37 BYRADIUS 1 km BYBOX 1 1 km
        GEOSEARCH key:50 FROMLONLAT 15 37 BYBOX 1 1 km BYRADIUS 1 km
        GEOSEARCH key:50 FROMLONLAT 15 37 BYRADIUS -1 km
        GEOSEARCH key:50 FROMLONLAT 15 37 BYRADIUS x km
        GEOSEARCH key:50 FROMLONLAT 15 37 BYRADIUS 1 yd
        GEOSEARCH key:50 FROMLONLAT 15 37 BYBOX x 1 km
        GEOSEARCH key:50 FROMLONLAT 15 37 BYBOX 1 x km
        GEOSEARCH key:50 FROMLONLAT 15 37 BYBOX -1 1 km
        GEOSEARCH key:50 FROMLONLAT 15 37 BYBOX 1 1 yd
        GEOSEARCH key:50 FROMLONLAT 200 37 BYRADIUS 1 km
        GEOSEARCH key:50 FROMLONLAT x 37 BYRADIUS 1 km
        GEOSEARCH key:50 FROMLONLAT 15 37 BYRADIUS 200 km ANY
        GEOSEARCH key:50 FROMLONLAT 15 37 BYRADIUS 200 km COUNT 0
        GEOSEARCH key:50 FROMLONLAT 15 37 BYRADIUS 200 km STORE key:51
        GEOSEARCH key:50 FROMLONLAT 15 37 BYRADIUS 200 km STOREDIST
        GEOSEARCH key:50 FROMLONLAT 15 37 BYRADIUS 200 km FOO
        GEOSEARCH key:50 FROMLONLAT 15 37 BYRADIUS 200
        GEOSEARCH key:50 FROMLONLAT 15 BYRADIUS 200 km
        GEOSEARCHSTORE key:51 key:50 FROMLONLAT 15 37 BYRADIUS 200 km
        ZRANGE key:51 0 -1 WITHSCORES
        GEOSEARCHSTORE key:51 key:50 FROMLONLAT 15 37 BYBOX 400 400 km STOREDIST
        ZRANGE key:51 0 -1 WITHSCORES
        GEOSEARCHSTORE key:51 key:50 FROMLONLAT 15 37 BYBOX 400 400 km STOREDIST COUNT 1 DESC
        ZRANGE key:51 0 -1 WITHSCORES
        GEOSEARCHSTORE key:51 key:50 FROMLONLAT 15 37 BYRADIUS 200 km WITHDIST
        GEOSEARCHSTORE key:51 key:50 FROMLONLAT 15 37 BYRADIUS 200 km WITHCOORD
        GEOSEARCHSTORE key:51 key:50 FROMLONLAT 15 37 BYRADIUS 1 km
        EXISTS key:51
        GEOSEARCHSTORE key:52 nosuch FROMLONLAT 15 37 BYRADIUS 200 km
        GEOSEARCHSTORE key:52 key:50 FROMMEMBER nosuch BYRADIUS 200 km
        GEOSEARCHSTORE key:52 key:50 FROMLONLAT 15 37 BYRADIUS 200 km STORE key:53
        SET key:53 x
        GEOSEARCHSTORE key:53 key:50 FROMMEMBER Catania BYRADIUS 10 km
        TYPE key:53
        ZRANGE key:53 0 -1 WITHSCORES
        HELLO 3
        GEOSEARCH key:50 FROMLONLAT 15 37 BYBOX 400 400 km ASC WITHCOORD WITHDIST WITHHASH
        HELLO 2
        "#,
    ),
    (
        "geo_edges",
        r#"
        GEOADD key:60 179.99 0 a -179.99 0 b 179.5 10 c -179.5 -10 d 0 85 n1 90 85.05 n2 -90 -85 s1 0 0 o 0.0001 0.0001 o2 -0.0001 -0.0001 o3 120 84.9 n3 -120 84.9 n4
        GEORADIUS key:60 179.99 0 50 km WITHDIST ASC
        GEORADIUS key:60 180 0 50 km WITHDIST ASC
        GEORADIUS key:60 -180 0 2000 km WITHDIST ASC
        GEOSEARCH key:60 FROMLONLAT 180 5 BYBOX 3000 3000 km WITHDIST ASC
        GEOSEARCH key:60 FROMLONLAT 0 84 BYRADIUS 1000 km WITHDIST ASC
        GEOSEARCH key:60 FROMLONLAT 0 85.05 BYRADIUS 5000 km WITHDIST ASC
        GEOSEARCH key:60 FROMLONLAT 0 -85.05 BYRADIUS 5000 km WITHDIST ASC
        GEOSEARCH key:60 FROMLONLAT 0 84 BYBOX 2000 2000 km WITHDIST ASC
        GEOSEARCH key:60 FROMLONLAT 0 0 BYRADIUS 20000 km WITHDIST ASC
        GEOSEARCH key:60 FROMLONLAT 0 0 BYRADIUS 40000 km ASC
        GEOSEARCH key:60 FROMLONLAT 0 0 BYBOX 40000 40000 km ASC
        GEOSEARCH key:60 FROMLONLAT 0 0 BYBOX 80000 10 km ASC
        GEOSEARCH key:60 FROMLONLAT 0 0 BYRADIUS 0 m WITHDIST
        GEOSEARCH key:60 FROMLONLAT 0 0 BYRADIUS 20 m WITHDIST ASC
        GEOSEARCH key:60 FROMLONLAT 0 0 BYRADIUS 20 m WITHDIST DESC
        GEOSEARCH key:60 FROMLONLAT 0 0 BYRADIUS 100000000 km ASC COUNT 3
        GEOSEARCH key:60 FROMLONLAT 0 0 BYRADIUS 1e300 km ASC COUNT 3
        GEOSEARCH key:60 FROMLONLAT 0 0 BYRADIUS inf km ASC COUNT 3
        GEOSEARCH key:60 FROMLONLAT 0 0 BYBOX inf 1 km ASC
        GEOSEARCH key:60 FROMMEMBER o BYRADIUS 30 m WITHCOORD WITHHASH WITHDIST
        GEOSEARCH key:60 FROMLONLAT 0 0 BYRADIUS 1 km COUNT 1 ANY DESC
        GEOSEARCH key:60 FROMLONLAT 0 0 BYRADIUS 1 km COUNT 2 ANY WITHDIST
        GEORADIUS key:60 0 0 100 km COUNT 1 ANY
        GEOSEARCH key:60 FROMLONLAT 0 0 BYRADIUS 1 km ANY COUNT 1
        GEOSEARCH key:60 FROMLONLAT 0 0 BYRADIUS 1 km COUNT 1 COUNT 2
        GEOSEARCH key:60 FROMLONLAT 0 0 BYRADIUS 1 km WITHDIST WITHDIST
        GEOSEARCH key:60 FROMLONLAT 0 0 FROMLONLAT 1 1 BYRADIUS 1 km
        GEOSEARCH key:60 FROMLONLAT 0 0 BYRADIUS 1 km BYRADIUS 2 km
        GEOSEARCH key:60 FROMMEMBER o FROMMEMBER o2 BYRADIUS 1 km
        GEOSEARCH key:60 FROMLONLAT 0 0 BYRADIUS 1 KM ASC
        GEOSEARCH key:60 FROMLONLAT 0 0 BYRADIUS 1 Mi ASC
        GEOSEARCHSTORE key:61 key:60 FROMLONLAT 0 0 BYRADIUS 1 km STOREDIST STOREDIST
        ZRANGE key:61 0 -1 WITHSCORES
        GEOSEARCHSTORE key:61 key:60 FROMLONLAT 0 0 BYRADIUS 1 km STORE key:63
        GEORADIUS key:60 0 0 1 km STORE
        GEORADIUS key:60 0 0 1 km STORE key:61 STOREDIST key:62
        EXISTS key:61 key:62
        ZRANGE key:62 0 -1 WITHSCORES
        GEORADIUS key:60 0 0 1 km ANY COUNT 1 STORE key:61
        GEORADIUS key:60 0 0 1 km COUNT 2 WITHDIST STORE key:61
        GEORADIUSBYMEMBER key:60 o 20000 km COUNT 4 DESC WITHDIST
        GEORADIUSBYMEMBER key:60 nosuch key:63 km
        GEORADIUSBYMEMBER key:60 o key:63 km
        GEORADIUSBYMEMBER key:60 o 1 yd
        GEODIST key:60 a b
        GEODIST key:60 n1 s1 km
        GEOPOS key:60 a b n2 s1
        GEOHASH key:60 a b n2 s1 o o2 o3
        GEOADD key:60 -180 0 w1 180 0 w2
        GEOPOS key:60 w1 w2
        GEOHASH key:60 w1 w2
        GEOADD key:60 180.0000001 0 bad
        GEOADD key:60 0 -85.051128781 bad
        GEOADD key:60 1e-320 0 tiny
        GEOPOS key:60 tiny
        ZSCORE key:60 tiny
        "#,
    ),
];

/// Scripts around the encoding limits, and the same commands over both
/// encodings and across cores: built here because their arguments are long.
fn generated() -> Vec<(&'static str, &'static str)> {
    let pairs = |n: usize, prefix: &str| -> String {
        (0..n).map(|i| format!("{} {prefix}{i}", (i * 7) % 13)).collect::<Vec<_>>().join(" ")
    };
    let long = "x".repeat(64);
    let longer = "x".repeat(65);
    let enc = format!(
        r#"
        CONFIG SET zset-max-listpack-entries 128
        CONFIG SET zset-max-listpack-value 64
        ZADD key:1 {p128}
        OBJECT ENCODING key:1
        ZCARD key:1
        ZADD key:1 5 m0
        OBJECT ENCODING key:1
        ZADD key:1 1 m128
        OBJECT ENCODING key:1
        ZCARD key:1
        ZREM key:1 m0 m1 m2 m3
        OBJECT ENCODING key:1
        ZADD key:2 {p129}
        OBJECT ENCODING key:2
        ZADD key:3 1 {long}
        OBJECT ENCODING key:3
        ZADD key:3 1 {longer}
        OBJECT ENCODING key:3
        ZADD key:4 1 {longer}
        OBJECT ENCODING key:4
        ZINCRBY key:5 1 {longer}
        OBJECT ENCODING key:5
        ZUNIONSTORE key:6 2 key:1 key:3
        OBJECT ENCODING key:6
        ZUNIONSTORE key:6 1 key:3
        OBJECT ENCODING key:6
        ZRANGE key:6 0 -1 WITHSCORES
        ZREMRANGEBYRANK key:3 0 0
        OBJECT ENCODING key:3
        ZRANGESTORE key:7 key:1 0 9
        OBJECT ENCODING key:7
        ZRANGESTORE key:7 key:1 0 -1
        OBJECT ENCODING key:7
        ZINTERSTORE key:8 2 key:1 key:2
        OBJECT ENCODING key:8
        ZDIFFSTORE key:9 2 key:1 key:7
        EXISTS key:9
        ZDIFFSTORE key:9 2 key:2 key:7
        OBJECT ENCODING key:9
        ZRANGE key:9 0 -1 WITHSCORES
        ZPOPMIN key:1 120
        OBJECT ENCODING key:1
        CONFIG SET zset-max-listpack-entries 4
        CONFIG SET zset-max-listpack-value 3
        ZADD key:10 1 a 2 b 3 c 4 d
        OBJECT ENCODING key:10
        ZADD key:10 5 e
        OBJECT ENCODING key:10
        ZADD key:11 1 abc
        OBJECT ENCODING key:11
        ZADD key:11 1 abcd
        OBJECT ENCODING key:11
        ZADD key:12 1 a 2 b 3 c 4 d 5 e
        OBJECT ENCODING key:12
        ZUNIONSTORE key:13 1 key:10
        OBJECT ENCODING key:13
        GEOADD key:14 1 1 a 2 2 b 3 3 c 4 4 d 5 5 e
        OBJECT ENCODING key:14
        GEOSEARCHSTORE key:15 key:14 FROMLONLAT 3 3 BYRADIUS 200 km
        OBJECT ENCODING key:15
        GEOSEARCHSTORE key:15 key:14 FROMLONLAT 3 3 BYRADIUS 2000 km
        OBJECT ENCODING key:15
        CONFIG SET zset-max-listpack-entries 0
        ZADD key:16 1 a
        OBJECT ENCODING key:16
        CONFIG SET zset-max-listpack-entries 128
        CONFIG SET zset-max-listpack-value 0
        ZADD key:17 1 a
        OBJECT ENCODING key:17
        ZADD key:17 1 ""
        ZADD key:18 1 ""
        OBJECT ENCODING key:18
        CONFIG SET zset-max-listpack-value 64
        "#,
        p128 = pairs(128, "m"),
        p129 = pairs(129, "n"),
    );
    // The same reads over a compact set and a skiplist of the same contents.
    let mut both =
        String::from("CONFIG SET zset-max-listpack-entries 128\nCONFIG SET zset-max-listpack-value 64\n");
    let members = pairs(100, "m");
    both.push_str(&format!("ZADD key:20 {members}\n"));
    both.push_str(&format!("ZADD key:21 {members} 0 {longer}\nZREM key:21 {longer}\n"));
    both.push_str("OBJECT ENCODING key:20\nOBJECT ENCODING key:21\n");
    for k in ["key:20", "key:21"] {
        for cmd in [
            "ZRANGE {k} 0 -1 WITHSCORES",
            "ZRANGE {k} 10 20",
            "ZRANGE {k} -30 -25 REV WITHSCORES",
            "ZREVRANGE {k} 5 9",
            "ZRANGEBYSCORE {k} 3 (6 WITHSCORES",
            "ZRANGEBYSCORE {k} (3 +inf LIMIT 5 7",
            "ZREVRANGEBYSCORE {k} (10 3 LIMIT 2 4 WITHSCORES",
            "ZREVRANGEBYSCORE {k} +inf -inf LIMIT 95 10",
            "ZRANGE {k} 2 5 BYSCORE REV",
            "ZRANGE {k} 5 2 BYSCORE REV LIMIT 1 3",
            "ZCOUNT {k} 3 (6",
            "ZCOUNT {k} (12 +inf",
            "ZCOUNT {k} 13 +inf",
            "ZRANK {k} m50",
            "ZREVRANK {k} m50",
            "ZRANK {k} m99",
            "ZSCORE {k} m77",
            "ZMSCORE {k} m1 m2 nosuch",
            "ZRANDMEMBER {k} 1000 WITHSCORES",
            "!shape ZRANDMEMBER {k} 60",
            "!shape ZRANDMEMBER {k} 20 WITHSCORES",
            "!shape ZRANDMEMBER {k} -200",
            "!shape ZSCAN {k} 0 COUNT 1000",
            "ZUNION 2 {k} key:22 WITHSCORES",
            "ZINTER 2 {k} key:20 WEIGHTS 2 3 WITHSCORES",
            "ZDIFF 2 {k} key:23",
            "ZINTERCARD 2 {k} key:20 LIMIT 50",
        ] {
            both.push_str(&cmd.replace("{k}", k));
            both.push('\n');
        }
    }
    for k in ["key:20", "key:21"] {
        for cmd in [
            "ZREMRANGEBYSCORE {k} 3 (4",
            "ZREMRANGEBYRANK {k} 10 19",
            "ZRANGE {k} 0 -1 WITHSCORES",
            "ZPOPMIN {k} 3",
            "ZPOPMAX {k} 3",
            "ZMPOP 2 nosuch {k} MAX COUNT 2",
            "ZADD {k} INCR 100 m55",
            "ZADD {k} GT CH 1 m56 200 m57",
            "ZRANGE {k} 0 -1 WITHSCORES",
            "ZCARD {k}",
        ] {
            both.push_str(&cmd.replace("{k}", k));
            both.push('\n');
        }
    }
    // Lexicographical ranges are only defined over members of one score
    // (on a skiplist with mixed scores, Redis's answer depends on its random
    // levels), so they get sets of their own.
    let same = (0..150).map(|i| format!("0 w{i}")).collect::<Vec<_>>().join(" ");
    let same_small = (0..100).map(|i| format!("0 w{i}")).collect::<Vec<_>>().join(" ");
    both.push_str(&format!("ZADD key:24 {same_small}\nZADD key:25 {same}\nZREMRANGEBYRANK key:25 100 -1\n"));
    both.push_str("OBJECT ENCODING key:24\nOBJECT ENCODING key:25\n");
    for k in ["key:24", "key:25"] {
        for cmd in [
            "ZRANGE {k} [w3 (w4 BYLEX",
            "ZRANGE {k} (w3 [w4 BYLEX",
            "ZRANGE {k} [w4 (w3 BYLEX REV",
            "ZRANGE {k} + - BYLEX REV LIMIT 5 10",
            "ZRANGEBYLEX {k} - + LIMIT 10 5",
            "ZRANGEBYLEX {k} (w50 + LIMIT 0 -1",
            "ZRANGEBYLEX {k} [w9 + LIMIT 3 3",
            "ZREVRANGEBYLEX {k} + - LIMIT 10 5",
            "ZREVRANGEBYLEX {k} (w50 - LIMIT 1 2",
            "ZREVRANGEBYLEX {k} [w1 [w0",
            "ZLEXCOUNT {k} - +",
            "ZLEXCOUNT {k} [w2 (w3",
            "ZLEXCOUNT {k} (w99 +",
            "ZLEXCOUNT {k} [x +",
            "ZRANGESTORE key:26 {k} [w5 [w6 BYLEX",
            "ZRANGE key:26 0 -1 WITHSCORES",
            "ZREMRANGEBYLEX {k} [w5 (w6",
            "ZREMRANGEBYLEX {k} (w90 +",
            "ZREMRANGEBYLEX {k} - [w1",
            "ZRANGE {k} 0 -1",
            "ZCARD {k}",
        ] {
            both.push_str(&cmd.replace("{k}", k));
            both.push('\n');
        }
    }
    // Geo: a grid of points, and searches of every size over it.
    let mut grid = String::from("GEOADD key:30");
    for i in 0..15 {
        for j in 0..15 {
            let lon = -3.0 + i as f64 * 0.37;
            let lat = 40.0 + j as f64 * 0.29;
            grid.push_str(&format!(" {lon:.4} {lat:.4} p{i}_{j}"));
        }
    }
    let mut geo = format!("{grid}\nZRANGE key:30 0 -1 WITHSCORES\nOBJECT ENCODING key:30\n");
    for (lon, lat) in [(-1.5, 42.0), (0.0, 41.0), (2.2, 44.1)] {
        for r in ["1 km", "30 km", "100 km", "250 km", "1000 km", "20 mi", "50000 ft"] {
            geo.push_str(&format!("GEORADIUS key:30 {lon} {lat} {r} WITHDIST ASC\n"));
            geo.push_str(&format!("GEOSEARCH key:30 FROMLONLAT {lon} {lat} BYRADIUS {r} WITHCOORD\n"));
        }
        for b in ["10 10 km", "100 50 km", "50 100 km", "400 300 km", "30 30 mi"] {
            geo.push_str(&format!("GEOSEARCH key:30 FROMLONLAT {lon} {lat} BYBOX {b} WITHDIST DESC\n"));
            geo.push_str(&format!("GEOSEARCH key:30 FROMLONLAT {lon} {lat} BYBOX {b} COUNT 5 ANY\n"));
        }
    }
    geo.push_str("GEORADIUSBYMEMBER key:30 p7_7 60 km WITHDIST WITHHASH ASC COUNT 10\n");
    geo.push_str("GEOSEARCHSTORE key:31 key:30 FROMMEMBER p3_3 BYBOX 120 80 km STOREDIST\n");
    geo.push_str("ZRANGE key:31 0 -1 WITHSCORES\nOBJECT ENCODING key:31\n");
    geo.push_str("GEOSEARCHSTORE key:32 key:30 FROMMEMBER p3_3 BYRADIUS 70 km\n");
    geo.push_str("ZRANGE key:32 0 -1 WITHSCORES\n");
    geo.push_str(
        "GEODIST key:30 p0_0 p14_14 km\nGEOHASH key:30 p0_0 p14_14 p5_9\nGEOPOS key:30 p0_0 p14_14 p5_9\n",
    );
    vec![("encodings", leak(enc)), ("both_encodings", leak(both)), ("geo_grid", leak(geo))]
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
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
    basics => 2, BASICS;
    ranges => 2, RANGES;
    multikey => 2, MULTIKEY;
    geo => 2, GEO;
    basics_4_cores => 4, BASICS;
    ranges_4_cores => 4, RANGES;
    multikey_4_cores => 4, MULTIKEY;
    geo_4_cores => 4, GEO;
}

#[test]
fn generated_scripts() {
    run_group(2, &generated());
}

#[test]
fn generated_scripts_4_cores() {
    run_group(4, &generated());
}
