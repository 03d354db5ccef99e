//! The HTTP server over real HTTP on a loopback port picked at run time: the seeds' routes, a
//! passcode life, TOTP, token-started flows, permissions, races, hostile input, the end user's
//! pages and branding, the backoffice's operations (paths, cancel, replay, live numbers), the document's agreement with what the server accepts, and what reads
//! and exports give away.

mod cluster;
mod common;
mod conformance;
mod designer;
mod flows;
mod hardening;
mod hostile;
mod identity;
mod openapi;
mod operations;
mod pages;
mod permissions;
mod races;
mod secrets;
mod seeds;
