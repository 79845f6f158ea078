import type { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { SEARCH_ATTRIBUTES } from '../workflows/searchAttributes';

/** relflow's search attributes as the operator service's addSearchAttributes takes them. */
export function searchAttributeTypes(): Record<string, temporal.api.enums.v1.IndexedValueType> {
  return Object.fromEntries(
    SEARCH_ATTRIBUTES.map((key) => [key.name, temporal.api.enums.v1.IndexedValueType[`INDEXED_VALUE_TYPE_${key.type}`]]),
  );
}

/**
 * The namespace relflow runs in, with its search attributes: registered when
 * it is new (with this retention), kept as it is otherwise; safe to run again.
 * Returns whether the namespace was new and the attributes it added.
 */
export async function setUpNamespace(
  connection: Pick<Connection, 'workflowService' | 'operatorService'>,
  namespace: string,
  retentionMs: number,
): Promise<{ registered: boolean; added: string[] }> {
  const registered = await connection.workflowService
    .registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs(retentionMs) })
    .then(
      () => true,
      (error: Error) => {
        if (/already exists|AlreadyExists/i.test(error.message)) return false;
        throw error;
      },
    );
  const listed = async () => (await connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {};
  // A new namespace reaches every service's cache within seconds: retry until the server knows it.
  const deadline = Date.now() + 60_000;
  let missing: string[] = [];
  for (;;) {
    try {
      const present = await listed();
      missing = SEARCH_ATTRIBUTES.map((key) => key.name).filter((name) => !present[name]);
      if (missing.length === 0) break;
      const types = searchAttributeTypes();
      await connection.operatorService.addSearchAttributes({
        namespace,
        searchAttributes: Object.fromEntries(missing.map((name) => [name, types[name]])),
      });
      break;
    } catch (error) {
      if (/already exists/i.test((error as Error).message)) break;
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  for (;;) {
    const present = await listed();
    if (SEARCH_ATTRIBUTES.every((key) => present[key.name])) break;
    if (Date.now() > deadline) throw new Error(`search attributes not listed in ${namespace} after 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return { registered, added: missing };
}
