import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import type { Manifest } from '../config/manifest';
import type { ReleaseKind } from '../release/version';
import { gateApplies, ReleasePlan } from '../release/plan';
import { httpOrigin } from './gitWorkspace';
import { runProcess } from './process';
import { remoteProblems } from './remoteCheck';
import { MissingSecret } from './secrets';
import { s3Client, storageTargets } from './storage';

export interface PreflightInput {
  kind: ReleaseKind;
  manifest: Manifest;
  plan: ReleasePlan;
}

export interface PreflightResult {
  /** What was checked, one line each. */
  checked: string[];
}

/** Whether the release will publish to PyPI (its gate opens and a repository is published). */
function publishesToPypi({ manifest, kind }: PreflightInput): boolean {
  return (
    Boolean(manifest.pypi) &&
    gateApplies(kind, manifest.gates.pypi.enabled) &&
    manifest.repositories.some((repository) => repository.pypi !== false)
  );
}

/** Every secret variable the release will read on a worker, with the field that names it. */
function neededSecrets(input: PreflightInput): [string, string][] {
  const { manifest, kind } = input;
  const needed: [string, string | undefined][] = [];
  if (manifest.repositories.some((repository) => httpOrigin(repository.url))) needed.push(['git.tokenEnv', manifest.git.tokenEnv]);
  if (manifest.storage) {
    for (const target of storageTargets(manifest.storage)) {
      if (target.type !== 's3') continue;
      needed.push(
        [`storage (${target.name}).accessKeyIdEnv`, target.accessKeyIdEnv],
        [`storage (${target.name}).secretAccessKeyEnv`, target.secretAccessKeyEnv],
      );
    }
  }
  if (manifest.artifacts.some((artifact) => artifact.builder === 'ec2')) {
    needed.push(['ec2.accessKeyIdEnv', manifest.ec2.accessKeyIdEnv], ['ec2.secretAccessKeyEnv', manifest.ec2.secretAccessKeyEnv]);
  }
  if (manifest.ci.provider === 'github' && kind !== 'patch') needed.push(['ci.tokenEnv', manifest.ci.tokenEnv]);
  if (manifest.pypi && publishesToPypi(input)) {
    needed.push(['pypi.usernameEnv', manifest.pypi.usernameEnv], ['pypi.passwordEnv', manifest.pypi.passwordEnv]);
  }
  if (
    manifest.readthedocs &&
    gateApplies(kind, manifest.gates.docs.enabled) &&
    manifest.repositories.some((repository) => repository.readthedocs)
  ) {
    needed.push(['readthedocs.tokenEnv', manifest.readthedocs.tokenEnv]);
  }
  const email = manifest.notifications.email;
  if (email?.smtp)
    needed.push(['notifications.email.smtp.userEnv', email.smtp.userEnv], ['notifications.email.smtp.passwordEnv', email.smtp.passwordEnv]);
  for (const webhook of manifest.notifications.webhooks) needed.push([`notifications.webhooks[${webhook.name}].urlEnv`, webhook.urlEnv]);
  return needed.filter((entry): entry is [string, string] => Boolean(entry[1]));
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

      for (const [field, variable] of neededSecrets(input)) {
        if (!env[variable]) problems.push(new MissingSecret(field, variable).message);
      }
      checked.push('secrets');

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
        problems.push(...(await remoteProblems(plan, env, manifest.git.tokenEnv, manifest.git.parallelism)));
        checked.push('remotes');
      }

      if (manifest.storage && !problems.some((problem) => problem.startsWith('storage'))) {
        for (const target of storageTargets(manifest.storage)) {
          if (target.type !== 's3') continue;
          try {
            await s3Client(target, env).send(new HeadBucketCommand({ Bucket: target.bucket }));
          } catch (error) {
            const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
            problems.push(
              `storage (${target.name}): bucket '${target.bucket}' ${status === 404 ? 'does not exist' : `cannot be reached (${status ?? (error as Error).name})`}`,
            );
          }
        }
        checked.push('storage');
      }

      if (problems.length > 0) {
        throw ApplicationFailure.nonRetryable(
          `preflight: ${problems.length} problem${problems.length === 1 ? '' : 's'}, nothing was changed:\n${problems.map((problem) => `- ${problem}`).join('\n')}`,
          'PreflightFailed',
        );
      }
      return { checked };
    },
  };
}
