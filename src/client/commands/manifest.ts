import { refuseRulesThatAreNotIdempotent } from '../../release/ruleCheck';
import { writeFileSync } from 'node:fs';
import { workerSecrets } from '../../activities/secrets';
import { loadManifest } from '../../config/loadManifest';
import type { Manifest } from '../../config/manifest';
import { GATES } from '../../release/model';
import { manifestJsonSchema } from '../../config/jsonSchema';
import { configOption, out } from '../options';
import type { Command } from 'commander';

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

/** manifest: the commands of the CLI. */
export function registerManifestCommands(program: Command): void {
  program
    .command('validate')
    .description('check a release manifest and print every problem at once')
    .addOption(configOption())
    .addHelpText('after', '\nExample:\n  relflow validate -c relflow.example.yaml')
    .action((options: { config: string }) => {
      const manifest = loadManifest(options.config);
      refuseRulesThatAreNotIdempotent(manifest, options.config);
      out(`${options.config}: valid (${manifest.repositories.length} repositories, ${manifest.artifacts.length} artifacts)`);
      for (const warning of unauthenticatedGates(manifest, process.env)) process.stderr.write(`warning: ${warning}\n`);
    });

  program
    .command('schema')
    .description('write the JSON Schema of the release manifest (for editor completion and checks)')
    .option('-o, --output <file>', 'write to a file instead of standard output')
    .addHelpText(
      'after',
      '\nExample:\n  relflow schema -o relflow.schema.json   # then: # yaml-language-server: $schema=relflow.schema.json',
    )
    .action((options: { output?: string }) => {
      const schema = `${JSON.stringify(manifestJsonSchema(), null, 2)}\n`;
      if (options.output) writeFileSync(options.output, schema);
      else out(schema);
    });
}
