//! Stable diagnostic codes. A code never changes meaning once released;
//! docs/language.md lists them all.

macro_rules! codes {
    ($($variant:ident = $code:literal, $summary:literal;)*) => {
        /// A stable diagnostic code (`E0101`) with a one-line summary.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $($variant,)*
            /// A lint finding; the lint's name is its code.
            Lint(&'static str),
        }

        impl Code {
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $code,)*
                    Code::Lint(name) => name,
                }
            }

            pub fn summary(self) -> &'static str {
                match self {
                    $(Code::$variant => $summary,)*
                    Code::Lint(_) => "lint finding",
                }
            }

            /// Every non-lint code, for documentation and tests.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];
        }
    };
}

codes! {
    Syntax = "E0001", "syntax error";
    TooDeep = "E0002", "nesting too deep";
    NumberTooLarge = "E0003", "number too large";
    BadEscape = "E0004", "invalid escape in a string";
    Undeclared = "E0101", "name is not declared";
    Duplicate = "E0102", "name declared twice";
    InvalidName = "E0103", "name is not a valid Kubernetes name";
    WrongKind = "E0104", "name refers to the wrong kind of thing";
    Reserved = "E0105", "reserved name";
    UnknownProperty = "E0201", "unknown property";
    WrongType = "E0202", "value has the wrong type";
    InvalidValue = "E0203", "value out of range or malformed";
    MissingProperty = "E0204", "required property missing";
    ConflictingProperties = "E0205", "properties that exclude each other";
    DuplicateProperty = "E0206", "property given twice";
    InvalidAccess = "E0301", "access not valid for this subject and target";
    PodSpansNamespaces = "E0302", "pod spans namespaces";
    KubeWithoutApiServer = "E0303", "`kube` grant without `platform.api_server`";
    UndeclaredEnvironment = "E0304", "environment is not declared";
    UnknownLint = "E0305", "unknown lint";
    ExternalPersonaRbac = "E0306", "external persona given Kubernetes API operations";
    EmptyTargetSet = "E0307", "a `*` or `namespace` target matches nothing";
    AppInTwoPods = "E0308", "app in more than one pod";
    InvariantNotAdjustable = "E0309", "`invariant-violated` cannot be lowered or accepted";
    OverlappingBindings = "E0310", "two pod groups bound to the same pods";
    WorkloadNotGenerated = "E0311", "bound to a StatefulSet or DaemonSet, and built with workloads";
    MissingSystem = "E0401", "model has no `system` declaration";
    DuplicateSingleton = "E0402", "declared more than once per model";
    ManifestSyntax = "E0501", "manifest is not valid YAML or JSON";
    ManifestObject = "E0502", "manifest object does not have the fields its kind requires";
    AuditWider = "A0101", "the manifests allow access the model does not declare";
    AuditUnenforced = "A0102", "the manifests block or never grant declared access";
    AuditUnbound = "A0103", "a model entity is bound to no workload of the manifests";
    AuditUnmodelled = "A0104", "a workload or RBAC subject the model does not mention";
}
