//! What the raw serde types of every section share.
//!
//! Each section module reads its part of the YAML into raw types that mirror
//! Prometheus's keys and validate nothing beyond YAML types, then resolves them.
//! Every raw struct denies unknown keys (Prometheus's YAML is strict), and the
//! deserializer rejects duplicate keys. Options tidemark does not implement yet
//! are accepted as raw values so that real `prometheus.yml` files load; the
//! resolver reports which of them were set.

use serde_saphyr::Spanned;

/// A section kept as written, for a later issue to interpret.
pub type RawValue = serde_json::Value;

/// A string that remembers where it was in the file, for validation errors.
pub type Located = Spanned<String>;

/// Declares a raw struct whose listed `accepted` keys are Prometheus options that
/// tidemark does not implement yet: they parse as raw values, and
/// `accepted_unsupported` names those that are set so the caller can warn.
macro_rules! raw_struct {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* pub $field:ident : $ty:ty, )*
        }
        accepted { $( $accepted:ident, )* }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Default, ::serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $( $(#[$fmeta])* #[serde(default)] pub $field: $ty, )*
            $( #[serde(default)] pub $accepted: Option<$crate::config::raw::RawValue>, )*
        }

        impl $name {
            /// Keys that are set but not implemented yet.
            pub fn accepted_unsupported(&self) -> Vec<&'static str> {
                let mut keys = Vec::new();
                $( if self.$accepted.is_some() { keys.push(stringify!($accepted)); } )*
                keys
            }
        }
    };
}

pub(super) use raw_struct;
