//! `palisade audit [-m MODEL] [--env ENV] [-n NAMESPACE] PATH...`: what
//! existing manifests really allow, against the model (docs/brownfield.md).

use super::{stderr_color, Cli, Exit, Format};
use crate::diagnostics::{render, sarif, Diagnostics, Severity};
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct AuditArgs {
    /// YAML or JSON manifests: files, or directories read recursively
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// A `.sec` file or a directory of them
    #[arg(short, long, default_value = ".")]
    pub model: PathBuf,
    /// The model's environment the manifests deploy (required when the model declares environments)
    #[arg(long)]
    pub env: Option<String>,
    /// The namespace of objects that name none (as `kubectl apply -n`)
    #[arg(short, long, default_value = "default")]
    pub namespace: String,
    /// human (rustc-style, on stderr), json (schema version 1: docs/brownfield.md) or sarif, on stdout
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

pub fn run(cli: &Cli, args: &AuditArgs) -> Exit {
    let color = stderr_color(cli.color);
    let comp = match super::load_model(&args.model, color) {
        Ok(c) => c,
        Err(exit) => return exit,
    };
    let env = match super::environment(&comp.model, args.env.as_deref()) {
        Ok(env) => env,
        Err(exit) => return exit,
    };
    if env.is_none() && !comp.model.environments.is_empty() {
        let names: Vec<&str> = (comp.model.environments.iter())
            .map(|e| e.name.as_str())
            .collect();
        return super::usage_error(
            "the model declares environments: which one do the manifests deploy?",
            Some(&format!("add `--env ENV`, one of {}", names.join(", "))),
            color,
        );
    }
    let mut checked = crate::check(comp);
    let first = checked.comp.sources.len();
    if let Err(e) = crate::source::load_manifests(&args.paths, &mut checked.comp.sources) {
        return super::load_error(&e, color);
    }
    let mut diags = Diagnostics::new();
    let manifests =
        crate::manifests::read(&checked.comp.sources, first, &args.namespace, &mut diags);
    if diags.has_errors() {
        let list: Vec<_> = diags.iter().cloned().collect();
        eprint!("{}", render::render(&list, &checked.comp.sources, color));
        eprintln!("error: the manifests could not be read; nothing was audited");
        return Exit::Usage;
    }
    if manifests.objects.is_empty() {
        return super::usage_error(
            "the manifests hold no object palisade evaluates (workloads, NetworkPolicies, RBAC)",
            Some("give the output of `helm template`, `kustomize build` or `kubectl get -o yaml`"),
            color,
        );
    }
    let report = crate::audit::audit(&checked, env, &manifests);
    let model = &checked.comp.model;
    let sources = &checked.comp.sources;
    let exit = if report.clean() {
        Exit::Ok
    } else {
        Exit::ModelErrors
    };
    let list: Vec<_> = crate::audit::report::diagnostics(model, &manifests, &report)
        .into_iter()
        .filter(|d| !cli.quiet || d.severity == Severity::Error)
        .collect();
    match args.format {
        Format::Human => {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "{}", render::render(&list, sources, color));
            let violated = report.invariants.iter().filter(|i| !i.holds).count();
            let _ = writeln!(
                err,
                "audited {} object(s) of {} file(s) against `{}`{}: {} wider, {} unenforced, \
                 {violated} of {} invariant(s) violated; {} bound, {} unbound, {} unmodelled",
                manifests.objects.len(),
                sources.len() - first,
                args.model.display(),
                env.map_or(String::new(), |e| format!(
                    " (environment {})",
                    model.environments[e.index()].name
                )),
                report.wider.len(),
                report.unenforced.len(),
                report.invariants.len(),
                report.bindings.len(),
                report.unbound.len(),
                report.unmodelled.len(),
            );
            exit
        }
        Format::Json => {
            let doc = crate::audit::report::json(
                model,
                sources,
                &manifests,
                &report,
                &args.model.display().to_string(),
            );
            let mut text = serde_json::to_string_pretty(&doc).expect("JSON");
            text.push('\n');
            super::print_stdout(text.as_bytes());
            exit
        }
        Format::Sarif => {
            let log = sarif::to_sarif(&list, sources, crate::lints::LINTS);
            let mut text = serde_json::to_string_pretty(&log).expect("SARIF");
            text.push('\n');
            super::print_stdout(text.as_bytes());
            exit
        }
    }
}
