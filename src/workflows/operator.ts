import { ApplicationFailure, condition, patched, setHandler } from '@temporalio/workflow';
import type { GateVerdict } from '../activities/gateSignatures';
import { OperatorCommand } from '../release/model';
import { operatorSignal, operatorUpdate } from './api';
import { decisionScope, PRINTABLE_NAMES, REFUSED_UPDATES_LOGGED } from './gates';
import { isUndecodable } from './payloadConverter';
import { activity } from './proxies';
import { ReleaseTracker } from './tracker';
import { commandShapeProblem, unprintableNameProblem } from '../release/decisions';

/** Operator commands are checked against the workers' trust file (operators.allowedSigners) from this change on. */
const SIGNED_OPERATORS = 'signed-operator-commands';

/** `retry`, `skip` and `abort` for a release blocked on a stage. */
export class OperatorControls {
  private pending?: OperatorCommand;
  private readonly printableNames = patched(PRINTABLE_NAMES);
  private readonly logsRefusedUpdates = patched(REFUSED_UPDATES_LOGGED);

  constructor(private readonly release: ReleaseTracker) {
    setHandler(operatorSignal, async (command) => {
      const problem = this.problem(command) ?? (await this.verify(command));
      if (problem) this.release.recordRefusal(command?.by, `refused operator signal: ${problem}`);
      else this.pending = command;
    });
    setHandler(
      operatorUpdate,
      async (command) => {
        const problem = (this.logsRefusedUpdates ? this.problem(command) : undefined) ?? (await this.verify(command));
        if (problem) {
          if (this.logsRefusedUpdates) this.release.recordRefusal(command.by, `refused operator update: ${problem}`);
          throw ApplicationFailure.nonRetryable(problem, 'OperatorCommandRefused');
        }
        this.pending = command;
        return `${command.action} accepted for stage ${this.release.state.blocked?.stage}`;
      },
      {
        // As for gate decisions: malformed commands are refused here, the others logged by the handler.
        validator: (command) => {
          const problem = this.problem(command);
          const wellFormed = this.logsRefusedUpdates && !isUndecodable(command) && !commandShapeProblem(command);
          this.release.refuseInValidator(
            problem,
            wellFormed && problem ? { by: command.by, action: `refused operator update: ${problem}` } : undefined,
          );
        },
      },
    );
  }

  problem(command: OperatorCommand): string | undefined {
    if (isUndecodable(command))
      return `the command could not be decoded (encoding ${command.undecodable}): send JSON such as {"action": "retry", "by": "alice"}`;
    const shape = commandShapeProblem(command) ?? (this.printableNames ? unprintableNameProblem(command.by) : undefined);
    if (shape) return shape;
    const blocked = this.release.state.blocked;
    if (!blocked || this.pending) {
      return `release ${this.release.state.releaseId} is not blocked (it is ${this.release.state.status} at stage ${this.release.state.stage})`;
    }
    if (command.action === 'skip' && !blocked.skippable) {
      return `stage ${blocked.stage} cannot be skipped: later stages need what it makes; retry or abort`;
    }
    return undefined;
  }

  /**
   * Where the workers list operators' allowed signers, a command counts only
   * with a good signature (verifyOperatorCommand, on a worker) over this
   * release's run and namespace; the reason it is refused, or undefined.
   */
  private async verify(command: OperatorCommand): Promise<string | undefined> {
    if (!patched(SIGNED_OPERATORS)) return undefined;
    const verdict: GateVerdict = await activity('verifyOperatorCommand')({
      ...decisionScope(this.release),
      action: command.action,
      by: command.by,
      reason: command.reason,
      time: command.time,
      signature: command.signature,
    });
    if (verdict.signer && verdict.signer.principal !== command.by) {
      return `the command is signed by ${verdict.signer.principal}, not by ${command.by}: pass --by ${verdict.signer.principal}`;
    }
    // Another command may have come while the signature was checked.
    return verdict.problem ?? this.problem(command);
  }

  async next(): Promise<OperatorCommand> {
    await condition(() => this.pending !== undefined);
    const command = this.pending as OperatorCommand;
    this.pending = undefined;
    this.release.record(
      command.by,
      `${command.action} stage ${this.release.state.blocked?.stage}${command.signature ? ' (signed)' : ''}${command.reason ? `: ${command.reason}` : ''}`,
    );
    return command;
  }
}
