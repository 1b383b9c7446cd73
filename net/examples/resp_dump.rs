// TEMPORARY: differential-testing helper, removed before handing back.
use shoal_net::resp::{Limits, Parsed, Parser};
use std::io::{Read, Write};
fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
fn main() {
    let mut input = Vec::new();
    std::io::stdin().read_to_end(&mut input).unwrap();
    let mut out = std::io::stdout().lock();
    // cases separated: first 4 bytes LE length, then the case
    let mut at = 0;
    while at + 4 <= input.len() {
        let n = u32::from_le_bytes(input[at..at + 4].try_into().unwrap()) as usize;
        let buf = &input[at + 4..at + 4 + n];
        at += 4 + n;
        let mut p = Parser::new();
        let mut off = 0;
        let mut line = String::new();
        loop {
            match p.parse(&buf[off..], &Limits::default()) {
                Parsed::Command { consumed } => {
                    let a: Vec<String> = p.args(&buf[off..]).map(hex).collect();
                    line += &format!("C:{};", a.join(","));
                    off += consumed;
                }
                Parsed::Empty { consumed } => {
                    line += "E;";
                    off += consumed;
                }
                Parsed::Incomplete { .. } => {
                    line += &format!("I{};", buf.len() - off);
                    break;
                }
                Parsed::Error(e) => {
                    line += &format!("X:{};", hex(&e.message()));
                    break;
                }
            }
        }
        writeln!(out, "{line}").unwrap();
    }
}
