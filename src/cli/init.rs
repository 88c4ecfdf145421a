//! `palisade init [DIR]`: write a commented starter model, `DIR/model.sec`.

use super::{usage_error, Cli, Exit};
use std::path::{Path, PathBuf};

/// The starter model (it checks clean and is in canonical layout; a test
/// holds it to both). Its `system shop` line gets the directory's name.
pub const STARTER: &str = include_str!("starter.sec");

/// The file `init` writes in DIR.
pub const FILE: &str = "model.sec";

#[derive(clap::Args, Debug)]
pub struct InitArgs {
    /// The directory to write `model.sec` in (created if missing)
    #[arg(default_value = ".")]
    pub dir: PathBuf,
}

pub fn run(cli: &Cli, args: &InitArgs) -> Exit {
    let color = super::stderr_color(cli.color);
    let dir = &args.dir;
    if dir.exists() && !dir.is_dir() {
        return usage_error(
            &format!("`{}` is not a directory", dir.display()),
            Some("give a directory for the new model (it is created if missing)"),
            color,
        );
    }
    match existing_models(dir) {
        Ok(found) if !found.is_empty() => {
            return usage_error(
                &format!(
                    "`{}` already holds a model ({}); nothing written",
                    dir.display(),
                    found.join(", ")
                ),
                Some("every `.sec` file of a directory is one model: give `palisade init` a new or empty directory"),
                color,
            );
        }
        Ok(_) => {}
        Err(e) => {
            return usage_error(
                &format!("cannot read `{}`: {e}", dir.display()),
                None,
                color,
            )
        }
    }
    let path = dir.join(FILE);
    let text = starter(&system_name(dir));
    let written = std::fs::create_dir_all(dir).and_then(|()| {
        // `create_new`: never replace a file that appeared meanwhile.
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)?;
        f.write_all(text.as_bytes())
    });
    if let Err(e) = written {
        return usage_error(
            &format!("cannot write `{}`: {e}", path.display()),
            None,
            color,
        );
    }
    if !cli.quiet {
        let d = dir.display();
        eprintln!(
            "created `{}`: a starter model with comments on every construct",
            path.display()
        );
        eprintln!("next: `palisade check {d}`, then `palisade build {d} -o deploy/`");
    }
    Exit::Ok
}

/// The starter model with its `system` named `name`.
pub fn starter(name: &str) -> String {
    STARTER.replacen("\nsystem shop ", &format!("\nsystem {name} "), 1)
}

/// The `.sec` files already in `dir` (none if it does not exist).
fn existing_models(dir: &Path) -> std::io::Result<Vec<String>> {
    if !dir.exists() {
        return Ok(Vec::new());
    }
    let mut found: Vec<String> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "sec"))
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    found.sort();
    Ok(found)
}

/// The directory's name as a system name (a DNS label), or `shop`.
fn system_name(dir: &Path) -> String {
    let base = std::fs::canonicalize(dir)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .or_else(|| dir.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    let mut name = String::new();
    for c in base.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            name.push(c);
        } else if !name.is_empty() && !name.ends_with('-') {
            name.push('-');
        }
    }
    let name = name.trim_start_matches(|c: char| c.is_ascii_digit() || c == '-');
    let mut name: String = name.chars().take(40).collect();
    while name.ends_with('-') {
        name.pop();
    }
    if name.is_empty() {
        "shop".to_string()
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_names_are_labels() {
        assert_eq!(system_name(Path::new("/x/My Payments_2")), "my-payments-2");
        assert_eq!(system_name(Path::new("/x/42")), "shop");
        assert!(starter("pay").contains("\nsystem pay \""));
    }
}
