//! `palisade check [MODEL]`: parse, resolve, compute effective access, run
//! the lints and invariants; report every diagnostic.

use super::{stderr_color, Cli, Exit, Format};
use crate::diagnostics::{json, render, sarif, Severity};
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// A `.sec` file or a directory of them
    #[arg(default_value = ".")]
    pub model: PathBuf,
    /// How to report diagnostics
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// `--deny warnings` makes every warning an error
    #[arg(long, value_name = "warnings", value_parser = ["warnings"])]
    pub deny: Option<String>,
}

pub fn run(cli: &Cli, args: &CheckArgs) -> Exit {
    let color = stderr_color(cli.color);
    let comp = match crate::compile_path(&args.model) {
        Ok(c) => c,
        Err(e) => return super::load_error(&e, color),
    };
    let crate::Checked { mut comp, graphs } = crate::check(comp);
    if args.deny.is_some() {
        comp.diagnostics.deny_warnings();
    }
    let diags: Vec<_> = comp
        .diagnostics
        .iter()
        .filter(|d| !cli.quiet || d.severity == Severity::Error)
        .cloned()
        .collect();
    let errors = comp.diagnostics.error_count();
    let warnings = comp.diagnostics.warning_count();
    match args.format {
        Format::Human => {
            let mut err = std::io::stderr().lock();
            if !diags.is_empty() {
                let _ = write!(err, "{}", render::render(&diags, &comp.sources, color));
            }
            let what = args.model.display().to_string();
            if let Some(line) =
                render::summary_line(errors, if cli.quiet { 0 } else { warnings }, &what, color)
            {
                let _ = writeln!(err, "{line}");
            } else if !cli.quiet {
                let _ = writeln!(
                    err,
                    "checked `{what}`: {} file(s), no problems",
                    comp.sources.len()
                );
            }
        }
        Format::Json => {
            let doc = json::JsonReport::new(&diags, &comp.sources);
            let mut out = std::io::stdout().lock();
            let _ = serde_json::to_writer_pretty(&mut out, &doc);
            let _ = writeln!(out);
        }
        Format::Sarif => {
            let log = sarif::to_sarif(&diags, &comp.sources, crate::lints::LINTS);
            let mut out = std::io::stdout().lock();
            let _ = serde_json::to_writer_pretty(&mut out, &log);
            let _ = writeln!(out);
        }
    }
    crate::timings::lap("report");
    // The process ends here: freeing the model and every environment's
    // access (half a gigabyte of small allocations at 10,000 pod groups)
    // one by one takes longer than the OS takes to reclaim the pages.
    std::mem::forget((graphs, comp));
    if errors > 0 {
        Exit::ModelErrors
    } else {
        Exit::Ok
    }
}
