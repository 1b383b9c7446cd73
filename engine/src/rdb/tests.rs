//! Round trips of every type and encoding, payloads redis-server 7.0 wrote,
//! the older encodings built by hand, and malformed input.

use super::listpack::LpWriter;
use super::*;
use crate::types::stream::{NodeLimits, StreamId};
use crate::types::{Hash, List, Set, Stream, ZSet};
use crate::value::Str;
use proptest::prelude::*;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

/// Seals an object into a payload (version 10 and the checksum).
fn seal(object: &[u8]) -> Vec<u8> {
    let mut p = object.to_vec();
    p.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64::crc64(0, &p);
    p.extend_from_slice(&crc.to_le_bytes());
    p
}

/// What a stream holds, whatever its node layout and consumer slots:
/// the live entries, the counters, and each group's state by name.
#[allow(clippy::type_complexity)]
fn stream_content(s: &Stream) -> String {
    let log = s.log();
    let mut out = format!(
        "len={} last={:?} first={:?} maxdel={:?} added={}\n",
        log.len(),
        log.last_id,
        log.first_id,
        log.max_deleted_id,
        log.entries_added
    );
    for e in log.range(StreamId::MIN, StreamId::MAX, false) {
        let fields: Vec<(Vec<u8>, Vec<u8>)> = e.fields().map(|(f, v)| (f.to_vec(), v.to_vec())).collect();
        out += &format!("{:?} {:?}\n", e.id, fields);
    }
    for (name, g) in s.groups() {
        out += &format!("group {name:?} {:?} {:?}\n", g.last_id, g.entries_read);
        for (id, n) in g.pending() {
            let owner = &g.consumer(n.consumer()).name;
            out += &format!("  pel {id:?} {} {} {owner:?}\n", n.delivery_time, n.delivery_count);
        }
        for c in g.consumers() {
            out += &format!("  consumer {:?} {} {:?}\n", c.name, c.seen_time, c.pending());
        }
    }
    out
}

/// Equal values; streams compared by content (see [`stream_content`]).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Stream(x), Value::Stream(y)) => stream_content(x) == stream_content(y),
        _ => a == b,
    }
}

fn round_trip(v: &Value) -> Value {
    let p = dump_value(v);
    let back = restore_value(&p).unwrap_or_else(|e| panic!("{e} restoring {v:?}"));
    assert!(same(&back, v), "{back:?} != {v:?}");
    // Dumping what was restored gives the same bytes again.
    assert_eq!(dump_value(&back), p);
    back
}

fn list(items: &[&[u8]]) -> Value {
    Value::List(Box::new(items.iter().copied().collect::<List>()))
}

fn set(items: &[&[u8]]) -> Value {
    let mut s = Set::new();
    for m in items {
        s.insert(m, 512);
    }
    Value::Set(Box::new(s))
}

fn hash(pairs: &[(&[u8], &[u8])]) -> Value {
    let mut h = Hash::new();
    for (f, v) in pairs {
        h.set(f, v, LoadLimits::default().hash);
    }
    Value::Hash(Box::new(h))
}

fn zset(entries: &[(&[u8], f64)]) -> Value {
    let e = entries.iter().map(|(m, s)| (m.to_vec(), *s)).collect();
    Value::ZSet(Box::new(ZSet::from_entries(e, LoadLimits::default().zset)))
}

fn strs(v: &Value) -> Vec<Vec<u8>> {
    match v {
        Value::List(l) => l.iter().map(|e| e.to_vec()).collect(),
        _ => panic!("not a list"),
    }
}

#[test]
fn rdb_type_numbers_never_change() {
    let golden: &[(RdbType, u8)] = &[
        (RdbType::String, 0),
        (RdbType::List, 1),
        (RdbType::Set, 2),
        (RdbType::ZSet, 3),
        (RdbType::Hash, 4),
        (RdbType::ZSet2, 5),
        (RdbType::Module, 6),
        (RdbType::Module2, 7),
        (RdbType::HashZipmap, 9),
        (RdbType::ListZiplist, 10),
        (RdbType::SetIntset, 11),
        (RdbType::ZSetZiplist, 12),
        (RdbType::HashZiplist, 13),
        (RdbType::ListQuicklist, 14),
        (RdbType::StreamListpacks, 15),
        (RdbType::HashListpack, 16),
        (RdbType::ZSetListpack, 17),
        (RdbType::ListQuicklist2, 18),
        (RdbType::StreamListpacks2, 19),
    ];
    for &(t, n) in golden {
        assert_eq!(t as u8, n);
        assert_eq!(RdbType::from_u8(n), Some(t));
    }
    assert_eq!(RdbType::from_u8(8), None);
    assert_eq!(RdbType::from_u8(20), None);
}

#[test]
fn strings_round_trip_in_every_encoding() {
    let long = b"abcdefgh".repeat(100);
    let noise: Vec<u8> = (0..300u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8).collect();
    for s in [
        &b""[..],
        b"0",
        b"-1",
        b"127",
        b"-128",
        b"128",
        b"32767",
        b"-32769",
        b"2147483647",
        b"-2147483648",
        b"2147483648",
        b"9223372036854775807",
        b"-9223372036854775808",
        b"007",
        b"hello",
        b"x\x00y\r\n",
        &[b'z'; 45],
        &long,
        &noise,
    ] {
        let v = Value::string(s);
        let back = round_trip(&v);
        assert_eq!(back.as_str().unwrap().to_vec(), s);
        assert_eq!(back.encoding(), v.encoding());
    }
    // A raw string that reads as an integer comes back integer-encoded, as in Redis.
    let raw = Value::Str(Str::raw(b"42".to_vec()));
    assert_eq!(restore_value(&dump_value(&raw)).unwrap().encoding(), "int");
}

#[test]
fn string_encodings_are_redis_bytes() {
    let obj = |v: &Value| {
        let p = dump_value(v);
        p[..p.len() - 10].to_vec()
    };
    assert_eq!(obj(&Value::string(b"12345")), [0, 0xC1, 0x39, 0x30]);
    assert_eq!(obj(&Value::string(b"-3")), [0, 0xC0, 0xFD]);
    assert_eq!(obj(&Value::string(b"9999999999")), hex("000a39393939393939393939"));
    assert_eq!(obj(&Value::string(b"hello")), hex("000568656c6c6f"));
}

#[test]
fn payloads_written_by_redis_7_0() {
    // DUMP output of redis-server 7.0.15 (default configuration).
    let cases: &[(&str, Value)] = &[
        (
            "120102121200000004008161020101dffb02c12c02ff0a00d8c6918441c94000",
            list(&[b"a", b"1", b"-5", b"300"]),
        ),
        ("000568656c6c6f0a006372df766534200a", Value::string(b"hello")),
        ("00c139300a009d94ea2793fc08b9", Value::string(b"12345")),
        ("000a393939393939393939390a00d26ac299df53efd2", Value::string(b"9999999999")),
        ("00c3094053016161e046000161610a003e7a0013aa0dd1d9", Value::string(&[b'a'; 83])),
        ("1012120000000400816602817602816e020701ff0a00b82adea8407ffaa8", hash(&[(b"f", b"v"), (b"n", b"7")])),
        ("0b0e02000000030000000100020003000a00a5025ce26d6e4d1b", set(&[b"1", b"2", b"3"])),
        ("020101610a006296e97e44d21a6d", set(&[b"a"])),
        (
            "1114140000000400816102010181620283322e3504ff0a00d44c6ea4f644d9d7",
            zset(&[(b"a", 1.0), (b"b", 2.5)]),
        ),
    ];
    for (payload, want) in cases {
        let got = restore_value(&hex(payload)).unwrap_or_else(|e| panic!("{e}: {payload}"));
        assert_eq!(&got, want, "{payload}");
    }
    // The list, hash, intset and compact sorted set encode to Redis's very bytes.
    for i in [0, 5, 6, 8] {
        assert_eq!(dump_value(&cases[i].1), hex(cases[i].0), "case {i}");
    }

    // XADD x 1-1 f v; XADD x 1-2 f w g z; XGROUP CREATE x g 0;
    // XREADGROUP GROUP g alice COUNT 1 STREAMS x >
    let x = hex(
        "1301100000000000000001000000000000000133330000001300020100010101816602000102010001000181760204010001000101010201816602817702816702817a020801ff0201020101000002010167010101010000000000000001000000000000000184690809a2010000010105616c69636584690809a201000001000000000000000100000000000000010a00114d2f12759e8213",
    );
    let Value::Stream(s) = restore_value(&x).unwrap() else { panic!("not a stream") };
    let log = s.log();
    assert_eq!(log.len(), 2);
    assert_eq!(log.last_id, StreamId::new(1, 2));
    assert_eq!(log.first_id, StreamId::new(1, 1));
    assert_eq!(log.entries_added, 2);
    type Fields = Vec<(Vec<u8>, Vec<u8>)>;
    let entries: Vec<(StreamId, Fields)> = log
        .range(StreamId::MIN, StreamId::MAX, false)
        .map(|e| (e.id, e.fields().map(|(f, v)| (f.to_vec(), v.to_vec())).collect()))
        .collect();
    assert_eq!(
        entries,
        vec![
            (StreamId::new(1, 1), vec![(b"f".to_vec(), b"v".to_vec())]),
            (StreamId::new(1, 2), vec![(b"f".to_vec(), b"w".to_vec()), (b"g".to_vec(), b"z".to_vec())]),
        ]
    );
    let g = s.group(b"g").unwrap();
    assert_eq!(g.last_id, StreamId::new(1, 1));
    assert_eq!(g.entries_read, Some(1));
    assert_eq!(g.pending().len(), 1);
    let (id, nack) = g.pending().iter().next().unwrap();
    assert_eq!(*id, StreamId::new(1, 1));
    assert_eq!(nack.delivery_count, 1);
    assert_eq!(g.consumer(nack.consumer()).name.as_ref(), b"alice");
    // And Shoal's DUMP of it restores to the same stream.
    round_trip(&Value::Stream(s));
}

#[test]
fn lists_round_trip() {
    round_trip(&list(&[b"a"]));
    round_trip(&list(&[b"", b"0", b"-1", b"1000000", b"9223372036854775807", b"x y z"]));
    // Many nodes, and elements too large to share one.
    let many: Vec<Vec<u8>> = (0..5000).map(|i| format!("element-{i}").into_bytes()).collect();
    let refs: Vec<&[u8]> = many.iter().map(|e| &e[..]).collect();
    let v = round_trip(&list(&refs));
    assert_eq!(strs(&v), many);
    let big = vec![b'q'; 20000];
    let v = round_trip(&list(&[b"a", &big, b"b", &big]));
    assert_eq!(strs(&v)[1], big);
}

#[test]
fn sets_round_trip_as_intset_or_table() {
    for members in [
        vec![&b"1"[..]],
        vec![b"-5", b"0", b"70000", b"-9223372036854775808", b"9223372036854775807"],
        vec![b"a", b"b", b"1"],
    ] {
        let v = round_trip(&set(&members));
        assert_eq!(v.encoding(), set(&members).encoding());
    }
    let ints: Vec<Vec<u8>> = (0..2000).map(|i| (i * 7).to_string().into_bytes()).collect();
    let refs: Vec<&[u8]> = ints.iter().map(|e| &e[..]).collect();
    let mut big = Set::new();
    for m in &refs {
        big.insert(m, 512);
    }
    let v = round_trip(&Value::Set(Box::new(big)));
    assert_eq!(v.encoding(), "hashtable");
    // An intset past set-max-intset-entries converts on load.
    let small = LoadLimits { set_max_intset_entries: 2, ..LoadLimits::default() };
    let p = dump_value(&set(&[b"1", b"2", b"3"]));
    assert_eq!(restore_value_with(&p, &small).unwrap().encoding(), "hashtable");
}

#[test]
fn hashes_round_trip_in_both_encodings() {
    let v = round_trip(&hash(&[(b"f", b"v"), (b"1", b"2"), (b"-7", b""), (b"long", &[b'x'; 60])]));
    assert_eq!(v.encoding(), "listpack");
    let v = round_trip(&hash(&[(b"f", b"v"), (b"big", &[b'x'; 100])]));
    assert_eq!(v.encoding(), "hashtable");
    let fields: Vec<(Vec<u8>, Vec<u8>)> =
        (0..1000).map(|i| (format!("field:{i}").into_bytes(), i.to_string().into_bytes())).collect();
    let refs: Vec<(&[u8], &[u8])> = fields.iter().map(|(f, v)| (&f[..], &v[..])).collect();
    let v = round_trip(&hash(&refs));
    assert_eq!(v.encoding(), "hashtable");
    // A listpack hash with more fields than the limit converts on load.
    let few = LoadLimits { hash: hash::Limits { entries: 1, value: 64 }, ..LoadLimits::default() };
    let p = dump_value(&hash(&[(b"a", b"1"), (b"b", b"2")]));
    assert_eq!(restore_value_with(&p, &few).unwrap().encoding(), "hashtable");
}

#[test]
fn sorted_sets_round_trip_in_both_encodings() {
    let entries: &[(&[u8], f64)] = &[
        (b"a", 1.0),
        (b"b", 2.5),
        (b"c", -0.1),
        (b"d", f64::INFINITY),
        (b"e", f64::NEG_INFINITY),
        (b"f", 1e300),
        (b"g", 4611686018427387904.0),
        (b"h", -3.0),
        (b"123", 0.0),
    ];
    let v = round_trip(&zset(entries));
    assert_eq!(v.encoding(), "listpack");
    let Value::ZSet(z) = &v else { unreachable!() };
    assert_eq!(z.score(b"g"), Some(4611686018427387904.0));
    assert_eq!(z.score(b"c"), Some(-0.1));
    let many: Vec<(Vec<u8>, f64)> =
        (0..1000).map(|i| (format!("m{i}").into_bytes(), i as f64 / 3.0)).collect();
    let refs: Vec<(&[u8], f64)> = many.iter().map(|(m, s)| (&m[..], *s)).collect();
    let v = round_trip(&zset(&refs));
    assert_eq!(v.encoding(), "skiplist");
    let Value::ZSet(z) = &v else { unreachable!() };
    assert_eq!(z.score(b"m999"), Some(333.0));
}

fn stream_with(entries: usize, groups: bool) -> Stream {
    let mut s = Stream::new();
    for i in 0..entries as u64 {
        let v = i.to_string();
        let pairs: Vec<&[u8]> = if i % 7 == 3 {
            vec![b"other", v.as_bytes()]
        } else {
            vec![b"name", b"sensor-1", b"value", v.as_bytes()]
        };
        s.log_mut().append(StreamId::new(1000 + i / 3, i % 3), &pairs, NodeLimits::default());
    }
    if groups {
        assert!(s.create_group(b"g1", StreamId::new(1001, 0), Some(4)));
        assert!(s.create_group(b"g2", StreamId::MIN, None));
        let g = s.group_mut(b"g1").unwrap();
        let alice = g.create_consumer(b"alice", 111).unwrap();
        let bob = g.create_consumer(b"bob", 222).unwrap();
        g.create_consumer(b"idle", 333).unwrap();
        g.set_pending(StreamId::new(1000, 0), alice, 5000, 2);
        g.set_pending(StreamId::new(1000, 1), bob, 6000, 1);
        g.set_pending(StreamId::new(1000, 2), alice, 7000, 9);
    }
    s
}

#[test]
fn streams_round_trip_with_groups() {
    round_trip(&Value::Stream(Box::new(Stream::new())));
    round_trip(&Value::Stream(Box::new(stream_with(1, false))));
    round_trip(&Value::Stream(Box::new(stream_with(1000, true))));
    // Deleted entries and moved counters.
    let mut s = stream_with(300, true);
    assert!(s.log_mut().delete(StreamId::new(1000, 1)));
    assert!(s.log_mut().delete(StreamId::new(1099, 2)));
    s.log_mut().last_id = StreamId::new(5000, 0);
    s.log_mut().max_deleted_id = StreamId::new(1099, 2);
    let back = round_trip(&Value::Stream(Box::new(s.clone())));
    let Value::Stream(b) = back else { unreachable!() };
    assert_eq!(b.log().len(), 298);
    assert_eq!(b.log().last_id, StreamId::new(5000, 0));
    assert_eq!(b.log().max_deleted_id, StreamId::new(1099, 2));
    assert_eq!(b.log().entries_added, 300);
}

/// The object part of a payload built by hand.
fn object(t: RdbType, body: &[u8]) -> Vec<u8> {
    let mut o = vec![t as u8];
    o.extend_from_slice(body);
    o
}

fn rdb_string(s: &[u8]) -> Vec<u8> {
    let mut o = Vec::new();
    encode::put_len(&mut o, s.len() as u64);
    o.extend_from_slice(s);
    o
}

/// A ziplist of strings and small integers, laid out as Redis does.
fn ziplist(items: &[&[u8]]) -> Vec<u8> {
    let mut body = Vec::new();
    let (mut prev, mut tail) = (0usize, 10usize);
    for it in items {
        tail = 10 + body.len();
        let start = body.len();
        body.push(prev as u8);
        match crate::num::parse_i64(it) {
            Some(n) if (0..=12).contains(&n) => body.push(0xF1 + n as u8),
            Some(n) if i8::try_from(n).is_ok() => body.extend_from_slice(&[0xFE, n as i8 as u8]),
            _ => {
                body.push(it.len() as u8);
                body.extend_from_slice(it);
            }
        }
        prev = body.len() - start;
    }
    let mut zl = Vec::new();
    zl.extend_from_slice(&((10 + body.len() + 1) as u32).to_le_bytes());
    zl.extend_from_slice(&(tail as u32).to_le_bytes());
    zl.extend_from_slice(&(items.len() as u16).to_le_bytes());
    zl.extend_from_slice(&body);
    zl.push(0xFF);
    zl
}

fn load(o: &[u8]) -> Result<Value, RdbError> {
    restore_value(&seal(o))
}

#[test]
fn older_encodings_load() {
    // RDB_TYPE_LIST: a count and the strings, one of them integer-encoded.
    let mut body = vec![3];
    body.extend(rdb_string(b"a"));
    body.extend([0xC0, 0x05]);
    body.extend(rdb_string(b"c"));
    assert_eq!(load(&object(RdbType::List, &body)).unwrap(), list(&[b"a", b"5", b"c"]));
    // RDB_TYPE_LIST_ZIPLIST.
    let zl = ziplist(&[b"x", b"7", b"-100", b"yy"]);
    let v = load(&object(RdbType::ListZiplist, &rdb_string(&zl))).unwrap();
    assert_eq!(v, list(&[b"x", b"7", b"-100", b"yy"]));
    // RDB_TYPE_LIST_QUICKLIST: ziplist nodes (an empty one is skipped).
    let mut body = vec![3];
    body.extend(rdb_string(&ziplist(&[b"a", b"b"])));
    body.extend(rdb_string(&ziplist(&[])));
    body.extend(rdb_string(&ziplist(&[b"1"])));
    let v = load(&object(RdbType::ListQuicklist, &body)).unwrap();
    assert_eq!(v, list(&[b"a", b"b", b"1"]));
    // RDB_TYPE_LIST_QUICKLIST_2 with a plain node between listpack nodes.
    let mut lp = LpWriter::new();
    lp.push(b"p");
    let lp = lp.finish();
    let mut body = vec![3, 2];
    body.extend(rdb_string(&lp));
    body.push(1);
    body.extend(rdb_string(b"plain element"));
    body.push(2);
    body.extend(rdb_string(&lp));
    let v = load(&object(RdbType::ListQuicklist2, &body)).unwrap();
    assert_eq!(v, list(&[b"p", b"plain element", b"p"]));
    // RDB_TYPE_ZSET: text scores.
    let mut body = vec![3];
    body.extend(rdb_string(b"a"));
    body.extend(rdb_string(b"1.5"));
    body.extend(rdb_string(b"b"));
    body.push(254);
    body.extend(rdb_string(b"c"));
    body.push(255);
    let v = load(&object(RdbType::ZSet, &body)).unwrap();
    assert_eq!(v, zset(&[(b"a", 1.5), (b"b", f64::INFINITY), (b"c", f64::NEG_INFINITY)]));
    // RDB_TYPE_ZSET_ZIPLIST and RDB_TYPE_HASH_ZIPLIST.
    let zl = ziplist(&[b"m", b"3", b"n", b"2.25"]);
    let v = load(&object(RdbType::ZSetZiplist, &rdb_string(&zl))).unwrap();
    assert_eq!(v, zset(&[(b"m", 3.0), (b"n", 2.25)]));
    let zl = ziplist(&[b"f", b"v", b"1", b"-3"]);
    let v = load(&object(RdbType::HashZiplist, &rdb_string(&zl))).unwrap();
    assert_eq!(v, hash(&[(b"f", b"v"), (b"1", b"-3")]));
    // RDB_TYPE_HASH_ZIPMAP.
    let zm = b"\x02\x03foo\x03\x00bar\x05hello\x05\x00world\xff";
    let v = load(&object(RdbType::HashZipmap, &rdb_string(zm))).unwrap();
    assert_eq!(v, hash(&[(b"foo", b"bar"), (b"hello", b"world")]));
    // RDB_TYPE_HASH and RDB_TYPE_SET.
    let mut body = vec![1];
    body.extend(rdb_string(b"f"));
    body.extend(rdb_string(b"v"));
    assert_eq!(load(&object(RdbType::Hash, &body)).unwrap(), hash(&[(b"f", b"v")]));
    let mut body = vec![2, 0xC0, 0x07];
    body.extend(rdb_string(b"9"));
    assert_eq!(load(&object(RdbType::Set, &body)).unwrap(), set(&[b"7", b"9"]));
}

#[test]
fn version_one_streams_load() {
    // RDB_TYPE_STREAM_LISTPACKS: no first ID, tombstone ID, entries-added or
    // group read counters; they are worked out on load.
    let mut v2 = dump_value(&Value::Stream(Box::new(stream_with(5, false))));
    v2.truncate(v2.len() - 10);
    // Rebuild the metadata in the version 1 layout: length, last ID, groups.
    let mut r = Reader::new(&v2[1..]);
    let nodes = r.length().unwrap();
    for _ in 0..2 * nodes {
        r.string().unwrap();
    }
    let nodes_end = 1 + r.position();
    let mut v1 = vec![RdbType::StreamListpacks as u8];
    v1.extend_from_slice(&v2[1..nodes_end]);
    encode::put_len(&mut v1, 5);
    encode::put_len(&mut v1, 1001);
    encode::put_len(&mut v1, 1);
    v1.push(1);
    v1.extend(rdb_string(b"grp"));
    encode::put_len(&mut v1, 1000);
    encode::put_len(&mut v1, 0);
    v1.extend([0, 0]);
    let Value::Stream(s) = load(&v1).unwrap() else { panic!() };
    assert_eq!(s.log().len(), 5);
    assert_eq!(s.log().entries_added, 5);
    assert_eq!(s.log().first_id, StreamId::new(1000, 0));
    assert_eq!(s.group(b"grp").unwrap().entries_read, Some(1));
}

#[test]
fn malformed_values_are_bad_data_format() {
    let bad = |o: &[u8]| match load(o) {
        Err(RdbError::BadFormat(_)) => {}
        other => panic!("{other:?} for {o:?}"),
    };
    bad(&[]);
    bad(&[RdbType::Module2 as u8, 1]);
    bad(&[42]);
    bad(&object(RdbType::String, &[0x20, b'a']));
    bad(&object(RdbType::List, &[0]));
    bad(&object(RdbType::Set, &[0]));
    bad(&object(RdbType::ListQuicklist2, &[1, 3]));
    bad(&object(RdbType::String, &[0xC3, 10, 200]));
    bad(&object(RdbType::String, &[0xC4]));
    bad(&object(RdbType::String, &[0x81, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
    let mut dup = vec![2];
    dup.extend(rdb_string(b"a"));
    dup.extend(rdb_string(b"a"));
    bad(&object(RdbType::Set, &dup));
    let mut dup = vec![2];
    for _ in 0..2 {
        dup.extend(rdb_string(b"f"));
        dup.extend(rdb_string(b"v"));
    }
    bad(&object(RdbType::Hash, &dup));
    let mut nan = vec![1];
    nan.extend(rdb_string(b"m"));
    nan.extend(f64::NAN.to_le_bytes());
    bad(&object(RdbType::ZSet2, &nan));
    let mut dup = vec![2];
    for _ in 0..2 {
        dup.extend(rdb_string(b"m"));
        dup.extend(1.0f64.to_le_bytes());
    }
    bad(&object(RdbType::ZSet2, &dup));
    bad(&object(RdbType::HashListpack, &rdb_string(&LpWriter::new().finish())));
    let mut odd = LpWriter::new();
    odd.push(b"f");
    bad(&object(RdbType::HashListpack, &rdb_string(&odd.finish())));
    // A huge count with nothing behind it is refused before allocating.
    bad(&object(RdbType::List, &[0x81, 0, 0, 0x10, 0, 0, 0, 0, 0]));
}

#[test]
fn footer_errors() {
    let p = dump_value(&Value::string(b"v"));
    assert_eq!(restore_value(&p[..9]), Err(RdbError::VersionOrChecksum));
    let mut flipped = p.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 0x80;
    assert_eq!(restore_value(&flipped), Err(RdbError::VersionOrChecksum));
    // An older version is fine; a newer one is not.
    let mut o = p[..p.len() - 10].to_vec();
    o.extend_from_slice(&9u16.to_le_bytes());
    let crc = crc64::crc64(0, &o);
    o.extend_from_slice(&crc.to_le_bytes());
    assert!(restore_value(&o).is_ok());
    let mut o = p[..p.len() - 10].to_vec();
    o.extend_from_slice(&11u16.to_le_bytes());
    let crc = crc64::crc64(0, &o);
    o.extend_from_slice(&crc.to_le_bytes());
    assert_eq!(restore_value(&o), Err(RdbError::VersionOrChecksum));
    assert_eq!(
        RdbError::VersionOrChecksum.cmd_error().line(),
        "ERR DUMP payload version or checksum are wrong"
    );
    assert_eq!(RdbError::BadFormat("x").cmd_error().line(), "ERR Bad data format");
}

/// Payloads of every type to mutate.
fn samples() -> Vec<Vec<u8>> {
    let many: Vec<Vec<u8>> = (0..300).map(|i| format!("e{i}").into_bytes()).collect();
    let refs: Vec<&[u8]> = many.iter().map(|e| &e[..]).collect();
    let pairs: Vec<(&[u8], &[u8])> = refs.iter().map(|e| (*e, *e)).collect();
    let scored: Vec<(&[u8], f64)> = refs.iter().enumerate().map(|(i, e)| (*e, i as f64 * 0.5)).collect();
    [
        Value::string(b"12345"),
        Value::string(&b"compress me ".repeat(10)),
        list(&[b"a", b"1", b"-5", b"300"]),
        list(&refs),
        set(&[b"1", b"2", b"3"]),
        set(&[b"a", b"b"]),
        hash(&[(b"f", b"v"), (b"n", b"7")]),
        hash(&pairs),
        zset(&[(b"a", 1.0), (b"b", 2.5)]),
        zset(&scored),
        Value::Stream(Box::new(stream_with(20, true))),
    ]
    .iter()
    .map(|v| {
        let p = dump_value(v);
        p[..p.len() - 10].to_vec()
    })
    .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(t in 0u8..22, body in proptest::collection::vec(any::<u8>(), 0..200)) {
        let mut o = vec![t];
        o.extend(body);
        let _ = load(&o);
    }

    #[test]
    fn mutated_payloads_never_panic(
        which in 0usize..11,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..4), 1..6),
    ) {
        let samples = samples();
        let mut o = samples[which].clone();
        for (at, byte, kind) in edits {
            if o.is_empty() {
                break;
            }
            let i = at.index(o.len());
            match kind {
                0 => o[i] = byte,
                1 => o[i] ^= 1 << (byte % 8),
                2 => o.truncate(i),
                _ => o.insert(i, byte),
            }
        }
        if let Ok(v) = load(&o) {
            // Whatever loads must dump and load again to the same value.
            prop_assert!(same(&restore_value(&dump_value(&v)).unwrap(), &v));
        }
    }
}

/// Large values of every encoding that is written in steps, with elements
/// of varied sizes (integers, short and long strings, a few huge ones).
fn large_values() -> Vec<Value> {
    let elem = |i: usize| -> Vec<u8> {
        match i % 5 {
            0 => (i as i64 * 7919 - 50_000).to_string().into_bytes(),
            1 => format!("e{i}").into_bytes(),
            2 => vec![b'a' + (i % 26) as u8; 60 + i % 100],
            3 => vec![b'x'; 3000 + i % 2000],
            _ => format!("{}", i * 1_000_003).into_bytes(),
        }
    };
    let items: Vec<Vec<u8>> = (0..20_000).map(elem).collect();
    let refs: Vec<&[u8]> = items.iter().map(|v| &v[..]).collect();
    let pairs: Vec<(Vec<u8>, Vec<u8>)> =
        (0..20_000).map(|i| (format!("f{i}").into_bytes(), elem(i))).collect();
    let pair_refs: Vec<(&[u8], &[u8])> = pairs.iter().map(|(f, v)| (&f[..], &v[..])).collect();
    let scored: Vec<(Vec<u8>, f64)> =
        (0..20_000).map(|i| (format!("m{i}").into_bytes(), (i % 977) as f64 / 3.0)).collect();
    let scored_refs: Vec<(&[u8], f64)> = scored.iter().map(|(m, s)| (&m[..], *s)).collect();
    let distinct: Vec<Vec<u8>> = (0..20_000)
        .map(|i| format!("{i}-{}", String::from_utf8_lossy(&elem(i))))
        .map(String::into_bytes)
        .collect();
    let distinct_refs: Vec<&[u8]> = distinct.iter().map(|v| &v[..]).collect();
    vec![
        list(&refs),
        set(&distinct_refs),
        hash(&pair_refs),
        zset(&scored_refs),
        Value::Stream(Box::new(stream_with(20_000, true))),
    ]
}

#[test]
fn stepped_writes_give_the_same_bytes() {
    for v in large_values() {
        let mut whole = Vec::new();
        write_object(&v, &mut whole);
        for budget in [1, 100, 8192, 1 << 20] {
            let mut w = ObjectWriter::new();
            let mut out = Vec::new();
            let mut steps = 0;
            while !w.step(&v, &mut out, budget) {
                steps += 1;
                assert!(steps < 10_000_000, "no progress");
            }
            assert!(out == whole, "{} with budget {budget} differs", v.type_name());
            if budget <= 8192 {
                assert!(steps > 10, "{} written in {steps} steps of {budget}", v.type_name());
            }
        }
    }
}

#[test]
fn rdb_files_round_trip() {
    use super::file::{load, RdbWriter};
    let values = large_values();
    let small = [Value::Str(Str::Int(42)), list(&[b"a", b"1"]), hash(&[(b"f", b"v")])];
    let mut w = RdbWriter::new(&[("redis-ver", b"7.0.15"), ("redis-bits", b"64")]);
    let mut pieces = Vec::new();
    w.select_db(0, small.len() as u64, 1);
    for (i, v) in small.iter().enumerate() {
        w.key(format!("small{i}").as_bytes(), v, (i == 1).then_some(1_900_000_000_000));
    }
    w.select_db(3, values.len() as u64, 0);
    for (i, v) in values.iter().enumerate() {
        // Large values in steps, the file taken piece by piece meanwhile.
        w.expiry(None);
        let mut o = ObjectWriter::keyed(format!("large{i}").as_bytes());
        while !o.step(v, w.out(), 4096) {
            pieces.push(w.take());
        }
    }
    pieces.push(w.finish());
    let file = pieces.concat();
    assert!(file.starts_with(b"REDIS0010\xfa"));
    let mut got = Vec::new();
    let aux = load(&file, &LoadLimits::default(), |k| got.push(k)).unwrap().aux;
    assert_eq!(aux[0], (b"redis-ver".to_vec(), b"7.0.15".to_vec()));
    assert_eq!(got.len(), small.len() + values.len());
    for (k, v) in got.iter().zip(small.iter().chain(&values)) {
        assert!(same(&k.value, v), "{}", String::from_utf8_lossy(&k.key));
    }
    assert_eq!((got[1].db, got[1].expire_at), (0, Some(1_900_000_000_000)));
    assert_eq!((got[4].db, &got[4].key[..], got[4].expire_at), (3, &b"large1"[..], None));
    // A damaged byte fails the checksum; a file cut short fails to parse.
    let mut bad = file.clone();
    bad[20] ^= 1;
    assert!(load(&bad, &LoadLimits::default(), |_| {}).is_err());
    assert!(load(&file[..file.len() - 20], &LoadLimits::default(), |_| {}).is_err());
    assert!(load(b"REDIS0011\xff", &LoadLimits::default(), |_| {}).is_err());
}
