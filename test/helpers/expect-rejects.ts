import { expect } from 'chai';

/** A class of errors, for `instanceOf` checks. */
export type ErrorClass<E extends Error> = abstract new (...args: never[]) => E;

/**
 * Awaits `promise`, asserts it rejects with an error of `type` (default `Error`) whose
 * message matches `pattern`, and returns that error, typed as `type`, for further checks.
 */
export async function expectRejects(promise: Promise<unknown>, pattern: RegExp): Promise<Error & { code?: string }>;
export async function expectRejects<E extends Error>(promise: Promise<unknown>, pattern: RegExp, type: ErrorClass<E>): Promise<E>;
export async function expectRejects(promise: Promise<unknown>, pattern: RegExp, type: ErrorClass<Error> = Error): Promise<Error> {
  let caught: unknown;
  let settled = false;
  try {
    await promise;
    settled = true;
  } catch (error) {
    caught = error;
  }
  expect(settled, `expected a rejection matching ${pattern}, but the promise resolved`).to.equal(false);
  expect(caught, 'expected a rejection').to.be.instanceOf(type);
  expect((caught as Error).message).to.match(pattern);
  return caught as Error;
}
