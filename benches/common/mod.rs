//! What the benchmarks share. Each bench target compiles this module on its
//! own and uses only part of it.
#![allow(dead_code)]

use criterion::Criterion;
use std::time::Duration;

/// Criterion without plots, with the given warm-up and measurement times:
/// the whole `cargo bench` must stay within a few minutes on a 2-vCPU machine.
pub fn config(warm_up: Duration, measurement: Duration) -> Criterion {
    Criterion::default().without_plots().warm_up_time(warm_up).measurement_time(measurement)
}

/// One multibulk request, as a client encodes it (the integration tests' encoder).
#[path = "../../tests/support/request.rs"]
mod request_encoding;
#[allow(unused_imports)] // only some bench targets encode requests
pub use request_encoding::encode as request;
