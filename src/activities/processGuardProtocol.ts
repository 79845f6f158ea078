/** What the process guard prints (then exits 127) when its command cannot start at all. */
export const SPAWN_FAILED = 'relflow-process-guard: cannot start: ';
