import { defineQuery } from '@temporalio/workflow';
import type { Manifest } from '../config/manifest';
import type { ReleaseKind } from '../release/version';

export const STAGES = [
  'plan',
  'checkout',
  'version',
  'tag',
  'ci',
  'specs',
  'artifacts',
  'system-tests',
  'pypi',
  'docs',
  'announce',
] as const;
export type StageName = (typeof STAGES)[number];

export type ItemStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'waiting' | 'blocked';

export interface ItemState {
  status: ItemStatus;
  startedAt?: string;
  endedAt?: string;
  error?: string;
  /** Why a skipped item was skipped, or what a running one is doing. */
  detail?: string;
}

export interface StageState extends ItemState {
  name: StageName;
}

export interface RepositoryState extends ItemState {
  name: string;
  baseSha?: string;
  headSha?: string;
  buildBranch?: string;
  tag?: string;
  /** The commit the tag points at, once pushed. */
  tagSha?: string;
  changedFiles?: string[];
}

export type ReleaseStatus = 'running' | 'waiting' | 'blocked' | 'succeeded' | 'failed' | 'aborted' | 'cancelled';

export interface ReleaseState {
  releaseId: string;
  product: string;
  kind: ReleaseKind;
  releaseName?: string;
  status: ReleaseStatus;
  stage: StageName | 'done';
  stages: StageState[];
  repositories: RepositoryState[];
}

/** What `relflow start` (or a Schedule) sends. Never a secret: the manifest only names environment variables. */
export interface ReleaseRequest {
  manifest: Manifest;
  manifestFile?: string;
  kind: ReleaseKind;
  version?: string;
  pluginsVersion?: string;
  /** YYYYMMDD; nightlies started by a Schedule take the workflow's own date. */
  date?: string;
}

export const releaseStateQuery = defineQuery<ReleaseState>('release');
