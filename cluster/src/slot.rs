//! Key to slot: `CRC16(key) mod 16384`, hashing only the hash tag when the key has one.

/// The number of hash slots in a Redis Cluster.
pub const SLOT_COUNT: usize = 16384;

/// A hash slot, `0..16384`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Slot(pub u16);

impl Slot {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// CRC16/XMODEM with sixteen lookup tables: sixteen independent lookups per
/// sixteen bytes instead of a chain of one dependent lookup per byte. Every
/// keyed command hashes its key at least twice (routing, then the table), and
/// the byte-at-a-time crc16 crate took 37 ns for a 16-byte key.
const XMODEM: crc::Crc<u16, crc::Table<16>> = crc::Crc::<u16, crc::Table<16>>::new(&crc::CRC_16_XMODEM);

/// CRC16/XMODEM (polynomial 0x1021, initial value 0), the checksum Redis Cluster hashes keys with.
#[inline]
pub fn crc16(bytes: &[u8]) -> u16 {
    XMODEM.checksum(bytes)
}

/// The slot of `key`, following Redis's hash tag rule: if the key holds a `{`
/// followed later by a `}` with at least one byte between them, only the bytes
/// between the first `{` and the first `}` after it are hashed. `{}` (empty tag)
/// and an unclosed `{` hash the whole key.
pub fn key_slot(key: &[u8]) -> Slot {
    Slot(crc16(hash_tag(key)) & (SLOT_COUNT as u16 - 1))
}

fn hash_tag(key: &[u8]) -> &[u8] {
    let Some(open) = key.iter().position(|&b| b == b'{') else {
        return key;
    };
    let rest = &key[open + 1..];
    match rest.iter().position(|&b| b == b'}') {
        Some(0) | None => key,
        Some(close) => &rest[..close],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc16_check_value() {
        assert_eq!(crc16(b"123456789"), 0x31C3);
    }

    proptest::proptest! {
        #[test]
        fn crc16_matches_the_reference(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            proptest::prop_assert_eq!(crc16(&bytes), crc16::State::<crc16::XMODEM>::calculate(&bytes));
        }
    }

    #[test]
    fn known_slots() {
        // Values redis-server's CLUSTER KEYSLOT gives.
        assert_eq!(key_slot(b"foo"), Slot(12182));
        assert_eq!(key_slot(b"bar"), Slot(5061));
        assert_eq!(key_slot(b""), Slot(0));
        assert_eq!(key_slot(b"key:000000000001"), key_slot(b"key:000000000001"));
    }

    #[test]
    fn hash_tags() {
        assert_eq!(key_slot(b"{user1000}.following"), key_slot(b"{user1000}.followers"));
        assert_eq!(key_slot(b"{user1000}.following"), key_slot(b"user1000"));
        // An empty tag hashes the whole key.
        assert_eq!(key_slot(b"foo{}{bar}"), Slot(crc16(b"foo{}{bar}") & 16383));
        // Only the first `{` opens, the first `}` after it closes.
        assert_eq!(key_slot(b"foo{{bar}}zap"), key_slot(b"{bar"));
        assert_eq!(key_slot(b"foo{bar}{zap}"), key_slot(b"bar"));
        // An unclosed tag hashes the whole key.
        assert_eq!(key_slot(b"foo{bar"), Slot(crc16(b"foo{bar") & 16383));
        assert_eq!(key_slot(b"{}"), Slot(crc16(b"{}") & 16383));
    }
}
