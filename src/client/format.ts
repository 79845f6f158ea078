import type { ItemState, ReleaseState } from '../workflows/state';

function table(rows: string[][]): string {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column])).join('  ').trimEnd()).join('\n');
}

function when(item: ItemState): string {
  return item.endedAt ?? item.startedAt ?? '';
}

/** The release as a person reads it in a terminal. */
export function formatRelease(state: ReleaseState): string {
  const lines = [
    `release  ${state.releaseId}`,
    `kind     ${state.kind}${state.releaseName ? `  ${state.releaseName}` : ''}`,
    `status   ${state.status}${state.stage !== 'done' ? ` (stage ${state.stage})` : ''}`,
    '',
    table([
      ['STAGE', 'STATE', 'WHEN', 'DETAIL'],
      ...state.stages.map((stage) => [stage.name, stage.status, when(stage), stage.error ?? stage.detail ?? '']),
    ]),
  ];
  if (state.repositories.length > 0) {
    lines.push(
      '',
      table([
        ['REPOSITORY', 'STATE', 'BASE SHA', 'BRANCH', 'TAG', 'DETAIL'],
        ...state.repositories.map((repository) => [
          repository.name,
          repository.status,
          repository.baseSha?.slice(0, 12) ?? '-',
          repository.buildBranch ?? '-',
          repository.tag ?? '-',
          repository.error ?? repository.detail ?? '',
        ]),
      ]),
    );
  }
  return lines.join('\n');
}
