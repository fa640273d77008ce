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
  /**
   * What every process reaching these same secrets has in common whatever its state directory
   * (the keychain service), so their account locks meet: see refresh/lock-dir.ts. Absent for a
   * store whose lock lives beside it or that brings its own (the file store, the shared store).
   */
  readonly lockScope?: string;
}
