import { parseDocument } from 'yaml';
import { z } from 'zod';
import { UserError } from './errors';

/**
 * The worker's secrets file (RELFLOW_SECRETS): which secrets the worker holds,
 * where each value comes from, and the only places it may be sent. A manifest
 * names a secret (its `*Env` fields); it never decides where the secret goes.
 *
 *   secrets:
 *     GITHUB_TOKEN:                      # the name a manifest uses (git.tokenEnv: GITHUB_TOKEN)
 *       env: GITHUB_TOKEN                # or file: /run/secrets/github-token; default env: <name>
 *       hosts: [https://github.com/, https://api.github.com/]
 *
 * A host is a URL prefix: scheme, host (`*.` for any subdomain), an optional
 * port (`*` for any) and an optional path prefix.
 */
const secretName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a secret name of letters, digits and _ (e.g. GITHUB_TOKEN)');

const HOST_PREFIX = /^([a-z][a-z0-9+.-]*):\/\/(\*\.)?(\[[0-9a-f:.]+\]|[a-z0-9._-]+)(?::(\d{1,5}|\*))?(\/[^\s?#]*)?$/i;

export interface HostPrefix {
  scheme: string;
  /** Lower case; with `anySubdomain`, a destination host must end with `.${host}`. */
  host: string;
  anySubdomain: boolean;
  /** undefined: the scheme's default port; '*': any. */
  port: string | undefined;
  /** Starts and, unless it is a file's path, ends with '/'. */
  path: string;
  text: string;
}

export function parseHostPrefix(text: string): HostPrefix | undefined {
  const match = HOST_PREFIX.exec(text);
  if (!match || (match[2] !== undefined && isAddress(match[3]))) return undefined;
  return {
    scheme: match[1].toLowerCase(),
    anySubdomain: match[2] !== undefined,
    host: match[3].toLowerCase(),
    port: match[4],
    path: match[5] ?? '/',
    text,
  };
}

/** An IPv4 address, or part of one (`0.0.1`): `*.` before it would match hosts of other networks (10.0.0.1). */
const isAddress = (host: string) => host.startsWith('[') || /^[\d.]+$/.test(host);

const hostPrefix = z
  .string()
  .refine((value) => HOST_PREFIX.test(value), {
    message: 'a URL prefix such as https://api.github.com/, https://*.amazonaws.com/ or smtp://mail.example.com:587',
  })
  .refine(
    (value) => {
      const match = HOST_PREFIX.exec(value);
      return !match || match[2] === undefined || !isAddress(match[3]);
    },
    { message: '*. stands for the subdomains of a host name, not for part of an IP address: name the address (http://127.0.0.1:*/)' },
  );

const absolutePath = z.string().refine((path) => path.startsWith('/'), 'an absolute path');

const secretEntry = z
  .object({
    env: secretName.optional().describe('the environment variable holding the value (default: the secret name)'),
    file: absolutePath.optional().describe('a file holding the value (trailing newline removed)'),
    hosts: z.array(hostPrefix).min(1, 'at least one URL prefix the secret may be sent to'),
  })
  .strict()
  .refine((entry) => !(entry.env && entry.file), 'either env or file, not both');

/** One line of an OpenSSH allowed_signers file: principals, optional options, key type, key. */
const allowedSigner = z
  .string()
  .regex(
    /^\S+(\s+[a-z-]+(=\S+)?(,[a-z-]+(=\S+)?)*)?\s+(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp\d+|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com)\s+[A-Za-z0-9+/=]+(\s.*)?$/,
    'an allowed_signers line: principal key-type key (e.g. alice@example.com ssh-ed25519 AAAAC3Nza...)',
  )
  // OpenSSH reads the principals as patterns: `*` would let the key sign as anyone an approver list names.
  .refine((line) => !/[*?!]/.test(line.split(/\s/)[0]), {
    message: 'principals are names (alice@example.com), not patterns: no *, ? or ! (OpenSSH would match them against every principal)',
  });

/**
 * Who may decide a gate: the signers (the allowed_signers format `ssh-keygen -Y
 * verify` reads) whose signed decisions the workers accept. A gate listed here
 * takes signed decisions only; a gate not listed takes anyone's, unauthenticated.
 */
const gateTrust = z.object({ allowedSigners: z.array(allowedSigner).min(1) }).strict();

export const secretsFileSchema = z
  .object({
    secrets: z.record(secretName, secretEntry).default({}),
    gates: z.object({ pypi: gateTrust.optional(), docs: gateTrust.optional() }).strict().default({}),
    /** Who may sign retry, skip and abort; unset, the operators' commands need no signature. */
    operators: gateTrust.optional(),
    signing: z
      .object({
        key: absolutePath
          .optional()
          .describe("the private SSH key that signs each release's SHA256SUMS (ssh-keygen -Y sign -n relflow-release)"),
        publicKey: absolutePath
          .optional()
          .describe('its public half, for a worker that checks signatures and signs nothing (a build worker)'),
      })
      .strict()
      .refine((signing) => signing.key || signing.publicKey, 'signing: name key (the release workers) or publicKey (the build workers)')
      .optional(),
  })
  .strict();

export type SecretsFile = z.infer<typeof secretsFileSchema>;
export type SecretEntry = SecretsFile['secrets'][string];
export type GateTrust = z.infer<typeof gateTrust>;

/** Parses a secrets file; every problem is named with the file and the field. */
export function parseSecretsFile(text: string, file: string): SecretsFile {
  const document = parseDocument(text);
  if (document.errors.length > 0) {
    throw new UserError(`${file}: invalid YAML: ${document.errors[0].message.split('\n')[0]}`);
  }
  let value: unknown;
  try {
    // Aliases of aliases would expand to billions of nodes: refused by count.
    value = document.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (error) {
    throw new UserError(`${file}: invalid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  const parsed = secretsFileSchema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(top)'}: ${issue.message}`);
    throw new UserError(`${file} (RELFLOW_SECRETS): ${problems.join('; ')}`);
  }
  return parsed.data;
}
