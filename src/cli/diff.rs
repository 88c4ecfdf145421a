//! `palisade diff OLD NEW`: what a model change does to access, for
//! pull-request review. OLD and NEW are model paths or `git:REV:PATH`.

use super::{stderr_color, Cli, Exit};
use crate::review::diff::{self, Side};
use crate::source::Spec;

#[derive(clap::Args, Debug)]
pub struct DiffArgs {
    /// The model before: a `.sec` file, a directory, or `git:REV:PATH`
    pub old: String,
    /// The model after: a `.sec` file, a directory, or `git:REV:PATH`
    pub new: String,
    /// markdown (a pull-request comment), or json (schema version 1: docs/review.md)
    #[arg(long, value_enum, default_value_t = DiffFormat::Markdown)]
    pub format: DiffFormat,
    /// Exit 1 when any effective access was added
    #[arg(long)]
    pub fail_on_widening: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    /// Markdown that reads well as a pull-request comment
    Markdown,
    /// a JSON document (schema version 1: docs/review.md)
    Json,
}

pub fn run(cli: &Cli, args: &DiffArgs) -> Exit {
    let color = stderr_color(cli.color);
    let mut sides = Vec::new();
    for spec in [&args.old, &args.new] {
        match Spec::parse(spec).load() {
            Ok(map) => sides.push(crate::compile(map)),
            Err(e) => return super::usage_error(&e, None, color),
        }
    }
    let new = sides.pop().expect("two sides");
    let old = sides.pop().expect("two sides");
    // Report both sides' errors before giving up.
    let (old_bad, new_bad) = (old.has_errors(), new.has_errors());
    if old_bad {
        super::report_errors(&old, &args.old, color);
    }
    if new_bad {
        super::report_errors(&new, &args.new, color);
    }
    if old_bad || new_bad {
        return Exit::ModelErrors;
    }
    let (Ok(old), Ok(new)) = (
        super::checked(old, &args.old, color),
        super::checked(new, &args.new, color),
    ) else {
        return Exit::ModelErrors;
    };
    let (old_view, new_view) = rayon::join(
        || crate::view::access_view(&old),
        || crate::view::access_view(&new),
    );
    let d = diff::diff(
        &Side {
            comp: &old.comp,
            view: &old_view,
        },
        &Side {
            comp: &new.comp,
            view: &new_view,
        },
        (&args.old, &args.new),
    );
    let printed = match args.format {
        DiffFormat::Markdown => super::print_stdout(diff::render_markdown(&d).as_bytes()),
        DiffFormat::Json => super::print_json(&d),
    };
    if printed != Exit::Ok {
        return printed;
    }
    if args.fail_on_widening && diff::widens(&d) {
        if !cli.quiet {
            eprintln!(
                "error: effective access was added ({} edge(s); --fail-on-widening)",
                d.summary.access_added
            );
        }
        return Exit::ModelErrors;
    }
    Exit::Ok
}
