//! Benchmarks of the pipeline on synthetic models (`palisade::synth`).
//!
//! `cargo bench --bench pipeline [-- SIZES...]` prints two tables per run.
//! The first: per model size, the statement count, the source size, the
//! median wall time of parse+resolve, of a whole `build` (parse, resolve,
//! generate, render YAML, write the tree into an empty directory), of the
//! checker (`palisade::check`: effective access and every lint, after
//! parse+resolve) and of `graph` (DOT of the whole model, after
//! parse+resolve). The second: the peak resident memory of each operation,
//! each run alone in a fresh process (this bench re-run as `--peak OP
//! FILE`, reading the model from a file as the binary does), and the wall
//! time of the `palisade check` binary itself on the same file (median of
//! three), which is what a user waits for.
//! docs/performance.md records the figures. Timing lives here, never in tests.
//! `-- --emit N` prints the synthetic model of N pod groups instead, to time
//! the `palisade` binary on it. `PALISADE_BENCH_PHASES=1` prints each build's
//! phases (compile, generate + render, write). `PALISADE_BENCH_CHECK_ONLY=1`
//! times one run of the checker alone, then the access view
//! (`palisade::view::access_view`) on its result;
//! `PALISADE_BENCH_GRAPH_ONLY=1` times only the graph outputs: DOT,
//! Mermaid, JSON and a `--focus` neighbourhood.
//! `PALISADE_BENCH_AUDIT_ONLY=1` times `palisade audit` of the model's own
//! generated objects (first environment) against the model, after check:
//! binding, evaluation, graph and comparison.
//! `PALISADE_BENCH_LAYERS=1` (with any of the above) turns on both layers
//! (`mesh = istio`, `guardrails = calico`) and adds a `forbid` per shared
//! pod: its second app may not reach what its first may (one guardrail per
//! pair, cutting pod-mates, so each cut is accepted), ~600 forbids per
//! 1,000 pod groups — the guardrail and mesh evaluation at scale.

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
    if let Some(i) = args.iter().position(|a| a == "--peak") {
        let (op, file) = (&args[i + 1], &args[i + 2]);
        peak_child(op, std::path::Path::new(file));
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--emit") {
        let n = args
            .get(i + 1)
            .and_then(|n| n.parse().ok())
            .unwrap_or(10_000);
        print!("{}", model(n));
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
    let mut memory_rows = Vec::new();
    for n in sizes {
        let text = model(n);
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
            let c = palisade::compile_str("synthetic.sec", &text);
            let (start, cpu) = (Instant::now(), cpu_time());
            let checked = palisade::check(c);
            // CPU time as well: on a shared machine it varies less.
            let cpu = cpu_time().zip(cpu).map(|(b, a)| b.saturating_sub(a));
            println!(
                "{n:>10} check {} ({} CPU)",
                fmt(start.elapsed()),
                cpu.map_or("?".into(), fmt)
            );
            let start = Instant::now();
            let view = palisade::view::access_view(&checked);
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
        if std::env::var_os("PALISADE_BENCH_AUDIT_ONLY").is_some() {
            let checked = palisade::check(palisade::compile_str("synthetic.sec", &text));
            let m = &checked.comp.model;
            let env = m.environments.first().map(|_| palisade::model::EnvId(0));
            let opts = palisade::generate::Options { workloads: true };
            let objects = palisade::generate::map_env(m, &opts, env, &|r| r);
            let manifests = palisade::manifests::Manifests {
                objects: (objects.into_iter())
                    .map(|r| palisade::manifests::Object {
                        kind: r.kind(),
                        resource: r,
                        span: palisade::span::Span::new(palisade::span::FileId(0), 0, 0),
                        source: None,
                        owned: false,
                    })
                    .collect(),
                ..Default::default()
            };
            let start = Instant::now();
            let report = palisade::audit::audit(&checked, env, &manifests);
            println!(
                "{n:>10} audit {} ({} objects, {} bound, clean: {})",
                fmt(start.elapsed()),
                manifests.objects.len(),
                report.bindings.len(),
                report.clean()
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
        memory_rows.push((n, peaks(&text)));
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
    if memory_rows.is_empty() {
        return;
    }
    println!();
    println!(
        "{:>10} {:>20} {:>12} {:>12} {:>12} {:>18}",
        "pod groups", "peak MB: parse+res.", "check", "build", "graph", "`palisade check`"
    );
    for (n, p) in memory_rows {
        let mb = |m: Option<u64>| m.map_or("?".into(), |m| m.to_string());
        println!(
            "{n:>10} {:>20} {:>12} {:>12} {:>12} {:>18}",
            mb(p.parse),
            mb(p.check),
            mb(p.build),
            mb(p.graph),
            p.binary_check.map_or("?".into(), fmt)
        );
    }
}

/// The synthetic model of `n` pod groups, with the layers when
/// `PALISADE_BENCH_LAYERS` is set.
fn model(n: usize) -> String {
    let text = generate(&SynthOptions::new(n));
    if std::env::var_os("PALISADE_BENCH_LAYERS").is_none() {
        return text;
    }
    with_layers(&text)
}

/// `text` with `mesh = istio`, `guardrails = calico` (and the ingress
/// controller's identity the mesh needs), and for each shared pod `[a, b,
/// ...]`, `forbid b -> t` for every single target `t` of `a`, with the
/// `layer-cuts-grant` its guardrail causes accepted.
fn with_layers(text: &str) -> String {
    let mut out = text.replacen(
        "platform {\n",
        "platform {\n  mesh = istio\n  guardrails = calico\n",
        1,
    );
    out = out.replacen(
        "ingress = { namespace = \"ingress-nginx\",",
        "ingress = { namespace = \"ingress-nginx\", service_account = \"ingress-nginx\",",
        1,
    );
    let mut targets: std::collections::HashMap<&str, Vec<&str>> = Default::default();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("allow ") else {
            continue;
        };
        if let Some((subject, rest)) = rest.split_once(" -> ") {
            let target = rest.split(':').next().unwrap_or_default();
            if !subject.contains(['[', ' ']) && !target.starts_with('[') {
                targets.entry(subject).or_default().push(target);
            }
        }
    }
    let mut added = std::collections::BTreeSet::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("pod ") else {
            continue;
        };
        let Some(members) = rest.split_once("= [").and_then(|(_, m)| m.split_once(']')) else {
            continue;
        };
        let apps: Vec<&str> = members.0.split(',').map(str::trim).collect();
        let [first, second, ..] = apps[..] else {
            continue;
        };
        for t in targets.get(first).into_iter().flatten() {
            added.insert(format!("forbid {second} -> {t}"));
            added.insert(format!(
                "accept layer-cuts-grant on {first} -> {t} \"the bench's guardrail cuts its pod-mate\""
            ));
        }
    }
    out.push('\n');
    for line in added {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// Peak memory of each operation alone, and the binary's check time.
struct Peaks {
    parse: Option<u64>,
    check: Option<u64>,
    build: Option<u64>,
    graph: Option<u64>,
    binary_check: Option<Duration>,
}

/// Write the model to a file; run each operation in a fresh process (this
/// bench, `--peak OP FILE`) that prints its own peak memory; time the
/// `palisade check` binary on the same file.
fn peaks(text: &str) -> Peaks {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("synthetic.sec");
    std::fs::write(&file, text).expect("write the model");
    let me = std::env::current_exe().expect("this bench");
    let peak = |op: &str| -> Option<u64> {
        let out = std::process::Command::new(&me)
            .args(["--peak", op])
            .arg(&file)
            .output()
            .ok()?;
        String::from_utf8_lossy(&out.stdout).trim().parse().ok()
    };
    // Cargo builds the binary for benches and names it here.
    let binary_check = option_env!("CARGO_BIN_EXE_palisade").map(|bin| {
        let mut times: Vec<Duration> = (0..3)
            .map(|_| {
                let start = Instant::now();
                let status = std::process::Command::new(bin)
                    .arg("check")
                    .arg(&file)
                    .stderr(std::process::Stdio::null())
                    .status()
                    .expect("run palisade");
                assert!(status.success(), "palisade check failed");
                start.elapsed()
            })
            .collect();
        times.sort();
        times[1]
    });
    Peaks {
        parse: peak("parse"),
        check: peak("check"),
        build: peak("build"),
        graph: peak("graph"),
        binary_check,
    }
}

/// `--peak OP FILE`: run one operation on the model in FILE and print this
/// process's peak resident memory in MB.
fn peak_child(op: &str, file: &std::path::Path) {
    let c = palisade::compile_path(file).expect("read the model");
    assert!(!c.has_errors(), "synthetic model must be valid");
    match op {
        "parse" => {}
        "check" => {
            std::hint::black_box(palisade::check(c));
        }
        "build" => {
            let dir = scratch_dir();
            let opts = palisade::generate::Options { workloads: true };
            let files = palisade::output::build(&c.model, &opts, None, &["synthetic.sec".into()])
                .expect("no two objects share a file");
            palisade::output::tree::sync(dir.path(), &files).expect("build writes");
        }
        "graph" => {
            let opts = palisade::graph::GraphOptions::default();
            std::hint::black_box(palisade::graph::dot(&c.model, &opts));
        }
        _ => panic!("unknown operation {op}"),
    }
    println!("{}", peak_rss_mb().map_or("?".into(), |m| m.to_string()));
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
        let c = palisade::compile_str("synthetic.sec", text);
        let start = Instant::now();
        let checked = palisade::check(c);
        times.push(start.elapsed());
        std::hint::black_box(checked);
    }
    times.sort();
    times[times.len() / 2]
}

/// Median time of a full build into a fresh directory, and the file count.
fn build_time(text: &str, runs: usize) -> (Duration, usize) {
    let mut times = Vec::new();
    let mut count = 0;
    for _ in 0..runs {
        let dir = scratch_dir();
        let start = Instant::now();
        let c = palisade::compile_str("synthetic.sec", text);
        let compiled = start.elapsed();
        let opts = palisade::generate::Options { workloads: true };
        let files = palisade::output::build(&c.model, &opts, None, &["synthetic.sec".to_string()])
            .expect("no two objects share a file");
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

/// A fresh output directory, in tmpfs when there is one: on this
/// machine's ext4 disk, creating a file costs about 1 ms of kernel time
/// (inode allocation), which would swamp what palisade itself does
/// (docs/performance.md).
fn scratch_dir() -> tempfile::TempDir {
    let shm = std::path::Path::new("/dev/shm");
    if shm.is_dir() {
        tempfile::tempdir_in(shm)
    } else {
        tempfile::tempdir()
    }
    .expect("temp dir")
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
