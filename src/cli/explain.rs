//! `palisade explain [LINT]`: a lint's explanation, or the list of lints.

use super::Exit;
use crate::lints;

#[derive(clap::Args, Debug)]
pub struct ExplainArgs {
    /// The lint's name, e.g. `namespace-wide-grant`; omit to list them all
    pub lint: Option<String>,
}

pub fn run(args: &ExplainArgs) -> Exit {
    let Some(name) = &args.lint else {
        let list: String = lints::LINTS
            .iter()
            .map(|l| format!("{:<30} {:<5} {}\n", l.name, l.default.as_str(), l.summary))
            .collect();
        return super::print_stdout(list.as_bytes());
    };
    match lints::find(name) {
        Some(l) => {
            let text = format!(
                "{} (default: {})\n{}\n\n{}\n",
                l.name,
                l.default.as_str(),
                l.summary,
                l.explain
            );
            super::print_stdout(text.as_bytes())
        }
        None => {
            let hint = crate::suggest::closest(name, lints::LINTS.iter().map(|l| l.name))
                .map(|s| format!("\n  = help: did you mean `{s}`?"))
                .unwrap_or_default();
            eprintln!(
                "error: unknown lint `{name}`{hint}\n  = help: `palisade explain` lists every lint"
            );
            Exit::Usage
        }
    }
}
