//! A cursor over a command's optional arguments.

use crate::command::eq_ic;
use crate::error::{CmdError, NOT_INTEGER, SYNTAX};
use crate::num;

/// Walks the arguments after the fixed ones. Parsers take tokens with
/// [`Args::next`], test option names with [`Args::is`], and read option values
/// with the typed readers, which fail with Redis's generic errors.
pub struct Args<'a, 'b> {
    argv: &'a [&'b [u8]],
    pos: usize,
}

impl<'a, 'b> Args<'a, 'b> {
    /// A cursor starting at `argv[start]`.
    pub fn new(argv: &'a [&'b [u8]], start: usize) -> Args<'a, 'b> {
        Args { argv, pos: start }
    }

    pub fn is_empty(&self) -> bool {
        self.pos >= self.argv.len()
    }

    pub fn remaining(&self) -> usize {
        self.argv.len().saturating_sub(self.pos)
    }

    pub fn peek(&self) -> Option<&'b [u8]> {
        self.argv.get(self.pos).copied()
    }

    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Option<&'b [u8]> {
        let a = self.peek()?;
        self.pos += 1;
        Some(a)
    }

    /// Consumes the next argument if it is the option `name` (any case).
    pub fn is(&mut self, name: &str) -> bool {
        match self.peek() {
            Some(a) if eq_ic(a, name) => {
                self.pos += 1;
                true
            }
            _ => false,
        }
    }

    /// The value of an option: the next argument, or a syntax error when missing.
    pub fn value(&mut self) -> Result<&'b [u8], CmdError> {
        self.next().ok_or(SYNTAX)
    }

    pub fn i64(&mut self) -> Result<i64, CmdError> {
        num::parse_i64(self.value()?).ok_or(NOT_INTEGER)
    }
}
