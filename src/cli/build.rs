//! `palisade build [MODEL] -o OUT`: check the model, then generate the
//! deploy tree, make-style. The check is a gate: a deny-level finding or a
//! failing invariant stops the build before anything in OUT changes.

use super::{stderr_color, Cli, Exit};
use crate::generate::Options;
use crate::output::{self, tree};
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct BuildArgs {
    /// A `.sec` file or a directory of them
    #[arg(default_value = ".")]
    pub model: PathBuf,
    /// The output directory (the deploy repo's manifests folder)
    #[arg(short, long, value_name = "OUT")]
    pub out: PathBuf,
    /// Build only this environment
    #[arg(long, value_name = "ENV")]
    pub env: Option<String>,
    /// Write nothing; list what would change and exit 1 if anything would
    #[arg(long)]
    pub check: bool,
    /// Also write a make-format dependency file
    #[arg(long, value_name = "FILE")]
    pub depfile: Option<PathBuf>,
    /// Do not generate Deployments, Services and ServiceAccounts
    #[arg(long)]
    pub no_workloads: bool,
    /// `--deny warnings` makes every warning an error (and so stops the build)
    #[arg(long, value_name = "warnings", value_parser = ["warnings"])]
    pub deny: Option<String>,
}

pub fn run(cli: &Cli, args: &BuildArgs) -> Exit {
    let color = stderr_color(cli.color);
    let comp = match super::load_model(&args.model, color) {
        Ok(c) => c,
        Err(exit) => {
            if exit == Exit::ModelErrors {
                eprintln!("nothing was written to `{}`", args.out.display());
            }
            return exit;
        }
    };
    let only = match super::environment(&comp.model, args.env.as_deref()) {
        Ok(env) => env,
        Err(exit) => return exit,
    };
    let opts = Options {
        workloads: comp.model.platform.workloads && !args.no_workloads,
    };
    let names: Vec<String> = comp
        .sources
        .files()
        .map(|(_, f)| file_name(&f.path))
        .collect();
    // The check (every environment, every lint and invariant) and the
    // generation run side by side; nothing is written before the check
    // has passed.
    // The check and the generation run side by side (each on every core
    // it can get); nothing is written before the check has passed. The
    // check generates what it evaluates itself: sharing the objects would
    // hold every environment's in memory at once (1.3 GB instead of 0.9 at
    // 10,000 pod groups, docs/performance.md) for no gain in time.
    let (mut checked, files) =
        crate::check_with(comp, |model| output::build(model, &opts, only, &names));
    if args.deny.is_some() {
        checked.comp.diagnostics.deny_warnings();
    }
    if !gate(cli, &checked.comp, &args.model, &args.out, color) {
        std::mem::forget(checked);
        return Exit::ModelErrors;
    }
    let comp = &checked.comp;
    if args.check {
        return check(&args.out, &files);
    }
    match tree::sync(&args.out, &files) {
        Ok(plan) => {
            // The manifest's mtime is the time of the last successful build:
            // make compares it with the model files (see --depfile).
            let manifest = args.out.join(tree::MANIFEST);
            if let Ok(f) = std::fs::File::options().write(true).open(&manifest) {
                let _ = f.set_modified(std::time::SystemTime::now());
            }
            if let Some(dep) = &args.depfile {
                let target = args.out.join(tree::MANIFEST).display().to_string();
                let deps: Vec<String> = comp
                    .sources
                    .files()
                    .map(|(_, f)| f.path.display().to_string())
                    .collect();
                if let Err(e) = tree::write_depfile(dep, &target, &deps) {
                    eprintln!("error: {e}");
                    return Exit::Usage;
                }
            }
            if !cli.quiet {
                eprintln!(
                    "built `{}`: {} written, {} removed, {} unchanged",
                    args.out.display(),
                    plan.added.len() + plan.changed.len(),
                    plan.removed.len(),
                    plan.unchanged
                );
            }
            Exit::Ok
        }
        Err(e) => {
            eprintln!("error: {e}");
            eprintln!("  = note: nothing in `{}` was changed", args.out.display());
            Exit::Usage
        }
    }
}

/// The check's verdict, printed as `palisade check` prints it: every error
/// and (unless `-q`) every warning, then the summary line. `false`: errors,
/// the build stops and says that OUT is untouched.
fn gate(cli: &Cli, comp: &crate::Compilation, model: &Path, out: &Path, color: bool) -> bool {
    use crate::diagnostics::{render, Severity};
    let errors = comp.diagnostics.error_count();
    let warnings = if cli.quiet {
        0
    } else {
        comp.diagnostics.warning_count()
    };
    let shown: Vec<_> = (comp.diagnostics.iter())
        .filter(|d| d.severity == Severity::Error || !cli.quiet)
        .cloned()
        .collect();
    if !shown.is_empty() {
        eprint!("{}", render::render(&shown, &comp.sources, color));
    }
    if let Some(line) = render::summary_line(errors, warnings, &model.display().to_string(), color)
    {
        eprintln!("{line}");
    }
    if errors > 0 {
        eprintln!(
            "nothing was written to `{}`: the model must check without errors",
            out.display()
        );
        return false;
    }
    true
}

fn check(out: &Path, files: &tree::FileSet) -> Exit {
    match tree::plan(out, files) {
        Ok(plan) if plan.is_empty() => Exit::Ok,
        Ok(plan) => {
            let mut list = String::new();
            for (what, paths) in [
                ("add", &plan.added),
                ("change", &plan.changed),
                ("remove", &plan.removed),
            ] {
                for p in paths {
                    list.push_str(&format!("{what:<7} {p}\n"));
                }
            }
            super::print_stdout(list.as_bytes());
            eprintln!(
                "`{}` is out of date: run `palisade build` and commit the result",
                out.display()
            );
            Exit::ModelErrors
        }
        Err(e) => {
            eprintln!("error: {e}");
            Exit::Usage
        }
    }
}

fn file_name(p: &Path) -> String {
    p.file_name().map_or_else(
        || p.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}
