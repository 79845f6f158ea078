import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { validateManifest } from '../../src/config/loadManifest';
import type { Manifest, ManifestInput } from '../../src/config/manifest';

export function manifestOf(input: ManifestInput): Manifest {
  return validateManifest(input, 'test manifest');
}

export function writeManifest(dir: string, input: ManifestInput, name = 'relflow.yaml'): string {
  const file = join(dir, name);
  writeFileSync(file, stringify(input));
  return file;
}
