//! The stream type. (To be written: its representation and Redis's encodings.)

/// A Redis stream.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stream {}

impl Stream {
    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        "stream"
    }

    /// Approximate heap bytes owned, for memory accounting.
    pub fn heap_size(&self) -> usize {
        0
    }
}
