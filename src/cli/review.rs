//! `palisade review [MODEL] [-o FILE]`: the design-review report (Markdown).

use super::{stderr_color, Cli, Exit};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct ReviewArgs {
    /// A `.sec` file or a directory of them
    #[arg(default_value = ".")]
    pub model: PathBuf,
    /// Write the report to FILE instead of stdout
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

pub fn run(cli: &Cli, args: &ReviewArgs) -> Exit {
    let color = stderr_color(cli.color);
    let checked = match super::load_checked(&args.model, color) {
        Ok(c) => c,
        Err(exit) => return exit,
    };
    let view = crate::view::access_view(&checked);
    let text = crate::review::document::review_markdown(&checked.comp, &view);
    match &args.output {
        None => super::print_stdout(text.as_bytes()),
        Some(path) => match std::fs::write(path, text) {
            Ok(()) => Exit::Ok,
            Err(e) => super::usage_error(
                &format!("cannot write `{}`: {e}", path.display()),
                None,
                color,
            ),
        },
    }
}
