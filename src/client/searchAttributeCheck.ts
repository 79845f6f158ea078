import type { OperatorService } from '@temporalio/client';
import { UserError } from '../config/errors';
import { SEARCH_ATTRIBUTES } from '../workflows/searchAttributes';

/** relflow's search attributes that the namespace does not have; empty when all are there or the server will not say. */
export async function missingSearchAttributes(operatorService: OperatorService, namespace: string): Promise<string[]> {
  try {
    const { customAttributes } = await operatorService.listSearchAttributes({ namespace });
    return SEARCH_ATTRIBUTES.map((key) => key.name).filter((name) => !(name in (customAttributes ?? {})));
  } catch {
    // A client without operator rights cannot list them: the start itself then says what it says.
    return [];
  }
}

/** The one-line error for a namespace without relflow's search attributes, with the command that creates them. */
export function missingSearchAttributesError(missing: string[], namespace: string): UserError {
  return new UserError(
    `namespace '${namespace}' lacks relflow's search attributes ${missing.join(', ')}: create them with ` +
      `\`TEMPORAL_NAMESPACE=${namespace} relflow setup-namespace\` (relflow dev and docker-compose create them for you)`,
  );
}

/** Refuses when the namespace lacks any of relflow's search attributes. */
export async function requireSearchAttributes(operatorService: OperatorService, namespace: string): Promise<void> {
  const missing = await missingSearchAttributes(operatorService, namespace);
  if (missing.length > 0) throw missingSearchAttributesError(missing, namespace);
}
