// What the driver needs of a reference stack: the same five verbs on one
// stack folder. compose/stack picks the module with --stack.
export interface StackModule {
  name: string;
  /** The stack folder when --dir is not given (HOSS_DIR, THEHIVE_DIR, their defaults). */
  dirFromEnv(env?: NodeJS.ProcessEnv): string;
  up(dir: string): Promise<void>;
  seed(dir: string, scale: number): Promise<void>;
  /** The fingerprint document's text (JSON, keys sorted, newline-terminated). */
  fingerprint(dir: string): Promise<string>;
  reset(dir: string): Promise<void>;
  down(dir: string): Promise<void>;
}
