import { readFileSync } from 'node:fs';
import { Client, Connection, ConnectionOptions } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import { UserError } from '../config/errors';

/**
 * Connection settings by the Temporal CLI's conventions, so one environment
 * serves both tools: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY,
 * TEMPORAL_TLS, TEMPORAL_TLS_CLIENT_CERT_PATH, TEMPORAL_TLS_CLIENT_KEY_PATH,
 * TEMPORAL_TLS_SERVER_CA_CERT_PATH, TEMPORAL_TLS_SERVER_NAME.
 */
export interface TemporalSettings {
  address: string;
  namespace: string;
  tls?: ConnectionOptions['tls'];
  apiKey?: string;
}

function readPem(variable: string, env: NodeJS.ProcessEnv): Buffer | undefined {
  const path = env[variable];
  if (!path) return undefined;
  try {
    return readFileSync(path);
  } catch {
    throw new UserError(`${variable}=${path}: cannot read the file`);
  }
}

export function temporalSettings(env: NodeJS.ProcessEnv = process.env): TemporalSettings {
  const cert = readPem('TEMPORAL_TLS_CLIENT_CERT_PATH', env);
  const key = readPem('TEMPORAL_TLS_CLIENT_KEY_PATH', env);
  const ca = readPem('TEMPORAL_TLS_SERVER_CA_CERT_PATH', env);
  if (Boolean(cert) !== Boolean(key)) {
    throw new UserError('TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH go together: set both or neither');
  }
  const apiKey = env.TEMPORAL_API_KEY || undefined;
  const tlsOn = ['1', 'true'].includes((env.TEMPORAL_TLS ?? '').toLowerCase()) || Boolean(cert || ca || apiKey);
  return {
    address: env.TEMPORAL_ADDRESS || '127.0.0.1:7233',
    namespace: env.TEMPORAL_NAMESPACE || 'default',
    apiKey,
    tls: tlsOn
      ? {
          serverNameOverride: env.TEMPORAL_TLS_SERVER_NAME || undefined,
          serverRootCACertificate: ca,
          clientCertPair: cert && key ? { crt: cert, key } : undefined,
        }
      : undefined,
  };
}

function unreachable(settings: TemporalSettings, error: unknown): UserError {
  const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
  // An API key turns TLS on: against a plaintext server (a dev server) the handshake fails like an absent server.
  const hint = settings.apiKey
    ? '; TEMPORAL_API_KEY is set, which turns TLS on: a plaintext server (relflow dev) refuses that, so unset it there'
    : '';
  return new UserError(
    `no Temporal server reachable at ${settings.address} (TEMPORAL_ADDRESS): ${reason}${hint}. Start one with \`relflow dev\`, or set TEMPORAL_ADDRESS`,
  );
}

export async function connectClient(settings: TemporalSettings = temporalSettings()): Promise<Client> {
  try {
    const connection = await Connection.connect({
      address: settings.address,
      tls: settings.tls,
      apiKey: settings.apiKey,
      connectTimeout: '5s',
    });
    return new Client({ connection, namespace: settings.namespace });
  } catch (error) {
    throw unreachable(settings, error);
  }
}

export async function connectWorker(settings: TemporalSettings = temporalSettings()): Promise<NativeConnection> {
  // Loaded here, not at the top: the client commands never load the worker SDK.
  const { NativeConnection } = await import('@temporalio/worker');
  try {
    return await NativeConnection.connect({ address: settings.address, tls: settings.tls, apiKey: settings.apiKey });
  } catch (error) {
    throw unreachable(settings, error);
  }
}
