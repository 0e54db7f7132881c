import type { App, GatewayDeps } from '../types.js';

/** Rate, errors and duration of every request, labelled by route template (never the raw URL). */
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
  app.addHook('onRequest', async () => {
    inFlight.inc();
  });
  app.addHook('onResponse', async (request, reply) => {
    inFlight.dec();
    const labels = {
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status_class: `${Math.floor(reply.statusCode / 100)}xx`,
    };
    requests.inc(labels);
    duration.observe(labels, reply.elapsedTime / 1000);
  });
}
