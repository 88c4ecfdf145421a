//! `palisade import [-n NAMESPACE] PATH... [-o FILE]`: a draft `.sec` model
//! from manifests (docs/brownfield.md).

use super::{load_error, usage_error, Cli, Exit};
use crate::diagnostics::{render, Diagnostics};
use crate::source::SourceMap;
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// Manifest files or directories (YAML or JSON; directories are read recursively); `-` for standard input
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// The namespace of objects that name none, as `kubectl apply -n` would use
    #[arg(short = 'n', long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// Write the draft to FILE (never replaced if it exists) instead of standard output
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

pub fn run(cli: &Cli, args: &ImportArgs) -> Exit {
    let color = super::stderr_color(cli.color);
    if let Some(ns) = &args.namespace {
        if crate::import::system_namespace(ns) || !dns_label(ns) {
            return usage_error(
                &format!("`-n {ns}` cannot be a namespace of the model"),
                Some("the model's namespaces are DNS-1035 labels, and never `default` or `kube-*` (palisade owns the namespaces it declares); give the namespace your workloads should live in"),
                color,
            );
        }
    }
    if let Some(out) = &args.output {
        if out.exists() {
            return usage_error(
                &format!("`{}` already exists; nothing written", out.display()),
                Some("import writes a new draft: give another file, or remove this one"),
                color,
            );
        }
    }
    let mut files = SourceMap::new();
    // `-`: the manifests on standard input (`helm template … | palisade
    // import -`), read first; the other paths as files and directories.
    let (stdin, paths): (Vec<&PathBuf>, Vec<&PathBuf>) =
        args.paths.iter().partition(|p| p.as_os_str() == "-");
    if !stdin.is_empty() {
        match read_stdin() {
            Ok(text) => {
                files.add(crate::source::SourceFile::new(
                    "<stdin>",
                    PathBuf::from("-"),
                    text,
                ));
            }
            Err(e) => return usage_error(&format!("cannot read standard input: {e}"), None, color),
        }
    }
    let paths: Vec<PathBuf> = paths.into_iter().cloned().collect();
    if !paths.is_empty() {
        if let Err(e) = crate::source::load_manifests(&paths, &mut files) {
            return load_error(&e, color);
        }
    }
    let mut diags = Diagnostics::new();
    let namespace = args.namespace.as_deref().unwrap_or("");
    let manifests = crate::manifests::read(&files, 0, namespace, &mut diags);
    if diags.has_errors() {
        let list: Vec<_> = diags.iter().cloned().collect();
        eprint!("{}", render::render(&list, &files, color));
        return Exit::Usage;
    }
    let shown: Vec<String> = (args.paths.iter())
        .map(|p| match p.as_os_str() == "-" {
            true => "standard input".to_string(),
            false => p.display().to_string(),
        })
        .collect();
    if manifests.objects.is_empty() {
        let skipped: Vec<String> = (manifests.skipped.iter())
            .map(|(k, n)| format!("{k} ({n})"))
            .collect();
        let what = if skipped.is_empty() {
            "no Kubernetes objects".to_string()
        } else {
            format!(
                "no workloads, NetworkPolicies or RBAC, only {}",
                skipped.join(", ")
            )
        };
        return usage_error(
            &format!("nothing to import: {} holds {what}", shown.join(", ")),
            Some("give the rendered manifests (`helm template`, `kustomize build`, `kubectl get -o yaml`)"),
            color,
        );
    }
    if args.namespace.is_none() {
        let missing: Vec<String> = (manifests.objects.iter())
            .filter(|o| o.resource.metadata().namespace.as_deref() == Some(""))
            .map(|o| {
                let file = files.get(o.span.file);
                let (line, col) = file.line_col(o.span.start);
                format!(
                    "{}:{line}:{col}: {} {}",
                    file.name,
                    o.kind,
                    o.resource.metadata().name
                )
            })
            .collect();
        if !missing.is_empty() {
            let (bold_red, reset) = if color {
                ("\x1b[1;31m", "\x1b[0m")
            } else {
                ("", "")
            };
            eprintln!(
                "{bold_red}error{reset}: {} object{} name{} no namespace:",
                missing.len(),
                if missing.len() == 1 { "" } else { "s" },
                if missing.len() == 1 { "s" } else { "" }
            );
            for m in missing.iter().take(20) {
                eprintln!("  {m}");
            }
            if missing.len() > 20 {
                eprintln!("  … and {} more", missing.len() - 20);
            }
            eprintln!("  = help: give the namespace they are deployed to: `palisade import -n NAMESPACE …`");
            return Exit::Usage;
        }
    }
    let opts = crate::import::Options {
        name_hint: name_hint(&args.paths),
        inputs: shown,
    };
    let draft = crate::import::import(&files, &manifests, &opts);
    let Some(out) = &args.output else {
        return super::print_stdout(draft.text.as_bytes());
    };
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(out)
        .and_then(|mut f| std::io::Write::write_all(&mut f, draft.text.as_bytes()));
    if let Err(e) = written {
        return usage_error(
            &format!("cannot write `{}`: {e}", out.display()),
            None,
            color,
        );
    }
    if !cli.quiet {
        eprintln!(
            "wrote `{}`: {} apps, {} stores, {} personas, {} allow statements; {} things the language cannot express are listed at its top",
            out.display(),
            draft.apps,
            draft.stores,
            draft.personas,
            draft.allows,
            draft.unexpressed
        );
        eprintln!("next: review it, then `palisade check {}`", out.display());
    }
    Exit::Ok
}

/// Standard input as text, at most the model reader's limit.
fn read_stdin() -> Result<String, String> {
    use std::io::Read;
    let limit = crate::source::MAX_MODEL_BYTES;
    let mut bytes = Vec::new();
    (std::io::stdin().lock().take(limit + 1))
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > limit {
        return Err(format!("more than {} MiB", limit >> 20));
    }
    String::from_utf8(bytes)
        .map_err(|e| format!("not UTF-8 (byte {})", e.utf8_error().valid_up_to()))
}

fn dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && !s.ends_with('-')
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// File names that say nothing about the system: the directory's name
/// is used instead.
const GENERIC: &[&str] = &[
    "manifests",
    "kubernetes-manifests",
    "all",
    "release",
    "rendered",
    "output",
    "out",
    "deploy",
    "k8s",
    "kubernetes",
    "resources",
    "dump",
    "cluster",
    "template",
    "templates",
];

/// The system's name when no Helm chart gives one: the first path's
/// directory name, or its file name without extension.
fn name_hint(paths: &[PathBuf]) -> String {
    let Some(first) = paths.iter().find(|p| p.as_os_str() != "-") else {
        return String::new();
    };
    let path = std::fs::canonicalize(first).unwrap_or_else(|_| first.clone());
    let stem = |p: &Path| {
        p.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    if path.is_dir() {
        return stem(&path);
    }
    let name = stem(&path);
    if GENERIC.contains(&name.to_ascii_lowercase().as_str()) {
        if let Some(parent) = path.parent() {
            return stem(parent);
        }
    }
    name
}
