import { setCurrentDetails, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import { currentDetails } from '../release/report';
import { blockedChanged, releaseFinished } from './metrics';
import type { ReleaseKind } from '../release/version';
import { ReleaseKindKey, ReleaseProductKey, ReleaseStageKey, ReleaseStatusKey, ReleaseVersionKey } from './searchAttributes';
import {
  ArtifactState,
  GateName,
  GateState,
  ItemState,
  ManifestSource,
  ReleaseState,
  ReleaseStatus,
  RepositoryState,
  StageName,
  STAGES,
} from '../release/model';
import { releaseStateQuery } from './api';
import { CONTROL_CHARACTERS, MAX_BY } from '../release/decisions';

const MAX_REFUSALS = 20;

function now(): string {
  return new Date().toISOString();
}

/** The visible state of one release: answered by the `release` query, mirrored in search attributes. */
export class ReleaseTracker {
  readonly state: ReleaseState;

  constructor(releaseId: string, product: string, kind: ReleaseKind) {
    this.state = {
      releaseId,
      product,
      kind,
      status: 'running',
      stage: 'plan',
      stages: STAGES.map((name) => ({ name, status: 'pending' })),
      repositories: [],
      artifacts: [],
      gates: [],
      stored: [],
      log: [],
    };
    setHandler(releaseStateQuery, () => this.state);
    this.publish();
  }

  stage(name: StageName): ItemState {
    const stage = this.state.stages.find((candidate) => candidate.name === name);
    if (!stage) throw new Error(`unknown stage ${name}`);
    return stage;
  }

  repository(name: string): RepositoryState {
    let repository = this.state.repositories.find((candidate) => candidate.name === name);
    if (!repository) {
      repository = { name, status: 'pending' };
      this.state.repositories.push(repository);
    }
    return repository;
  }

  artifact(name: string, builder: string): ArtifactState {
    let artifact = this.state.artifacts.find((candidate) => candidate.name === name);
    if (!artifact) {
      artifact = { name, builder, status: 'pending' };
      this.state.artifacts.push(artifact);
    }
    return artifact;
  }

  gate(name: GateName): GateState | undefined {
    return this.state.gates.find((candidate) => candidate.name === name);
  }

  record(by: string, action: string): void {
    this.state.log.push({ at: now(), by, action });
  }

  /**
   * A signal the release refused, in its log so whoever sent it (the Web UI's
   * signal form says only "sent") sees why in `relflow status`. The same refusal
   * is kept once; at most MAX_REFUSALS are kept, and the rest only counted.
   */
  recordRefusal(by: unknown, action: string): void {
    this.state.refusedSignals = (this.state.refusedSignals ?? 0) + 1;
    if (this.wouldLogRefusal(by, action)) this.record(refuserName(by), action);
  }

  /**
   * An update validator's refusal adds nothing to the history. An attempt the log will show (a
   * well-formed one, not a repeat, not past the first MAX_REFUSALS) is let through to the handler,
   * which logs it and refuses it; any other is refused by the validator, so a flood costs nothing.
   */
  refuseInValidator(problem: string | undefined, logged: { by: unknown; action: string } | undefined): void {
    if (problem && !(logged && this.wouldLogRefusal(logged.by, logged.action))) throw new Error(problem);
  }

  /** Whether recordRefusal would log this refusal (not a repeat, not past the first MAX_REFUSALS). */
  wouldLogRefusal(by: unknown, action: string): boolean {
    const who = refuserName(by);
    const refusals = this.state.log.filter((entry) => entry.action.startsWith('refused '));
    return refusals.length < MAX_REFUSALS && !refusals.some((entry) => entry.by === who && entry.action === action);
  }

  /** The manifest the release was started by reference with, once a worker read it. */
  setManifest(source: ManifestSource, product: string): void {
    this.state.manifest = source;
    this.state.product = product;
    this.publish();
  }

  setReleaseName(releaseName: string): void {
    this.state.releaseName = releaseName;
    this.publish();
  }

  enterStage(name: StageName): void {
    this.state.stage = name;
    start(this.stage(name));
    this.publish();
  }

  block(stage: StageName, error: string, skippable: boolean): void {
    if (!this.state.blocked) blockedChanged(1, stage);
    const item = this.stage(stage);
    item.status = 'blocked';
    item.error = error;
    this.state.blocked = { stage, error, since: now(), skippable };
    this.setStatus('blocked');
  }

  unblock(): void {
    if (this.state.blocked) blockedChanged(-1, this.state.blocked.stage);
    this.state.blocked = undefined;
    this.setStatus('running');
  }

  setStatus(status: ReleaseStatus): void {
    this.state.status = status;
    this.publish();
  }

  finish(status: ReleaseStatus): void {
    // Aborted while blocked: it waits on nobody any more.
    if (this.state.blocked) blockedChanged(-1, this.state.blocked.stage);
    this.state.stage = 'done';
    this.setStatus(status);
    releaseFinished(this.state);
  }

  private publish(): void {
    // Not recorded in the history: the Web UI asks for it (the __temporal_workflow_metadata query) when it shows the release.
    setCurrentDetails(currentDetails(this.state));
    upsertSearchAttributes([
      { key: ReleaseProductKey, value: this.state.product },
      { key: ReleaseKindKey, value: this.state.kind },
      { key: ReleaseVersionKey, value: this.state.releaseName ?? '' },
      { key: ReleaseStageKey, value: this.state.stage },
      { key: ReleaseStatusKey, value: this.state.status },
    ]);
  }
}

export function start(item: ItemState, detail?: string): void {
  item.status = 'running';
  item.startedAt = now();
  item.endedAt = undefined;
  item.error = undefined;
  item.detail = detail;
}

export function succeed(item: ItemState, detail?: string): void {
  item.status = 'succeeded';
  item.endedAt = now();
  if (detail !== undefined) item.detail = detail;
}

export function fail(item: ItemState, error: unknown): void {
  item.status = 'failed';
  item.endedAt = now();
  item.error = errorMessage(error);
}

export function reject(item: ItemState, detail: string): void {
  item.status = 'rejected';
  item.endedAt = now();
  item.detail = detail;
}

export function skip(item: ItemState, reason: string): void {
  item.status = 'skipped';
  item.endedAt = now();
  item.detail = reason;
}

/** The message a person should read: the root cause of an activity or child failure. */
export function errorMessage(error: unknown): string {
  let current: unknown = error;
  while (current instanceof Error && (current as { cause?: unknown }).cause instanceof Error) {
    current = (current as { cause?: unknown }).cause;
  }
  return current instanceof Error ? current.message : String(current);
}

/** A refused name as sent, but never more than one line. */
function refuserName(by: unknown): string {
  return typeof by === 'string' && by ? by.slice(0, MAX_BY).replace(new RegExp(CONTROL_CHARACTERS, 'g'), '?') : 'unknown';
}
