//! `palisade lsp` after an edit: how long from a `textDocument/didChange`
//! of a synthetic model (`palisade::synth`) to its fresh
//! `textDocument/publishDiagnostics` (docs/performance.md, "The language
//! server"). Timing lives here, never in tests.
//!
//! The server runs in this process ([`palisade::lsp::serve`] on an
//! in-memory connection, the same loop `palisade lsp` runs on stdio), with
//! the binary's allocator. The model is one file of N pod groups (default
//! 1,000; `cargo bench --bench lsp -- 1000 10000`). Three edits, each
//! repeated, alternating with the original text so that every edit changes
//! the diagnostics and a stale answer would be noticed:
//!
//! * **valid**: one `allow` statement appended again, which leaves the
//!   model valid, so the whole check (generation, effective access, every
//!   lint) runs; the answer must hold one more `duplicate-statement`
//!   warning;
//! * **error**: an `allow` of an undeclared name appended (E0101: the
//!   model is not checked further);
//! * **syntax**: a statement cut in half (E0001).
//!
//! Each figure is the time until the notification arrives, its contents
//! then verified; then the median CPU time (user and system, all threads
//! of the process) each edit took, which a loaded host inflates less than
//! wall time.

use lsp_server::{Connection, Message, Notification, Request, RequestId};
use lsp_types as lsp;
use palisade::synth::{generate, SynthOptions};
use std::time::{Duration, Instant};

/// The allocator the `palisade` binary uses (src/main.rs).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const RUNS: usize = 15;

fn main() {
    palisade::cli::keep_freed_memory();
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() { vec![1_000] } else { sizes };
    if std::env::var_os("PALISADE_BENCH_PHASES").is_some() {
        for &n in &sizes {
            phases(n);
        }
    }
    println!(
        "{:>10} {:>9} {:>10} {:>26} {:>26} {:>26}",
        "pod groups",
        "source",
        "open",
        "edit: valid (min/med/max)",
        "edit: error (min/med/max)",
        "edit: syntax (min/med/max)"
    );
    for n in sizes {
        bench(n);
    }
}

fn bench(n: usize) {
    let text = generate(&SynthOptions::new(n));
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("model.sec");
    std::fs::write(&path, &text).expect("the model is written");
    let uri = palisade::lsp::path_uri(&path);

    let (server, client) = Connection::memory();
    let thread = std::thread::spawn(move || palisade::lsp::serve(&server));
    let mut c = Client {
        conn: client,
        next: 0,
    };
    c.request(
        "initialize",
        serde_json::json!({ "capabilities": {}, "processId": null, "rootUri": null }),
    );
    c.notify("initialized", serde_json::json!({}));

    let start = Instant::now();
    c.notify(
        "textDocument/didOpen",
        serde_json::json!({ "textDocument": {
            "uri": uri, "languageId": "palisade", "version": 1, "text": text } }),
    );
    let base = c.diagnostics(&uri);
    let open = start.elapsed();
    let count = |d: &[lsp::Diagnostic], code: &str| {
        d.iter()
            .filter(|d| matches!(&d.code, Some(lsp::NumberOrString::String(c)) if c == code))
            .count()
    };
    assert!(
        base.iter()
            .all(|d| d.severity != Some(lsp::DiagnosticSeverity::ERROR)),
        "the synthetic model is valid"
    );

    let allow = text
        .lines()
        .find(|l| l.starts_with("allow ") && !l.contains(" in "))
        .expect("the model has an allow statement");
    let valid = format!("{text}{allow}\n");
    let error = format!("{text}allow undeclared-party -> customer: http\n");
    let cut = {
        let i = text.rfind("\nallow ").expect("an allow statement") + 1;
        let line_end = text[i..].find('\n').map_or(text.len(), |e| i + e);
        let colon = text[i..line_end].find(':').map_or(line_end, |c| i + c);
        format!("{}{}", &text[..colon], &text[line_end..])
    };
    let mut version = 1;
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); 3];
    let mut cpu: Vec<Vec<Duration>> = vec![Vec::new(); 3];
    for _ in 0..RUNS {
        for (k, edited) in [&valid, &error, &cut].into_iter().enumerate() {
            version += 1;
            let t = Instant::now();
            let c0 = cpu_time();
            c.change(&uri, version, edited);
            let got = c.diagnostics(&uri);
            times[k].push(t.elapsed());
            cpu[k].push(cpu_time().saturating_sub(c0));
            match k {
                0 => assert_eq!(
                    count(&got, "duplicate-statement"),
                    count(&base, "duplicate-statement") + 1,
                    "the valid edit's diagnostics are fresh"
                ),
                1 => assert!(
                    got.iter().any(|d| d.message.contains("undeclared-party")),
                    "the error edit's diagnostics are fresh"
                ),
                _ => assert!(
                    count(&got, "E0001") == 1,
                    "the syntax edit's diagnostics are fresh"
                ),
            }
            // Back to the original text (not timed), checked again.
            version += 1;
            c.change(&uri, version, &text);
            assert_eq!(c.diagnostics(&uri).len(), base.len());
        }
    }
    c.request("shutdown", serde_json::Value::Null);
    c.notify("exit", serde_json::Value::Null);
    thread
        .join()
        .expect("the server thread ends")
        .expect("the server ends cleanly");
    println!(
        "{n:>10} {:>7.1}MB {:>10} {:>26} {:>26} {:>26}",
        text.len() as f64 / 1e6,
        ms(open),
        spread(&mut times[0]),
        spread(&mut times[1]),
        spread(&mut times[2]),
    );
    let median = |t: &mut Vec<Duration>| {
        t.sort();
        ms(t[t.len() / 2])
    };
    println!(
        "{:>10} {:>9} {:>10} {:>26} {:>26} {:>26}",
        "",
        "",
        "CPU:",
        median(&mut cpu[0]),
        median(&mut cpu[1]),
        median(&mut cpu[2]),
    );
}

/// `PALISADE_BENCH_PHASES=1`: the compiler's stages alone on the same
/// model (parse, resolve, check), what an analysis after an edit costs at
/// least.
fn phases(n: usize) {
    use palisade::diagnostics::Diagnostics;
    use palisade::source::{SourceFile, SourceMap};
    use palisade::span::FileId;
    let text = generate(&SynthOptions::new(n));
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); 3];
    for _ in 0..RUNS {
        let t = Instant::now();
        let mut d = Diagnostics::new();
        let tree = palisade::syntax::parse_file(FileId(0), &text, &mut d);
        times[0].push(t.elapsed());
        let mut sources = SourceMap::new();
        sources.add(SourceFile::new("m.sec", "m.sec".into(), text.clone()));
        let t = Instant::now();
        let comp = palisade::compile_parsed(sources, &[(FileId(0), tree)], d);
        times[1].push(t.elapsed());
        let t = Instant::now();
        let checked = palisade::check(comp);
        times[2].push(t.elapsed());
        drop(checked);
    }
    println!(
        "phases at {n}: parse {}, resolve {}, check {} (min/med/max)",
        spread(&mut times[0]),
        spread(&mut times[1]),
        spread(&mut times[2])
    );
}

/// The process's CPU time so far (user and system, every thread).
fn cpu_time() -> Duration {
    // SAFETY: `rusage` is plain data (all zeroes is a value of it), and
    // getrusage writes only the struct it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1e3)
}

fn spread(t: &mut [Duration]) -> String {
    t.sort();
    format!(
        "{} / {} / {}",
        ms(t[0]),
        ms(t[t.len() / 2]),
        ms(t[t.len() - 1])
    )
}

/// The client's end of the connection.
struct Client {
    conn: Connection,
    next: i32,
}

impl Client {
    fn request(&mut self, method: &str, params: serde_json::Value) -> serde_json::Value {
        self.next += 1;
        let id = RequestId::from(self.next);
        self.send(Message::Request(Request::new(
            id.clone(),
            method.into(),
            params,
        )));
        loop {
            match self.recv() {
                Message::Response(r) if r.id == id => {
                    return match r.response_result {
                        Ok(v) => v,
                        Err(e) => panic!("{method}: {e:?}"),
                    };
                }
                _ => {}
            }
        }
    }

    fn notify(&self, method: &str, params: serde_json::Value) {
        self.send(Message::Notification(Notification::new(
            method.into(),
            params,
        )));
    }

    fn change(&self, uri: &lsp::Uri, version: i32, text: &str) {
        self.notify(
            "textDocument/didChange",
            serde_json::json!({
                "textDocument": { "uri": uri, "version": version },
                "contentChanges": [{ "text": text }],
            }),
        );
    }

    /// The next diagnostics published for `uri`.
    fn diagnostics(&self, uri: &lsp::Uri) -> Vec<lsp::Diagnostic> {
        loop {
            if let Message::Notification(n) = self.recv() {
                if n.method == "textDocument/publishDiagnostics" {
                    let p: lsp::PublishDiagnosticsParams =
                        serde_json::from_value(n.params).expect("diagnostics parse");
                    if &p.uri == uri {
                        return p.diagnostics;
                    }
                }
            }
        }
    }

    fn send(&self, m: Message) {
        self.conn.sender.send(m).expect("the server is running");
    }

    fn recv(&self) -> Message {
        (self.conn.receiver)
            .recv_timeout(Duration::from_secs(120))
            .expect("the server answers")
    }
}
