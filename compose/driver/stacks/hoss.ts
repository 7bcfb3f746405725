// The HOSS reference stack (compose/server): the verbs as they always were.
import { hossDirFromEnv } from '../context.ts';
import { down } from '../verbs/down.ts';
import { fingerprint } from '../verbs/fingerprint.ts';
import { reset } from '../verbs/reset.ts';
import { seed } from '../verbs/seed.ts';
import { up } from '../verbs/up.ts';
import type { StackModule } from './types.ts';

export const hossStack: StackModule = {
  name: 'hoss',
  dirFromEnv: hossDirFromEnv,
  up,
  seed,
  fingerprint,
  reset,
  down,
};
