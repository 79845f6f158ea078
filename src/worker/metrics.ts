import { Runtime } from '@temporalio/worker';
import { UserError } from '../config/errors';

/** The Prometheus exporter of the worker's runtime, when RELFLOW_METRICS_ADDRESS asks for one. */
export function prometheusTelemetry(env: NodeJS.ProcessEnv) {
  const address = env.RELFLOW_METRICS_ADDRESS || undefined;
  if (!address) return {};
  if (!/^[^:\s]+:\d{1,5}$/.test(address))
    throw new UserError(`RELFLOW_METRICS_ADDRESS '${address}': expected host:port, e.g. 0.0.0.0:9464`);
  return { metrics: { prometheus: { bindAddress: address, countersTotalSuffix: true, useSecondsForDurations: true } } };
}

/**
 * With RELFLOW_METRICS_ADDRESS (host:port, e.g. 0.0.0.0:9464) the worker's
 * runtime serves Prometheus metrics there: the SDK's own and relflow's
 * (src/workflows/metrics.ts, relflow_uploaded_bytes). Returns the address, or
 * undefined when unset. Call before anything connects: the runtime is
 * installed once per process.
 */
export function installMetricsRuntime(env: NodeJS.ProcessEnv): string | undefined {
  const telemetry = prometheusTelemetry(env);
  if (!telemetry.metrics) return undefined;
  Runtime.install({ telemetryOptions: telemetry });
  return telemetry.metrics.prometheus.bindAddress;
}
