import type { DependencyContainer, InjectionToken } from 'tsyringe';

/**
 * Everything registered under `token` in `container` and each ancestor, one list per
 * container, ancestors first. tsyringe's `resolveAll` stops at the first container
 * that has the token; multi-token registries (plugins, fusion patterns) want the
 * whole chain. tsyringe keeps the parent in a field outside its typed API.
 */
export function resolveAllByLevel<T>(container: DependencyContainer, token: InjectionToken<T>): T[][] {
  const chain: DependencyContainer[] = [];
  for (let c: DependencyContainer | undefined = container; c; c = (c as unknown as { parent?: DependencyContainer }).parent)
    chain.unshift(c);
  return chain.map((c) => (c.isRegistered(token, false) ? [...new Set(c.resolveAll<T>(token))] : []));
}
