import { zodToJsonSchema } from 'zod-to-json-schema';
import { manifestSchema } from './manifest';

/** The manifest's JSON Schema (input shape: defaults make fields optional). */
export function manifestJsonSchema(): object {
  return zodToJsonSchema(manifestSchema, { name: 'RelflowManifest', $refStrategy: 'none', effectStrategy: 'input', pipeStrategy: 'input' });
}
