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
    /// How long to wait for another build of OUT to finish before giving up
    /// (0: do not wait)
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    pub lock_timeout: u64,
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
    for (ns, len) in output::oversized_descriptions(&comp.model) {
        let file = comp.sources.get(ns.span.file);
        let (line, col) = file.line_col(ns.span.start);
        eprintln!(
            "warning: the description of namespace `{}` is {len} bytes, more than Kubernetes \
             accepts in one object's annotations ({} KiB)",
            ns.name,
            output::MAX_ANNOTATION_BYTES / 1024
        );
        eprintln!(" --> {}:{line}:{col}", file.name);
        eprintln!(
            "  = note: the generated Namespace's `palisade.dev/description` is cut to fit and ends with `{}`",
            output::TRUNCATED.trim_start()
        );
        eprintln!("  = help: shorten the description; link to longer documentation from it");
    }
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
    if opts.workloads {
        not_generated(&mut checked.comp);
    }
    if !gate(cli, &checked.comp, &args.model, &args.out, color) {
        std::mem::forget(checked);
        return Exit::ModelErrors;
    }
    let files = match files {
        Ok(files) => files,
        Err(collision) => {
            eprintln!(
                "error: {collision}\n  = note: a bug in palisade's names, or names of the model that join into one: please report it with the model\nnothing was written to `{}`",
                args.out.display()
            );
            std::mem::forget(checked);
            return Exit::ModelErrors;
        }
    };
    let comp = &checked.comp;
    let waiting = || {
        eprintln!(
            "waiting for another palisade build of `{}` to finish (at most {} s: --lock-timeout)",
            args.out.display(),
            args.lock_timeout
        )
    };
    let sync_opts = tree::SyncOptions {
        scope: args.env.as_deref().filter(|_| only.is_some()),
        marker: Some(output::HEADER_START.as_bytes()),
        waiting: Some(&waiting),
        lock_timeout: Some(std::time::Duration::from_secs(args.lock_timeout)),
        // Make's target (`--depfile`) is the record file: once a build
        // succeeded it must not be older than a model file, or make would
        // run every build again; a no-op build leaves it alone.
        touch_if_older_than: (comp.sources.files())
            .filter_map(|(_, f)| std::fs::metadata(&f.path).and_then(|m| m.modified()).ok())
            .max(),
    };
    if args.check {
        return check(&args.out, &files, &sync_opts);
    }
    if let Some(dep) = &args.depfile {
        if inside(dep, &args.out) {
            eprintln!(
                "error: the depfile `{}` is inside the output directory `{}`",
                dep.display(),
                args.out.display()
            );
            eprintln!(
                "  = help: write it beside OUT, e.g. `--depfile {}.d`",
                args.out.display()
            );
            eprintln!("  = note: nothing in `{}` was changed", args.out.display());
            return Exit::Usage;
        }
    }
    match tree::sync_with(&args.out, &files, &sync_opts) {
        Ok(plan) => {
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
            if e.out_unchanged() {
                eprintln!("  = note: nothing in `{}` was changed", args.out.display());
            }
            Exit::Usage
        }
    }
}

/// palisade writes Deployments: a pod group bound to a StatefulSet or a
/// DaemonSet is the user's own workload, and building workloads for it
/// would deploy a second, different one.
fn not_generated(comp: &mut crate::Compilation) {
    use crate::diagnostics::{Code, Diagnostic};
    use crate::model::WorkloadKind;
    for g in &comp.model.pods {
        let Some(w) = &g.binding.workload else {
            continue;
        };
        if w.kind == WorkloadKind::Deployment || g.apps.is_empty() {
            continue;
        }
        comp.diagnostics.push(
            Diagnostic::error(
                Code::WorkloadNotGenerated,
                g.binding.workload_span.unwrap_or(g.span),
                format!(
                    "`{}` runs as {}/{}, which palisade does not generate",
                    g.name,
                    w.kind.as_str(),
                    w.name
                ),
            )
            .label("bound to an existing workload")
            .note("palisade generates Deployments; it would deploy a second workload beside yours")
            .help("build the security layer only, for the workloads you deploy yourself: `palisade build --no-workloads` (or `platform { workloads = false }`)"),
        );
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

/// Whether `path` is OUT or inside it, links resolved as far as the paths exist.
fn inside(path: &Path, out: &Path) -> bool {
    fn resolve(p: &Path) -> PathBuf {
        let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
        let mut rest = Vec::new();
        let mut at = abs.as_path();
        loop {
            if let Ok(real) = std::fs::canonicalize(at) {
                return rest.iter().rev().fold(real, |p, name| p.join(name));
            }
            match (at.parent(), at.file_name()) {
                (Some(up), Some(name)) => {
                    rest.push(name.to_owned());
                    at = up;
                }
                _ => return abs,
            }
        }
    }
    resolve(path).starts_with(resolve(out))
}

fn check(out: &Path, files: &tree::FileSet, opts: &tree::SyncOptions<'_>) -> Exit {
    match tree::plan_with(out, files, opts) {
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
