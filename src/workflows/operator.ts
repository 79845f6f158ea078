import { condition, setHandler } from '@temporalio/workflow';
import { OperatorCommand } from '../release/model';
import { operatorSignal, operatorUpdate } from './api';
import { isUndecodable } from './payloadConverter';
import { ReleaseTracker } from './tracker';
import { commandShapeProblem } from '../release/decisions';

/** `retry`, `skip` and `abort` for a release blocked on a stage. */
export class OperatorControls {
  private pending?: OperatorCommand;

  constructor(private readonly release: ReleaseTracker) {
    setHandler(operatorSignal, (command) => {
      const problem = this.problem(command);
      if (problem) this.release.recordRefusal(command?.by, `refused operator signal: ${problem}`);
      else this.pending = command;
    });
    setHandler(
      operatorUpdate,
      (command) => {
        this.pending = command;
        return `${command.action} accepted for stage ${this.release.state.blocked?.stage}`;
      },
      {
        validator: (command) => {
          const problem = this.problem(command);
          if (problem) throw new Error(problem);
        },
      },
    );
  }

  problem(command: OperatorCommand): string | undefined {
    if (isUndecodable(command))
      return `the command could not be decoded (encoding ${command.undecodable}): send JSON such as {"action": "retry", "by": "alice"}`;
    const shape = commandShapeProblem(command);
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

  async next(): Promise<OperatorCommand> {
    await condition(() => this.pending !== undefined);
    const command = this.pending as OperatorCommand;
    this.pending = undefined;
    this.release.record(
      command.by,
      `${command.action} stage ${this.release.state.blocked?.stage}${command.reason ? `: ${command.reason}` : ''}`,
    );
    return command;
  }
}
