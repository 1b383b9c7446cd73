//! Key names and where they live: redis-benchmark's zero-padded key numbers,
//! Redis Cluster key slots (CRC16 with hash tags), and short hash tags that
//! put a key in a chosen slot.

/// Hash slots of a Redis Cluster.
pub const SLOTS: usize = shoal_cluster::SLOT_COUNT;

/// Width of a key number: redis-benchmark writes `__rand_int__` as twelve
/// zero-padded digits, so "key:000000123456" is its name for key 123456.
pub const DIGITS: usize = 12;

/// Key numbers go up to (not including) this.
pub const MAX_KEYSPACE: u64 = 1_000_000_000_000;

/// Length of the tags of `slot_tags`.
pub const TAG_LEN: usize = 3;

/// Writes `n` as `DIGITS` zero-padded decimal digits into `dst`, which must
/// be `DIGITS` long; `n` below `MAX_KEYSPACE`.
#[inline]
pub fn put_digits(dst: &mut [u8], mut n: u64) {
    for d in dst.iter_mut().rev() {
        *d = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

/// The cluster slot of `key` (CRC16 of the key or of its hash tag), by the
/// same slot math the server uses.
pub fn keyslot(key: &[u8]) -> u16 {
    shoal_cluster::key_slot(key).0
}

/// For every slot, a tag of `TAG_LEN` letters and digits that hashes to it,
/// so "key:{tag}:..." keys can be put in any slot (redis-benchmark's
/// `--cluster` does the same with its table of slot tags). Every slot has
/// one (a unit test checks), so the result is `None` only if that changed.
pub fn slot_tags() -> Option<Vec<[u8; TAG_LEN]>> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut tags: Vec<Option<[u8; TAG_LEN]>> = vec![None; SLOTS];
    let mut missing = SLOTS;
    'all: for &a in ALPHABET {
        for &b in ALPHABET {
            for &c in ALPHABET {
                let tag = [a, b, c];
                let entry = &mut tags[usize::from(keyslot(&tag))];
                if entry.is_none() {
                    *entry = Some(tag);
                    missing -= 1;
                    if missing == 0 {
                        break 'all;
                    }
                }
            }
        }
    }
    tags.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc16_and_slot_vectors() {
        assert_eq!(crc16::State::<crc16::XMODEM>::calculate(b"123456789"), 0x31C3);
        assert_eq!(keyslot(b"foo"), 12182);
        assert_eq!(keyslot(b""), 0);
    }

    #[test]
    fn hash_tags() {
        assert_eq!(keyslot(b"{user1000}.following"), keyslot(b"{user1000}.followers"));
        assert_eq!(keyslot(b"{user1000}.following"), keyslot(b"user1000"));
        // An empty tag hashes the whole key.
        assert_eq!(keyslot(b"foo{}{bar}"), crc16::State::<crc16::XMODEM>::calculate(b"foo{}{bar}") & 16383);
        // Only the first `{` counts, up to the first `}` after it.
        assert_eq!(keyslot(b"foo{{bar}}zap"), keyslot(b"{bar"));
        assert_eq!(keyslot(b"foo{bar}{zap}"), keyslot(b"bar"));
        // No closing brace: the whole key.
        assert_eq!(keyslot(b"foo{bar"), crc16::State::<crc16::XMODEM>::calculate(b"foo{bar") & 16383);
    }

    #[test]
    fn digits_are_zero_padded() {
        let mut key = *b"key:............";
        put_digits(&mut key[4..], 123456);
        assert_eq!(&key, b"key:000000123456");
        put_digits(&mut key[4..], 0);
        assert_eq!(&key, b"key:000000000000");
        put_digits(&mut key[4..], MAX_KEYSPACE - 1);
        assert_eq!(&key, b"key:999999999999");
    }

    #[test]
    fn every_slot_has_a_tag() {
        let tags = slot_tags().expect("a tag for every slot");
        assert_eq!(tags.len(), SLOTS);
        for (slot, tag) in tags.iter().enumerate() {
            assert!(tag.iter().all(u8::is_ascii_alphanumeric));
            let mut key = b"key:{".to_vec();
            key.extend_from_slice(tag);
            key.extend_from_slice(b"}:000000000001");
            assert_eq!(usize::from(keyslot(&key)), slot);
        }
    }
}
