//! `secret-in-env`: a literal `env` value whose name says it is a credential.

use super::{Cx, Finding, LintInfo};
use crate::model::{AppId, Entity, Level};

pub const INFO: LintInfo = LintInfo {
    name: "secret-in-env",
    default: Level::Warn,
    summary: "a literal `env` value whose name says it is a password, token or key",
    explain: "\
An `env` value is written into the model and into the Deployment generated
from it: plain text in git, in every clone, in CI logs and in `kubectl get
deployment -o yaml` for whoever may view the namespace. A password, token
or key belongs in a Secret.

Fires on every `env` variable with a non-empty value whose name has a word
(split at `_`, `-` and `.`) such as PASSWORD, PASSWD, SECRET, TOKEN,
CREDENTIAL(S), or API/ACCESS/PRIVATE/SECRET followed by KEY — unless the
name ends in a word that makes it a pointer to the secret rather than the
secret: NAME, FILE, PATH, DIR, URL, URI, REF, TTL, TYPE, HEADER, ID.

Fix: put the value in a Secret of the app's namespace and name it in
`env_from = { secrets = [\"...\"] }`, or mount it and pass its path
(`DB_PASSWORD_FILE`). A store's credentials come from a data grant
(`allow api -> orders: read` mounts them). To keep a value that only looks
like a credential: `accept secret-in-env on api -> api \"why\"`.",
};

/// Words that make a variable a credential.
const SECRET_WORDS: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "SECRET",
    "TOKEN",
    "CREDENTIAL",
    "CREDENTIALS",
    "APIKEY",
];
/// Words that, before `KEY`, make a credential (`API_KEY`, `PRIVATE_KEY`).
const KEY_PREFIXES: &[&str] = &["API", "ACCESS", "PRIVATE", "SECRET", "SIGNING"];
/// Last words that make the variable a pointer to a credential.
const POINTERS: &[&str] = &[
    "NAME", "FILE", "PATH", "DIR", "URL", "URI", "REF", "TTL", "TYPE", "HEADER", "ID",
];

/// Whether a variable named `name` holds a credential, by its name.
pub fn looks_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    let words: Vec<&str> = upper
        .split(['_', '-', '.'])
        .filter(|w| !w.is_empty())
        .collect();
    if words.last().is_some_and(|w| POINTERS.contains(w)) {
        return false;
    }
    words.iter().any(|w| SECRET_WORDS.contains(w))
        || words
            .windows(2)
            .any(|p| p[1] == "KEY" && KEY_PREFIXES.contains(&p[0]))
}

pub fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    for (i, app) in cx.model.apps.iter().enumerate() {
        let e = Entity::App(AppId(i as u32));
        for v in &app.run.env {
            if v.value.is_empty() || !looks_secret(&v.name) {
                continue;
            }
            out.push(
                Finding::new(
                    &INFO,
                    v.span,
                    format!(
                        "`{}` of `{}` looks like a credential, written in the model",
                        v.name, app.name
                    ),
                )
                .pair(e, e)
                .help("put it in a Secret and name that in `env_from = { secrets = [\"...\"] }`; a store's credentials come from a data grant")
                .note("the model and the Deployment generated from it hold the value in plain text"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::looks_secret;

    #[test]
    fn names_that_hold_credentials() {
        for yes in [
            "DB_PASSWORD",
            "password",
            "STRIPE_SECRET",
            "github-token",
            "AWS_SECRET_ACCESS_KEY",
            "API_KEY",
            "otel.exporter.apikey",
            "JWT_SIGNING_KEY",
            "AZURE_CREDENTIALS",
        ] {
            assert!(looks_secret(yes), "{yes}");
        }
        for no in [
            "LOG_LEVEL",
            "DB_PASSWORD_FILE",
            "SECRET_NAME",
            "TOKEN_TTL",
            "TOKEN_URL",
            "KEYCLOAK_REALM",
            "PRIMARY_KEY_COLUMN",
            "AWS_ACCESS_KEY_ID",
            "TOKENIZER",
        ] {
            assert!(!looks_secret(no), "{no}");
        }
    }
}
