//! Per-core counters, summed by INFO.

use shoal_engine::command::CmdId;
use shoal_engine::CmdError;
use std::collections::HashMap;

#[derive(Clone, Copy, Default, Debug)]
pub struct CmdStat {
    pub calls: u64,
    pub usec: u64,
    /// Refused before running (arity, unknown subcommand, NOAUTH...).
    pub rejected: u64,
    /// Ran and returned an error.
    pub failed: u64,
}

#[derive(Clone, Default, Debug)]
pub struct CoreStats {
    pub cmds: Vec<CmdStat>,
    pub errors: HashMap<String, u64>,
    pub commands: u64,
    pub error_replies: u64,
    pub connections_received: u64,
    pub rejected_connections: u64,
    pub net_input_bytes: u64,
    pub net_output_bytes: u64,
    pub hops_sent: u64,
    pub hops_received: u64,
    pub multi_core_txs: u64,
    pub tx_retries: u64,
    pub expire_cycles: u64,
}

impl CoreStats {
    pub fn new(commands: usize) -> CoreStats {
        CoreStats { cmds: vec![CmdStat::default(); commands], ..Default::default() }
    }

    #[inline]
    pub fn record(&mut self, id: CmdId, usec: u64, failed: bool) {
        let s = &mut self.cmds[id.0 as usize];
        s.calls += 1;
        s.usec += usec;
        s.failed += failed as u64;
        self.commands += 1;
    }

    pub fn record_error(&mut self, e: &CmdError) {
        self.error_replies += 1;
        *self.errors.entry(e.code().to_string()).or_default() += 1;
    }

    /// Adds another core's counters into these.
    pub fn merge(&mut self, o: &CoreStats) {
        for (a, b) in self.cmds.iter_mut().zip(&o.cmds) {
            a.calls += b.calls;
            a.usec += b.usec;
            a.rejected += b.rejected;
            a.failed += b.failed;
        }
        for (k, v) in &o.errors {
            *self.errors.entry(k.clone()).or_default() += v;
        }
        self.commands += o.commands;
        self.error_replies += o.error_replies;
        self.connections_received += o.connections_received;
        self.rejected_connections += o.rejected_connections;
        self.net_input_bytes += o.net_input_bytes;
        self.net_output_bytes += o.net_output_bytes;
        self.hops_sent += o.hops_sent;
        self.hops_received += o.hops_received;
        self.multi_core_txs += o.multi_core_txs;
        self.tx_retries += o.tx_retries;
        self.expire_cycles += o.expire_cycles;
    }

    /// CONFIG RESETSTAT.
    pub fn reset(&mut self) {
        *self = CoreStats::new(self.cmds.len());
    }
}

/// Redis's instantaneous_ops_per_sec: the mean of the last 16 rates sampled by the cron.
#[derive(Default)]
pub struct OpsMeter {
    last: Option<(std::time::Instant, u64)>,
    samples: [u64; 16],
    next: usize,
}

impl OpsMeter {
    pub fn sample(&mut self, commands: u64) {
        let now = std::time::Instant::now();
        if let Some((t, c)) = self.last {
            let ms = now.duration_since(t).as_millis() as u64;
            if let Some(rate) = (commands.saturating_sub(c) * 1000).checked_div(ms) {
                self.samples[self.next] = rate;
                self.next = (self.next + 1) % self.samples.len();
            }
        }
        self.last = Some((now, commands));
    }

    pub fn per_sec(&self) -> u64 {
        self.samples.iter().sum::<u64>() / self.samples.len() as u64
    }
}
