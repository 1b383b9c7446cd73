//! The set type. (To be written: its representation and Redis's encodings.)

/// A Redis set.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Set {}

impl Set {
    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        "intset"
    }

    /// Approximate heap bytes owned, for memory accounting.
    pub fn heap_size(&self) -> usize {
        0
    }
}
