//! `unpinned-image`: an app's image is not pinned by digest.

use super::{Cx, Finding, LintInfo};
use crate::model::{AppId, Entity, Level};

pub const INFO: LintInfo = LintInfo {
    name: "unpinned-image",
    default: Level::Warn,
    summary: "an app's image is not pinned by `@sha256:` digest",
    explain: "\
A tag (`:1.4.2`, `:latest`) is a pointer the registry may move: the image
that runs tomorrow need not be the one that was scanned, signed and
reviewed today, and two replicas may run different code. A digest
(`@sha256:…`) names exactly one image.

Fires on every app whose `image` has no `@sha256:` digest.

Fix: pin the digest, e.g. `image = \"ghcr.io/acme/api:2.0.1@sha256:…\"`
(the tag may stay for readers; the digest decides). Renovate or
Dependabot can keep digests current. To keep a tag on purpose:
`accept unpinned-image on api -> api \"why\"`.",
};

pub fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    for (i, app) in cx.model.apps.iter().enumerate() {
        if !app.image.contains("@sha256:") {
            let e = Entity::App(AppId(i as u32));
            out.push(
                Finding::new(
                    &INFO,
                    app.image_span,
                    format!("the image of `{}` is not pinned by digest", app.name),
                )
                .pair(e, e)
                .help("append `@sha256:<digest>` so what runs is what was scanned and signed"),
            );
        }
    }
}
