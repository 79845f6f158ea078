import { Command, CommanderError } from 'commander';
import { UserError } from '../config/errors';
import { registerDevCommand } from './commands/dev';
import { registerDemoCommand } from './commands/demo';
import { registerWorkerCommand } from './commands/worker';
import { registerNamespaceCommand } from './commands/namespace';
import { registerStartCommand } from './commands/start';
import { registerStatusCommand } from './commands/status';
import { registerPlanCommand } from './commands/plan';
import { registerGatesCommands } from './commands/gates';
import { registerOperatorCommands } from './commands/operator';
import { registerRetagCommand } from './commands/retag';
import { registerListCommand } from './commands/list';
import { registerWatchCommand } from './commands/watch';
import { registerReportCommand } from './commands/report';
import { registerVerifyCommand } from './commands/verify';
import { registerLogsCommand } from './commands/logs';
import { registerReapCommand } from './commands/reap';
import { registerScheduleCommands } from './commands/schedule';
import { registerManifestCommands } from './commands/manifest';
import { EXIT } from './options';

export { EXIT, exitCodeOf } from './options';

function oneLine(text: string): string {
  return text.trim().split('\n').join(' ').replace(/\.$/, '');
}

/** The relflow CLI: one file per command under commands/, put together here. */
export function buildProgram(): Command {
  const program = new Command('relflow')
    .description('Release automation for multi-repository products, as durable Temporal workflows.')
    .exitOverride()
    // Commander's errors as one line, like every other refusal: "relflow: <what>; see --help".
    .configureOutput({
      outputError: (text, write) => write(`relflow: ${oneLine(text.replace(/^error: /, ''))}; see --help\n`),
    })
    .addHelpText(
      'after',
      `
Connection: TEMPORAL_ADDRESS (default 127.0.0.1:7233), TEMPORAL_NAMESPACE (default), TEMPORAL_API_KEY,
TEMPORAL_TLS, TEMPORAL_TLS_CLIENT_CERT_PATH, TEMPORAL_TLS_CLIENT_KEY_PATH, TEMPORAL_TLS_SERVER_CA_CERT_PATH.
Exit codes: 0 done, 1 failed or rejected, 2 bad input, 3 waiting at a gate.

Example:
  relflow dev &                                   # Temporal dev server + worker, Web UI on :8233
  relflow start ga --version 3.4 -c relflow.yaml  # start a GA release
  relflow status cloudify-3.4`,
    );

  registerDevCommand(program);
  registerDemoCommand(program);
  registerWorkerCommand(program);
  registerNamespaceCommand(program);
  registerStartCommand(program);
  registerStatusCommand(program);
  registerPlanCommand(program);
  registerGatesCommands(program);
  registerOperatorCommands(program);
  registerRetagCommand(program);
  registerListCommand(program);
  registerWatchCommand(program);
  registerReportCommand(program);
  registerVerifyCommand(program);
  registerLogsCommand(program);
  registerReapCommand(program);
  registerScheduleCommands(program);
  registerManifestCommands(program);

  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.done;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT.done : EXIT.badInput;
    }
    if (error instanceof UserError) {
      process.stderr.write(`relflow: ${error.message}\n`);
      return EXIT.badInput;
    }
    // An activity's refusal raised in this process (reading a manifest by reference, as the workers do): its message is the line.
    if (error instanceof Error && error.name === 'ApplicationFailure') {
      process.stderr.write(`relflow: ${error.message.split('\n')[0]}\n`);
      return (error as Error & { nonRetryable?: boolean }).nonRetryable ? EXIT.badInput : EXIT.failed;
    }
    // The server's refusals (an unknown namespace, a permission) are one line too; anything else is a bug: its stack helps.
    if (error instanceof Error && /^(ServiceError|NamespaceNotFoundError|WorkflowNotFoundError|ScheduleNotFoundError)$/.test(error.name)) {
      process.stderr.write(`relflow: the Temporal server refused: ${error.message.split('\n')[0]}\n`);
      return EXIT.failed;
    }
    process.stderr.write(`relflow: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return EXIT.failed;
  }
}
