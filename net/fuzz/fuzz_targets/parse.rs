//! Arbitrary bytes, cut into arbitrary reads: the parser must never panic, and
//! however the bytes are cut it must find the same requests, the same empty
//! frames and the same error as when it gets them in one piece.
//!
//! The input's first byte picks the limits, the second how many of the next
//! bytes give read sizes (cycled); the rest is what the client sends.

#![no_main]

use libfuzzer_sys::fuzz_target;
use shoal_net::resp::{Limits, Parsed, Parser, ProtocolError};

#[derive(Debug, PartialEq, Eq)]
enum Event {
    Command(Vec<Vec<u8>>),
    Empty(usize),
    Error(ProtocolError),
}

/// Feeds `input` one read at a time, as a connection does, and returns what
/// the parser found and how many bytes were left waiting.
fn run(
    input: &[u8],
    reads: &mut dyn Iterator<Item = usize>,
    limits: &Limits,
) -> (Vec<Event>, usize) {
    let mut parser = Parser::new();
    let mut buf = Vec::new();
    let mut events = Vec::new();
    let mut from = 0;
    while from < input.len() {
        let to = (from + reads.next().unwrap_or(input.len())).min(input.len());
        buf.extend_from_slice(&input[from..to]);
        from = to;
        loop {
            match parser.parse(&buf, limits) {
                Parsed::Command { consumed } => {
                    assert!(consumed > 0 && consumed <= buf.len());
                    assert!(parser.argc() > 0);
                    let args: Vec<Vec<u8>> = parser.args(&buf).map(<[u8]>::to_vec).collect();
                    assert_eq!(args.len(), parser.argc());
                    events.push(Event::Command(args));
                    buf.drain(..consumed);
                }
                Parsed::Empty { consumed } => {
                    assert!(consumed > 0 && consumed <= buf.len());
                    events.push(Event::Empty(consumed));
                    buf.drain(..consumed);
                }
                Parsed::Incomplete { need } => {
                    if let Some(need) = need {
                        assert!(need > buf.len());
                    }
                    break;
                }
                Parsed::Error(e) => {
                    assert!(!e.message().is_empty());
                    events.push(Event::Error(e));
                    return (events, 0);
                }
            }
        }
    }
    (events, buf.len())
}

fuzz_target!(|data: &[u8]| {
    let [flags, sizes, rest @ ..] = data else {
        return;
    };
    let limits = Limits {
        max_bulk_len: if flags & 1 == 0 {
            512 * 1024 * 1024
        } else {
            u64::from(flags >> 2)
        },
        authenticated: flags & 2 == 0,
    };
    let (sizes, input) = rest.split_at((*sizes as usize % 8).min(rest.len()));
    let whole = run(input, &mut std::iter::once(input.len()), &limits);
    if !sizes.is_empty() {
        let mut reads = sizes.iter().map(|&s| usize::from(s) + 1).cycle();
        assert_eq!(run(input, &mut reads, &limits), whole, "reads of {sizes:?}");
    }
    if input.len() <= 512 {
        assert_eq!(
            run(input, &mut std::iter::repeat(1), &limits),
            whole,
            "one byte per read"
        );
    }
});
