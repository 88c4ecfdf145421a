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

/// The Deployment named `name`.
fn deployment<'a>(objects: &'a [Resource], name: &str) -> &'a palisade::k8s::Deployment {
    objects
        .iter()
        .find_map(|r| match r {
            Resource::Deployment(d) if d.metadata.name == name => Some(d),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no Deployment {name}"))
}

const RUNTIME: &str = r#"
system shop
namespace web
app api in web {
  image     = "ghcr.io/acme/api:1"
  ports     = { http = 8080 }
  replicas  = 3
  env       = { GREETING = "costs $5 at $(HOME)" }
  resources = { cpu = "250m", memory = "256Mi", limits = { memory = "512Mi" } }
  health    = { http = "/healthz", startup = { failures = 60 } }
}
app worker in web {
  image     = "ghcr.io/acme/worker:1"
  resources = { limits = { cpu = "1", memory = "1Gi" } }
  health    = { exec = ["/bin/ok"] }
}
allow worker -> api: http
"#;

/// More than one replica: a PodDisruptionBudget that lets a drain take one
/// pod at a time, and replicas spread over nodes, both selecting by the pod
/// label; one replica gets neither.
#[test]
fn replicas_get_a_budget_and_a_spread() {
    let objects = objects(RUNTIME);
    let budgets: Vec<_> = objects
        .iter()
        .filter_map(|r| match r {
            Resource::PodDisruptionBudget(p) => Some(p),
            _ => None,
        })
        .collect();
    assert_eq!(budgets.len(), 1, "only api has replicas > 1");
    let pdb = budgets[0];
    assert_eq!(pdb.metadata.name, "api");
    assert_eq!(
        pdb.spec.max_unavailable,
        Some(palisade::k8s::IntOrString::Int(1))
    );
    let api = deployment(&objects, "api");
    assert_eq!(pdb.spec.selector, api.spec.selector);
    let spread = &api.spec.template.spec.topology_spread_constraints;
    assert_eq!(spread.len(), 1);
    assert_eq!(spread[0].topology_key, "kubernetes.io/hostname");
    assert_eq!(spread[0].when_unsatisfiable, "ScheduleAnyway");
    assert_eq!(spread[0].label_selector.as_ref(), Some(&api.spec.selector));
    let worker = deployment(&objects, "worker");
    assert!(worker
        .spec
        .template
        .spec
        .topology_spread_constraints
        .is_empty());
}

/// Every pod carries the five `app.kubernetes.io` labels.
#[test]
fn pods_carry_the_recommended_labels() {
    let objects = objects(RUNTIME);
    let labels = &deployment(&objects, "api").spec.template.metadata.labels;
    for (k, v) in [
        ("name", "api"),
        ("instance", "api"),
        ("component", "web"),
        ("part-of", "shop"),
        ("managed-by", "palisade"),
    ] {
        assert_eq!(
            labels
                .get(&format!("app.kubernetes.io/{k}"))
                .map(String::as_str),
            Some(v),
            "{k}"
        );
    }
}

/// Literal `env` values survive Kubernetes' `$(VAR)` expansion; limits
/// given apart are exactly those; a startup probe gets its own threshold.
#[test]
fn containers_run_as_the_model_says() {
    let objects = objects(RUNTIME);
    let api = &deployment(&objects, "api").spec.template.spec.containers[0];
    assert_eq!(api.env[0].value.as_deref(), Some("costs $$5 at $$(HOME)"));
    let r = api.resources.as_ref().unwrap();
    assert_eq!(r.requests.get("cpu").map(String::as_str), Some("250m"));
    assert_eq!(r.limits.get("cpu"), None, "no cpu limit given");
    assert_eq!(r.limits.get("memory").map(String::as_str), Some("512Mi"));
    let startup = api.startup_probe.as_ref().unwrap();
    assert_eq!(startup.failure_threshold, Some(60));
    assert_eq!(
        api.liveness_probe.as_ref().unwrap().failure_threshold,
        Some(3)
    );
    let worker = &deployment(&objects, "worker").spec.template.spec.containers[0];
    let r = worker.resources.as_ref().unwrap();
    assert_eq!(
        r.requests.get("cpu").map(String::as_str),
        Some("1"),
        "a limit alone is also the request"
    );
    assert!(worker.startup_probe.is_none());
}

/// The `app.kubernetes.io` labels select nothing: the effective access of
/// every example is the same with them stripped from every object.
#[test]
fn recommended_labels_change_no_selection() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for model in [
        "examples/marketing.sec",
        "examples/platform",
        "tests/oracles/models/workloads.sec",
    ] {
        let comp = palisade::compile_path(&root.join(model)).unwrap();
        assert!(!comp.has_errors(), "{model}");
        let m = &comp.model;
        for out in generate(m, &Options { workloads: true }, None) {
            let env = out
                .env
                .as_ref()
                .and_then(|e| m.environments.iter().position(|x| &x.name == e))
                .map(|i| palisade::model::EnvId(i as u32));
            let mut stripped = out.objects.clone();
            for r in &mut stripped {
                if let Resource::Deployment(d) = r {
                    for labels in [&mut d.metadata.labels, &mut d.spec.template.metadata.labels] {
                        for k in ["name", "instance", "component"] {
                            labels.remove(&format!("app.kubernetes.io/{k}"));
                        }
                    }
                }
            }
            let with = palisade::effective::access::evaluate(m, env, &out.objects);
            let without = palisade::effective::access::evaluate(m, env, &stripped);
            assert_eq!(format!("{with:?}"), format!("{without:?}"), "{model}");
            assert!(with.problems.is_empty(), "{model}: {:?}", with.problems);
        }
    }
}

/// `app.kubernetes.io/instance` names the environment, and stays a valid
/// label value (at most 63 characters) when the names are long.
#[test]
fn the_instance_label_fits_a_label_value() {
    let group = "a".repeat(59);
    let env = "e".repeat(20);
    let text = format!(
        "system s\nenvironment {env}\nenvironment qa\nnamespace web\napp {group} in web {{ image = \"x\" }}\n"
    );
    let comp = palisade::compile_str("m.sec", &text);
    assert!(!comp.has_errors(), "{:?}", comp.diagnostics);
    let outs = generate(&comp.model, &Options { workloads: true }, None);
    let instance = |i: usize| {
        let d = deployment(&outs[i].objects, &group);
        d.spec.template.metadata.labels[&"app.kubernetes.io/instance".to_string()].clone()
    };
    assert_eq!(instance(0), group, "too long with the environment");
    assert_eq!(instance(1), format!("{group}-qa"));
}
