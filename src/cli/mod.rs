//! The command line (clap derive): one file per subcommand, an explicit
//! exit-code type. Results go to stdout, diagnostics to stderr.

mod audit;
mod build;
mod check;
mod diff;
mod explain;
mod fmt;
mod graph;
mod import;
mod init;
mod query;
mod review;

use clap::{Parser, Subcommand, ValueEnum};
use std::process::ExitCode;

/// Exit codes (docs/checks.md, docs/kubernetes.md): 0 clean or warnings only, 1 model errors or denied
/// findings, 2 bad usage or unreadable input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    Ok = 0,
    ModelErrors = 1,
    Usage = 2,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e as u8)
    }
}

#[derive(Parser, Debug)]
#[command(
    name = "palisade",
    version,
    about = "Design-time security models compiled to default-deny Kubernetes",
    long_about = "Palisade reads a `.sec` model of who needs access to what, proves that nothing \
                  can reach more than the model says, and generates the Kubernetes objects that \
                  enforce it.",
    after_help = "Examples:\n  palisade check examples/marketing.sec\n  palisade explain wildcard-grant"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// When to use colour: auto (a terminal, and NO_COLOR unset), always, never
    #[arg(long, global = true, value_enum, default_value_t = ColorWhen::Auto)]
    pub color: ColorWhen,
    /// Print only errors
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Print more about what is done
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Parse and resolve a model and report every problem
    #[command(
        after_help = "Examples:\n  palisade check examples/marketing.sec\n  palisade check examples/platform --format json"
    )]
    Check(check::CheckArgs),
    /// Generate the Kubernetes deploy tree (make-style: only changed files are written)
    #[command(
        after_help = "Examples:\n  palisade build examples/marketing.sec -o deploy/\n  palisade build examples/marketing.sec -o deploy/ --check   (CI: exit 1 if out of date)"
    )]
    Build(build::BuildArgs),
    /// The model as a graph for design review: DOT, Mermaid or JSON on stdout
    #[command(
        after_help = "Examples:\n  palisade graph examples/marketing.sec | dot -Tsvg > marketing.svg\n  palisade graph examples/platform --format mermaid --env prod\n  palisade graph examples/platform --focus payments-db --depth 2\n  palisade graph examples/webshop.sec --effective --env prod | dot -Tsvg > effective.svg"
    )]
    Graph(graph::GraphArgs),
    /// What existing manifests really allow, against the model: wider, unenforced, unbound, unmodelled, invariants
    #[command(
        after_help = "PATHs are YAML or JSON files or directories (helm template, kustomize build, kubectl get -o yaml output). Exit 0: nothing wider, unenforced or violated; 1: something is; 2: unreadable input.\n\nExamples:\n  helm template shop ./chart > shop.yaml && palisade audit -m shop.sec shop.yaml\n  palisade audit -m models/ --env prod deploy/prod/ --format sarif > audit.sarif"
    )]
    Audit(audit::AuditArgs),
    /// Print a shell completion script
    #[command(
        after_help = "Example:\n  palisade completions bash > /etc/bash_completion.d/palisade"
    )]
    Completions {
        /// bash, zsh, fish, elvish or powershell
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff)
    #[command(after_help = "Example:\n  palisade man > palisade.1 && man ./palisade.1")]
    Man,
    /// Explain a lint: what it finds, why it matters, how to fix it
    #[command(
        after_help = "Example:\n  palisade explain namespace-wide-grant\n  palisade explain      (lists every lint)"
    )]
    Explain(explain::ExplainArgs),
    /// Ask the effective access graph: who-can, what-can, path — each answer with its derivation
    #[command(
        after_help = "Examples:\n  palisade query -m examples/marketing.sec who-can read main-db\n  palisade query -m examples/marketing.sec what-can sre --env dev\n  palisade query -m examples/marketing.sec path customer main-db --format json"
    )]
    Query(query::QueryArgs),
    /// What a model change does to access: effective access added and removed, findings, generated files
    #[command(
        after_help = "OLD and NEW are model paths (a .sec file or a directory) or git:REV:PATH (PATH at a git revision, relative to the working directory).\n\nExamples:\n  palisade diff git:main:models models\n  palisade diff old.sec new.sec --format json\n  palisade diff git:HEAD~1:shop.sec shop.sec --fail-on-widening   (CI: exit 1 if access was added)"
    )]
    Diff(diff::DiffArgs),
    /// A Markdown design-review report: summary, access matrix, findings, invariants
    #[command(
        after_help = "Examples:\n  palisade review examples/marketing.sec\n  palisade review models/ -o review.md   (post it as a pull-request comment)"
    )]
    Review(review::ReviewArgs),
    /// Rewrite `.sec` files in the canonical layout, comments kept
    #[command(
        after_help = "Files with syntax errors are reported and left as they are; only files whose bytes change are written.\n\nExamples:\n  palisade fmt models/\n  palisade fmt models/ --check   (CI: list the files not in canonical layout, exit 1 if any)\n  palisade fmt - < shop.sec   (standard input to standard output, for editors)"
    )]
    Fmt(fmt::FmtArgs),
    /// Write a commented starter model (DIR/model.sec) that checks clean
    #[command(
        after_help = "Refuses a directory that already holds a .sec file.\n\nExamples:\n  palisade init payments && palisade check payments\n  palisade init   (in the current directory)"
    )]
    Init(init::InitArgs),
    /// A draft model from existing manifests: workloads, NetworkPolicy connections, RBAC
    #[command(
        after_help = "Every statement names the objects it came from; what the language cannot express is listed at the top.\n\nExamples:\n  helm template shop ./chart -n shop | palisade import - -o shop.sec\n  palisade import -n shop manifests/ -o shop.sec && palisade check shop.sec"
    )]
    Import(import::ImportArgs),
    /// A language server on standard input and output, for editors (docs/editors.md)
    #[command(
        after_help = "Diagnostics exactly as `palisade check` reports them, go to definition, references, hover (with effective access), document symbols and formatting.\n\nExample (Helix, ~/.config/helix/languages.toml):\n  [language-server.palisade]\n  command = \"palisade\"\n  args = [\"lsp\"]"
    )]
    Lsp,
}

/// Output formats for diagnostics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// rustc-style messages on stderr
    Human,
    /// a JSON document on stdout (schema version 1: docs/language.md)
    Json,
    /// a SARIF 2.1.0 log on stdout (GitHub code scanning and other viewers)
    Sarif,
}

/// Whether stderr gets ANSI colour.
pub fn stderr_color(when: ColorWhen) -> bool {
    match when {
        ColorWhen::Always => true,
        ColorWhen::Never => false,
        ColorWhen::Auto => {
            anstream::AutoStream::choice(&std::io::stderr()) != anstream::ColorChoice::Never
        }
    }
}

pub fn main() -> ExitCode {
    crate::timings::begin();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    Exit::Ok
                }
                _ => Exit::Usage,
            }
            .into();
        }
    };
    let exit = match &cli.command {
        Command::Check(args) => check::run(&cli, args),
        Command::Build(args) => build::run(&cli, args),
        Command::Explain(args) => explain::run(args),
        Command::Query(args) => query::run(&cli, args),
        Command::Diff(args) => diff::run(&cli, args),
        Command::Review(args) => review::run(&cli, args),
        Command::Graph(args) => graph::run(&cli, args),
        Command::Fmt(args) => fmt::run(&cli, args),
        Command::Init(args) => init::run(&cli, args),
        Command::Import(args) => import::run(&cli, args),
        Command::Audit(args) => audit::run(&cli, args),
        Command::Lsp => match crate::lsp::run() {
            Ok(()) => Exit::Ok,
            Err(e) => {
                eprintln!("palisade lsp: {e}");
                Exit::Usage
            }
        },
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            let mut buf = Vec::new();
            clap_complete::generate(*shell, &mut cmd, "palisade", &mut buf);
            print_stdout(&buf)
        }
        Command::Man => {
            let cmd = <Cli as clap::CommandFactory>::command();
            let mut buf = Vec::new();
            match clap_mangen::Man::new(cmd).render(&mut buf) {
                Ok(()) => print_stdout(&buf),
                Err(e) => {
                    eprintln!("error: cannot render the man page: {e}");
                    Exit::Usage
                }
            }
        }
    };
    exit.into()
}

/// For a process whose global allocator is mimalloc (the binary, the
/// bench; a no-op otherwise). A run lasts seconds: keep freed memory for reuse instead of returning it
/// to the OS a moment later (mimalloc's default: 10 ms in v2, 1 s in v3). Returned memory comes back
/// as fresh pages the kernel must zero; on a 10,000-pod-group check that
/// zeroing was a quarter of the CPU time (docs/performance.md).
pub fn keep_freed_memory() {
    // `mi_option_purge_delay` (mimalloc.h, v2 and v3): milliseconds before
    // freed memory is purged; -1 never. Set only if the option at that
    // index still has a documented default (v2: 10, v3: 1000), in case the
    // enum moves.
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    // SAFETY: plain FFI calls on mimalloc's global option table.
    unsafe {
        if matches!(libmimalloc_sys::mi_option_get(PURGE_DELAY), 10 | 1000) {
            libmimalloc_sys::mi_option_set(PURGE_DELAY, -1);
        }
    }
}

/// Report a model that could not be read (exit 2).
pub fn load_error(e: &crate::source::LoadError, color: bool) -> Exit {
    let (bold_red, reset) = if color {
        ("\x1b[1;31m", "\x1b[0m")
    } else {
        ("", "")
    };
    eprintln!("{bold_red}error{reset}: {e}");
    if let Some(help) = e.help() {
        eprintln!("  = help: {help}");
    }
    Exit::Usage
}

/// Write results to stdout; a closed pipe (`palisade ... | head`) is not an
/// error worth a panic.
pub fn print_stdout(bytes: &[u8]) -> Exit {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(bytes).and_then(|()| out.flush());
    Exit::Ok
}

/// Load and compile MODEL. `Err`: it could not be read (exit 2, reported),
/// or it has errors (every diagnostic and the summary line on stderr,
/// exit 1).
pub fn load_model(model: &std::path::Path, color: bool) -> Result<crate::Compilation, Exit> {
    use crate::diagnostics::render;
    let comp = crate::compile_path(model).map_err(|e| load_error(&e, color))?;
    if comp.has_errors() {
        let diags: Vec<_> = comp.diagnostics.iter().cloned().collect();
        eprint!("{}", render::render(&diags, &comp.sources, color));
        let line = render::summary_line(
            comp.diagnostics.error_count(),
            comp.diagnostics.warning_count(),
            &model.display().to_string(),
            color,
        );
        if let Some(line) = line {
            eprintln!("{line}");
        }
        return Err(Exit::ModelErrors);
    }
    Ok(comp)
}

/// `--env NAME` of a command: the environment, or (for a name the model
/// does not declare) an error with a did-you-mean on stderr and exit 2.
pub fn environment(
    model: &crate::model::Model,
    name: Option<&str>,
) -> Result<Option<crate::model::EnvId>, Exit> {
    let Some(name) = name else { return Ok(None) };
    if let Some(i) = model.environments.iter().position(|e| e.name == name) {
        return Ok(Some(crate::model::EnvId(i as u32)));
    }
    let known: Vec<&str> = model.environments.iter().map(|e| e.name.as_str()).collect();
    eprintln!("error: the model declares no environment `{name}`");
    if known.is_empty() {
        eprintln!("  = help: the model declares no environments; drop `--env`");
    } else if let Some(s) = crate::suggest::closest(name, known.iter().copied()) {
        eprintln!(
            "  = help: did you mean `{s}`? (its environments: {})",
            known.join(", ")
        );
    } else {
        eprintln!("  = help: its environments: {}", known.join(", "));
    }
    Err(Exit::Usage)
}

/// Report a usage problem (an unknown name, say): exit 2.
pub fn usage_error(message: &str, help: Option<&str>, color: bool) -> Exit {
    let (bold_red, reset) = if color {
        ("\x1b[1;31m", "\x1b[0m")
    } else {
        ("", "")
    };
    eprintln!("{bold_red}error{reset}: {message}");
    if let Some(help) = help {
        eprintln!("  = help: {help}");
    }
    Exit::Usage
}

/// Check a compiled model for a command that reads its effective access:
/// a model with errors gets its diagnostics on stderr and exit 1.
pub fn checked(comp: crate::Compilation, what: &str, color: bool) -> Result<crate::Checked, Exit> {
    if comp.has_errors() {
        report_errors(&comp, what, color);
        return Err(Exit::ModelErrors);
    }
    Ok(crate::check(comp))
}

/// Load MODEL and check it ([`checked`]): for the commands that read its
/// effective access (query, review). A load error exits 2.
pub fn load_checked(model: &std::path::Path, color: bool) -> Result<crate::Checked, Exit> {
    let comp = crate::compile_path(model).map_err(|e| load_error(&e, color))?;
    checked(comp, &model.display().to_string(), color)
}

/// A model's errors, rendered on stderr with the summary line.
pub fn report_errors(comp: &crate::Compilation, what: &str, color: bool) {
    use crate::diagnostics::{render, Severity};
    let errors: Vec<_> = (comp.diagnostics.iter())
        .filter(|d| d.severity == Severity::Error)
        .cloned()
        .collect();
    eprint!("{}", render::render(&errors, &comp.sources, color));
    if let Some(line) = render::summary_line(errors.len(), 0, what, color) {
        eprintln!("{line}");
    }
}

/// A JSON document on stdout, pretty, with a final newline.
pub fn print_json<T: serde::Serialize>(doc: &T) -> Exit {
    match serde_json::to_vec_pretty(doc) {
        Ok(mut bytes) => {
            bytes.push(b'\n');
            print_stdout(&bytes)
        }
        Err(e) => {
            eprintln!("error: cannot write JSON: {e}");
            Exit::Usage
        }
    }
}

#[cfg(test)]
mod tests {
    /// `keep_freed_memory` sets option 15 only when it reads mimalloc's
    /// documented purge-delay default there: pin that the index is right
    /// for the mimalloc we link (v3: 1000 ms).
    #[test]
    fn mimalloc_purge_delay_index() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            // SAFETY: reads mimalloc's option table.
            assert_eq!(unsafe { libmimalloc_sys::mi_option_get(15) }, 1000);
        }
    }
}
