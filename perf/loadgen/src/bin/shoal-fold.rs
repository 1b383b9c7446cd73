//! shoal-fold: turns `perf script` output into a flamegraph SVG, and
//! optionally the folded stacks and a flat "top functions" table.
//!
//! `scripts/flamegraph` records a running server with `perf record -g` and
//! pipes `perf script` through this tool. The folding and the drawing are the
//! `inferno` crate's (the Rust port of Brendan Gregg's FlameGraph scripts);
//! this tool only wires them together so that making a flamegraph needs no
//! Perl and no separately installed binaries.

use anyhow::{Context, Result};
use clap::Parser;
use inferno::collapse::perf::{Folder, Options as FoldOptions};
use inferno::collapse::Collapse;
use inferno::flamegraph::{self, Options as GraphOptions};
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::PathBuf;

#[derive(Parser)]
#[command(about = "Fold `perf script` output and draw a flamegraph SVG")]
struct Args {
    /// `perf script` output to read; standard input when absent.
    #[arg(long)]
    input: Option<PathBuf>,
    /// Where to write the SVG.
    #[arg(long, short)]
    output: PathBuf,
    /// Also write the folded stacks here (one `frame;frame;... count` per line).
    #[arg(long)]
    folded: Option<PathBuf>,
    /// Title drawn on the flamegraph.
    #[arg(long, default_value = "shoal-server")]
    title: String,
    /// Print the N functions with the most self samples.
    #[arg(long, default_value_t = 25)]
    top: usize,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let mut input: Box<dyn Read> = match &args.input {
        Some(p) => Box::new(File::open(p).with_context(|| format!("opening {}", p.display()))?),
        None => Box::new(io::stdin()),
    };
    let mut raw = Vec::new();
    input.read_to_end(&mut raw).context("reading perf script output")?;

    let mut folded = Vec::new();
    let mut fold_opts = FoldOptions::default();
    fold_opts.include_addrs = false;
    Folder::from(fold_opts).collapse(BufReader::new(&raw[..]), &mut folded).context("folding stacks")?;
    if folded.is_empty() {
        anyhow::bail!("no stacks in the input: was `perf record -g` run, and did it see the process?");
    }
    if let Some(path) = &args.folded {
        std::fs::write(path, &folded).with_context(|| format!("writing {}", path.display()))?;
    }

    let mut graph_opts = GraphOptions::default();
    graph_opts.title = args.title.clone();
    graph_opts.count_name = "samples".into();
    let svg = BufWriter::new(
        File::create(&args.output).with_context(|| format!("creating {}", args.output.display()))?,
    );
    flamegraph::from_reader(&mut graph_opts, &folded[..], svg).context("drawing the flamegraph")?;

    if args.top > 0 {
        print_top(&folded, args.top)?;
    }
    Ok(())
}

/// Prints the functions that are on top of the most stacks (self time), the
/// view `perf report --no-children` gives, from the folded lines.
fn print_top(folded: &[u8], n: usize) -> Result<()> {
    let text = std::str::from_utf8(folded).context("folded stacks are not UTF-8")?;
    let mut total = 0u64;
    let mut by_leaf: HashMap<&str, u64> = HashMap::new();
    for line in text.lines() {
        let Some((stack, count)) = line.rsplit_once(' ') else { continue };
        let Ok(count) = count.parse::<u64>() else { continue };
        let leaf = stack.rsplit(';').next().unwrap_or(stack);
        *by_leaf.entry(leaf).or_default() += count;
        total += count;
    }
    let mut rows: Vec<_> = by_leaf.into_iter().collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let mut out = io::stdout().lock();
    // perf's cpu-clock samples carry their period, which inferno counts, so
    // the totals are weights (nanoseconds), not sample counts.
    writeln!(out, "self time by function (share of the sampled CPU time):")?;
    for (name, count) in rows.into_iter().take(n) {
        writeln!(out, "{:6.2}%  {name}", count as f64 * 100.0 / total as f64)?;
    }
    Ok(())
}
