// The driver's parsers and renderers, without an engine: tree listings,
// LDIF, rabbitmqctl's JSON, canonical JSON, the command line and .env.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseEnv } from '../../src/config/env-file.ts';
import { digestTree, parseTreeListing } from '../../src/docker/tree-digest.ts';
import { parseCommand } from '../../compose/driver/cli.ts';
import { deployedServices, ldapBaseDn } from '../../compose/driver/context.ts';
import { randomSecret, renderEnv } from '../../compose/driver/env-template.ts';
import { canonicalJson } from '../../compose/driver/fingerprint/canonical.ts';
import { parseLdif } from '../../compose/driver/fingerprint/ldif.ts';
import { rabbitFingerprintFrom, splitSections } from '../../compose/driver/fingerprint/rabbitmq.ts';
import { generator, INDICES } from '../../compose/driver/seed/opensearch.ts';
import { seedLdif } from '../../compose/driver/seed/ldap.ts';

const record = (path: string, stat: string, sha = '', target = '') => `${path}\0${stat}\0${sha}\0${target}\0`;

test('tree listings parse names with newlines, setuid modes, links and fifos', () => {
  const listing =
    record('.', '41ed 1001 1001 4096 3') +
    record('./new\nline', '81a4 0 0 1 1', 'ab'.repeat(32)) +
    record('./a', '89ed 0 0 1 2', 'cd'.repeat(32)) +
    record('./link', 'a1ff 0 0 7 1', '', '/nowhere') +
    record('./fifo', '11a4 70 70 0 1') +
    '#end-of-listing\0';
  const entries = parseTreeListing(listing);
  assert.deepEqual(entries.map((e) => e.path), ['.', 'a', 'fifo', 'link', 'new\nline']);
  assert.deepEqual(entries[1], { path: 'a', type: 'file', uid: 0, gid: 0, mode: 0o4755, size: 1, nlink: 2, sha256: 'cd'.repeat(32) });
  assert.equal(entries[3]!.target, '/nowhere');
  assert.equal(entries[2]!.type, 'fifo');
  assert.equal(entries[0]!.size, undefined, 'folder sizes depend on the file system');
  const chowned = parseTreeListing(listing.replace('81a4 0 0', '81a4 1 0'));
  assert.notEqual(digestTree(chowned), digestTree(entries));
  assert.throws(() => parseTreeListing(listing.slice(0, -3)), /truncated|malformed/);
  assert.throws(() => parseTreeListing(''), /truncated|malformed/);
});

test('LDIF entries compare equal whatever the encoding and order', () => {
  const a = 'dn: uid=a,dc=x\nsn: M\u00fcller\ncn: A\ncn: B\n\ndn: dc=x\no: x\n';
  const b = `dn: dc=x\no: x\n\ndn: uid=a,dc=x\nCN: B\ncn: A\nsn:: ${Buffer.from('M\u00fcller').toString('base64')}\n`;
  assert.equal(canonicalJson(parseLdif(a)), canonicalJson(parseLdif(b)));
  assert.equal(parseLdif('dn: dc=x\ndescription: long\n  continued\n')[0]!.attributes.description![0], 'long continued');
});

test('seeded LDIF is deterministic and scales', () => {
  assert.equal(seedLdif('dc=a,dc=b', 1), seedLdif('dc=a,dc=b', 1));
  const entries = parseLdif(seedLdif('dc=a,dc=b', 2));
  assert.equal(entries.length, 2 + 100 + 5);
});

test('rabbitmqctl listings become a fingerprint without the built-in exchanges', () => {
  const output = [
    '#vhosts', '[{"name":"/"}]',
    '#users', '[{"user":"hoss","tags":["administrator"]}]',
    '#exchanges', '[{"name":"","type":"direct","durable":true},{"name":"amq.topic","type":"topic","durable":true},{"name":"hoss","type":"direct","durable":true,"auto_delete":false,"internal":false}]',
    '#queues', '[{"name":"q","durable":true,"auto_delete":false,"messages":3}]',
    '#bindings', '[{"source_name":"","destination_name":"q","destination_kind":"queue","routing_key":"q"},{"source_name":"hoss","destination_name":"q","destination_kind":"queue","routing_key":"k"}]',
  ].join('\n');
  assert.deepEqual(rabbitFingerprintFrom(splitSections(output)), {
    vhosts: ['/'],
    users: { hoss: 'administrator' },
    exchanges: { hoss: 'direct durable' },
    queues: { q: { durable: true, auto_delete: false, messages: 3 } },
    bindings: ['hoss -> queue:q [k]'],
  });
});

test('canonical JSON sorts keys at every depth', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: null } }), '{"a":{"c":null,"d":[2,{"e":0,"f":1}]},"b":1}');
});

test('documents come from a seeded generator, the same on every run', () => {
  const spec = INDICES[0]!;
  const one = spec.doc(5, generator(1));
  const two = spec.doc(5, generator(1));
  assert.deepEqual(one, two);
});

test('the command line accepts exactly the five verbs and seed --scale N', () => {
  assert.deepEqual(parseCommand(['seed', '--scale', '3']), { verb: 'seed', scale: 3 });
  assert.deepEqual(parseCommand(['seed', '--scale=2']), { verb: 'seed', scale: 2 });
  assert.deepEqual(parseCommand(['up']), { verb: 'up', scale: 1 });
  assert.throws(() => parseCommand(['restore']), /unknown verb/);
  assert.throws(() => parseCommand(['seed', '--scale', '0']), /bad --scale/);
});

test('.env has the variables of a real deployment, with fresh secrets', () => {
  const text = renderEnv({ hossDir: '/h', project: 'p', composeFiles: ['/a.yaml', '/b.yaml'], version: '0.2.13', uid: 1000, gid: 1000 });
  const env = parseEnv(text);
  for (const key of ['POSTGRES_USER', 'POSTGRES_PASSWORD', 'POSTGRES_CORE_DB', 'POSTGRES_AUTH_DB', 'BACKUP_ROOT', 'DB_ROOT', 'DB_INIT_SCRIPTS', 'SERVICES', 'RABBITMQ_USER', 'RABBITMQ_PASS', 'LDAP_ADMIN_PASSWORD', 'UID', 'GID', 'COMPOSE_PROJECT_NAME', 'COMPOSE_FILE', 'HOSS_VERSION']) {
    assert.ok(env[key], key);
  }
  assert.equal(env.COMPOSE_FILE, '/a.yaml:/b.yaml');
  assert.equal(env.BACKUP_ROOT, '/h/backup');
  assert.notEqual(parseEnv(renderEnv({ hossDir: '/h', project: 'p', composeFiles: [], version: '1', uid: 0, gid: 0 })).POSTGRES_PASSWORD, env.POSTGRES_PASSWORD);
  assert.match(randomSecret(), /^[A-Za-z0-9]{48}$/);
  assert.deepEqual(deployedServices(env), ['db', 'opensearch', 'ldap', 'auth', 'rabbitmq', 'core']);
  assert.equal(ldapBaseDn('hoss.example.org'), 'dc=hoss,dc=example,dc=org');
});
