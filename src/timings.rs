//! `PALISADE_TIMINGS=1`: the compiler prints when each phase ends (stderr),
//! counted from the first phase's start, for profiling
//! (docs/performance.md). One clock per process.

use std::sync::OnceLock;
use std::time::Instant;

static START: OnceLock<Option<Instant>> = OnceLock::new();

fn start() -> Option<Instant> {
    *START.get_or_init(|| std::env::var_os("PALISADE_TIMINGS").map(|_| Instant::now()))
}

/// Start the clock (the first call wins; `lap` starts it too).
pub fn begin() {
    start();
}

/// Print that `phase` is done, when `PALISADE_TIMINGS` is set: the
/// wall time, the process's CPU time and its resident memory so far.
pub fn lap(phase: &str) {
    if let Some(start) = start() {
        let cpu = cpu_time().map_or(String::new(), |t| format!(", {} ms CPU", t.as_millis()));
        let rss = resident_mb().map_or(String::new(), |mb| format!(", {mb} MB resident"));
        eprintln!(
            "[timings] {phase}: done at {} ms{cpu}{rss}",
            start.elapsed().as_millis()
        );
    }
}

/// This process's user + system CPU time so far (Linux:
/// `/proc/self/stat`, in clock ticks of 10 ms).
pub fn cpu_time() -> Option<std::time::Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are
    // fields 14 and 15 of the whole line.
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut fields = rest.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some(std::time::Duration::from_millis((user + system) * 10))
}

/// This process's resident memory now (`VmRSS`), or at its peak
/// (`VmHWM`, with `peak`), in MB (Linux).
pub fn resident_mb_of(peak: bool) -> Option<u64> {
    let key = if peak { "VmHWM:" } else { "VmRSS:" };
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}

fn resident_mb() -> Option<u64> {
    resident_mb_of(false)
}
