import { gateCommands } from './decisions';
import { notesHtml, notesSummary, notesText, RepositoryNotes } from './notes';
import { escapeHtml } from './escapeHtml';
import type { ReleaseState, StoredFile } from './model';
import { countOf } from './wording';
import { PROVENANCE_SUFFIX } from './provenance';

/** A table of the report: its column names and its rows, as text. */
export interface ReportTable {
  head: string[];
  rows: string[][];
}

/**
 * One release, as every report shows it: the terminal status, `relflow report`
 * (Markdown, HTML) and the announcement email are renderings of this model.
 */
export interface ReleaseReport {
  releaseId: string;
  /** `cloudify ga release 3.4` */
  title: string;
  kind: string;
  releaseName?: string;
  /** The build number the release took. */
  build?: number;
  /** `succeeded`, `succeeded with rejected gates: docs (...)`, `blocked`... */
  outcome: string;
  /** The stage it is at, while it runs. */
  stage?: string;
  stages: { name: string; status: string; when: string; ended: string; detail: string }[];
  repositories: { name: string; status: string; baseSha: string; commit: string; branch: string; tag: string; detail: string }[];
  artifacts: { name: string; status: string; machine: string; detail: string }[];
  gates: { name: string; status: string; by: string; when: string; decidedAt: string; comment: string; open: boolean; signed: boolean }[];
  /** Every stored file: the artifacts' and the release's own (specs, artifacts.json). */
  files: StoredFile[];
  /** What the builds made; artifacts.json, SHA256SUMS, release notes and provenance statements are files, not packages. */
  packages: number;
  artifactsJson?: string;
  ci: string;
  systemTests: string;
  published: string[];
  skipped: { name: string; detail: string }[];
  blocked?: { stage: string; error: string; commands: string };
  decisions: string[];
  notes: RepositoryNotes[];
}

/** Every stored file of a release: its artifacts' and its own (specs, artifacts.json, notes, checksums). */
export function releaseFiles(state: Pick<ReleaseState, 'artifacts' | 'stored'>): StoredFile[] {
  return [...state.artifacts.flatMap((artifact) => artifact.files ?? []), ...state.stored];
}

export function releaseReport(state: ReleaseState): ReleaseReport {
  const blocked = state.blocked;
  return {
    notes: state.notes ?? [],
    releaseId: state.releaseId,
    title: `${state.product} ${state.kind} release ${state.releaseName ?? state.releaseId}`,
    kind: state.kind,
    releaseName: state.releaseName,
    build: state.build,
    outcome: releaseOutcome(state),
    stage: state.stage !== 'done' ? state.stage : undefined,
    stages: state.stages.map((stage) => ({
      name: stage.name,
      status: stage.status,
      when: stage.endedAt ?? stage.startedAt ?? '',
      ended: stage.endedAt ?? '',
      detail: stage.error ?? stage.detail ?? '',
    })),
    repositories: state.repositories.map((repository) => ({
      name: repository.name,
      status: repository.status,
      baseSha: repository.baseSha ?? '',
      commit: repository.tagSha ?? repository.headSha ?? '',
      branch: repository.buildBranch ?? '',
      tag: repository.tag ?? '',
      detail: repository.error ?? repository.detail ?? '',
    })),
    artifacts: state.artifacts.map((artifact) => ({
      name: artifact.name,
      status: artifact.status,
      machine: artifact.machineId ?? '-',
      detail: artifact.error ?? artifact.detail ?? '',
    })),
    gates: state.gates.map((gate) => ({
      name: gate.name,
      status: gate.status,
      // A verified signer is named with the key that signed, in the report and the mail alike.
      by: gate.signer ? `${gate.signer.principal} (signed, key ${gate.signer.fingerprint})` : (gate.by ?? ''),
      when: gate.decidedAt ?? gate.openedAt ?? '',
      decidedAt: gate.decidedAt ?? '',
      comment: gate.comment ?? '',
      open: gate.status === 'open',
      signed: gate.signed === true,
    })),
    files: releaseFiles(state),
    packages: state.artifacts.flatMap((artifact) => artifact.files ?? []).filter((file) => !file.file.endsWith(PROVENANCE_SUFFIX)).length,
    artifactsJson: state.stored.find((file) => file.name === 'artifacts.json')?.urls[0],
    ci: state.ci ? `${state.ci.passed ? 'passed' : 'failed'} (${state.ci.detail})` : 'not run',
    systemTests: state.systemTests ? `${state.systemTests.passed ? 'passed' : 'failed'} (${state.systemTests.detail})` : 'not run',
    published: publicationLines(state),
    skipped: state.stages.filter((stage) => stage.status === 'skipped').map((stage) => ({ name: stage.name, detail: stage.detail ?? '' })),
    blocked: blocked && {
      stage: blocked.stage,
      error: blocked.error,
      commands: `relflow retry ${state.releaseId}${blocked.skippable ? ` | relflow skip ${state.releaseId}` : ''} | relflow abort ${state.releaseId}`,
    },
    decisions: [...state.log.map((entry) => `${entry.at} ${entry.by}: ${entry.action}`), ...refusalsNotLogged(state)],
  };
}

/** The refused signals the log does not show one by one. */
function refusalsNotLogged(state: ReleaseState): string[] {
  const logged = state.log.filter((entry) => entry.action.startsWith('refused ')).length;
  const more = (state.refusedSignals ?? 0) - logged;
  return more > 0 ? [`${more} more refused signal${more === 1 ? '' : 's'} (repeats, or past the first ${logged}), not shown`] : [];
}

/** Columns padded to their widest cell, two spaces apart. */
export function textTable(table: ReportTable): string {
  const rows = [table.head, ...table.rows];
  // A loop, not Math.max(...rows): a table of a million rows (a hostile SHA256SUMS) would overflow the call stack.
  const widths = table.head.map((_, column) => rows.reduce((widest, row) => Math.max(widest, (row[column] ?? '').length), 0));
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** The release as a person reads it in a terminal (`relflow status`, `watch`). */
export function terminalReport(report: ReleaseReport): string {
  const lines = [
    `release  ${report.releaseId}`,
    `kind     ${report.kind}${report.releaseName ? `  ${report.releaseName}` : ''}${report.build !== undefined ? `  build ${report.build}` : ''}`,
    `status   ${report.outcome}${report.stage ? ` (stage ${report.stage})` : ''}`,
    '',
    textTable({
      head: ['STAGE', 'STATE', 'WHEN', 'DETAIL'],
      rows: report.stages.map((stage) => [stage.name, stage.status, stage.when, stage.detail]),
    }),
  ];
  if (report.repositories.length > 0) {
    const rows = report.repositories.map((repository) => [
      repository.name,
      repository.status,
      repository.baseSha.slice(0, 12) || '-',
      repository.branch || '-',
      repository.tag || '-',
      repository.detail,
    ]);
    lines.push('', textTable({ head: ['REPOSITORY', 'STATE', 'BASE SHA', 'BRANCH', 'TAG', 'DETAIL'], rows }));
  }
  if (report.artifacts.length > 0) {
    const rows = report.artifacts.map((artifact) => [artifact.name, artifact.status, artifact.machine, artifact.detail]);
    lines.push('', textTable({ head: ['ARTIFACT', 'STATE', 'MACHINE', 'DETAIL'], rows }));
  }
  if (report.gates.length > 0) {
    const rows = report.gates.map((gate) => [gate.name, gate.status, gate.by || '-', gate.when]);
    lines.push('', textTable({ head: ['GATE', 'STATE', 'BY', 'WHEN'], rows }));
    for (const gate of report.gates.filter((candidate) => candidate.open)) {
      lines.push(`waiting: ${gateCommands(report.releaseId, gate).approve}   (or reject)`);
    }
  }
  if (report.blocked) lines.push('', `BLOCKED on ${report.blocked.stage}: ${report.blocked.error}`, `  ${report.blocked.commands}`);
  if (report.files.length > 0) {
    lines.push(
      '',
      `${countOf(report.files.length, 'file')} stored${report.artifactsJson !== undefined ? `; artifacts.json: ${report.artifactsJson}` : ''}`,
    );
  }
  return lines.join('\n');
}

/**
 * What the Temporal Web UI shows as the release's current details (Markdown):
 * each stage with its state, the open gate with its approvers and the exact
 * command, or the blocked stage with its error and the commands that move it.
 */
export function currentDetails(state: ReleaseState): string {
  const report = releaseReport(state);
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ').slice(0, 200);
  const lines = [
    `**${report.title}**: ${report.outcome}${report.stage ? `, stage ${report.stage}` : ''}${report.build !== undefined ? ` (build ${report.build})` : ''}`,
    '',
    '| # | stage | state | detail |',
    '| --- | --- | --- | --- |',
    ...report.stages.map((stage, index) => `| ${index + 1} | ${stage.name} | ${stage.status} | ${cell(stage.detail)} |`),
  ];
  for (const gate of state.gates.filter((candidate) => candidate.status === 'open')) {
    const commands = gateCommands(state.releaseId, gate);
    // Each command on a line of its own: the Web UI cuts a long line off.
    lines.push(
      '',
      `**Waiting at the ${gate.name} gate** for ${gate.approvers.length > 0 ? gate.approvers.join(', ') : 'anyone'}${gate.signed ? ', signed decisions only' : ''}:`,
      '',
      `- approve: \`${commands.approve}\``,
      `- reject: \`${commands.reject}\``,
    );
  }
  if (report.blocked) {
    lines.push(
      '',
      `**Blocked on ${report.blocked.stage}**: ${cell(report.blocked.error)}`,
      '',
      `\`${report.blocked.commands.split(' | ').join('` | `')}\``,
    );
  }
  return lines.join('\n');
}

/** The sections `relflow report` prints, in order: tables and lists. */
function sections(report: ReleaseReport): { title: string; table?: ReportTable; list?: string[] }[] {
  return [
    {
      title: 'Stages',
      table: {
        head: ['stage', 'state', 'ended', 'detail'],
        rows: report.stages.map((stage) => [stage.name, stage.status, stage.ended, stage.detail]),
      },
    },
    {
      title: 'Repositories',
      table: {
        head: ['repository', 'base SHA', 'release commit', 'branch', 'tag'],
        rows: report.repositories.map((repository) => [
          repository.name,
          repository.baseSha,
          repository.commit,
          repository.branch,
          repository.tag,
        ]),
      },
    },
    {
      title: 'Artifacts',
      table: {
        head: ['name', 'file', 'size', 'sha256', 'URLs'],
        rows: report.files.map((file) => [file.name, file.file, String(file.size), file.sha256, file.urls.join('\n')]),
      },
    },
    {
      title: 'Results',
      list: [
        `CI: ${report.ci}`,
        `System tests: ${report.systemTests}`,
        ...report.gates.map(
          (gate) =>
            `Gate ${gate.name}: ${gate.status}${gate.by ? ` by ${gate.by} at ${gate.decidedAt}` : ''}${gate.comment ? ` (${gate.comment})` : ''}`,
        ),
      ],
    },
    { title: 'Published', list: report.published.length > 0 ? report.published : ['nothing outside the release storage'] },
    ...(report.notes.length > 0 ? [{ title: 'Release notes', list: notesSummary(report.notes) }] : []),
    { title: 'Decisions', list: report.decisions.length > 0 ? report.decisions : ['none'] },
  ];
}

/** `relflow report` in Markdown. */
export function markdownReport(report: ReleaseReport): string {
  const row = (cells: string[]) => `| ${cells.map((cell) => cell.replace(/\|/g, '\\|').replace(/\n/g, '<br>')).join(' | ')} |`;
  const lines = [`# ${report.title}`, '', `Release \`${report.releaseId}\`: **${report.outcome}**.`, ''];
  if (report.build !== undefined) lines.splice(3, 0, `Build number: ${report.build}.`, '');
  for (const section of sections(report)) {
    lines.push(`## ${section.title}`);
    if (section.table) lines.push(row(section.table.head), row(section.table.head.map(() => '---')), ...section.table.rows.map(row));
    if (section.list) lines.push(...section.list.map((item) => `- ${item}`));
    lines.push('');
  }
  return lines.join('\n');
}

function htmlTable(table: ReportTable): string {
  const cells = (row: string[], tag: string) => row.map((cell) => `<${tag}>${escapeHtml(cell).replace(/\n/g, '<br>')}</${tag}>`).join('');
  return ['<table>', `<tr>${cells(table.head, 'th')}</tr>`, ...table.rows.map((row) => `<tr>${cells(row, 'td')}</tr>`), '</table>'].join(
    '\n',
  );
}

/** `relflow report --format html`: a standalone page. */
export function htmlReport(report: ReleaseReport): string {
  const body = [
    `<h1>${escapeHtml(report.title)}</h1>`,
    `<p>Release <code>${escapeHtml(report.releaseId)}</code>: <strong>${escapeHtml(report.outcome)}</strong>.</p>`,
    ...(report.build !== undefined ? [`<p>Build number: ${report.build}.</p>`] : []),
  ];
  for (const section of sections(report)) {
    body.push(`<h2>${escapeHtml(section.title)}</h2>`);
    if (section.table) body.push(htmlTable(section.table));
    if (section.list) body.push('<ul>', ...section.list.map((item) => `<li>${escapeHtml(item)}</li>`), '</ul>');
  }
  return (
    `<!doctype html>\n<html><head><meta charset="utf-8"><title>${escapeHtml(report.releaseId)}</title>` +
    '<style>body{font-family:sans-serif}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px}</style></head>' +
    `<body>\n${body.join('\n')}\n</body></html>\n`
  );
}

/** An email or chat message: plain text, HTML, and a one-line summary for webhooks. */
export interface Message {
  subject: string;
  text: string;
  html?: string;
  summary: string;
}

/** The announcement: every package with URL, size and sha256; repositories and tags; results; what was published and skipped. */
export function emailReport(report: ReleaseReport): Message {
  const subject = `${report.title}: ${countOf(report.packages, 'package')}`;
  const results = [
    `Outcome: ${report.outcome}`,
    ...(report.build !== undefined ? [`Build number: ${report.build}`] : []),
    `CI: ${report.ci}`,
    `System tests: ${report.systemTests}`,
    ...report.gates.map((gate) => `Gate ${gate.name}: ${gate.status}${gate.by ? ` by ${gate.by}` : ''}`),
  ];
  const tagOrBranch = (repository: ReleaseReport['repositories'][number]) => repository.tag || repository.branch;
  const text = [
    subject,
    '',
    'Packages:',
    ...report.files.map(
      (file) => `  ${file.name}  ${file.file}  ${file.size} bytes  sha256 ${file.sha256}\n    ${file.urls.join('\n    ')}`,
    ),
    '',
    'Repositories:',
    ...report.repositories.map(
      (repository) => `  ${repository.name}  ${tagOrBranch(repository)}  ${repository.commit || repository.baseSha}`,
    ),
    '',
    ...results,
    ...(report.published.length ? ['', 'Published:', ...report.published.map((line) => `  ${line}`)] : []),
    ...(report.notes.length ? ['', 'Release notes:', ...notesText(report.notes)] : []),
    ...(report.skipped.length ? ['', 'Skipped stages:', ...report.skipped.map((stage) => `  ${stage.name}: ${stage.detail}`)] : []),
  ].join('\n');
  const rows = report.files
    .map((file) => {
      const links = file.urls.map((url) => `<a href="${escapeHtml(url)}">${escapeHtml(file.file)}</a>`).join('<br>');
      return `<tr><td>${escapeHtml(file.name)}</td><td>${links}</td><td>${file.size}</td><td><code>${file.sha256}</code></td></tr>`;
    })
    .join('');
  const html =
    `<h2>${escapeHtml(subject)}</h2><table><tr><th>Package</th><th>File</th><th>Size</th><th>sha256</th></tr>${rows}</table>` +
    `<ul>${report.repositories.map((repository) => `<li>${escapeHtml(repository.name)} ${escapeHtml(tagOrBranch(repository))}</li>`).join('')}</ul>` +
    `<p>${results.map(escapeHtml).join('<br>')}</p>` +
    (report.published.length ? `<p>Published:<br>${report.published.map(escapeHtml).join('<br>')}</p>` : '') +
    (report.notes.length ? `<h3>Release notes</h3>${notesHtml(report.notes)}` : '') +
    (report.skipped.length
      ? `<p>Skipped: ${report.skipped.map((stage) => `${stage.name} (${escapeHtml(stage.detail)})`).join(', ')}</p>`
      : '');
  return { subject, text, html, summary: `${countOf(report.packages, 'package')}; ${results.join('; ')}` };
}

/** The release's end in words: `succeeded`, or `succeeded with rejected gates: docs (rejected by bob: stale)`, or its status. */
export function releaseOutcome(state: Pick<ReleaseState, 'status' | 'stages'>): string {
  const rejected = state.stages.filter((stage) => stage.status === 'rejected');
  if (state.status !== 'succeeded' || rejected.length === 0) return state.status;
  return `succeeded with rejected gates: ${rejected.map((stage) => `${stage.name} (${stage.detail ?? 'rejected'})`).join(', ')}`;
}

/** What the release published outside its storage: the PyPI files with their index page, and the ReadTheDocs builds. */
export function publicationLines(state: Pick<ReleaseState, 'repositories'>): string[] {
  const pypi = state.repositories
    .filter((repository) => repository.published?.length)
    .map(
      (repository) =>
        `PyPI: ${repository.name}: ${(repository.published ?? []).join(', ')}${repository.publishedAt ? ` (${repository.publishedAt})` : ''}`,
    );
  const docs = state.repositories
    .filter((repository) => repository.docs)
    .map((repository) =>
      repository.docsBuild
        ? `ReadTheDocs: ${repository.docsBuild.project} ${repository.docsBuild.version}: ${repository.docsBuild.detail} (build ${repository.docsBuild.buildId})`
        : `ReadTheDocs: ${repository.name}: ${repository.docs}`,
    );
  const github = state.repositories
    .filter((repository) => repository.githubRelease)
    .map(
      (repository) =>
        `GitHub release: ${repository.name} ${repository.tag}${repository.githubRelease?.draft ? ' (draft)' : ''}: ${repository.githubRelease?.url}`,
    );
  return [...pypi, ...docs, ...github];
}
