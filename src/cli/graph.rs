//! `palisade graph [MODEL]`: the model as a graph for design review, as
//! DOT, Mermaid or JSON on stdout (src/graph, docs/review.md).

use super::{stderr_color, Cli, Exit};
use crate::graph::{self, Focus, GraphOptions, ReviewGraph};
use clap::ValueEnum;
use std::path::PathBuf;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    /// Graphviz (`| dot -Tsvg > model.svg`)
    Dot,
    /// a Mermaid flowchart (GitHub and GitLab render it in Markdown)
    Mermaid,
    /// JSON (schema version 1: docs/review.md)
    Json,
}

#[derive(clap::Args, Debug)]
pub struct GraphArgs {
    /// A `.sec` file or a directory of them
    #[arg(default_value = ".")]
    pub model: PathBuf,
    /// Output format
    #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
    pub format: GraphFormat,
    /// Draw only the access of this environment
    #[arg(long, value_name = "ENV")]
    pub env: Option<String>,
    /// Add the access Kubernetes grants beyond the model (red, dashed), each with its cause
    #[arg(long)]
    pub effective: bool,
    /// Draw only this persona, app, store, external, pod or namespace and its neighbourhood
    #[arg(long, value_name = "NAME")]
    pub focus: Option<String>,
    /// With --focus: how many edges away from NAME to draw (either direction)
    #[arg(long, value_name = "N", default_value_t = 1, requires = "focus")]
    pub depth: usize,
}

pub fn run(cli: &Cli, args: &GraphArgs) -> Exit {
    let color = stderr_color(cli.color);
    let mut comp = match super::load_model(&args.model, color) {
        Ok(c) => c,
        Err(exit) => return exit,
    };
    let model = &comp.model;
    let env = match super::environment(model, args.env.as_deref()) {
        Ok(env) => env,
        Err(exit) => return exit,
    };
    let focus = match &args.focus {
        None => None,
        Some(name) => match Focus::resolve(model, name, args.depth) {
            Ok(f) => Some(f),
            Err(e) => {
                eprintln!("error: {e}");
                eprintln!("  = help: {}", e.help());
                return Exit::Usage;
            }
        },
    };
    // `--effective`: the checker evaluates the generated objects; the
    // access view says which effective edges are wider than declared.
    let mut widened = None;
    if args.effective {
        let checked = crate::check(comp);
        let view = crate::view::access_view(&checked);
        widened = Some(graph::widened(&checked.comp.model, &view, env));
        comp = checked.comp;
    }
    let model = &comp.model;
    let opts = GraphOptions {
        env,
        focus,
        widened,
    };
    let g = ReviewGraph::build(model, &opts);
    let text = match args.format {
        GraphFormat::Dot => graph::dot::render(&g, model),
        GraphFormat::Mermaid => graph::mermaid::render(&g, model),
        GraphFormat::Json => graph::json::render(&g),
    };
    if args.format == GraphFormat::Mermaid && !cli.quiet {
        mermaid_limits(&text);
    }
    super::print_stdout(text.as_bytes())
}

/// Mermaid (and GitHub, which keeps its defaults) refuses diagrams over
/// 500 edges or 50,000 characters: say so rather than let a pasted diagram
/// fail later.
fn mermaid_limits(text: &str) {
    use graph::mermaid::{within_limits, MAX_EDGES, MAX_TEXT};
    if let Err((edges, chars)) = within_limits(text) {
        eprintln!(
            "warning: the diagram has {edges} edges and {chars} characters; Mermaid draws at most \
             {MAX_EDGES} edges and {MAX_TEXT} characters by default"
        );
        eprintln!("  = help: draw a neighbourhood with `--focus NAME`, or use `--format dot`");
    }
}
