//! The result of a run, as text for people, CSV for scripts (`perf/compare`
//! reads its columns by name: keep them) or JSON.

use std::fmt::Write;

use crate::worker::Stats;

/// The CSV columns, in order; the JSON object has the same fields.
pub const CSV_HEADER: &str =
    "test,clients,threads,pipeline,data_size,requests,seconds,ops_per_sec,p50_ms,p99_ms,p999_ms,max_ms,errors";

pub struct Summary {
    pub test: &'static str,
    pub clients: usize,
    pub threads: usize,
    pub pipeline: u64,
    pub data_size: usize,
    pub requests: u64,
    pub seconds: f64,
    pub ops_per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
    pub errors: u64,
}

impl Summary {
    pub fn new(
        test: &'static str,
        clients: usize,
        threads: usize,
        pipeline: u64,
        data_size: usize,
        stats: &Stats,
        seconds: f64,
    ) -> Summary {
        let ms = |micros: u64| micros as f64 / 1000.0;
        let q =
            |quantile| if stats.hist.is_empty() { 0.0 } else { ms(stats.hist.value_at_quantile(quantile)) };
        Summary {
            test,
            clients,
            threads,
            pipeline,
            data_size,
            requests: stats.requests,
            seconds,
            ops_per_sec: if seconds > 0.0 { stats.requests as f64 / seconds } else { 0.0 },
            p50_ms: q(0.5),
            p99_ms: q(0.99),
            p999_ms: q(0.999),
            max_ms: ms(stats.hist.max()),
            errors: stats.errors,
        }
    }

    pub fn csv(&self) -> String {
        format!(
            "{CSV_HEADER}\n{},{},{},{},{},{},{:.3},{:.0},{:.3},{:.3},{:.3},{:.3},{}\n",
            self.test,
            self.clients,
            self.threads,
            self.pipeline,
            self.data_size,
            self.requests,
            self.seconds,
            self.ops_per_sec,
            self.p50_ms,
            self.p99_ms,
            self.p999_ms,
            self.max_ms,
            self.errors
        )
    }

    pub fn json(&self) -> String {
        let round3 = |x: f64| (x * 1000.0).round() / 1000.0;
        let value = serde_json::json!({
            "test": self.test,
            "clients": self.clients,
            "threads": self.threads,
            "pipeline": self.pipeline,
            "data_size": self.data_size,
            "requests": self.requests,
            "seconds": round3(self.seconds),
            "ops_per_sec": self.ops_per_sec.round(),
            "p50_ms": round3(self.p50_ms),
            "p99_ms": round3(self.p99_ms),
            "p999_ms": round3(self.p999_ms),
            "max_ms": round3(self.max_ms),
            "errors": self.errors,
        });
        format!("{value}\n")
    }

    pub fn human(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "test {}: clients {}, threads {}, pipeline {}, values of {} bytes",
            self.test, self.clients, self.threads, self.pipeline, self.data_size
        );
        let _ = writeln!(
            s,
            "  {} requests in {:.3} s: {:.0} ops/s",
            self.requests, self.seconds, self.ops_per_sec
        );
        let _ = writeln!(
            s,
            "  latency ms: p50 {:.3}  p99 {:.3}  p99.9 {:.3}  max {:.3}",
            self.p50_ms, self.p99_ms, self.p999_ms, self.max_ms
        );
        let _ = writeln!(s, "  errors: {}", self.errors);
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Summary {
        let mut stats = Stats::new();
        for us in 1..=1000 {
            stats.hist.saturating_record(us);
        }
        stats.requests = 1000;
        Summary::new("set", 50, 2, 16, 32, &stats, 0.5)
    }

    #[test]
    fn csv_has_the_columns_perf_compare_reads() {
        let csv = sample().csv();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0], CSV_HEADER);
        assert_eq!(lines[1], "set,50,2,16,32,1000,0.500,2000,0.500,0.990,0.999,1.000,0");
        assert_eq!(lines[0].split(',').count(), lines[1].split(',').count());
    }

    #[test]
    fn json_has_the_same_fields() {
        let v: serde_json::Value = serde_json::from_str(&sample().json()).unwrap();
        let obj = v.as_object().unwrap();
        let fields: Vec<&str> = CSV_HEADER.split(',').collect();
        assert_eq!(obj.len(), fields.len());
        for f in fields {
            assert!(obj.contains_key(f), "{f}");
        }
        assert_eq!(obj["ops_per_sec"], 2000.0);
        assert_eq!(obj["test"], "set");
    }

    #[test]
    fn empty_run_reports_zeros() {
        let s = Summary::new("get", 1, 1, 1, 3, &Stats::new(), 0.0);
        assert_eq!((s.ops_per_sec, s.p50_ms, s.max_ms), (0.0, 0.0, 0.0));
    }
}
