//! Generated objects that fit together on a real cluster (issue 17): the
//! credentials Secret a persona may read is the object an app mounts, in
//! the namespace where it is mounted.

use palisade::generate::{generate, Options};
use palisade::k8s::Resource;
use std::collections::BTreeSet;

const PINNED: &str = "@sha256:0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9";

fn objects(text: &str) -> Vec<Resource> {
    let comp = palisade::compile_str("m.sec", text);
    assert!(!comp.has_errors(), "{:?}", comp.diagnostics);
    let opts = Options { workloads: true };
    generate(&comp.model, &opts, None).remove(0).objects
}

/// (namespace, Secret name) every Deployment mounts.
fn mounted(objects: &[Resource]) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for r in objects {
        let Resource::Deployment(d) = r else { continue };
        let ns = d.metadata.namespace.clone().unwrap_or_default();
        for v in &d.spec.template.spec.volumes {
            if let Some(s) = &v.secret {
                out.insert((ns.clone(), s.secret_name.clone()));
            }
        }
    }
    out
}

/// (namespace, Secret name) the Role `role` may `get`.
fn readable(objects: &[Resource], role: &str) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for r in objects {
        let Resource::Role(role_obj) = r else {
            continue;
        };
        if role_obj.metadata.name != role {
            continue;
        }
        let ns = role_obj.metadata.namespace.clone().unwrap_or_default();
        for rule in &role_obj.rules {
            if rule.resources.iter().any(|r| r == "secrets")
                && rule.verbs.iter().any(|v| v == "get")
            {
                for n in &rule.resource_names {
                    out.insert((ns.clone(), n.clone()));
                }
            }
        }
    }
    out
}

#[test]
fn a_persona_reads_the_secret_the_app_mounts_in_its_namespace() {
    let model = format!(
        "system s\nnamespace shop\nnamespace data\n\
         persona analyst {{ group = \"oidc:analysts\" }}\n\
         app api in shop {{ image = \"r.example/api{PINNED}\" }}\n\
         store db in data {{ engine = postgres classification = internal }}\n\
         allow api -> db: read\nallow analyst -> db: read\n"
    );
    let objects = objects(&model);
    let pair = ("shop".to_string(), "db-read".to_string());
    assert_eq!(mounted(&objects), BTreeSet::from([pair.clone()]));
    // One object: the analyst's Role names the Secret api mounts, where it
    // is mounted, and no second copy in the store's namespace.
    assert_eq!(
        readable(&objects, "persona-analyst"),
        BTreeSet::from([pair])
    );
    // The checker agrees: the grant is enforced (no `unenforced-grant`).
    let checked = palisade::check(palisade::compile_str("m.sec", &model));
    let codes: Vec<String> = (checked.comp.diagnostics.iter())
        .map(|d| d.code.as_str().to_string())
        .collect();
    assert!(
        !codes.contains(&"unenforced-grant".to_string()),
        "{codes:?}"
    );
}

#[test]
fn a_level_no_app_mounts_is_the_in_cluster_stores_own() {
    let model = format!(
        "system s\nnamespace shop\nnamespace data\n\
         persona dba {{ group = \"oidc:dba\" }}\n\
         app api in shop {{ image = \"r.example/api{PINNED}\" }}\n\
         store db in data {{ engine = postgres classification = internal }}\n\
         allow api -> db: read\nallow dba -> db: admin\n"
    );
    let objects = objects(&model);
    assert_eq!(
        readable(&objects, "persona-dba"),
        BTreeSet::from([("data".to_string(), "db-admin".to_string())])
    );
}

#[test]
fn apps_in_two_namespaces_mount_a_copy_each_and_the_persona_reads_both() {
    let model = format!(
        "system s\nnamespace shop\nnamespace jobs\nnamespace data\n\
         persona analyst {{ group = \"oidc:analysts\" }}\n\
         app api in shop {{ image = \"r.example/api{PINNED}\" }}\n\
         app etl in jobs {{ image = \"r.example/etl{PINNED}\" }}\n\
         store db in data {{ engine = postgres classification = internal }}\n\
         allow [api, etl] -> db: read\nallow analyst -> db: read\n"
    );
    let objects = objects(&model);
    assert_eq!(mounted(&objects), readable(&objects, "persona-analyst"));
}

/// (protocol, port) of every `allow-dns` egress rule.
fn dns_ports(objects: &[Resource]) -> BTreeSet<(String, i32)> {
    let mut out = BTreeSet::new();
    for r in objects {
        let Resource::NetworkPolicy(p) = r else {
            continue;
        };
        if p.metadata.name != "allow-dns" {
            continue;
        }
        for rule in p.spec.egress.iter().flatten() {
            for port in rule.ports.iter().flatten() {
                if let Some(palisade::k8s::IntOrString::Int(n)) = port.port {
                    out.insert((port.protocol.clone().unwrap_or_default(), n));
                }
            }
        }
    }
    out
}

#[test]
fn allow_dns_admits_the_dns_pods_ports() {
    let default = objects("system s\nnamespace shop\n");
    assert_eq!(
        dns_ports(&default),
        BTreeSet::from([("TCP".into(), 53), ("UDP".into(), 53)])
    );
    // OpenShift: the dns-default pods listen on 5353 behind a Service on 53;
    // a NetworkPolicy matches the pod's port.
    let openshift = objects(
        "system s\nplatform { dns = { namespace = \"openshift-dns\", pods = { \
         \"dns.operator.openshift.io/daemonset-dns\" = \"default\" }, ports = [5353] } }\n\
         namespace shop\n",
    );
    assert_eq!(
        dns_ports(&openshift),
        BTreeSet::from([("TCP".into(), 5353), ("UDP".into(), 5353)])
    );
}
