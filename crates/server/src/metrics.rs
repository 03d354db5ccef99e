//! Prometheus metrics: the live numbers per definition version (read from the store's durable
//! counters at each scrape, see the runtime's `statistics`) and request latencies (histograms by
//! method, route template and status, kept in this process's memory), encoded by
//! `prometheus-client` in the OpenMetrics text format that Prometheus scrapes.
//!
//! `/metrics` faces the same network as the API, so it takes a bearer token: one that grants
//! `readMetrics` (or `*`) in at least one tenant. It shows the series of exactly those tenants,
//! plus the server-wide latencies (route templates and counts only: no tenant, ID or path).

use std::fmt::Write as _;
use std::time::Duration;

use axum::http::Method;
use idflow_runtime::DefinitionStatistics;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// The content type of the OpenMetrics text format.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    /// The route template (`/api/.../{instanceId}`), never the path.
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DefinitionLabels {
    tenant: String,
    definition: String,
    version: u32,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EndedLabels {
    tenant: String,
    definition: String,
    version: u32,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RestingLabels {
    tenant: String,
    definition: String,
    version: u32,
    /// The step's BPMN element ID.
    element: String,
}

fn latency_histogram() -> Histogram {
    // 0.5 ms to about 16 s, doubling.
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

/// The metrics this process keeps in memory (cheap to clone: shared).
#[derive(Clone)]
pub struct Metrics {
    latencies: Family<RequestLabels, Histogram, fn() -> Histogram>,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics {
            latencies: Family::new_with_constructor(latency_histogram),
        }
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

/// A method as a label: the standard ones by name, anything else `OTHER` (a label's values must
/// stay few, whatever clients send).
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

impl Metrics {
    /// Records one answered request under its route template.
    pub fn observe(&self, method: &Method, route: &str, status: u16, latency: Duration) {
        self.latencies
            .get_or_create(&RequestLabels {
                method: method_label(method).to_string(),
                route: route.to_string(),
                status,
            })
            .observe(latency.as_secs_f64());
    }

    /// The exposition: the statistics given (already limited to the tenants the reader may see)
    /// and the request latencies.
    pub fn render(&self, statistics: &[(String, DefinitionStatistics)]) -> String {
        let started = Family::<DefinitionLabels, Counter>::default();
        let active = Family::<DefinitionLabels, Gauge>::default();
        let ended = Family::<EndedLabels, Counter>::default();
        let resting = Family::<RestingLabels, Gauge>::default();
        for (tenant, stats) in statistics {
            let labels = DefinitionLabels {
                tenant: tenant.clone(),
                definition: stats.name.clone(),
                version: stats.version,
            };
            started.get_or_create(&labels).inc_by(stats.started);
            active
                .get_or_create(&labels)
                .set(i64::try_from(stats.active()).unwrap_or(i64::MAX));
            for (status, n) in &stats.ended {
                ended
                    .get_or_create(&EndedLabels {
                        tenant: tenant.clone(),
                        definition: stats.name.clone(),
                        version: stats.version,
                        status: status.as_str().to_string(),
                    })
                    .inc_by(*n);
            }
            for (element, n) in &stats.resting {
                resting
                    .get_or_create(&RestingLabels {
                        tenant: tenant.clone(),
                        definition: stats.name.clone(),
                        version: stats.version,
                        element: element.clone(),
                    })
                    .set(i64::try_from(*n).unwrap_or(i64::MAX));
            }
        }
        let mut registry = Registry::default();
        registry.register(
            "idflow_process_instances_started",
            "Process instances started, per definition version",
            started,
        );
        registry.register(
            "idflow_process_instances_ended",
            "Process instances ended, per definition version and status",
            ended,
        );
        registry.register(
            "idflow_process_instances_active",
            "Process instances started and not yet ended, per definition version",
            active,
        );
        registry.register(
            "idflow_process_instances_resting",
            "Active process instances resting at each step (BPMN element), per definition version",
            resting,
        );
        registry.register(
            "idflow_http_request_duration_seconds",
            "Time to answer HTTP requests, by method, route template and status (this server process)",
            self.latencies.clone(),
        );
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &registry) {
            // Writing to a String cannot fail; say so in the exposition rather than panic.
            out.clear();
            let _ = writeln!(out, "# the metrics could not be encoded: {e}\n# EOF");
        }
        out
    }
}
