// The engine, loaded on first use: activation registers providers and commands only, so the
// core (ajv, sources, and through them the cloud SDKs) is not evaluated until something needs it.
import type * as Core from '../core';

export type CoreModule = typeof Core;

let loading: Promise<CoreModule> | undefined;

export function core(): Promise<CoreModule> {
  loading ??= import('../core');
  return loading;
}
