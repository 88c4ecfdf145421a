//! RBAC evaluation (in progress).
