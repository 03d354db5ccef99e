//! The HTTP server over real HTTP on a loopback port picked at run time: the seeds' routes, a
//! passcode life, TOTP, token-started flows, permissions, races, hostile input, the end user's
//! pages and branding, and the document's agreement with what the server accepts.

mod common;
mod conformance;
mod designer;
mod flows;
mod hardening;
mod hostile;
mod identity;
mod openapi;
mod pages;
mod permissions;
mod races;
mod seeds;
