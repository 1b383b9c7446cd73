//! The hash type. (To be written: its representation and Redis's encodings.)

/// A Redis hash.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Hash {}

impl Hash {
    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        "listpack"
    }

    /// Approximate heap bytes owned, for memory accounting.
    pub fn heap_size(&self) -> usize {
        0
    }
}
