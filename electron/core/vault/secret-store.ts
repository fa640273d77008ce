/**
 * Where secrets live. The product's only implementation is the OS keychain
 * (keytar-store.ts), optionally wrapped by chunked-store.ts; an in-memory store
 * exists under test/ and cannot be selected by the product.
 */
export interface SecretStore {
  get(key: string): Promise<string | null>;
  set(key: string, value: string): Promise<void>;
  /** True when something was deleted. */
  delete(key: string): Promise<boolean>;
  /** Every key this store holds for the service (used to find orphans and chunks). */
  keys(): Promise<string[]>;
}
