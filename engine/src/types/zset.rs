//! The zset type. (To be written: its representation and Redis's encodings.)

/// A Redis zset.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ZSet {}

impl ZSet {
    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        "listpack"
    }

    /// Approximate heap bytes owned, for memory accounting.
    pub fn heap_size(&self) -> usize {
        0
    }
}
