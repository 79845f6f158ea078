import { patched } from '@temporalio/workflow';
import type { GateSpec } from '../../config/manifest';
import type { GateOutcome } from '../gates';
import type { ReleaseKind } from '../../release/version';
import { activity } from '../proxies';
import { alert } from '../alerts';
import { planOf, ReleaseContext, releaseCommit, Stage, testedSkipReason } from '../stage';
import type { GateName, GateState } from '../../release/model';
import { errorMessage } from '../tracker';
import { countOf } from '../../release/wording';

/** Gates: on for milestone and GA, off for patches unless the manifest says so, never for nightlies. */
function gateSkipReason(name: GateName, spec: GateSpec, kind: ReleaseKind): string | undefined {
  if (kind === 'nightly') return 'nightlies are not published';
  const enabled = spec.enabled ?? kind !== 'patch';
  if (enabled) return undefined;
  const what = name === 'pypi' ? 'not published to PyPI' : 'no ReadTheDocs build';
  return kind === 'patch' && spec.enabled === undefined
    ? `${what}: patch releases publish only with gates.${name}.enabled: true (then after the ${name} gate)`
    : `${what}: gates.${name}.enabled is false`;
}

/** Opens the gate, with reminders; true when approved. A rejection or timeout skips the publication. */
async function passGate(context: ReleaseContext, name: GateName, spec: GateSpec): Promise<{ approved: boolean; detail: string }> {
  const plan = planOf(context);
  const releaseId = context.release.state.releaseId;
  const remind = async (gate: GateState, first: boolean) =>
    alert(context.manifest, {
      subject: `${first ? 'Waiting for' : 'Reminder: still waiting for'} the ${name} gate of ${plan.product} ${plan.releaseName}`,
      text:
        `The ${name} gate of release ${releaseId} is open${gate.approvers.length ? ` for ${gate.approvers.join(', ')}` : ''}.\n\n` +
        `Approve: relflow approve ${releaseId} ${name} --by <you>\nReject:  relflow reject ${releaseId} ${name} --by <you>`,
      summary: `relflow approve ${releaseId} ${name} --by <you>`,
    });
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
    const failures: string[] = [];
    for (const spec of context.manifest.repositories.filter((repository) => repository.pypi !== false)) {
      const state = context.release.repository(spec.name);
      if (state.published) continue;
      try {
        const result = await activity('publishPythonPackage')({
          pypi,
          tokenEnv: context.manifest.git.tokenEnv,
          target: {
            repository: { name: spec.name, url: spec.url },
            sha: releaseCommit(context, spec.name),
            packageDir: typeof spec.pypi === 'object' ? spec.pypi.packageDir : '.',
          },
        });
        state.published = [...result.uploaded, ...result.skipped];
        state.publishedAt = result.indexPage;
      } catch (error) {
        failures.push(errorMessage(error));
      }
    }
    if (failures.length > 0) throw new Error(failures.join('; '));
    return {
      detail: `${gate.detail}; published ${countOf(context.release.state.repositories.flatMap((repository) => repository.published ?? []).length, 'file')}`,
    };
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
    const failures: string[] = [];
    for (const spec of context.manifest.repositories.filter((repository) => repository.readthedocs)) {
      const state = context.release.repository(spec.name);
      if (state.docs === 'built') continue;
      const version = plan.repositories.find((repository) => repository.name === spec.name)?.tag ?? plan.forms.yaml_core_version;
      const result = await activity('buildDocs')({ readthedocs, project: spec.readthedocs as string, version });
      state.docs = result.success ? 'built' : 'failed';
      state.docsBuild = { project: result.project, version: result.version, buildId: result.buildId, detail: result.detail };
      if (!result.success) failures.push(`${spec.readthedocs}: ${result.detail}`);
    }
    if (failures.length > 0) throw new Error(`ReadTheDocs: ${failures.join('; ')}`);
    return { detail: gate.detail };
  },
};
