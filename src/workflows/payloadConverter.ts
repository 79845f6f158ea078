import { DefaultPayloadConverter, Payload, PayloadConverter } from '@temporalio/common';

/** What a signal or update argument becomes when it cannot be decoded: the handlers refuse it by this mark. */
export interface UndecodablePayload {
  undecodable: string;
}

export function isUndecodable(value: unknown): value is UndecodablePayload {
  return typeof value === 'object' && value !== null && typeof (value as UndecodablePayload).undecodable === 'string';
}

function encodingOf(payload: Payload): string {
  const bytes = payload.metadata?.encoding;
  if (!bytes) return '(no encoding)';
  return Array.from(bytes.slice(0, 64), (byte) => (byte >= 32 && byte < 127 ? String.fromCharCode(byte) : '?')).join('');
}

/**
 * The default converter, except that decoding never throws. Anyone who can
 * signal a release could otherwise send an argument in an unknown encoding
 * (`--input-meta encoding=foo/bar`) that fails every workflow task from then
 * on; here it becomes a mark that the signal and update handlers refuse.
 */
class TolerantPayloadConverter implements PayloadConverter {
  private readonly inner = new DefaultPayloadConverter();

  toPayload<T>(value: T): Payload {
    return this.inner.toPayload(value);
  }

  fromPayload<T>(payload: Payload): T {
    try {
      return this.inner.fromPayload<T>(payload);
    } catch {
      return { undecodable: encodingOf(payload) } as T;
    }
  }
}

export const payloadConverter = new TolerantPayloadConverter();
