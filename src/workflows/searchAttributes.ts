import { defineSearchAttributeKey } from '@temporalio/common';

/** Typed search attributes the release workflow keeps current for the Web UI and `relflow list`. */
export const ReleaseKindKey = defineSearchAttributeKey('ReleaseKind', 'KEYWORD');
export const ReleaseVersionKey = defineSearchAttributeKey('ReleaseVersion', 'KEYWORD');
export const ReleaseStageKey = defineSearchAttributeKey('ReleaseStage', 'KEYWORD');
export const ReleaseProductKey = defineSearchAttributeKey('ReleaseProduct', 'KEYWORD');
export const ReleaseStatusKey = defineSearchAttributeKey('ReleaseStatus', 'KEYWORD');

export const SEARCH_ATTRIBUTES = [ReleaseKindKey, ReleaseVersionKey, ReleaseStageKey, ReleaseProductKey, ReleaseStatusKey];
