//! `palisade build [MODEL] -o OUT`: generate the deploy tree, make-style.

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
    let model = &comp.model;
    let only = match super::environment(model, args.env.as_deref()) {
        Ok(env) => env,
        Err(exit) => return exit,
    };
    let opts = Options {
        workloads: model.platform.workloads && !args.no_workloads,
    };
    let names: Vec<String> = comp
        .sources
        .files()
        .map(|(_, f)| file_name(&f.path))
        .collect();
    let files = output::build(model, &opts, only, &names);
    if args.check {
        return check(&args.out, &files);
    }
    match tree::sync(&args.out, &files) {
        Ok(plan) => {
            let model_paths: Vec<&Path> = comp
                .sources
                .files()
                .map(|(_, f)| f.path.as_path())
                .collect();
            freshen_record(&args.out, &model_paths);
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

/// Make's target (`--depfile`) is the record file: it must not be older than
/// a model file once a build succeeded, or make would run every build again.
/// A build that wrote nothing leaves it alone when it is already newer than
/// every model file (a no-op build changes nothing in OUT, mtimes included);
/// only when a model file was touched without changing the output is its
/// mtime set to now.
fn freshen_record(out: &Path, model_files: &[&Path]) {
    let record = out.join(tree::MANIFEST);
    let Ok(meta) = std::fs::symlink_metadata(&record) else {
        return;
    };
    let Ok(built) = meta.modified() else { return };
    let newest = (model_files.iter())
        .filter_map(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
        .max();
    if newest.is_some_and(|newest| newest > built) && meta.is_file() {
        if let Ok(f) = std::fs::File::options().write(true).open(&record) {
            let _ = f.set_modified(std::time::SystemTime::now());
        }
    }
}

fn file_name(p: &Path) -> String {
    p.file_name().map_or_else(
        || p.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}
