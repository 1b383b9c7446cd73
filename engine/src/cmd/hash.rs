//! (hash commands: to be written.)

use crate::command::Command;

pub static COMMANDS: &[Command] = &[];
