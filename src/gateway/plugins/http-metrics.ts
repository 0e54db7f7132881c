import { BatchedSeries } from '../../kernel/telemetry/index.js';
import type { App, GatewayDeps } from '../types.js';

/**
 * Rate, errors and duration of every request, labelled by route template (never the raw URL). Recorded through
 * one BatchedSeries per (method, route, status class) — a bounded set — rather than prom-client's labelled
 * children, which re-validate and re-hash the labels on every call (issue #14; the same as HttpClient's).
 */
export function installHttpMetrics(app: App, deps: GatewayDeps): void {
  const requests = deps.metrics.counter('carebridge_http_server_requests_total', 'HTTP requests served.', [
    'method',
    'route',
    'status_class',
  ]);
  const duration = deps.metrics.histogram(
    'carebridge_http_server_request_duration_seconds',
    'HTTP request duration.',
    ['method', 'route', 'status_class'],
  );
  const inFlight = deps.metrics.gauge(
    'carebridge_http_server_requests_in_flight',
    'HTTP requests being served.',
  );
  const series = new Map<string, BatchedSeries>();
  app.addHook('onRequest', async () => {
    inFlight.inc();
  });
  app.addHook('onResponse', async (request, reply) => {
    inFlight.dec();
    const route = request.routeOptions.url ?? 'unmatched';
    const statusClass = `${Math.floor(reply.statusCode / 100)}xx`;
    const key = `${request.method} ${route} ${statusClass}`;
    let s = series.get(key);
    if (!s) {
      s = new BatchedSeries(requests, duration, {
        method: request.method,
        route,
        status_class: statusClass,
      });
      series.set(key, s);
    }
    s.record(reply.elapsedTime / 1000);
  });
}
