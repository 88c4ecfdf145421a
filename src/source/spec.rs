//! Where a model is read from, as the command line names it: a path (a
//! `.sec` file or a directory of them), or `git:REV:PATH` — the file or
//! directory PATH at revision REV, read with `git` without touching the
//! working tree (`palisade diff`).

use super::{SourceFile, SourceMap};
use std::path::PathBuf;

/// Where a model is read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Spec {
    Path(PathBuf),
    /// `git:REV:PATH`: PATH (relative to the working directory) at REV.
    Git {
        rev: String,
        path: String,
    },
}

impl Spec {
    pub fn parse(spec: &str) -> Spec {
        if let Some(rest) = spec.strip_prefix("git:") {
            if let Some((rev, path)) = rest.split_once(':') {
                return Spec::Git {
                    rev: rev.to_string(),
                    path: path.to_string(),
                };
            }
        }
        Spec::Path(PathBuf::from(spec))
    }

    /// Read the model's files.
    pub fn load(&self) -> Result<SourceMap, String> {
        match self {
            Spec::Path(p) => super::load(p).map_err(|e| match e.help() {
                Some(h) => format!("{e}\n  = help: {h}"),
                None => e.to_string(),
            }),
            Spec::Git { rev, path } => load_git(rev, path),
        }
    }
}

fn git(args: &[&str]) -> Result<Vec<u8>, String> {
    let out = std::process::Command::new("git")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(format!(
            "`git {}` failed: {}",
            args.join(" "),
            err.trim().lines().next().unwrap_or("")
        ));
    }
    Ok(out.stdout)
}

/// Every `.sec` file of PATH at REV (PATH relative to the working
/// directory, as `git show REV:./PATH` reads it), in name order.
fn load_git(rev: &str, path: &str) -> Result<SourceMap, String> {
    if rev.is_empty() || rev.starts_with('-') {
        return Err(format!("`{rev}` is not a git revision"));
    }
    let rel = path.trim_start_matches("./").trim_end_matches('/');
    let object = if rel.is_empty() {
        format!("{rev}:./")
    } else {
        format!("{rev}:./{rel}")
    };
    let kind = git(&["cat-file", "-t", &object])?;
    let display = |name: &str| format!("{rev}:{name}");
    let text_of = |bytes: Vec<u8>, name: &str| {
        String::from_utf8(bytes).map_err(|e| {
            format!(
                "`{}` is not valid UTF-8 (first invalid byte at offset {})",
                display(name),
                e.utf8_error().valid_up_to()
            )
        })
    };
    let mut map = SourceMap::new();
    match String::from_utf8_lossy(&kind).trim() {
        "blob" => {
            let text = text_of(git(&["cat-file", "blob", &object])?, rel)?;
            map.add(SourceFile::new(display(rel), PathBuf::from(rel), text));
        }
        "tree" => {
            let listing = git(&["ls-tree", "-z", &object])?;
            let mut files: Vec<(String, String)> = Vec::new();
            for entry in listing.split(|&b| b == 0).filter(|e| !e.is_empty()) {
                let entry = String::from_utf8_lossy(entry);
                // `<mode> <type> <hash>\t<name>`
                let Some((meta, name)) = entry.split_once('\t') else {
                    continue;
                };
                let mut meta = meta.split_whitespace();
                let (Some(_), Some(kind), Some(hash)) = (meta.next(), meta.next(), meta.next())
                else {
                    continue;
                };
                if kind == "blob" && name.ends_with(".sec") {
                    files.push((name.to_string(), hash.to_string()));
                }
            }
            if files.is_empty() {
                return Err(format!(
                    "directory `{}` contains no `.sec` files\n  = help: model files must end in `.sec`",
                    display(rel)
                ));
            }
            files.sort();
            for (name, hash) in files {
                let full = if rel.is_empty() {
                    name.clone()
                } else {
                    format!("{rel}/{name}")
                };
                let text = text_of(git(&["cat-file", "blob", &hash])?, &full)?;
                map.add(SourceFile::new(display(&full), PathBuf::from(&full), text));
            }
        }
        other => {
            return Err(format!(
                "`{object}` is a git {other}, not a file or directory"
            ))
        }
    }
    Ok(map)
}
