//! Redis's CRC-64: the Jones polynomial (0xad93d23594c935a9), reflected,
//! starting from 0 with no final xor. It seals every DUMP payload and RDB
//! file; the check value over `123456789` is 0xe9c6d914c4b8d9ca.

/// The polynomial in the reflected (least significant bit first) form the
/// table-driven update needs.
const POLY: u64 = 0xad93_d235_94c9_35a9u64.reverse_bits();

const TABLE: [u64; 256] = table();

const fn table() -> [u64; 256] {
    let mut t = [0u64; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u64;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ POLY } else { crc >> 1 };
            bit += 1;
        }
        t[i] = crc;
        i += 1;
    }
    t
}

/// Continues a CRC over `data`: `crc64(crc64(0, a), b) == crc64(0, a ++ b)`.
pub fn crc64(mut crc: u64, data: &[u8]) -> u64 {
    for &b in data {
        crc = TABLE[((crc ^ b as u64) & 0xff) as usize] ^ (crc >> 8);
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_value_matches_redis() {
        assert_eq!(crc64(0, b"123456789"), 0xe9c6_d914_c4b8_d9ca);
        assert_eq!(crc64(0, b""), 0);
    }

    #[test]
    fn continues_across_pieces() {
        let data = b"The quick brown fox jumps over the lazy dog";
        let whole = crc64(0, data);
        for cut in 0..data.len() {
            assert_eq!(crc64(crc64(0, &data[..cut]), &data[cut..]), whole);
        }
    }
}
