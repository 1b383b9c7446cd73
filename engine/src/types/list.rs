//! The list type. (To be written: its representation and Redis's encodings.)

/// A Redis list.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct List {}

impl List {
    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        "quicklist"
    }

    /// Approximate heap bytes owned, for memory accounting.
    pub fn heap_size(&self) -> usize {
        0
    }
}
