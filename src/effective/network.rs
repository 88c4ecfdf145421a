//! NetworkPolicy evaluation (in progress).
