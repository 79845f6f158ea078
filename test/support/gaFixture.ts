import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { parse, stringify } from 'yaml';
import { s3Client } from '../../src/activities/storage';
import type { ManifestInput } from '../../src/config/manifest';
import { createDemoProduct } from '../../src/dev/demoProduct';
import { MOTO_ENV, motoEndpoint, startPypiServer } from '../../src/dev/localServices';
import { CiState, GithubRelease, Inbox, LocalApi, startGithubApi, startInbox, startLocalApi, startReadTheDocsApi } from './fakeSaas';

/** The repositories of the demo product, whose CI the GitHub stand-in reports. */
export const DEMO_REPOSITORIES = [
  'cloudify-rest-client',
  'cloudify-dsl-parser',
  'cloudify-manager',
  'cloudify-script-plugin',
  'cloudify-ui',
  'cloudify-docs',
  'cloudify-manager-blueprints',
];

/** The secret values the fixture's manifest names by variable; none may appear in a history, log or mail. */
export const FIXTURE_SECRETS = {
  TEST_GITHUB_TOKEN: 'ghp-secret-token-value',
  TEST_PYPI_USER: 'uploader',
  TEST_PYPI_PASSWORD: 'pypi-secret-password',
  TEST_RTD_TOKEN: 'rtd-secret-token',
  TEST_SMTP_USER: 'smtp-user',
  TEST_SMTP_PASSWORD: 'smtp-secret-password',
};

export interface GaFixture {
  root: string;
  /** The manifest file: the demo product with every stage on (a UI build, specs, system tests, PyPI, docs, mail, a webhook). */
  config: string;
  product: string;
  bucket: string;
  endpoint: string;
  pypiUrl: string;
  /** What the workers need on top of their environment: the secrets and moto's keys. */
  env: NodeJS.ProcessEnv;
  /** CI state per repository, as the GitHub stand-in answers it (pending until set). */
  ciStates: Record<string, CiState>;
  /** GitHub's API: CI statuses and check runs, and the releases made (github.releases). */
  github: LocalApi & { releases: GithubRelease[] };
  readthedocs: LocalApi;
  hooks: LocalApi;
  inbox: Inbox;
  close(): Promise<void>;
}

/**
 * A product shaped like the seed's with every outside system relflow talks to
 * running here: moto S3 (and a directory mirror), pypiserver, the GitHub and
 * ReadTheDocs stand-ins, an SMTP inbox and a webhook receiver.
 */
export async function createGaFixture(
  root: string,
  options: {
    product: string;
    buildCommand?: string;
    /** A slow SMTP server: MAIL FROM held this long. */
    mailDelayMs?: number;
    /** A docs build reads as building this long. */
    docsBuildMs?: number;
    adjust?: (manifest: ManifestInput) => ManifestInput;
  },
): Promise<GaFixture> {
  const endpoint = await motoEndpoint();
  const ciStates: Record<string, CiState> = {};
  const github = await startGithubApi(ciStates);
  const readthedocs = await startReadTheDocsApi({ 'cloudify-rest-client': true }, { buildMs: options.docsBuildMs });
  const hooks = await startLocalApi(() => ({ status: 200, json: { ok: true } }));
  const inbox = await startInbox({ delayMs: options.mailDelayMs });
  const pypiUrl = await startPypiServer(join(root, 'packages'));
  const manifest = parse(readFileSync(createDemoProduct(join(root, 'product')), 'utf8')) as ManifestInput;
  const bucket = `${options.product}-releases`;
  const full: ManifestInput = {
    ...manifest,
    product: options.product,
    repositories: manifest.repositories.map((repository) =>
      repository.name === 'cloudify-rest-client'
        ? { ...repository, pypi: true, readthedocs: 'cloudify-rest-client' }
        : repository.name === 'cloudify-manager'
          ? { ...repository, typesYaml: 'resources/rest-service/cloudify/types/types.yaml' }
          : repository.name === 'cloudify-script-plugin'
            ? { ...repository, pluginYaml: 'plugin.yaml' }
            : repository,
    ),
    artifacts: [
      { name: 'cloudify-ui', repository: 'cloudify-ui', command: options.buildCommand ?? './build.sh', outputs: ['cloudify-ui.tgz'] },
    ],
    storage: {
      bucket,
      endpoint,
      accessKeyIdEnv: 'TEST_AWS_KEY',
      secretAccessKeyEnv: 'TEST_AWS_SECRET',
      mirrors: [{ type: 'directory', name: 'tarzan', path: join(root, 'tarzan') }],
    },
    ci: { provider: 'github', apiUrl: github.url, owner: 'cloudify-cosmo', tokenEnv: 'TEST_GITHUB_TOKEN', pollEvery: '1s' },
    systemTests: {
      command: 'test -s "$RELFLOW_ARTIFACTS_MANIFEST" && printf \'<testsuite tests="4" failures="0" skipped="1"></testsuite>\' > junit.xml',
      junit: 'junit.xml',
    },
    gates: { pypi: { approvers: ['alice'] }, docs: {} },
    pypi: { repositoryUrl: pypiUrl, usernameEnv: 'TEST_PYPI_USER', passwordEnv: 'TEST_PYPI_PASSWORD' },
    readthedocs: { apiUrl: `${readthedocs.url}/api/v3`, tokenEnv: 'TEST_RTD_TOKEN' },
    notifications: {
      email: {
        from: 'relflow@example.com',
        to: ['dev@example.com'],
        // The inbox is a relay on loopback without STARTTLS: the manifest says the login may go in clear.
        smtp: { host: '127.0.0.1', port: inbox.port, userEnv: 'TEST_SMTP_USER', passwordEnv: 'TEST_SMTP_PASSWORD', requireTLS: false },
      },
      webhooks: [{ name: 'chat', urlEnv: 'TEST_WEBHOOK_URL' }],
    },
  };
  const config = join(root, 'relflow.yaml');
  writeFileSync(config, stringify(options.adjust ? options.adjust(full) : full));
  await s3Client(
    { bucket, region: 'us-east-1', endpoint, accessKeyIdEnv: 'TEST_AWS_KEY', secretAccessKeyEnv: 'TEST_AWS_SECRET' },
    { ...process.env, ...MOTO_ENV },
  ).send(new CreateBucketCommand({ Bucket: bucket }));
  return {
    root,
    config,
    product: options.product,
    bucket,
    endpoint,
    pypiUrl,
    env: { ...MOTO_ENV, ...FIXTURE_SECRETS, TEST_WEBHOOK_URL: `${hooks.url}/hooks/T000/B000/secret-path` },
    ciStates,
    github,
    readthedocs,
    hooks,
    inbox,
    close: async () => {
      await Promise.all([github.close(), readthedocs.close(), hooks.close(), inbox.close()]);
    },
  };
}
