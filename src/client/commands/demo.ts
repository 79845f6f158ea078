import type { Command } from 'commander';

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('run a nightly and a GA release of a sandbox product on the embedded dev server')
    .addHelpText('after', '\nExample:\n  relflow demo        # or: npm run demo')
    .action(async () => (await import('../actions/demo.js')).demoCommand());
}
