import { writeFileSync } from 'node:fs';
import { loadManifest } from '../../config/loadManifest';
import { manifestJsonSchema } from '../../config/jsonSchema';
import { configOption, out } from '../options';
import type { Command } from 'commander';

/** manifest: the commands of the CLI. */
export function registerManifestCommands(program: Command): void {
  program
    .command('validate')
    .description('check a release manifest and print every problem at once')
    .addOption(configOption())
    .addHelpText('after', '\nExample:\n  relflow validate -c relflow.example.yaml')
    .action((options: { config: string }) => {
      const manifest = loadManifest(options.config);
      out(`${options.config}: valid (${manifest.repositories.length} repositories, ${manifest.artifacts.length} artifacts)`);
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
