import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';

/** Why a small file could not be read; `message` is a reason to put after the file's name. */
export class SmallFileProblem extends Error {
  constructor(
    readonly kind: 'missing' | 'unreadable' | 'not-regular' | 'too-large',
    message: string,
  ) {
    super(message);
  }
}

/**
 * The text of a regular file of at most maxBytes. Opened without blocking and
 * checked on the open descriptor, so a FIFO, a device or a directory (or a file
 * swapped for one) is refused at once instead of hanging the process in open().
 */
export function readSmallFile(path: string, maxBytes: number): string {
  return readSmallFileBytes(path, maxBytes).toString('utf8');
}

/** The bytes of a regular file of at most maxBytes, read as readSmallFile reads them. */
export function readSmallFileBytes(path: string, maxBytes: number): Buffer {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw code === 'ENOENT' ? new SmallFileProblem('missing', 'no such file') : new SmallFileProblem('unreadable', code ?? String(error));
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new SmallFileProblem('not-regular', 'not a regular file');
    if (stat.size > maxBytes) throw new SmallFileProblem('too-large', `${stat.size} bytes`);
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}
