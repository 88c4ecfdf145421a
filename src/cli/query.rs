//! `palisade query who-can ACCESS TARGET | what-can SUBJECT | path FROM TO`:
//! answers from the effective access graph, each with its derivation.

use super::{stderr_color, Cli, Exit};
use crate::review::query::{self, Question};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct QueryArgs {
    #[command(subcommand)]
    pub question: QuestionCmd,
    /// A `.sec` file or a directory of them
    #[arg(short, long, default_value = ".", global = true)]
    pub model: PathBuf,
    /// Answer for one environment only (default: every environment)
    #[arg(long, global = true)]
    pub env: Option<String>,
    /// text, or json (schema version 1: docs/review.md)
    #[arg(long, value_enum, default_value_t = ReportFormat::Text, global = true)]
    pub format: ReportFormat,
}

/// Output formats of `query`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// readable text
    Text,
    /// a JSON document (schema version 1: docs/review.md)
    Json,
}

#[derive(clap::Subcommand, Debug)]
pub enum QuestionCmd {
    /// Who can perform ACCESS on TARGET
    #[command(
        after_help = "ACCESS: a port name of TARGET or a port (8080, 53/udp), read, write, admin, an operation (exec, logs, portforward, view, restart, scale, deploy), connect (any network access), kube, or any.\n\nExamples:\n  palisade query -m examples/marketing.sec who-can read main-db\n  palisade query -m examples/marketing.sec who-can http api --env prod"
    )]
    WhoCan {
        /// What is done: a port, read/write/admin, an operation, connect, kube, any
        access: String,
        /// An app, store, external, persona, `internet` or `kube`
        target: String,
    },
    /// Everything SUBJECT can effectively do
    #[command(after_help = "Example:\n  palisade query -m examples/marketing.sec what-can sre")]
    WhatCan {
        /// A persona, app, `internet`, ...
        subject: String,
    },
    /// The shortest path from FROM to TO through the effective access graph
    #[command(
        after_help = "Example:\n  palisade query -m examples/marketing.sec path customer main-db"
    )]
    Path { from: String, to: String },
}

pub fn run(cli: &Cli, args: &QueryArgs) -> Exit {
    let color = stderr_color(cli.color);
    let checked = match super::load_checked(&args.model, color) {
        Ok(c) => c,
        Err(exit) => return exit,
    };
    let only = match &args.env {
        None => None,
        Some(name) => match query::environment(checked.model(), name) {
            Ok(e) => Some(e),
            Err(e) => return super::usage_error(&e.message, e.help.as_deref(), color),
        },
    };
    let question = match &args.question {
        QuestionCmd::WhoCan { access, target } => Question::WhoCan {
            access: access.clone(),
            target: target.clone(),
        },
        QuestionCmd::WhatCan { subject } => Question::WhatCan {
            subject: subject.clone(),
        },
        QuestionCmd::Path { from, to } => Question::Path {
            from: from.clone(),
            to: to.clone(),
        },
    };
    let view = crate::view::access_view(&checked);
    match query::answer(&checked, &view, &question, only) {
        Err(e) => super::usage_error(&e.message, e.help.as_deref(), color),
        Ok(answer) => match args.format {
            ReportFormat::Text => {
                super::print_stdout(query::render_text(&question, &answer).as_bytes())
            }
            ReportFormat::Json => super::print_json(&answer),
        },
    }
}
