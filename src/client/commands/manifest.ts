import { configOption } from '../options';
import type { Command } from 'commander';

/** manifest: the commands of the CLI. */
export function registerManifestCommands(program: Command): void {
  program
    .command('validate')
    .description('check a release manifest and print every problem at once')
    .addOption(configOption())
    .addHelpText('after', '\nExample:\n  relflow validate -c relflow.example.yaml')
    .action(async (options: { config: string }) => (await import('../actions/manifest.js')).validateAction(options));

  program
    .command('schema')
    .description('write the JSON Schema of the release manifest (for editor completion and checks)')
    .option('-o, --output <file>', 'write to a file instead of standard output')
    .addHelpText(
      'after',
      '\nExample:\n  relflow schema -o relflow.schema.json   # then: # yaml-language-server: $schema=relflow.schema.json',
    )
    .action(async (options: { output?: string }) => (await import('../actions/manifest.js')).schemaAction(options));
}
