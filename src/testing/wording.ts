/** Small helpers that put counts and changed weights into the words of the kit's messages. */

/** `1 tensor`, `2 tensors`. */
export function plural(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

/** The changed weights, by model: the first five names of each, and how many more. */
export function describeChanged(user: readonly string[], input: readonly string[]): string {
  const parts: string[] = [];
  if (user.length) parts.push(`the user's model: ${user.slice(0, 5).join(', ')}${user.length > 5 ? `, and ${user.length - 5} more` : ''}`);
  if (input.length)
    parts.push(`the input model: ${input.slice(0, 5).join(', ')}${input.length > 5 ? `, and ${input.length - 5} more` : ''}`);
  return parts.join('; ');
}
