//! The command line (clap derive): one file per subcommand, an explicit
//! exit-code type. Results go to stdout, diagnostics to stderr.

mod build;
mod check;
mod explain;
mod graph;

use clap::{Parser, Subcommand, ValueEnum};
use std::process::ExitCode;

/// Exit codes (CLI.md): 0 clean or warnings only, 1 model errors or denied
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
        Command::Graph(args) => graph::run(&cli, args),
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
