/**
 * When each Node.js major stops getting security fixes (the Node.js release
 * schedule, https://github.com/nodejs/release#release-schedule).
 */
const END_OF_LIFE: Record<number, string> = {
  18: '2025-04-30',
  19: '2023-06-01',
  20: '2026-04-30',
  21: '2024-06-01',
  22: '2027-04-30',
  23: '2025-06-01',
  24: '2028-04-30',
  25: '2026-06-01',
};

/** The runtime line a worker logs at start, and a warning when that Node no longer gets security fixes. */
export function nodeRuntimeNotice(version: string = process.version, today: Date = new Date()): { line: string; warning?: string } {
  const major = Number(/^v?(\d+)\./.exec(version)?.[1]);
  const line = `Node ${version}`;
  const end = END_OF_LIFE[major];
  if (end && today.toISOString().slice(0, 10) > end) {
    return {
      line,
      warning: `Node ${major} reached its end of life on ${end} and gets no security fixes: run relflow workers on Node 24 LTS (the Docker image's)`,
    };
  }
  return { line };
}
