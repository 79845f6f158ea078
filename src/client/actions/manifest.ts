import { refuseManifestProblems } from '../../release/manifestCheck';
import { writeFileSync } from 'node:fs';
import { workerSecrets } from '../../activities/secrets';
import { loadManifest } from '../../config/loadManifest';
import type { Manifest } from '../../config/manifest';
import { GATES } from '../../release/model';
import { manifestJsonSchema } from '../../config/jsonSchema';
import { out } from '../options';

/**
 * The gates that take anyone's decision: those the trust file (RELFLOW_SECRETS,
 * read here when it is set) lists no allowed signers for.
 */
export function unauthenticatedGates(manifest: Manifest, env: NodeJS.ProcessEnv): string[] {
  const secrets = env.RELFLOW_SECRETS ? workerSecrets(env) : undefined;
  return GATES.filter((gate) => manifest.gates[gate].enabled !== false && !secrets?.gateSigners(gate)).map(
    (gate) =>
      `gates.${gate}: decisions are unauthenticated (anyone who reaches the Temporal server approves as anyone) unless the workers' secrets file lists allowed signers for it (gates.${gate}.allowedSigners)${secrets ? ` — ${env.RELFLOW_SECRETS} lists none` : '; RELFLOW_SECRETS is not set here to check'}`,
  );
}

export function validateAction(options: { config: string }): void {
  const manifest = loadManifest(options.config);
  refuseManifestProblems(manifest, options.config);
  out(`${options.config}: valid (${manifest.repositories.length} repositories, ${manifest.artifacts.length} artifacts)`);
  for (const warning of unauthenticatedGates(manifest, process.env)) process.stderr.write(`warning: ${warning}\n`);
}

export function schemaAction(options: { output?: string }): void {
  const schema = `${JSON.stringify(manifestJsonSchema(), null, 2)}\n`;
  if (options.output) writeFileSync(options.output, schema);
  else out(schema);
}
