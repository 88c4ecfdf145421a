//! Benchmarks of the pipeline on synthetic models (`palisade::synth`).
//!
//! `cargo bench --bench pipeline [-- SIZES...]` prints, per model size, the
//! statement count, the source size, the median wall time of parse+resolve,
//! of a whole `build` (parse, resolve, generate, render YAML, write the
//! tree into an empty directory) and of the checker (`palisade::check`:
//! effective access and every lint, after parse+resolve), and the process's
//! peak memory.
//! docs/performance.md records the figures. Timing lives here, never in tests.
//! `-- --emit N` prints the synthetic model of N pod groups instead, to time
//! the `palisade` binary on it. `PALISADE_BENCH_PHASES=1` prints each build's
//! phases (compile, generate + render, write). `PALISADE_BENCH_CHECK_ONLY=1`
//! times one run of the checker alone, then the access view
//! (`palisade::review::access_view`) on its result. The `graph` column is
//! the median time of `palisade graph`'s DOT for the whole model, after
//! compiling it (`palisade::graph::dot`); `PALISADE_BENCH_GRAPH_ONLY=1`
//! times only that, Mermaid, JSON and a `--focus` neighbourhood.

use palisade::synth::{generate, SynthOptions};

/// The allocator the `palisade` binary uses (src/main.rs).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::time::{Duration, Instant};

fn main() {
    palisade::cli::keep_freed_memory();
    // `-- --emit N`: print the synthetic model of N pod groups and stop (to
    // time the `palisade` binary itself on it).
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--emit") {
        let n = args
            .get(i + 1)
            .and_then(|n| n.parse().ok())
            .unwrap_or(10_000);
        print!("{}", generate(&SynthOptions::new(n)));
        return;
    }
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![1_000, 10_000, 50_000]
    } else {
        sizes
    };
    println!(
        "{:>10} {:>11} {:>9} {:>14} {:>12} {:>8} {:>12} {:>10} {:>12}",
        "pod groups",
        "statements",
        "MB",
        "parse+resolve",
        "build",
        "files",
        "check",
        "graph",
        "peak RSS MB"
    );
    for n in sizes {
        let text = generate(&SynthOptions::new(n));
        let statements = count_statements(&text);
        let runs = if n >= 50_000 { 3 } else { 7 };
        let mut times = Vec::new();
        for _ in 0..runs {
            let start = Instant::now();
            let c = palisade::compile_str("synthetic.sec", &text);
            times.push(start.elapsed());
            assert!(
                !c.has_errors(),
                "synthetic model must be valid: {:?}",
                c.diagnostics.iter().next()
            );
            std::hint::black_box(&c);
        }
        times.sort();
        if std::env::var_os("PALISADE_BENCH_CHECK_ONLY").is_some() {
            let mut c = palisade::compile_str("synthetic.sec", &text);
            let (start, cpu) = (Instant::now(), cpu_time());
            let envs = palisade::check(&mut c);
            // CPU time as well: on a shared machine it varies less.
            let cpu = cpu_time().zip(cpu).map(|(b, a)| b.saturating_sub(a));
            println!(
                "{n:>10} check {} ({} CPU)",
                fmt(start.elapsed()),
                cpu.map_or("?".into(), fmt)
            );
            let start = Instant::now();
            let view = palisade::review::access_view(&c, &envs);
            let edges: usize = view.envs.iter().map(|e| e.edges.len()).sum();
            let widened: usize = (view.envs.iter())
                .map(|e| e.edges.iter().filter(|x| x.widened.is_some()).count())
                .sum();
            println!(
                "{n:>10} access view {} ({edges} edges, {widened} widened)",
                fmt(start.elapsed())
            );
            continue;
        }
        if std::env::var_os("PALISADE_BENCH_GRAPH_ONLY").is_some() {
            let c = palisade::compile_str("synthetic.sec", &text);
            let m = &c.model;
            let all = palisade::graph::GraphOptions::default();
            let focus = palisade::graph::GraphOptions {
                focus: Some(palisade::graph::Focus::resolve(m, "customer", 1).expect("customer")),
                ..Default::default()
            };
            let (dot, bytes) = graph_time(5, || palisade::graph::dot(m, &all));
            let (mermaid, _) = graph_time(5, || palisade::graph::mermaid(m, &all));
            let (json, _) = graph_time(5, || palisade::graph::json(m, &all));
            let (focused, focus_bytes) = graph_time(5, || palisade::graph::dot(m, &focus));
            println!(
                "{n:>10} graph: dot {} ({:.1} MB), mermaid {}, json {}, dot --focus customer {} ({} kB)",
                fmt(dot),
                bytes as f64 / 1e6,
                fmt(mermaid),
                fmt(json),
                fmt(focused),
                focus_bytes / 1000
            );
            continue;
        }
        let (build, files) = build_time(&text, if n >= 50_000 { 1 } else { 3 });
        let check = check_time(&text, if n >= 50_000 { 1 } else { 3 });
        let graph = {
            let c = palisade::compile_str("synthetic.sec", &text);
            let opts = palisade::graph::GraphOptions::default();
            graph_time(5, || palisade::graph::dot(&c.model, &opts)).0
        };
        println!(
            "{n:>10} {statements:>11} {:>9.1} {:>14} {:>12} {files:>8} {:>12} {:>10} {:>12}",
            text.len() as f64 / 1e6,
            fmt(times[times.len() / 2]),
            fmt(build),
            fmt(check),
            fmt(graph),
            peak_rss_mb().map_or("?".into(), |m| m.to_string())
        );
    }
}

/// Median time of rendering a graph (`runs` runs) and the output's size.
fn graph_time(runs: usize, render: impl Fn() -> String) -> (Duration, usize) {
    let mut times = Vec::new();
    let mut bytes = 0;
    for _ in 0..runs {
        let start = Instant::now();
        let out = render();
        times.push(start.elapsed());
        bytes = out.len();
        std::hint::black_box(out);
    }
    times.sort();
    (times[times.len() / 2], bytes)
}

/// Median time of the checker on a compiled model: generate and evaluate
/// every environment's objects, run every lint and invariant.
fn check_time(text: &str, runs: usize) -> Duration {
    let mut times = Vec::new();
    for _ in 0..runs {
        let mut c = palisade::compile_str("synthetic.sec", text);
        let start = Instant::now();
        let envs = palisade::check(&mut c);
        times.push(start.elapsed());
        std::hint::black_box(envs);
    }
    times.sort();
    times[times.len() / 2]
}

/// Median time of a full build into a fresh directory, and the file count.
fn build_time(text: &str, runs: usize) -> (Duration, usize) {
    let mut times = Vec::new();
    let mut count = 0;
    for _ in 0..runs {
        // Into tmpfs when there is one: on this machine's ext4 disk, creating
        // a file costs about 1 ms of kernel time (inode allocation), which
        // would swamp what palisade itself does (docs/performance.md).
        let shm = std::path::Path::new("/dev/shm");
        let dir = if shm.is_dir() {
            tempfile::tempdir_in(shm)
        } else {
            tempfile::tempdir()
        }
        .expect("temp dir");
        let start = Instant::now();
        let c = palisade::compile_str("synthetic.sec", text);
        let compiled = start.elapsed();
        let opts = palisade::generate::Options { workloads: true };
        let files = palisade::output::build(&c.model, &opts, None, &["synthetic.sec".to_string()]);
        let rendered = start.elapsed();
        palisade::output::tree::sync(dir.path(), &files).expect("build writes");
        times.push(start.elapsed());
        if std::env::var_os("PALISADE_BENCH_PHASES").is_some() {
            eprintln!(
                "  phases: compile {} · generate+render {} · write {}",
                fmt(compiled),
                fmt(rendered - compiled),
                fmt(start.elapsed() - rendered)
            );
        }
        count = files.len();
    }
    times.sort();
    (times[times.len() / 2], count)
}

fn count_statements(text: &str) -> usize {
    const STARTS: &[&str] = &[
        "system ",
        "platform ",
        "environment ",
        "namespace ",
        "persona ",
        "app ",
        "pod ",
        "store ",
        "external ",
        "allow ",
        "forbid ",
        "accept ",
        "lint ",
    ];
    text.lines()
        .map(str::trim_start)
        .filter(|l| STARTS.iter().any(|s| l.starts_with(s)))
        .count()
}

fn fmt(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn cpu_time() -> Option<Duration> {
    palisade::timings::cpu_time()
}

/// Peak resident memory of this process (Linux `VmHWM`).
fn peak_rss_mb() -> Option<u64> {
    palisade::timings::resident_mb_of(true)
}
