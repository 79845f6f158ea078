import { gateCommands } from '../../release/decisions';
import { patched } from '@temporalio/workflow';
import { forEachRepository } from '../repositories';
import type { GateSpec } from '../../config/manifest';
import type { GateOutcome } from '../gates';
import type { ReleaseKind } from '../../release/version';
import { gateApplies } from '../../release/plan';
import { alert } from '../alerts';
import { planOf, ReleaseContext, releaseCommit, Stage, testedSkipReason } from '../stage';
import type { GateName, GateState } from '../../release/model';
import { countOf } from '../../release/wording';

/**
 * Publishing fails with every repository's failure once all have run.
 * Releases that began publishing one repository at a time go on that way;
 * newer ones use git.parallelism.
 */
function publishParallelism(): number | undefined {
  return patched('publish-in-parallel') ? undefined : 1;
}

/** Gates: on for milestone and GA, off for patches unless the manifest says so, never for nightlies. */
function gateSkipReason(name: GateName, spec: GateSpec, kind: ReleaseKind): string | undefined {
  if (kind === 'nightly') return 'nightlies are not published';
  if (gateApplies(kind, spec.enabled)) return undefined;
  const what = name === 'pypi' ? 'not published to PyPI' : 'no ReadTheDocs build';
  return kind === 'patch' && spec.enabled === undefined
    ? `${what}: patch releases publish only with gates.${name}.enabled: true (then after the ${name} gate)`
    : `${what}: gates.${name}.enabled is false`;
}

/** Opens the gate, with reminders; true when approved. A rejection or timeout skips the publication. */
async function passGate(context: ReleaseContext, name: GateName, spec: GateSpec): Promise<{ approved: boolean; detail: string }> {
  const plan = planOf(context);
  const releaseId = context.release.state.releaseId;
  const remind = async (gate: GateState, first: boolean) => {
    const commands = gateCommands(releaseId, gate);
    await alert(context.manifest, {
      subject: `${first ? 'Waiting for' : 'Reminder: still waiting for'} the ${name} gate of ${plan.product} ${plan.releaseName}`,
      text:
        `The ${name} gate of release ${releaseId} is open${gate.approvers.length ? ` for ${gate.approvers.join(', ')}` : ''}.\n\n` +
        `Approve: ${commands.approve}\nReject:  ${commands.reject}`,
      summary: commands.approve,
    });
  };
  const decided = context.release.gate(name);
  // A stage retried after a failure keeps the decision its gate already has: no second approval, no second "waiting" mail.
  const outcome =
    decided &&
    decided.status !== 'open' &&
    decided.status !== 'closed' &&
    decided.status !== 'skipped' &&
    patched('decided-gate-stays-decided')
      ? (decided.status as GateOutcome)
      : await context.gates.open(name, spec, remind);
  const gate = context.release.gate(name) as GateState;
  if (outcome === 'approved') return { approved: true, detail: `approved by ${gate.by}` };
  if (outcome === 'timed-out') return { approved: false, detail: `the ${name} gate timed out after ${spec.timeout}: counted as rejected` };
  return { approved: false, detail: `rejected by ${gate.by}${gate.comment ? `: ${gate.comment}` : ''}` };
}

export const pypiStage: Stage = {
  name: 'pypi',
  skippable: true,
  skip: (context) => {
    const reason = gateSkipReason('pypi', context.manifest.gates.pypi, context.request.kind);
    if (reason) return reason;
    if (!context.manifest.repositories.some((repository) => repository.pypi !== false)) return 'no repository is published to PyPI';
    return testedSkipReason(context);
  },
  async run(context) {
    const gate = await passGate(context, 'pypi', context.manifest.gates.pypi);
    if (!gate.approved) return { rejected: gate.detail };
    const pypi = context.manifest.pypi as NonNullable<typeof context.manifest.pypi>;
    const { published } = context.results;
    const specs = new Map(context.manifest.repositories.map((spec) => [spec.name, spec]));
    await forEachRepository(context, {
      repositories: (repositories) => repositories.filter((repository) => specs.get(repository.name)?.pypi !== false),
      parallelism: publishParallelism(),
      reportEveryFailure: true,
      isDone: (repository) => published.has(repository.name),
      starting: () => 'publishing to PyPI',
      activity: 'publishPythonPackage',
      input: (repository) => {
        const spec = specs.get(repository.name);
        return {
          pypi,
          tokenEnv: context.manifest.git.tokenEnv,
          target: {
            repository: { name: repository.name, url: repository.url },
            sha: releaseCommit(context, repository.name),
            packageDir: typeof spec?.pypi === 'object' ? spec.pypi.packageDir : '.',
          },
        };
      },
      done: (repository, result) => {
        const files = [...result.uploaded, ...result.skipped];
        published.set(repository.name, files);
        Object.assign(context.release.repository(repository.name), { published: files, publishedAt: result.indexPage });
        return `${countOf(files.length, 'file')} on PyPI`;
      },
    });
    return { detail: `${gate.detail}; published ${countOf([...published.values()].flat().length, 'file')}` };
  },
};

export const docsStage: Stage = {
  name: 'docs',
  skippable: true,
  skip: (context) => {
    const reason = gateSkipReason('docs', context.manifest.gates.docs, context.request.kind);
    if (reason) return reason;
    if (!context.manifest.repositories.some((repository) => repository.readthedocs)) return 'no repository has a ReadTheDocs project';
    return testedSkipReason(context);
  },
  async run(context) {
    const gate = await passGate(context, 'docs', context.manifest.gates.docs);
    if (!gate.approved) return { rejected: gate.detail };
    const plan = planOf(context);
    const readthedocs = context.manifest.readthedocs as NonNullable<typeof context.manifest.readthedocs>;
    const { docs } = context.results;
    const projects = new Map(context.manifest.repositories.map((spec) => [spec.name, spec.readthedocs]));
    await forEachRepository(context, {
      repositories: (repositories) => repositories.filter((repository) => projects.get(repository.name)),
      parallelism: publishParallelism(),
      reportEveryFailure: true,
      isDone: (repository) => docs.get(repository.name) === 'built',
      starting: () => 'building the docs',
      activity: 'buildDocs',
      input: (repository) => ({
        readthedocs,
        project: projects.get(repository.name) as string,
        version: repository.tag ?? plan.forms.yaml_core_version,
      }),
      done: (repository, result) => {
        const project = projects.get(repository.name) as string;
        docs.set(repository.name, result.success ? 'built' : 'failed');
        Object.assign(context.release.repository(repository.name), {
          docs: docs.get(repository.name),
          docsBuild: { project: result.project, version: result.version, buildId: result.buildId, detail: result.detail },
        });
        if (!result.success) throw new Error(`ReadTheDocs: ${project}: ${result.detail}`);
        return `docs ${result.detail} (build ${result.buildId})`;
      },
    });
    return { detail: gate.detail };
  },
};
