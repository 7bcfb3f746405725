// hossadm schedule --print: the systemd pair and the cron line for one stack,
// with the running hossadm's absolute paths, quoted for each format.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildSchedule, cronQuote, parseEvery, renderSchedule, systemdQuote, type ScheduleRequest } from '../../src/core/schedule.ts';
import { UsageError } from '../../src/errors.ts';

const base: ScheduleRequest = {
  nodePath: '/opt/node24/bin/node',
  script: '/usr/local/bin/hossadm',
  configDir: '/home/op/.hoss',
  profile: 'hoss',
  profileName: 'hoss',
  every: 'daily',
  at: undefined,
  name: undefined,
};

test('intervals and named periods become an OnCalendar expression and the same cron fields', () => {
  assert.deepEqual(parseEvery('1h'), { onCalendar: 'hourly', cron: '0 * * * *' });
  assert.deepEqual(parseEvery('hourly'), { onCalendar: 'hourly', cron: '0 * * * *' });
  assert.deepEqual(parseEvery('6h'), { onCalendar: '*-*-* 00/6:00:00', cron: '0 */6 * * *' });
  assert.deepEqual(parseEvery('15m'), { onCalendar: '*-*-* *:00/15:00', cron: '*/15 * * * *' });
  assert.deepEqual(parseEvery('daily'), { onCalendar: '*-*-* 03:00:00', cron: '0 3 * * *' });
  assert.deepEqual(parseEvery('daily', '23:45'), { onCalendar: '*-*-* 23:45:00', cron: '45 23 * * *' });
  assert.deepEqual(parseEvery('24h', '01:30'), { onCalendar: '*-*-* 01:30:00', cron: '30 1 * * *' });
  assert.deepEqual(parseEvery('weekly', '04:10'), { onCalendar: 'Sun *-*-* 04:10:00', cron: '10 4 * * 0' });
  // systemd's own syntax passes through; cron gets a line only when it can say the same.
  assert.deepEqual(parseEvery('*-*-* 02:15'), { onCalendar: '*-*-* 02:15', cron: '15 2 * * *' });
  assert.deepEqual(parseEvery('Mon..Fri *-*-* 22:00:00'), { onCalendar: 'Mon..Fri *-*-* 22:00:00', cron: undefined });
});

test('impossible schedules are usage errors, before anything is printed', () => {
  for (const [every, at] of [
    ['7h', undefined],
    ['45m', undefined],
    ['0h', undefined],
    ['daily', '25:00'],
    ['6h', '01:00'],
    ['hourly; rm -rf /', undefined],
    ['a\nb', undefined],
  ] as const) {
    assert.throws(() => parseEvery(every, at), UsageError, `${every} ${at}`);
  }
  assert.throws(() => buildSchedule({ ...base, name: 'bad name' }), UsageError);
  assert.throws(() => buildSchedule({ ...base, script: 'hossadm' }), UsageError, "a relative program path would depend on cron's PATH");
});

test('the service runs this hossadm with this Node, profile and folder; the timer names the service and catches up after downtime', () => {
  const s = buildSchedule({ ...base, every: '1h' });
  assert.equal(s.unit, 'hossadm-backup-hoss');
  assert.equal(s.service.path, '/etc/systemd/system/hossadm-backup-hoss.service');
  assert.equal(s.timer.path, '/etc/systemd/system/hossadm-backup-hoss.timer');
  assert.match(s.service.text, /^Type=oneshot$/m);
  assert.match(
    s.service.text,
    /^ExecStart=\/opt\/node24\/bin\/node \/usr\/local\/bin\/hossadm --profile hoss --config-dir \/home\/op\/\.hoss backup --yes --quiet$/m,
  );
  assert.match(s.service.text, /^After=docker\.service/m);
  assert.match(s.timer.text, /^OnCalendar=hourly$/m);
  assert.match(s.timer.text, /^Persistent=true$/m);
  assert.match(s.timer.text, /^Unit=hossadm-backup-hoss\.service$/m);
  assert.match(s.timer.text, /^WantedBy=timers\.target$/m);
  assert.equal(
    s.cron,
    '0 * * * * /opt/node24/bin/node /usr/local/bin/hossadm --profile hoss --config-dir /home/op/.hoss backup --yes --quiet >>/var/log/hossadm-backup-hoss.log 2>&1',
  );
  const text = renderSchedule(s);
  assert.ok(text.includes(s.service.text) && text.includes(s.timer.text) && text.includes(s.cron!));
  assert.match(text, /systemctl daemon-reload && systemctl enable --now hossadm-backup-hoss\.timer/);
});

test('a profile from the config folder itself is not named; odd paths are quoted for systemd and for cron', () => {
  const s = buildSchedule({ ...base, profile: undefined, profileName: 'shop', configDir: '/srv/my shop/100%', name: 'shop-backup' });
  assert.equal(s.unit, 'shop-backup');
  assert.doesNotMatch(s.service.text, /--profile/);
  assert.match(s.service.text, /--config-dir "\/srv\/my shop\/100%%" backup/);
  assert.match(s.cron!, /--config-dir '\/srv\/my shop\/100\\%' backup/);
  assert.equal(systemdQuote('a"b\\c'), '"a\\"b\\\\c"');
  assert.equal(cronQuote("it's"), `'it'\\''s'`);
  const calendar = buildSchedule({ ...base, every: 'Mon..Fri *-*-* 22:00:00' });
  assert.equal(calendar.cron, undefined);
  assert.match(renderSchedule(calendar), /cron has no equivalent of OnCalendar=Mon\.\.Fri \*-\*-\* 22:00:00; use the timer/);
});
