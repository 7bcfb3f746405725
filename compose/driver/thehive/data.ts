// The seeded content of the TheHive stack: a pure function of the scale, the
// same on every machine. N x 200 cases (row, index document, attachment
// file), and around them the awkward tables a backup tool must carry
// exactly: binary JanusGraph-like rows, clustering order, collections,
// every scalar type, NULLs and empty strings, a counter, rows with a TTL.
import { createHash } from 'node:crypto';
import cassandra from 'cassandra-driver';

const { types } = cassandra;

export const CASES_PER_SCALE = 200;
export const SESSION_TTL_SECONDS = 864000;

/** xorshift32 seeded from a name: each table draws from its own stream. */
export function generator(name: string): () => number {
  let state = createHash('sha256').update(name).digest().readUInt32LE(0) || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 0x1_0000_0000;
  };
}

function bytes(next: () => number, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = Math.floor(next() * 256);
  return out;
}

/** A version-4 shaped uuid derived from a name. */
export function nameUuid(name: string): string {
  const h = createHash('sha256').update(name).digest();
  h[6] = (h[6]! & 0x0f) | 0x40;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export const TAGS = ['phishing', 'malware', 'ransomware', 'ioc', 'tlp:amber', 'tlp:green', 'pap:red', 'triage', 'false-positive', 'c2'];

const TITLES = [
  'Phishing campaign against finance',
  'Exfiltration via DNS – hôte srv-%',
  'Ransomware «LockBit» sur le poste %',
  '不審なログイン (ユーザー %)',
  'Connexion suspecte depuis 203.0.113.%',
  'Zoë’s mailbox forwarded to an external address',
  'Beaconing to c2.example.net every 60 s',
  '',
  'Tab\tand "quotes" and \\backslash %',
  'Émoji 🚨 alert %',
];

export interface SeedCase {
  id: string;
  number: number;
  title: string;
  /** Sorted, ASCII: the same order in Cassandra's set, Python and JavaScript. */
  tags: string[];
  created: Date;
  attachment: string;
  content: Buffer;
  sha256: string;
}

export function* seedCases(scale: number): Generator<SeedCase> {
  const next = generator('cases');
  const base = Date.UTC(2024, 0, 1);
  for (let i = 0; i < scale * CASES_PER_SCALE; i++) {
    const number = i + 1;
    const tags = TAGS.filter(() => next() < 0.2).sort();
    const content = bytes(next, 16 + Math.floor(next() * 6000));
    yield {
      id: nameUuid(`case-${number}`),
      number,
      title: TITLES[i % TITLES.length]!.replace('%', String(i % 50)),
      tags,
      created: new Date(base + i * 37 * 60_000 + Math.floor(next() * 60_000)),
      attachment: i % 7 === 3 ? `rapport d'analyse n°${number}.pdf` : `evidence-${number}.bin`,
      content,
      sha256: createHash('sha256').update(content).digest('hex'),
    };
  }
}

/** Where a case's attachment lives below the files folder. */
export function attachmentPath(id: string): string {
  return `${id.slice(0, 2)}/${id}`;
}

/**
 * The index document of a case: a function of its row only (the stand-in's
 * case_document in standins/thehive/thehive.py is the same), so an index
 * rebuilt from Cassandra equals the seeded one.
 */
export function caseDocument(row: { number: number | null; title: string | null; tags: string[] | null; created: Date | null; attachment: string | null; sha256: string | null }): Record<string, unknown> {
  return {
    number: row.number,
    title: row.title,
    tags: row.tags ?? [],
    created: row.created ? row.created.toISOString() : null,
    attachment: row.attachment,
    sha256: row.sha256,
  };
}

export interface SeedTable {
  table: string;
  /** INSERT with ? markers, run prepared. */
  insert: string;
  rows: () => Iterable<unknown[]>;
}

function* blobRows(name: string, partitions: number, perPartition: number): Generator<unknown[]> {
  const next = generator(name);
  for (let p = 0; p < partitions; p++) {
    const key = bytes(next, 8);
    for (let c = 0; c < perPartition; c++) {
      // Column names with 0x00 and 0xff bytes; some values empty.
      const column = Buffer.concat([Buffer.from([c & 0xff, 0x00, 0xff]), bytes(next, 1 + Math.floor(next() * 12))]);
      const value = c % 9 === 4 ? Buffer.alloc(0) : bytes(next, Math.floor(next() * 64));
      yield [key, column, value];
    }
  }
}

const KINDS = ['created', 'comment', 'observable', 'status', 'assignment'];
const ACTORS = ['analyste@example.org', 'Zoë Ångström', '', 'soc-bot', '山田太郎'];

function* caseEvents(scale: number): Generator<unknown[]> {
  const next = generator('case_events');
  const base = Date.UTC(2024, 0, 1);
  for (let i = 0; i < scale * 50; i++) {
    const caseId = nameUuid(`case-${i + 1}`);
    const events = 2 + Math.floor(next() * 5);
    for (let seq = 0; seq < events; seq++) {
      const at = new Date(base + i * 37 * 60_000 + Math.floor(seq / 2) * 90_000);
      const kind = KINDS[Math.floor(next() * KINDS.length)]!;
      const details =
        seq % 4 === 3
          ? null
          : { source: 'email', 'clé': 'valeur é', empty: '', '10': 'ten', '9': 'nine', line: 'a\nb' };
      const observables = seq % 3 === 2 ? null : ['198.51.100.7', 'evil.example', '198.51.100.7', ''];
      const note = seq % 5 === 1 ? null : seq % 5 === 2 ? '' : `note ${i}/${seq}: «${kind}» – "quoted", tab\there`;
      yield [types.Uuid.fromString(caseId), at, seq, kind, ACTORS[(i + seq) % ACTORS.length]!, details, observables, note];
    }
  }
}

function* attributes(): Generator<unknown[]> {
  const decimals = ['3.14159265358979323846264338327950288', '-0.000001', '0', '1E+30', '-123456789.5'];
  const varints = ['123456789012345678901234567890', '-98765432109876543210', '0', '1', '-1'];
  const inets = ['192.0.2.1', '2001:db8::1', '::1', '0.0.0.0', 'fe80::1:2:3:4'];
  const days = ['1970-01-01', '2038-01-19', '1900-02-28', '2024-02-29', '9999-12-31'];
  const times = ['00:00:00', '23:59:59.999999999', '12:00:00.5', '06:30:00', '18:45:12.000001'];
  const durations = ['1h30m', '-2d', '1y2mo3w4d5h6m7s8ms9us10ns', '0s', '45m'];
  const doubles = [0.1, 1e300, Number.NaN, -2.5, Number.POSITIVE_INFINITY];
  for (let id = 0; id < 50; id++) {
    const k = id % 5;
    const allNull = id % 10 === 9;
    yield [
      id,
      allNull ? null : types.BigDecimal.fromString(decimals[k]!),
      allNull ? null : types.Integer.fromString(varints[k]!),
      allNull ? null : types.InetAddress.fromString(inets[k]!),
      allNull ? null : types.LocalDate.fromString(days[k]!),
      allNull ? null : types.LocalTime.fromString(times[k]!),
      allNull ? null : types.Duration.fromString(durations[k]!),
      allNull ? null : types.Tuple.fromArray([id - 25, k === 2 ? '' : `élément ${id}`]),
      allNull || k === 3 ? null : [-id, 0, id, 2147483647],
      allNull ? null : doubles[k]!,
      allNull ? null : id % 2 === 0,
      allNull ? null : (id * 37) % 256 - 128,
      allNull ? null : (id * 1237) % 65536 - 32768,
      allNull ? null : types.TimeUuid.fromString(`${(0x1e0d0000 + id).toString(16).padStart(8, '0')}-7f3a-11ee-8c99-0242ac120002`),
      allNull ? null : k === 0 ? Buffer.alloc(0) : Buffer.from([0, 255, id, 10, 13]),
    ];
  }
}

function* sessions(scale: number): Generator<unknown[]> {
  const next = generator('sessions');
  for (let i = 0; i < scale * 20; i++) {
    yield [`sess-${String(i).padStart(5, '0')}`, i % 4 === 0 ? null : `user${i % 13}@example.org`, bytes(next, 32)];
  }
}

function* systemProperties(): Generator<unknown[]> {
  const key = Buffer.from('configuration', 'utf8');
  const entries: Array<[string, string]> = [
    ['cache.db-cache', 'true'],
    ['graph.janusgraph-version', '0.6.4'],
    ['graph.storage-version', '2'],
    ['graph.timestamps', 'MICRO'],
    ['ids.authority.wait-time', ''],
  ];
  for (const [column, value] of entries) yield [key, Buffer.from(column, 'utf8'), Buffer.from(value, 'utf8')];
}

export function seedTables(ks: string, scale: number): SeedTable[] {
  const blob = (table: string) => `INSERT INTO ${ks}.${table} (key, column1, value) VALUES (?, ?, ?)`;
  return [
    { table: 'edgestore', insert: blob('edgestore'), rows: () => blobRows('edgestore', scale * 100, 10) },
    { table: 'graphindex', insert: blob('graphindex'), rows: () => blobRows('graphindex', scale * 60, 5) },
    { table: 'janusgraph_ids', insert: blob('janusgraph_ids'), rows: () => blobRows('janusgraph_ids', 2, 5) },
    { table: 'system_properties', insert: blob('system_properties'), rows: () => systemProperties() },
    {
      table: 'case_events',
      insert: `INSERT INTO ${ks}.case_events (case_id, at, seq, kind, actor, details, observables, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      rows: () => caseEvents(scale),
    },
    {
      table: 'attributes',
      insert: `INSERT INTO ${ks}.attributes (id, ratio, big, ip, day, tod, took, pair, flags, score, ok, tiny, small, stamp, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      rows: () => attributes(),
    },
    {
      table: 'sessions',
      insert: `INSERT INTO ${ks}.sessions (id, login, payload) VALUES (?, ?, ?) USING TTL ${SESSION_TTL_SECONDS}`,
      rows: () => sessions(scale),
    },
  ];
}

/** Counter values: `case` is the last case number, so the stand-in numbers on from there. */
export function seedCounters(scale: number): Array<[string, number]> {
  return [
    ['case', scale * CASES_PER_SCALE],
    ['alert', scale * 17],
    ['observable', scale * 431],
  ];
}
