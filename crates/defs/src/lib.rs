//! BPMN 2.0 definition files into validated idflow process graphs, with located diagnostics.
//!
//! `catalogue` declares every activity type as data; `model` is the validated graph the engine
//! walks. The loader (BPMN XML in, [`Definition`] or diagnostics out) is built on top of them.

pub mod catalogue;
pub mod model;

pub use catalogue::{catalogue, ActivitySpec, ActivityType, ParamSpec, ParamType};
pub use model::{Activity, Definition, Flow, Location, Node, NodeKind, Param};
