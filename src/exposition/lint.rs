//! Lint checks (placeholder replaced below).
