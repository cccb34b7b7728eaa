import { invalidThreadRef, type ThreadAddress } from '../../src/core/thread-ref.js';

/** `local:<name>`: a thread that lives in the bridge itself, for trying things out. */
export interface LocalThread extends ThreadAddress {
  readonly platform: 'local';
  readonly name: string;
}

export const localThreadNamePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function parseLocalThread(ref: string): LocalThread {
  const match = /^local:(.+)$/i.exec(ref.trim());
  const name = match?.[1];
  if (!name || !localThreadNamePattern.test(name)) throw invalidThreadRef(ref, 'local:demo');
  return { platform: 'local', ref: `local:${name}`, name };
}

/** The thread a message id belongs to (ids are `<thread name>.<random>`). */
export function threadNameOfMessage(id: string): string {
  return id.slice(0, id.lastIndexOf('.'));
}
