import { statSync } from 'node:fs';
import { UserError } from '../../config/errors';
import { isSafeName } from '../../config/names';
import { textTable } from '../../release/report';
import { connectClient } from '../connection';
import { EXIT, out } from '../options';
import { releaseState } from '../releases';
import { releaseFilesAt, verifyRelease } from '../verify';

export async function verifyAction(
  release: string,
  options: { allowedSigners?: string; source: boolean; insecureSource?: boolean },
): Promise<void> {
  let location = release;
  let asked: string | undefined;
  // A directory here is a directory, also when its name could be a release ID (relflow verify m5-RELEASE).
  const isDirectory = statSync(release, { throwIfNoEntry: false })?.isDirectory() ?? false;
  if (!isDirectory && !/^https?:\/\//i.test(release) && !release.includes('/') && isSafeName(release) && !release.startsWith('.')) {
    const state = await releaseState(await connectClient(), release);
    const listing = state.stored.find((file) => file.name === 'artifacts.json');
    const url = listing?.urls.find((candidate) => /^https?:\/\//.test(candidate)) ?? listing?.urls[0]?.replace(/^file:\/\//, '');
    if (!url) throw new UserError(`release ${release} has no artifacts.json yet (stage artifacts not done)`);
    location = url.replace(/artifacts\.json$/, '');
    asked = release;
  }
  const rows = await verifyRelease(releaseFilesAt(location), options.allowedSigners, {
    source: options.source,
    insecureSource: options.insecureSource,
    ...(asked ? { release: asked } : {}),
  });
  out(
    textTable({
      head: ['FILE', 'CHECK', 'RESULT', 'DETAIL'],
      rows: rows.map((row) => [row.file, row.check, row.ok ? 'ok' : 'FAILED', row.detail]),
    }),
  );
  const failed = rows.filter((row) => !row.ok).length;
  out(failed === 0 ? `verified: ${rows.length} checks hold` : `${failed} of ${rows.length} checks failed`);
  process.exitCode = failed === 0 ? EXIT.done : EXIT.failed;
}
