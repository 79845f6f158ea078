import { manifestProblems } from '../release/manifestCheck';
import { randomUUID } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { DeleteObjectCommand, HeadBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { mapWithLimit } from '../release/concurrency';
import { ApplicationFailure } from '@temporalio/common';
import { githubReleasesTarget } from '../config/githubTarget';
import type { Manifest } from '../config/manifest';
import type { ReleaseKind } from '../release/version';
import { gateApplies, ReleasePlan } from '../release/plan';
import { httpOrigin } from './gitWorkspace';
import { runProcess } from './process';
import { remoteProblems } from './remoteCheck';
import { smtpDestination } from './notify';
import { awsDestination, MissingSecret, readSecret, workerSecrets, WorkerSecrets } from './secrets';
import { localDirectory } from './paths';
import { inlineManifestsAccepted } from './manifestSource';
import { workerSandbox } from './builders/sandbox';
import { TRUST_REFUSED, UNTRUSTED_MANIFEST } from '../release/model';
import { directoryPath, s3Client, storageTargets } from './storage';

export interface PreflightInput {
  kind: ReleaseKind;
  manifest: Manifest;
  plan: ReleasePlan;
  /** The manifest came inside the request (not by reference); undefined from releases started before this was asked. */
  inline?: boolean;
}

export interface PreflightResult {
  /** What was checked, one line each. */
  checked: string[];
}

/** Whether the release pushes tags: only then does the CI stage wait on them (its token and the GitHub API), and GitHub releases exist. */
function pushesTags({ plan }: PreflightInput): boolean {
  return plan.repositories.some((repository) => repository.tag);
}

/** Whether the release will publish to PyPI (its gate opens and a repository is published). */
function publishesToPypi({ manifest, kind }: PreflightInput): boolean {
  return (
    Boolean(manifest.pypi) &&
    gateApplies(kind, manifest.gates.pypi.enabled) &&
    manifest.repositories.some((repository) => repository.pypi !== false)
  );
}

/**
 * Every secret the release will read on a worker: the field that names it, its
 * name, and where it will be sent (undefined for a webhook, whose value is the
 * destination; an Error when the destination itself is refused).
 */
interface NeededSecret {
  field: string;
  name: string;
  /** Where it goes; undefined: the secret is the URL (a webhook); null: nowhere yet, but the worker must know the name. */
  destination: string | undefined | null | Error;
}

function neededSecrets(input: PreflightInput): NeededSecret[] {
  const { manifest } = input;
  const needed: Array<{ field: string; name: string | undefined; destination: NeededSecret['destination'] }> = [];
  const aws = (section: string, service: string, spec: Parameters<typeof awsDestination>[2]): string | Error => {
    try {
      return awsDestination(section, service, spec);
    } catch (error) {
      return error as Error;
    }
  };
  for (const repository of manifest.repositories) {
    if (httpOrigin(repository.url)) needed.push({ field: 'git.tokenEnv', name: manifest.git.tokenEnv, destination: repository.url });
  }
  // A token named for remotes that take none (ssh, a path) is still a name the worker must know: a typo is not silence.
  if (manifest.git.tokenEnv && !manifest.repositories.some((repository) => httpOrigin(repository.url)))
    needed.push({ field: 'git.tokenEnv', name: manifest.git.tokenEnv, destination: null });
  if (manifest.storage) {
    for (const target of storageTargets(manifest.storage)) {
      if (target.type !== 's3') continue;
      const destination = aws(`storage (${target.name})`, 's3', target);
      if (destination instanceof Error) needed.push({ field: `storage (${target.name}).endpoint`, name: '-', destination });
      needed.push(
        { field: `storage (${target.name}).accessKeyIdEnv`, name: target.accessKeyIdEnv, destination },
        { field: `storage (${target.name}).secretAccessKeyEnv`, name: target.secretAccessKeyEnv, destination },
      );
    }
  }
  if (manifest.artifacts.some((artifact) => artifact.builder === 'ec2')) {
    const destination = aws('ec2', 'ec2', manifest.ec2);
    if (destination instanceof Error) needed.push({ field: 'ec2.endpoint', name: '-', destination });
    needed.push(
      { field: 'ec2.accessKeyIdEnv', name: manifest.ec2.accessKeyIdEnv, destination },
      { field: 'ec2.secretAccessKeyEnv', name: manifest.ec2.secretAccessKeyEnv, destination },
    );
  }
  if (manifest.ci.provider === 'github' && pushesTags(input))
    needed.push({ field: 'ci.tokenEnv', name: manifest.ci.tokenEnv, destination: manifest.ci.apiUrl });
  if (manifest.github?.releases && pushesTags(input)) {
    const github = githubReleasesTarget(manifest);
    needed.push({
      field: github.tokenEnv === manifest.github?.tokenEnv ? 'github.tokenEnv' : 'ci.tokenEnv',
      name: github.tokenEnv,
      destination: github.apiUrl,
    });
  }
  if (manifest.pypi && publishesToPypi(input)) {
    needed.push(
      { field: 'pypi.usernameEnv', name: manifest.pypi.usernameEnv, destination: manifest.pypi.repositoryUrl },
      { field: 'pypi.passwordEnv', name: manifest.pypi.passwordEnv, destination: manifest.pypi.repositoryUrl },
    );
  }
  if (manifest.readthedocs && docsProjects(input).length > 0)
    needed.push({ field: 'readthedocs.tokenEnv', name: manifest.readthedocs.tokenEnv, destination: manifest.readthedocs.apiUrl });
  const email = manifest.notifications.email;
  if (email?.smtp) {
    const destination = smtpDestination(email.smtp);
    needed.push(
      { field: 'notifications.email.smtp.userEnv', name: email.smtp.userEnv, destination },
      { field: 'notifications.email.smtp.passwordEnv', name: email.smtp.passwordEnv, destination },
    );
  }
  for (const webhook of manifest.notifications.webhooks)
    needed.push({ field: `notifications.webhooks[${webhook.name}].urlEnv`, name: webhook.urlEnv, destination: undefined });
  return needed.filter((entry): entry is NeededSecret => Boolean(entry.name));
}

/** Why each needed secret cannot be used where the release will send it (one line each, at most once per line). */
/**
 * What is wrong with the secrets the release needs, in order; `untrusted` when
 * one would go where the secrets file does not let it (or the file does not
 * list it), not only lack its value.
 */
function secretProblems(input: PreflightInput, env: NodeJS.ProcessEnv): { problems: string[]; untrusted: boolean } {
  const problems = new Set<string>();
  let untrusted = false;
  let secrets: WorkerSecrets;
  try {
    secrets = workerSecrets(env);
  } catch (error) {
    return { problems: [(error as Error).message], untrusted: true };
  }
  for (const { field, name, destination } of neededSecrets(input)) {
    try {
      if (destination instanceof Error) throw destination;
      if (destination === null) {
        const unknown = secrets.unknown(field, name);
        if (unknown) throw new Error(unknown);
      } else if (destination === undefined) secrets.revealUrl(field, name);
      else secrets.reveal(field, name, destination);
    } catch (error) {
      problems.add((error as Error).message);
      untrusted ||= !(error instanceof MissingSecret);
    }
  }
  return { problems: [...problems], untrusted };
}

/** The ReadTheDocs projects the release will build: its docs gate applies. */
function docsProjects({ manifest, kind }: PreflightInput): string[] {
  if (!manifest.readthedocs || !gateApplies(kind, manifest.gates.docs.enabled)) return [];
  return manifest.repositories.flatMap((repository) => (repository.readthedocs ? [repository.readthedocs] : []));
}

/** A network failure's name, never its message: a URL in it may carry a credential. */
function unreachable(error: unknown): string {
  const cause = (error as { cause?: { code?: string } }).cause;
  return cause?.code ?? (error as Error).name;
}

/**
 * Every storage target exists and takes a write: a probe object under the
 * release's prefix, deleted at once (the only write of the preflight).
 */
async function storageProblems(storage: NonNullable<Manifest['storage']>, env: NodeJS.ProcessEnv, prefix: string): Promise<string[]> {
  const problems: string[] = [];
  const probe = `.relflow-preflight-${randomUUID()}`;
  for (const target of storageTargets(storage)) {
    if (target.type === 's3') {
      const client = s3Client(target, env);
      let step = 'cannot be reached';
      try {
        await client.send(new HeadBucketCommand({ Bucket: target.bucket }));
        step = 'refuses a write';
        // Under the release's prefix: a policy may allow writes there only.
        await client.send(new PutObjectCommand({ Bucket: target.bucket, Key: `${prefix}${probe}`, Body: '' }));
        step = 'refuses a delete';
        await client.send(new DeleteObjectCommand({ Bucket: target.bucket, Key: `${prefix}${probe}` }));
      } catch (error) {
        const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        const what = step === 'cannot be reached' && status === 404 ? 'does not exist' : `${step} (${status ?? unreachable(error)})`;
        problems.push(`storage (${target.name}): bucket '${target.bucket}' ${what}`);
      }
    } else {
      let file: string;
      try {
        file = directoryPath(target, probe, env);
      } catch (error) {
        problems.push((error as Error).message);
        continue;
      }
      try {
        await mkdir(target.path, { recursive: true });
        await writeFile(file, '');
        await rm(file);
      } catch (error) {
        problems.push(
          `storage (${target.name}): directory ${target.path} cannot be written (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
        );
      }
    }
  }
  return problems;
}

/** A secret's value, or undefined when it cannot be used (the secrets check has said why). */
function secretOrNothing(read: () => string | undefined): string | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/** GitHub answers for every repository with the token: the CI stage will be able to read its results. */
async function githubProblems(manifest: Manifest, env: NodeJS.ProcessEnv): Promise<string[]> {
  const ci = manifest.ci as Extract<Manifest['ci'], { provider: 'github' }>;
  const token = secretOrNothing(() => readSecret(env, 'ci.tokenEnv', ci.tokenEnv, ci.apiUrl));
  const api = ci.apiUrl.replace(/\/+$/, '');
  const problems = await mapWithLimit(manifest.repositories, manifest.git.parallelism, async (repository) => {
    const path = `/repos/${encodeURIComponent(ci.owner)}/${encodeURIComponent(repository.name)}`;
    try {
      const response = await fetch(`${api}${path}`, {
        headers: { accept: 'application/vnd.github+json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        signal: AbortSignal.timeout(30_000),
      });
      if (response.ok) return undefined;
      if (response.status === 401 || response.status === 403)
        return `ci: GitHub API ${path} answered HTTP ${response.status}; check ci.tokenEnv`;
      if (response.status === 404)
        return `ci: GitHub has no repository ${ci.owner}/${repository.name} (or ci.tokenEnv cannot see it); check ci.owner`;
      return `ci: GitHub API ${path} answered HTTP ${response.status}`;
    } catch (error) {
      return `ci: the GitHub API at ci.apiUrl cannot be reached (${unreachable(error)})`;
    }
  });
  return [...new Set(problems.filter((problem): problem is string => Boolean(problem)))];
}

/** ReadTheDocs knows every project the release will build, with the token. */
async function docsProblems(
  readthedocs: NonNullable<Manifest['readthedocs']>,
  projects: string[],
  env: NodeJS.ProcessEnv,
  parallelism: number,
): Promise<string[]> {
  const api = readthedocs.apiUrl.replace(/\/+$/, '');
  const token = secretOrNothing(() => readSecret(env, 'readthedocs.tokenEnv', readthedocs.tokenEnv, readthedocs.apiUrl));
  const problems = await mapWithLimit(projects, parallelism, async (project) => {
    try {
      const response = await fetch(`${api}/projects/${encodeURIComponent(project)}/`, {
        headers: { authorization: `Token ${token}` },
        signal: AbortSignal.timeout(30_000),
      });
      if (response.ok) return undefined;
      if (response.status === 401 || response.status === 403)
        return `readthedocs: the API answered HTTP ${response.status} for project '${project}'; check readthedocs.tokenEnv`;
      if (response.status === 404) return `readthedocs: ReadTheDocs has no project '${project}'; check repositories[].readthedocs`;
      return `readthedocs: the API answered HTTP ${response.status} for project '${project}'`;
    } catch (error) {
      return `readthedocs: the API at readthedocs.apiUrl cannot be reached (${unreachable(error)})`;
    }
  });
  return [...new Set(problems.filter((problem): problem is string => Boolean(problem)))];
}

/**
 * What only the worker's preflight can check (its environment, tools and
 * credentials), one line each: `relflow plan` lists them beside what it checked.
 */
export function workerOnlyChecks(input: PreflightInput): string[] {
  const { manifest } = input;
  const checks: string[] = [];
  const secrets = neededSecrets(input);
  if (secrets.length > 0)
    checks.push(
      `secrets in the worker's secrets file, allowed where they go: ${[...new Set(secrets.map(({ field, name }) => `${name} (${field})`))].join(', ')}`,
    );
  const tools = ['git'];
  if (publishesToPypi(input)) tools.push('a Python with build and twine (RELFLOW_PYTHON)');
  if (manifest.artifacts.some((artifact) => artifact.builder === 'vagrant')) tools.push('vagrant (RELFLOW_VAGRANT)');
  checks.push(`tools on the worker: ${tools.join(', ')}`);
  checks.push('every remote answers the worker with its credentials; no release tag is at another commit');
  if (manifest.storage) {
    checks.push(
      `storage takes a write: ${storageTargets(manifest.storage)
        .map((target) => (target.type === 's3' ? `bucket ${target.bucket}` : `directory ${target.path}`))
        .join(', ')}`,
    );
  }
  if (manifest.ci.provider === 'github' && pushesTags(input))
    checks.push(`the GitHub API answers for ${manifest.repositories.length} repositories of ${manifest.ci.owner}`);
  const docs = docsProjects(input);
  if (docs.length > 0) checks.push(`ReadTheDocs knows ${docs.join(', ')}`);
  return checks;
}

/**
 * The preflight: on the worker, where the secrets and tools are, before the
 * release's first side effect. Every problem is reported at once, and the
 * release blocks with nothing pushed, stored or published.
 */
export function createPreflightActivities(env: NodeJS.ProcessEnv, pythonBin: string) {
  return {
    async preflightRelease(input: PreflightInput): Promise<PreflightResult> {
      const { manifest, plan } = input;
      const problems: string[] = [];
      const checked: string[] = [];

      // A refusal of the trust checks (where the manifest came from, where secrets go) cannot be skipped; other problems can.
      const refuse = (found: string[], type = 'PreflightFailed') =>
        ApplicationFailure.nonRetryable(
          `preflight: ${found.length} problem${found.length === 1 ? '' : 's'}, nothing was changed:\n${found.map((problem) => `- ${problem}`).join('\n')}`,
          type,
        );
      // Refused before any other check: the storage probe, the remote listing and the API calls act on what the manifest names.
      if (input.inline && !inlineManifestsAccepted(env)) {
        throw refuse(
          [
            'this worker runs manifests by reference only (RELFLOW_MANIFEST_DIR or RELFLOW_MANIFEST_REPO): start the release with relflow start --manifest <name>, or set RELFLOW_INLINE_MANIFESTS=1 on the workers',
          ],
          UNTRUSTED_MANIFEST,
        );
      }
      const secretCheck = secretProblems(input, env);
      problems.push(...secretCheck.problems);
      checked.push('secrets');

      problems.push(...manifestProblems(manifest));
      checked.push('version rules, storage layouts and outputs');

      const git = await runProcess(['git', '--version'], { cwd: '/', env: { PATH: env.PATH }, timeoutMs: 30_000 }).catch(() => undefined);
      if (git?.code !== 0) problems.push('git is not installed on this worker (or not on its PATH)');
      if (publishesToPypi(input)) {
        const python = await runProcess([pythonBin, '-c', 'import build, twine'], {
          cwd: '/',
          env: { PATH: env.PATH },
          timeoutMs: 60_000,
        }).catch(() => undefined);
        if (python?.code !== 0)
          problems.push(`${pythonBin} cannot publish to PyPI: it lacks build or twine (set RELFLOW_PYTHON, or run npm run bootstrap)`);
      }
      checked.push('tools');

      // Only when the git token is there: without it every https remote would only repeat that problem.
      if (!problems.some((problem) => problem.startsWith('git.tokenEnv'))) {
        problems.push(...(await remoteProblems(plan, env, () => manifest.git.tokenEnv, manifest.git.parallelism)));
        checked.push('remotes');
      }

      if (manifest.storage && !problems.some((problem) => problem.startsWith('storage'))) {
        problems.push(...(await storageProblems(manifest.storage, env, plan.storagePrefix ?? '')));
        checked.push('storage');
      }

      // What runs a product's code on a worker: local builds, the CI command, the system tests, python -m build.
      const sandboxed = [
        ...(manifest.artifacts.some((artifact) => artifact.builder === 'local') ? ['artifacts'] : []),
        ...(manifest.ci.provider === 'command' ? ['ci.command'] : []),
        ...(manifest.systemTests ? ['systemTests'] : []),
        ...(publishesToPypi(input) ? ['pypi'] : []),
      ];
      if (sandboxed.length > 0) {
        // This worker's view; the build workers (their own task queue) check their own when they build.
        const sandbox = workerSandbox(env);
        if (sandbox.kind === 'missing') problems.push(`${sandboxed.join(', ')}: ${sandbox.problem}`);
        checked.push(sandbox.kind === 'none' ? 'sandbox: none (RELFLOW_SANDBOX=none)' : 'sandbox');
      }

      if (manifest.artifacts.some((artifact) => artifact.builder === 'vagrant')) {
        const vagrant = env.RELFLOW_VAGRANT || 'vagrant';
        const found = await runProcess([vagrant, '--version'], { cwd: '/', env: { PATH: env.PATH }, timeoutMs: 60_000 }).catch(
          () => undefined,
        );
        if (found?.code !== 0)
          problems.push(`artifacts: a vagrant build needs '${vagrant}' on the worker (install Vagrant, or set RELFLOW_VAGRANT)`);
        checked.push('vagrant');
      }

      if (manifest.ci.provider === 'github' && pushesTags(input) && !problems.some((problem) => problem.startsWith('ci.'))) {
        problems.push(...(await githubProblems(manifest, env)));
        checked.push('CI API');
      }

      const docs = docsProjects(input);
      if (docs.length > 0 && manifest.readthedocs && !problems.some((problem) => problem.startsWith('readthedocs.'))) {
        problems.push(...(await docsProblems(manifest.readthedocs, docs, env, manifest.git.parallelism)));
        checked.push('docs API');
      }

      const outbox = manifest.notifications.email?.outbox;
      if (outbox) {
        // Where the gate and release mails are written: outside the local roots they would be lost at the first gate.
        try {
          localDirectory(env, outbox, 'notifications.email.outbox');
        } catch (error) {
          problems.push((error as Error).message);
        }
        checked.push('outbox');
      }

      if (problems.length > 0) throw refuse(problems, secretCheck.untrusted ? TRUST_REFUSED : undefined);
      return { checked };
    },
  };
}
