import { expect } from 'chai';

/** Awaits `promise`, asserts it rejects, and that the message matches `pattern`. Returns the error. */
export async function expectRejects(promise: Promise<unknown>, pattern: RegExp): Promise<Error> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  expect(caught, 'expected a rejection').to.be.instanceOf(Error);
  expect((caught as Error).message).to.match(pattern);
  return caught as Error;
}
