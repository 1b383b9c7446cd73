//! What each test sends. The commands and key names are redis-benchmark 7.0's,
//! so figures from the two tools describe the same work. Each command is
//! encoded once, at start, as a template; a request is a copy of its template
//! with the key numbers (and, for MSET on a cluster, the hash tag) written
//! over placeholders, so it costs no allocation and no formatting.

use std::ops::Range;

use crate::keys::{keyslot, put_digits, DIGITS, SLOTS, TAG_LEN};

/// The tests, named as redis-benchmark's `-t` names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Test {
    Set,
    Get,
    /// SET and GET in the ratio of `--ratio`.
    Mix,
    Incr,
    Lpush,
    Lpop,
    Hset,
    Zadd,
    /// MSET of `--mset-keys` keys, counted as one request.
    Mset,
}

impl Test {
    pub fn name(self) -> &'static str {
        match self {
            Test::Set => "set",
            Test::Get => "get",
            Test::Mix => "mix",
            Test::Incr => "incr",
            Test::Lpush => "lpush",
            Test::Lpop => "lpop",
            Test::Hset => "hset",
            Test::Zadd => "zadd",
            Test::Mset => "mset",
        }
    }

    /// The key prefix redis-benchmark uses for the test's numbered keys.
    pub fn default_prefix(self) -> &'static str {
        match self {
            Test::Incr => "counter:",
            _ => "key:",
        }
    }
}

/// How key numbers are chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Pattern {
    /// Uniformly at random in the keyspace.
    Random,
    /// Request i uses key i modulo the keyspace (its j-th key, for MSET of m
    /// keys: i*m + j), so a run of as many requests as keys writes each once.
    Sequential,
}

/// What the workload is built from (the command line's view of it).
pub struct Spec<'a> {
    pub test: Test,
    pub pattern: Pattern,
    pub keyspace: u64,
    pub data_size: usize,
    pub key_prefix: &'a [u8],
    /// SETs and GETs in each round of `Test::Mix`.
    pub ratio: (u64, u64),
    pub mset_keys: usize,
    /// Whether requests are routed over a cluster: MSET's keys then share a
    /// hash tag, so each MSET lives in one slot.
    pub cluster: bool,
}

/// One piece of an argument: literal bytes or a placeholder.
#[derive(Clone, Copy)]
enum Part<'a> {
    Lit(&'a [u8]),
    /// A key number chosen by the pattern.
    Key,
    /// A random number in the keyspace, whatever the pattern (ZADD's score).
    Rand,
    /// A slot's hash tag.
    Tag,
}

#[derive(Clone, Copy, Debug)]
enum Fill {
    Key,
    Rand,
    Tag,
}

#[derive(Debug)]
struct Hole {
    at: usize,
    fill: Fill,
}

/// A request with placeholders, and where its routing key lies.
#[derive(Debug)]
struct Template {
    bytes: Vec<u8>,
    holes: Vec<Hole>,
    /// The bytes of the first key (the command's second argument).
    key: Range<usize>,
}

impl Template {
    fn new(args: &[&[Part<'_>]]) -> Template {
        let mut bytes = Vec::new();
        let mut holes = Vec::new();
        let mut key = 0..0;
        let mut num = itoa::Buffer::new();
        bytes.push(b'*');
        bytes.extend_from_slice(num.format(args.len()).as_bytes());
        bytes.extend_from_slice(b"\r\n");
        for (i, arg) in args.iter().enumerate() {
            let len: usize = arg
                .iter()
                .map(|p| match p {
                    Part::Lit(b) => b.len(),
                    Part::Key | Part::Rand => DIGITS,
                    Part::Tag => TAG_LEN,
                })
                .sum();
            bytes.push(b'$');
            bytes.extend_from_slice(num.format(len).as_bytes());
            bytes.extend_from_slice(b"\r\n");
            let start = bytes.len();
            for part in arg.iter() {
                let (fill, len) = match part {
                    Part::Lit(b) => {
                        bytes.extend_from_slice(b);
                        continue;
                    }
                    Part::Key => (Fill::Key, DIGITS),
                    Part::Rand => (Fill::Rand, DIGITS),
                    Part::Tag => (Fill::Tag, TAG_LEN),
                };
                holes.push(Hole { at: bytes.len(), fill });
                bytes.resize(bytes.len() + len, b'0');
            }
            if i == 1 {
                key = start..bytes.len();
            }
            bytes.extend_from_slice(b"\r\n");
        }
        Template { bytes, holes, key }
    }
}

/// The requests of one run.
pub struct Workload {
    /// One template, or SET then GET for `Test::Mix`.
    templates: Vec<Template>,
    /// For `Test::Mix`: request i is a SET when i % .1 < .0.
    mix: Option<(u64, u64)>,
    pattern: Pattern,
    keyspace: u64,
    keys_per_request: u64,
    /// A hash tag per slot, when requests carry one.
    tags: Vec<[u8; TAG_LEN]>,
}

impl Workload {
    pub fn new(spec: &Spec<'_>) -> anyhow::Result<Workload> {
        use Part::{Key, Lit, Rand, Tag};
        let value = vec![b'x'; spec.data_size];
        let value = &[Lit(&value)][..];
        let key = &[Lit(spec.key_prefix), Key][..];
        let element = &[Lit(b"element:"), Key][..];
        let mut keys_per_request = 1;
        let mut tags = Vec::new();
        let templates = match spec.test {
            Test::Set => vec![Template::new(&[&[Lit(b"SET")], key, value])],
            Test::Get => vec![Template::new(&[&[Lit(b"GET")], key])],
            Test::Mix => {
                vec![Template::new(&[&[Lit(b"SET")], key, value]), Template::new(&[&[Lit(b"GET")], key])]
            }
            Test::Incr => vec![Template::new(&[&[Lit(b"INCR")], key])],
            Test::Lpush => vec![Template::new(&[&[Lit(b"LPUSH")], &[Lit(b"mylist")], value])],
            Test::Lpop => vec![Template::new(&[&[Lit(b"LPOP")], &[Lit(b"mylist")]])],
            Test::Hset => vec![Template::new(&[&[Lit(b"HSET")], &[Lit(b"myhash")], element, value])],
            Test::Zadd => vec![Template::new(&[&[Lit(b"ZADD")], &[Lit(b"myzset")], &[Rand], element])],
            Test::Mset => {
                // On a cluster every key of one MSET must be in one slot:
                // redis-benchmark names them "key:{tag}:<n>" with one tag
                // per command, and so do we.
                let tagged = &[Lit(spec.key_prefix), Lit(b"{"), Tag, Lit(b"}:"), Key][..];
                let key = if spec.cluster { tagged } else { key };
                let mut args = vec![&[Lit(b"MSET")][..]];
                for _ in 0..spec.mset_keys {
                    args.push(key);
                    args.push(value);
                }
                if spec.cluster {
                    tags = crate::keys::slot_tags()
                        .ok_or_else(|| anyhow::anyhow!("no hash tag found for some slot"))?;
                }
                keys_per_request = spec.mset_keys as u64;
                vec![Template::new(&args)]
            }
        };
        let mix = (spec.test == Test::Mix).then_some((spec.ratio.0, spec.ratio.0 + spec.ratio.1));
        Ok(Workload {
            templates,
            mix,
            pattern: spec.pattern,
            keyspace: spec.keyspace,
            keys_per_request,
            tags,
        })
    }

    /// Appends request number `i` of the run to `out`. With `route`, returns
    /// the cluster slot of its keys (0 otherwise, not computed).
    #[inline]
    pub fn write(&self, i: u64, rng: &mut fastrand::Rng, out: &mut Vec<u8>, route: bool) -> u16 {
        let t = match self.mix {
            Some((sets, round)) if i % round >= sets => &self.templates[1],
            _ => &self.templates[0],
        };
        let base = out.len();
        out.extend_from_slice(&t.bytes);
        let mut nth_key = 0;
        let mut tag_slot = None;
        for hole in &t.holes {
            let at = base + hole.at;
            match hole.fill {
                Fill::Key => {
                    let n = match self.pattern {
                        Pattern::Random => rng.u64(..self.keyspace),
                        Pattern::Sequential => {
                            i.wrapping_mul(self.keys_per_request).wrapping_add(nth_key) % self.keyspace
                        }
                    };
                    nth_key += 1;
                    put_digits(&mut out[at..at + DIGITS], n);
                }
                Fill::Rand => put_digits(&mut out[at..at + DIGITS], rng.u64(..self.keyspace)),
                Fill::Tag => {
                    let slot = *tag_slot.get_or_insert_with(|| rng.u16(..SLOTS as u16));
                    out[at..at + TAG_LEN].copy_from_slice(&self.tags[usize::from(slot)]);
                }
            }
        }
        if !route {
            return 0;
        }
        tag_slot.unwrap_or_else(|| keyslot(&out[base + t.key.start..base + t.key.end]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resp::encode;

    fn spec(test: Test) -> Spec<'static> {
        Spec {
            test,
            pattern: Pattern::Sequential,
            keyspace: 1_000_000,
            data_size: 3,
            key_prefix: test.default_prefix().as_bytes(),
            ratio: (1, 3),
            mset_keys: 2,
            cluster: false,
        }
    }

    fn request(w: &Workload, i: u64) -> Vec<u8> {
        let mut out = b"previous".to_vec();
        w.write(i, &mut fastrand::Rng::with_seed(1), &mut out, false);
        out.split_off(8)
    }

    fn encoded(args: &[&str]) -> Vec<u8> {
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        let mut out = Vec::new();
        encode(&mut out, &args);
        out
    }

    #[test]
    fn templates_match_the_encoder() {
        let w = |t| Workload::new(&spec(t)).unwrap();
        assert_eq!(request(&w(Test::Set), 123456), encoded(&["SET", "key:000000123456", "xxx"]));
        assert_eq!(request(&w(Test::Get), 7), encoded(&["GET", "key:000000000007"]));
        assert_eq!(request(&w(Test::Incr), 7), encoded(&["INCR", "counter:000000000007"]));
        assert_eq!(request(&w(Test::Lpush), 7), encoded(&["LPUSH", "mylist", "xxx"]));
        assert_eq!(request(&w(Test::Lpop), 7), encoded(&["LPOP", "mylist"]));
        assert_eq!(request(&w(Test::Hset), 7), encoded(&["HSET", "myhash", "element:000000000007", "xxx"]));
        assert_eq!(
            request(&w(Test::Mset), 7),
            encoded(&["MSET", "key:000000000014", "xxx", "key:000000000015", "xxx"])
        );
        // The key of request i wraps around the keyspace.
        assert_eq!(request(&w(Test::Get), 1_000_007), encoded(&["GET", "key:000000000007"]));
    }

    #[test]
    fn zadd_score_is_random_member_follows_the_pattern() {
        let w = Workload::new(&spec(Test::Zadd)).unwrap();
        let req = request(&w, 42);
        let text = String::from_utf8(req).unwrap();
        let args: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(args[..5], ["*4", "$4", "ZADD", "$6", "myzset"]);
        assert_eq!(args[6].len(), 12);
        assert!(args[6].bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(args[8], "element:000000000042");
    }

    #[test]
    fn mix_follows_the_ratio() {
        let w = Workload::new(&spec(Test::Mix)).unwrap();
        let kinds: Vec<u8> = (0..8).map(|i| request(&w, i)[8]).collect();
        assert_eq!(kinds, b"SGGGSGGG");
    }

    #[test]
    fn random_keys_stay_in_the_keyspace() {
        let mut s = spec(Test::Get);
        s.pattern = Pattern::Random;
        s.keyspace = 10;
        let w = Workload::new(&s).unwrap();
        let mut rng = fastrand::Rng::with_seed(7);
        let mut seen = [false; 10];
        for i in 0..1000 {
            let mut out = Vec::new();
            w.write(i, &mut rng, &mut out, false);
            let key = &out[out.len() - 14..out.len() - 2];
            let n: usize = std::str::from_utf8(key).unwrap().parse().unwrap();
            seen[n] = true;
        }
        assert!(seen.iter().all(|&s| s));
    }

    #[test]
    fn routed_slot_is_the_key_slot() {
        let mut s = spec(Test::Set);
        s.cluster = true;
        let w = Workload::new(&s).unwrap();
        let mut out = Vec::new();
        let slot = w.write(5, &mut fastrand::Rng::with_seed(1), &mut out, true);
        assert_eq!(slot, keyslot(b"key:000000000005"));
    }

    #[test]
    fn cluster_mset_keys_share_a_slot() {
        let mut s = spec(Test::Mset);
        s.cluster = true;
        s.mset_keys = 4;
        s.pattern = Pattern::Random;
        let w = Workload::new(&s).unwrap();
        let mut rng = fastrand::Rng::with_seed(3);
        for i in 0..100 {
            let mut out = Vec::new();
            let slot = w.write(i, &mut rng, &mut out, true);
            let text = String::from_utf8(out).unwrap();
            let keys: Vec<&str> = text.split("\r\n").filter(|a| a.starts_with("key:{")).collect();
            assert_eq!(keys.len(), 4);
            for k in keys {
                assert_eq!(k.len(), "key:{abc}:000000000000".len());
                assert_eq!(keyslot(k.as_bytes()), slot, "{k}");
            }
        }
    }
}
