//! `palisade fmt [MODEL] [--check]`: rewrite `.sec` files in the canonical
//! layout (docs/language.md, section 7); comments are kept.

use super::{stderr_color, Cli, Exit};
use crate::diagnostics::{render, Diagnostics};
use crate::syntax::format::{format, FormatError};
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct FmtArgs {
    /// A `.sec` file or a directory of them; `-`: read standard input, write the result to standard output
    #[arg(default_value = ".")]
    pub model: PathBuf,
    /// Write nothing: list the files that are not in canonical layout and exit 1 if there are any (for CI)
    #[arg(long)]
    pub check: bool,
}

pub fn run(cli: &Cli, args: &FmtArgs) -> Exit {
    let color = stderr_color(cli.color);
    if args.model.as_os_str() == "-" {
        return stdin(args.check, color);
    }
    let sources = match crate::source::load(&args.model) {
        Ok(s) => s,
        Err(e) => return super::load_error(&e, color),
    };
    let mut diags = Diagnostics::new();
    let mut changed: Vec<(&Path, &str, String)> = Vec::new();
    let mut broken = 0;
    let mut internal = false;
    for (id, file) in sources.files() {
        match format(id, &file.text, &mut diags) {
            Ok(out) if out == file.text => {}
            Ok(out) => changed.push((&file.path, &file.name, out)),
            Err(FormatError::Syntax) => broken += 1,
            Err(FormatError::Internal(why)) => {
                internal = true;
                eprintln!(
                    "error: `{}` left as it is: {why}\n  = note: this is a bug in `palisade fmt`; please report it with the file",
                    file.name
                );
            }
        }
    }
    if !diags.is_empty() {
        diags.sort();
        let list: Vec<_> = diags.iter().cloned().collect();
        eprint!("{}", render::render(&list, &sources, color));
        let (bold_red, reset) = if color {
            ("\x1b[1;31m", "\x1b[0m")
        } else {
            ("", "")
        };
        eprintln!(
            "{bold_red}error{reset}: {broken} file(s) not formatted: {} syntax error(s); fix them and run `palisade fmt` again",
            diags.error_count()
        );
    }
    let mut exit = if broken > 0 || internal {
        Exit::ModelErrors
    } else {
        Exit::Ok
    };
    if args.check {
        let list: String = changed.iter().map(|(_, n, _)| format!("{n}\n")).collect();
        super::print_stdout(list.as_bytes());
        if !changed.is_empty() {
            if !cli.quiet {
                eprintln!(
                    "{} file(s) not in canonical layout; `palisade fmt {}` rewrites them",
                    changed.len(),
                    args.model.display()
                );
            }
            exit = Exit::ModelErrors;
        }
        return exit;
    }
    for (path, name, out) in &changed {
        if let Err(e) = write(path, out) {
            eprintln!("error: cannot write `{name}`: {e}");
            return Exit::Usage;
        }
        if cli.verbose {
            eprintln!("formatted {name}");
        }
    }
    if !cli.quiet && (broken == 0 || !changed.is_empty()) {
        eprintln!(
            "formatted `{}`: {} of {} file(s) changed",
            args.model.display(),
            changed.len(),
            sources.len()
        );
    }
    exit
}

/// `palisade fmt -`: standard input to standard output (for editors and
/// pipes). With `--check`, nothing is printed; the exit code says whether
/// the text is in canonical layout.
fn stdin(check: bool, color: bool) -> Exit {
    use std::io::Read;
    let mut bytes = Vec::new();
    if let Err(e) = std::io::stdin().read_to_end(&mut bytes) {
        eprintln!("error: cannot read standard input: {e}");
        return Exit::Usage;
    }
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            eprintln!(
                "error: standard input is not valid UTF-8 (first invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            );
            return Exit::Usage;
        }
    };
    let mut sources = crate::source::SourceMap::new();
    let id = sources.add(crate::source::SourceFile::new(
        "<stdin>",
        PathBuf::from("<stdin>"),
        text,
    ));
    let text = &sources.get(id).text;
    let mut diags = Diagnostics::new();
    match format(id, text, &mut diags) {
        Ok(out) if check => {
            if out == *text {
                Exit::Ok
            } else {
                Exit::ModelErrors
            }
        }
        Ok(out) => super::print_stdout(out.as_bytes()),
        Err(FormatError::Syntax) => {
            let list: Vec<_> = diags.iter().cloned().collect();
            eprint!("{}", render::render(&list, &sources, color));
            eprintln!(
                "error: not formatted: {} syntax error(s)",
                diags.error_count()
            );
            Exit::ModelErrors
        }
        Err(FormatError::Internal(why)) => {
            eprintln!("error: not formatted: {why}\n  = note: this is a bug in `palisade fmt`; please report it with the text");
            Exit::ModelErrors
        }
    }
}

/// Replace a file's content in one step (a temporary file beside it,
/// renamed over it), keeping its permissions; a symbolic link stays one
/// (its target is rewritten).
fn write(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let path = &std::fs::canonicalize(path)?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let perms = std::fs::metadata(path)?.permissions();
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(text.as_bytes())?;
    tmp.as_file().sync_all()?;
    std::fs::set_permissions(tmp.path(), perms)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
