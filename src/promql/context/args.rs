//! A function's arguments as the types it expects, with Prometheus's errors
//! when they are not.

use crate::promql::error::{PromqlError, Result};
use crate::promql::value::{ESample, Val};

pub(crate) fn arg_vector(v: Val, name: &str) -> Result<Vec<ESample>> {
    match v {
        Val::Vector(v) => Ok(v),
        other => Err(PromqlError::bad_data(format!(
            "expected instant vector argument for {name}, got {}",
            other.type_name()
        ))),
    }
}

pub(crate) fn arg_scalar(v: Val, name: &str) -> Result<f64> {
    match v {
        Val::Scalar(v) => Ok(v),
        other => Err(PromqlError::bad_data(format!(
            "expected scalar argument for {name}, got {}",
            other.type_name()
        ))),
    }
}

pub(crate) fn arg_string(v: Val, name: &str) -> Result<String> {
    match v {
        Val::Str(s) => Ok(s),
        other => Err(PromqlError::bad_data(format!(
            "expected string argument for {name}, got {}",
            other.type_name()
        ))),
    }
}
