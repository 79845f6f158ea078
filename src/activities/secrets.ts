import { existsSync } from 'node:fs';
import { UserError } from '../config/errors';
import { HostPrefix, parseHostPrefix, parseSecretsFile, SecretsFile } from '../config/secretsFile';
import { readSmallFile, SmallFileProblem } from '../config/smallFile';

/** A secret is a token or a key, never more than this; the secrets file itself is a page of YAML. */
const MAX_SECRET_BYTES = 64 * 1024;
const MAX_SECRETS_FILE_BYTES = 1024 * 1024;

/**
 * A secret the manifest names cannot be read on the worker. The same on
 * every attempt: its failure type (the class name, MissingSecret) is never retried.
 */
export class MissingSecret extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'MissingSecret';
  }
}

/** A secret asked for by a destination its secrets file does not list for it. Never retried. */
export class SecretNotAllowed extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'SecretNotAllowed';
  }
}

const DEFAULT_PORTS: Record<string, string> = { http: '80', https: '443', smtp: '25', smtps: '465' };

/** Whether a destination URL (`https://api.github.com/repos/...`, `smtp://mail:587`) is within a host prefix. */
export function destinationAllowed(prefix: HostPrefix, destination: string): boolean {
  let url: URL;
  try {
    url = new URL(destination);
  } catch {
    return false;
  }
  const scheme = url.protocol.replace(/:$/, '').toLowerCase();
  if (scheme !== prefix.scheme || url.username || url.password) return false;
  const host = url.hostname.toLowerCase();
  if (prefix.anySubdomain ? !host.endsWith(`.${prefix.host}`) : host !== prefix.host) return false;
  const port = url.port || DEFAULT_PORTS[scheme] || '';
  if (prefix.port !== '*' && port !== (prefix.port ?? DEFAULT_PORTS[scheme] ?? '')) return false;
  const path = url.pathname || '/';
  if (prefix.path.endsWith('/')) return path.startsWith(prefix.path) || `${path}/` === prefix.path;
  return path === prefix.path || path.startsWith(`${prefix.path}/`);
}

/** The worker's secrets: loaded from RELFLOW_SECRETS, each released only to the destinations listed for it. */
export class WorkerSecrets {
  private readonly prefixes = new Map<string, HostPrefix[]>();

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly file: string | undefined,
    private readonly content: SecretsFile,
  ) {
    for (const [name, entry] of Object.entries(content.secrets)) {
      this.prefixes.set(
        name,
        entry.hosts.map((host) => parseHostPrefix(host) as HostPrefix),
      );
    }
  }

  /** Who may sign decisions of this gate (allowed_signers lines), or undefined when the gate takes unsigned ones. */
  /** The private key file that signs releases' SHA256SUMS, when the file names one. */
  get releaseSigningKey(): string | undefined {
    return this.content.signing?.key;
  }

  /** The public key file that checks the release key's signatures, on a worker that holds only that half. */
  get releasePublicKey(): string | undefined {
    return this.content.signing?.publicKey;
  }

  gateSigners(gate: 'pypi' | 'docs'): string[] | undefined {
    return this.content.gates[gate]?.allowedSigners;
  }

  /** Who may sign operator commands (retry, skip, abort), or undefined when they take unsigned ones. */
  operatorSigners(): string[] | undefined {
    return this.content.operators?.allowedSigners;
  }

  /**
   * The file sources a worker cannot read a secret from (not a regular file, too large, unreadable),
   * one line each: checked when the worker starts, not when a release first needs the secret.
   */
  fileSourceProblems(): string[] {
    const problems: string[] = [];
    for (const [name, entry] of Object.entries(this.content.secrets)) {
      if (!entry.file || !existsSync(entry.file)) continue; // mounted later is fine; the preflight names it missing
      try {
        readSmallFile(entry.file, MAX_SECRET_BYTES);
      } catch (error) {
        problems.push(
          `${this.file}: secrets.${name}.file ${entry.file}: ${(error as Error).message}; expected a regular file of at most ${MAX_SECRET_BYTES} bytes`,
        );
      }
    }
    return problems;
  }

  /** The names of the secrets the file lists. */
  get names(): string[] {
    return [...this.prefixes.keys()];
  }

  /**
   * Why this secret may not be sent to this destination, or undefined when it may.
   * `field` is the manifest field that names it (ci.tokenEnv).
   */
  refusal(field: string, name: string, destination: string): string | undefined {
    const unknown = this.unknown(field, name);
    if (unknown) return unknown;
    const prefixes = this.prefixes.get(name) as HostPrefix[];
    if (!prefixes.some((prefix) => destinationAllowed(prefix, destination))) {
      return `${field}: secret ${name} may not be sent to ${destination}; the worker's secrets file (${this.file}) allows it only for ${prefixes.map((prefix) => prefix.text).join(', ')}`;
    }
    return undefined;
  }

  /** Why the worker cannot use this secret anywhere (no secrets file, not listed), or undefined. */
  unknown(field: string, name: string): string | undefined {
    if (!this.file) {
      return `${field}: the worker has no secrets file, so secret ${name} may not be sent anywhere; set RELFLOW_SECRETS on the worker to a YAML file listing ${name} with the URL prefixes it may be sent to`;
    }
    if (!this.prefixes.has(name)) {
      return `${field}: ${name} is not a secret of the worker's secrets file (${this.file}); add it there with the URL prefixes it may be sent to`;
    }
    return undefined;
  }

  /** The value of a secret for a destination; refuses a destination the secrets file does not allow. */
  reveal(field: string, name: string, destination: string): string {
    const refused = this.refusal(field, name, destination);
    if (refused) throw new SecretNotAllowed(refused);
    return this.value(field, name);
  }

  /**
   * The value of a secret that is itself a URL (a chat webhook): allowed only when
   * the URL is within the secret's hosts. Errors name the secret, never the URL.
   */
  revealUrl(field: string, name: string): string {
    const unknown = this.unknown(field, name);
    if (unknown) throw new SecretNotAllowed(unknown);
    const url = this.value(field, name);
    if (!/^https?:\/\//i.test(url) || !URL.canParse(url))
      throw new SecretNotAllowed(`${field}: the value of ${name} is not an http(s) URL`);
    if (!(this.prefixes.get(name) as HostPrefix[]).some((prefix) => destinationAllowed(prefix, url))) {
      throw new SecretNotAllowed(
        `${field}: the URL in secret ${name} is not within the URL prefixes the worker's secrets file allows for it`,
      );
    }
    return url;
  }

  private value(field: string, name: string): string {
    const entry = this.content.secrets[name];
    if (entry.file) {
      let value: string;
      try {
        value = readSmallFile(entry.file, MAX_SECRET_BYTES).replace(/\r?\n$/, '');
      } catch (error) {
        const reason = error instanceof SmallFileProblem ? error.message : ((error as NodeJS.ErrnoException).code ?? 'error');
        throw new MissingSecret(`${field}: secret ${name} cannot be read from ${entry.file} (${reason})`);
      }
      if (!value) throw new MissingSecret(`${field}: secret ${name}: ${entry.file} is empty`);
      return value;
    }
    const variable = entry.env ?? name;
    const value = this.env[variable];
    if (!value) throw new MissingSecret(`${field}: environment variable ${variable} is not set on the worker`);
    return value;
  }
}

const loaded = new WeakMap<NodeJS.ProcessEnv, { file: string | undefined; secrets: WorkerSecrets }>();

/**
 * The secrets of the worker whose environment this is: the file RELFLOW_SECRETS
 * names, read once per environment (restart the worker after changing it). No
 * file means no secret may be sent anywhere.
 */
export function workerSecrets(env: NodeJS.ProcessEnv): WorkerSecrets {
  const file = env.RELFLOW_SECRETS || undefined;
  const cached = loaded.get(env);
  if (cached && cached.file === file) return cached.secrets;
  let content: SecretsFile = { secrets: {}, gates: {} };
  if (file) {
    let text: string;
    try {
      text = readSmallFile(file, MAX_SECRETS_FILE_BYTES);
    } catch (error) {
      const reason = error instanceof SmallFileProblem && error.kind === 'missing' ? 'ENOENT' : (error as Error).message;
      throw new UserError(`RELFLOW_SECRETS: cannot read ${file} (${reason})`);
    }
    content = parseSecretsFile(text, file);
  }
  const secrets = new WorkerSecrets(env, file, content);
  loaded.set(env, { file, secrets });
  return secrets;
}

/**
 * The value of the secret a manifest field names, for one destination: undefined
 * when the field names none; an error naming the secret and the destination when
 * the worker's secrets file does not allow it there or it has no value.
 */
export function readSecret(env: NodeJS.ProcessEnv, field: string, name: string | undefined, destination: string): string | undefined {
  if (!name) return undefined;
  return workerSecrets(env).reveal(field, name, destination);
}

/**
 * Where an AWS client sends its requests: the manifest's endpoint, or AWS
 * itself. Without keys named in the manifest the SDK signs with the worker's
 * own AWS credentials (environment, profile, instance role): those go to AWS
 * only, never to an endpoint a manifest chose.
 */
export function awsDestination(
  section: string,
  service: string,
  spec: { region?: string; endpoint?: string; accessKeyIdEnv?: string; secretAccessKeyEnv?: string },
): string {
  if (!spec.endpoint) return `https://${service}.${spec.region ?? 'us-east-1'}.amazonaws.com/`;
  if (!spec.accessKeyIdEnv || !spec.secretAccessKeyEnv) {
    throw new SecretNotAllowed(
      `${section}.endpoint: ${spec.endpoint} is not AWS, and the worker's own AWS credentials go only to AWS: name accessKeyIdEnv and secretAccessKeyEnv (secrets of the worker's secrets file allowed for ${spec.endpoint})`,
    );
  }
  return spec.endpoint;
}
