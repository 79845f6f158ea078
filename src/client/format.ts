import { escapeHtml } from '../release/escapeHtml';
import type { ItemState, ReleaseState } from '../release/model';
import { countOf } from '../release/wording';
import { publicationLines, releaseOutcome } from '../release/outcome';

function table(rows: string[][]): string {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function when(item: ItemState): string {
  return item.endedAt ?? item.startedAt ?? '';
}

/** The release as a person reads it in a terminal. */
export function formatRelease(state: ReleaseState): string {
  const lines = [
    `release  ${state.releaseId}`,
    `kind     ${state.kind}${state.releaseName ? `  ${state.releaseName}` : ''}`,
    `status   ${releaseOutcome(state)}${state.stage !== 'done' ? ` (stage ${state.stage})` : ''}`,
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
  const files = [...state.artifacts.flatMap((artifact) => artifact.files ?? []), ...state.stored];
  if (state.artifacts.length > 0) {
    lines.push(
      '',
      table([
        ['ARTIFACT', 'STATE', 'MACHINE', 'DETAIL'],
        ...state.artifacts.map((artifact) => [
          artifact.name,
          artifact.status,
          artifact.machineId ?? '-',
          artifact.error ?? artifact.detail ?? '',
        ]),
      ]),
    );
  }
  if (state.gates.length > 0) {
    lines.push(
      '',
      table([
        ['GATE', 'STATE', 'BY', 'WHEN'],
        ...state.gates.map((gate) => [gate.name, gate.status, gate.by ?? '-', gate.decidedAt ?? gate.openedAt ?? '']),
      ]),
    );
    for (const gate of state.gates.filter((candidate) => candidate.status === 'open')) {
      lines.push(`waiting: relflow approve ${state.releaseId} ${gate.name} --by <you>   (or reject)`);
    }
  }
  if (state.blocked) {
    lines.push(
      '',
      `BLOCKED on ${state.blocked.stage}: ${state.blocked.error}`,
      `  relflow retry ${state.releaseId}${state.blocked.skippable ? ` | relflow skip ${state.releaseId}` : ''} | relflow abort ${state.releaseId}`,
    );
  }
  if (files.length > 0)
    lines.push(
      '',
      `${countOf(files.length, 'file')} stored${state.stored.some((file) => file.name === 'artifacts.json') ? '; artifacts.json: ' + (state.stored.find((file) => file.name === 'artifacts.json')?.urls[0] ?? '') : ''}`,
    );
  return lines.join('\n');
}

/** The runs of a release ID, when it was started more than once (empty otherwise). */
export function formatRuns(runs: { runId: string; status: string; started: string; closed?: string }[]): string {
  if (runs.length < 2) return '';
  return `\n\n${table([['RUN', 'STATE', 'STARTED', 'ENDED'], ...runs.map((run, index) => [`${index + 1} ${run.runId}`, run.status, run.started, run.closed ?? '-'])])}`;
}

/** The release as a Markdown report: stages, repositories, artifacts, results, decisions. */
export function markdownReport(state: ReleaseState): string {
  const row = (cells: string[]) => `| ${cells.map((cell) => cell.replace(/\|/g, '\\|')).join(' | ')} |`;
  const head = (cells: string[]) => [row(cells), row(cells.map(() => '---'))];
  const files = [...state.artifacts.flatMap((artifact) => artifact.files ?? []), ...state.stored];
  return [
    `# ${state.product} ${state.kind} release ${state.releaseName ?? ''}`,
    '',
    `Release \`${state.releaseId}\`: **${releaseOutcome(state)}**.`,
    '',
    '## Stages',
    ...head(['stage', 'state', 'ended', 'detail']),
    ...state.stages.map((stage) => row([stage.name, stage.status, stage.endedAt ?? '', stage.error ?? stage.detail ?? ''])),
    '',
    '## Repositories',
    ...head(['repository', 'base SHA', 'release commit', 'branch', 'tag']),
    ...state.repositories.map((repository) =>
      row([
        repository.name,
        repository.baseSha ?? '',
        repository.tagSha ?? repository.headSha ?? '',
        repository.buildBranch ?? '',
        repository.tag ?? '',
      ]),
    ),
    '',
    '## Artifacts',
    ...head(['name', 'file', 'size', 'sha256', 'URLs']),
    ...files.map((file) => row([file.name, file.file, String(file.size), file.sha256, file.urls.join('<br>')])),
    '',
    '## Results',
    `- CI: ${state.ci ? `${state.ci.passed ? 'passed' : 'failed'} (${state.ci.detail})` : 'not run'}`,
    `- System tests: ${state.systemTests ? `${state.systemTests.passed ? 'passed' : 'failed'} (${state.systemTests.detail})` : 'not run'}`,
    ...state.gates.map(
      (gate) =>
        `- Gate ${gate.name}: ${gate.status}${gate.by ? ` by ${gate.by} at ${gate.decidedAt}` : ''}${gate.comment ? ` (${gate.comment})` : ''}`,
    ),
    '',
    '## Published',
    ...(
      publicationLines(state)
        .map((line) => `- ${line}`)
        .join('\n') || '- nothing outside the release storage'
    ).split('\n'),
    '',
    '## Decisions',
    ...(state.log.length ? state.log.map((entry) => `- ${entry.at} ${entry.by}: ${entry.action}`) : ['- none']),
    '',
  ].join('\n');
}

/** The Markdown report as a standalone HTML page (headings, tables, lists; `<br>` in cells kept). */
export function htmlReport(state: ReleaseState): string {
  const lines = markdownReport(state).split('\n');
  const body: string[] = [];
  let inList = false;
  for (const [index, line] of lines.entries()) {
    if (inList && !line.startsWith('- ')) {
      body.push('</ul>');
      inList = false;
    }
    if (line.startsWith('## ')) body.push(`<h2>${escapeHtml(line.slice(3))}</h2>`);
    else if (line.startsWith('# ')) body.push(`<h1>${escapeHtml(line.slice(2))}</h1>`);
    else if (line.startsWith('- ')) {
      if (!inList) body.push('<ul>');
      inList = true;
      body.push(`<li>${escapeHtml(line.slice(2))}</li>`);
    } else if (line.startsWith('|')) {
      if (/^\|( --- \|)+$/.test(line)) continue;
      const cells = line
        .slice(2, -2)
        .split(' | ')
        .map((cell) => escapeHtml(cell.replace(/\\\|/g, '|')).replace(/&lt;br&gt;/g, '<br>'));
      const header = lines[index + 1]?.startsWith('| ---');
      const tag = header ? 'th' : 'td';
      if (header) body.push('<table>');
      body.push(`<tr>${cells.map((cell) => `<${tag}>${cell}</${tag}>`).join('')}</tr>`);
      if (!lines[index + 1]?.startsWith('|')) body.push('</table>');
    } else if (line.trim())
      body.push(
        `<p>${escapeHtml(line)
          .replace(/\*\*(.+?)\*\*/g, '<strong>$1</strong>')
          .replace(/`(.+?)`/g, '<code>$1</code>')}</p>`,
      );
  }
  if (inList) body.push('</ul>');
  return (
    `<!doctype html>\n<html><head><meta charset="utf-8"><title>${escapeHtml(state.releaseId)}</title>` +
    '<style>body{font-family:sans-serif}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px}</style></head>' +
    `<body>\n${body.join('\n')}\n</body></html>\n`
  );
}
