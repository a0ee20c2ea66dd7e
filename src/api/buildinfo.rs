//! What build this is: for `tidemark_build_info`, `--version` and, later,
//! `/api/v1/status/buildinfo`.

/// Facts about the running build. `revision`, `branch`, `build_user` and
/// `build_date` come from the `TIDEMARK_BUILD_REVISION`, `TIDEMARK_BUILD_BRANCH`,
/// `TIDEMARK_BUILD_USER` and `TIDEMARK_BUILD_DATE` environment variables at compile
/// time (set by a release build), `"unknown"` otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuildInfo {
    /// The crate version (semver).
    pub version: &'static str,
    pub revision: &'static str,
    pub branch: &'static str,
    pub build_user: &'static str,
    pub build_date: &'static str,
    /// Target operating system, e.g. `linux`.
    pub os: &'static str,
    /// Target architecture, e.g. `x86_64`.
    pub arch: &'static str,
}

const fn or_unknown(value: Option<&'static str>) -> &'static str {
    match value {
        Some(v) => v,
        None => "unknown",
    }
}

/// This build.
pub const BUILD_INFO: BuildInfo = BuildInfo {
    version: env!("CARGO_PKG_VERSION"),
    revision: or_unknown(option_env!("TIDEMARK_BUILD_REVISION")),
    branch: or_unknown(option_env!("TIDEMARK_BUILD_BRANCH")),
    build_user: or_unknown(option_env!("TIDEMARK_BUILD_USER")),
    build_date: or_unknown(option_env!("TIDEMARK_BUILD_DATE")),
    os: std::env::consts::OS,
    arch: std::env::consts::ARCH,
};
