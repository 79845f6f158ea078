/** "1 file", "4 files": a count with its noun, for stage details and reports. */
export function countOf(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
