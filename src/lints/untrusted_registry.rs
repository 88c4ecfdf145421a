//! `untrusted-registry`: an image from outside `platform.registries`.

use super::{Cx, Finding, LintInfo};
use crate::model::{AppId, Entity, Level};

pub const INFO: LintInfo = LintInfo {
    name: "untrusted-registry",
    default: Level::Deny,
    summary: "an image comes from outside `platform.registries`",
    explain: "\
`platform.registries` lists where images may come from (e.g. your own
registry, which scans and signs what it serves). An image from anywhere
else bypasses that supply chain.

Fires, when `platform.registries` is set, on every app whose image does not
start with one of the listed registries followed by `/`.

Fix: mirror the image into an allowed registry, or add its registry to
`platform.registries` after reviewing it.",
};

pub fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    let allowed = &cx.model.platform.registries;
    if allowed.is_empty() {
        return;
    }
    for (i, app) in cx.model.apps.iter().enumerate() {
        let trusted = allowed.iter().any(|r| {
            let r = r.trim_end_matches('/');
            app.image.starts_with(r) && app.image[r.len()..].starts_with('/')
        });
        if !trusted {
            let e = Entity::App(AppId(i as u32));
            out.push(
                Finding::new(
                    &INFO,
                    app.image_span,
                    format!(
                        "the image of `{}` comes from an untrusted registry",
                        app.name
                    ),
                )
                .pair(e, e)
                .note(format!("platform.registries: {}", allowed.join(", ")))
                .help("mirror the image into an allowed registry"),
            );
        }
    }
}
