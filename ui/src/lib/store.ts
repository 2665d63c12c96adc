/* store: a tiny observable state container. Pure. */

export interface Store<S> {
  get(): S;
  set(patch: Partial<S> | ((s: S) => Partial<S>)): void;
  subscribe(fn: (s: S, prev: S) => void): () => void;
}

export function createStore<S extends object>(initial: S): Store<S> {
  let state = initial;
  const subs = new Set<(s: S, prev: S) => void>();
  return {
    get: () => state,
    set(patch) {
      const p = typeof patch === 'function' ? patch(state) : patch;
      const prev = state;
      let changed = false;
      for (const k of Object.keys(p) as (keyof S)[]) {
        if (!Object.is(p[k], prev[k])) {
          changed = true;
          break;
        }
      }
      if (!changed) return;
      state = { ...prev, ...p };
      for (const fn of Array.from(subs)) fn(state, prev);
    },
    subscribe(fn) {
      subs.add(fn);
      return () => subs.delete(fn);
    },
  };
}
