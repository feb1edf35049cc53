// The kept libraries behind zip (yazl), glob (picomatch), cron (croner) and the CLI's argument
// parsing (node:util parseArgs), held to the behaviour of the hand-written code they replaced.
import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs, UsageError } from '../../src/cli/main';
import { nextCronRun, parseCron } from '../../src/core/schedule/cron';
import { globToRegExp, makeKeyFilter } from '../../src/core/util/glob';
import { crc32, writeZip } from '../../src/core/util/zip';
import { readZip } from '../support/zip';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'dsp-libs-'));
const hasUnzip = spawnSync('unzip', ['-v'], { stdio: 'ignore' }).status === 0;

describe('zip (yazl)', () => {
  it('writes an archive that independent readers read back byte for byte', async () => {
    const dir = tmp();
    const file = path.join(dir, 'out.zip');
    const big = Buffer.alloc(300_000, 'model weights ');
    const random = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7919) % 251));
    fs.writeFileSync(path.join(dir, 'model.tflite'), random);
    await writeZip(file, [
      { name: 'info.labels', data: Buffer.from('{"a":1}') },
      { name: 'model/big.bin', data: big },
      { name: 'model/caf\u00e9 (1).txt', data: Buffer.from('utf-8 name') },
      { name: 'empty.txt', data: Buffer.alloc(0) },
      { name: 'model/model.tflite', file: path.join(dir, 'model.tflite') },
    ]);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['model.tflite', 'out.zip'], 'no temporary file is left');
    const r = await readZip(file);
    assert.deepEqual(r.names, ['info.labels', 'model/big.bin', 'model/caf\u00e9 (1).txt', 'empty.txt', 'model/model.tflite']);
    assert.equal(r.data.get('info.labels')!.toString(), '{"a":1}');
    assert.ok(r.data.get('model/big.bin')!.equals(big));
    assert.equal(r.data.get('model/caf\u00e9 (1).txt')!.toString(), 'utf-8 name');
    assert.equal(r.data.get('empty.txt')!.length, 0);
    assert.ok(r.data.get('model/model.tflite')!.equals(random));
    assert.ok(fs.statSync(file).size < big.length / 10, 'entries are deflated');
    if (hasUnzip) execFileSync('unzip', ['-tq', file], { stdio: 'pipe' }); // Info-ZIP's own CRC test
  });

  it('a missing source file fails the write and leaves no archive behind', async () => {
    const dir = tmp();
    const file = path.join(dir, 'out.zip');
    await assert.rejects(writeZip(file, [{ name: 'm', file: path.join(dir, 'nope') }]), /ENOENT/);
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  it('crc32 is the IEEE CRC-32 (PNG chunks use it too)', () => {
    assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
    assert.equal(crc32(Buffer.alloc(0)), 0);
    assert.equal(crc32(Buffer.from('IEND')), 0xae426082);
  });
});

describe('glob (picomatch)', () => {
  const m = (glob: string, key: string) => globToRegExp(glob).test(key);

  it('* stays within a folder, ** crosses folders, ? is one character', () => {
    assert.ok(m('*.jpg', 'a.jpg'));
    assert.ok(!m('*.jpg', 'cars/a.jpg'));
    assert.ok(m('cars/*', 'cars/a.jpg'));
    assert.ok(!m('cars/*', 'cars/x/a.jpg'));
    assert.ok(m('**/*.jpg', 'a.jpg'));
    assert.ok(m('**/*.jpg', 'cars/x/y/a.jpg'));
    assert.ok(m('dogs/**', 'dogs/c.jpg'));
    assert.ok(m('dogs/**', 'dogs/x/y.png'));
    assert.ok(!m('dogs/**', 'dogsx/c.jpg'));
    assert.ok(m('a/**/b', 'a/b'));
    assert.ok(m('a/**/b', 'a/x/y/b'));
    assert.ok(m('img?.png', 'img1.png'));
    assert.ok(m('img?.png', 'img\u00e9.png'));
    assert.ok(!m('img?.png', 'img12.png'));
    assert.ok(!m('a?b', 'a/b'));
  });

  it('{a,b}, [abc], [!abc] and ranges', () => {
    assert.ok(m('*.{jpg,png}', 'x.png'));
    assert.ok(!m('*.{jpg,png}', 'x.gif'));
    assert.ok(m('{cars,dogs}/**', 'dogs/a/b.jpg'));
    assert.ok(m('[abc].txt', 'b.txt'));
    assert.ok(!m('[abc].txt', 'd.txt'));
    assert.ok(!m('[abc].txt', '[abc].txt'));
    assert.ok(m('[!abc].txt', 'd.txt'));
    assert.ok(!m('[!abc].txt', 'b.txt'));
    assert.ok(m('img[0-9].png', 'img7.png'));
  });

  it('dot files match, and key characters that mean something in a regex or elsewhere are literal', () => {
    assert.ok(m('*', '.hidden'));
    assert.ok(m('**/*.jpg', 'a/.cache/b.jpg'));
    assert.ok(m('photo (1).jpg', 'photo (1).jpg'));
    assert.ok(!m('photo (1).jpg', 'photo 1.jpg'));
    for (const k of ['a+b.jpg', '$x^.jpg', 'a|b', '!a.jpg', '+(a).jpg', 'a\\b', 'a[b', 'a]b', 'a}b', 'a,b', 'a.b']) assert.ok(m(k, k), k);
    assert.ok(!m('a.b', 'axb'));
    assert.ok(!m('*.JPG', 'a.jpg'), 'case matters, as in S3 keys');
    assert.ok(!m('*.jpg', 'a.jpg/'));
  });

  it('an unbalanced glob is an error naming the glob', () => {
    assert.throws(() => globToRegExp('{a,b'), /glob "\{a,b" is not valid/);
  });

  it('makeKeyFilter gives the reason a key is left out', () => {
    const f = makeKeyFilter(['**/*.jpg'], ['dogs/**']);
    assert.equal(f('cars/a.jpg'), undefined);
    assert.equal(f('cars/b.png'), 'not matched by include (**/*.jpg)');
    assert.equal(f('dogs/c.jpg'), 'excluded by "dogs/**"');
    assert.equal(makeKeyFilter()('anything'), undefined);
    assert.equal(makeKeyFilter(undefined, ['*.tmp'])('x.tmp'), 'excluded by "*.tmp"');
  });
});

describe('cron (croner)', () => {
  const err = (expr: string) => {
    try {
      parseCron(expr);
    } catch (e) {
      return (e as Error).message;
    }
    assert.fail(`"${expr}" was accepted`);
  };

  it('errors name the field and its allowed range', () => {
    assert.match(err('61 * * * *'), /minute field: 61 is outside 0-59/);
    assert.match(err('* 24 * * *'), /hour field: 24 is outside 0-23/);
    assert.match(err('* * 0 * *'), /day-of-month field: 0 is outside 1-31/);
    assert.match(err('* * 32 * *'), /day-of-month field: 32 is outside 1-31/);
    assert.match(err('* * * 13 *'), /month field: 13 is outside 1-12/);
    assert.match(err('* * * * 8'), /day-of-week field: 8 is outside 0-7/);
    assert.match(err('1,2,99 * * * *'), /minute field: 99 is outside 0-59/);
    assert.match(err('x * * * *'), /minute field: "x" is not valid.*0-59/);
    assert.match(err('* * * foo *'), /month field: "foo" is not valid.*1-12 or names jan-dec/);
    assert.match(err('*/0 * * * *'), /minute field: "\*\/0" is not valid/);
    assert.match(err('5-1 * * * *'), /minute field: "5-1" is not valid/);
    assert.match(err('* * *'), /five fields .* has 3/);
    assert.match(err('0 0 * * * *'), /five fields .* has 6/);
    assert.match(err('@reboot'), /unknown cron alias "@reboot"/);
  });

  it('next runs: ranges, names, steps, 7 as Sunday, aliases, day-of-month OR day-of-week', () => {
    const sat = new Date(2026, 10, 28, 12, 0); // Saturday
    const next = (expr: string, from = sat) => nextCronRun(parseCron(expr), from);
    const weekday = next('30 3 * * 1-5')!;
    assert.deepEqual([weekday.getDay(), weekday.getHours(), weekday.getMinutes()], [1, 3, 30]);
    assert.equal(next('0 0 * * 7')!.getDay(), 0);
    assert.equal(next('0 0 * * sun')!.getDay(), 0);
    assert.equal(next('0 0 1 JAN *')!.getTime(), new Date(2027, 0, 1).getTime());
    assert.equal(next('@daily')!.getTime(), new Date(2026, 10, 29).getTime());
    assert.equal(next('@hourly')!.getTime(), new Date(2026, 10, 28, 13).getTime());
    assert.equal(next('*/20 * * * *')!.getTime(), new Date(2026, 10, 28, 12, 20).getTime());
    assert.equal(next('5/20 * * * *')!.getTime(), new Date(2026, 10, 28, 12, 5).getTime(), '"5/20" is from 5, every 20');
    assert.equal(next('0 0 1 * 1')!.getTime(), new Date(2026, 10, 30).getTime(), 'Monday the 30th: either day field matches');
    assert.equal(next('0 0 29 2 *')!.getTime(), new Date(2028, 1, 29).getTime());
    assert.equal(next('0 0 30 2 *'), undefined, 'never');
  });

  it('the next run is strictly after the given time, on a whole minute', () => {
    const at = new Date(2026, 0, 1, 3, 30, 0);
    assert.equal(nextCronRun(parseCron('30 3 * * *'), at)!.getTime(), new Date(2026, 0, 2, 3, 30).getTime());
    assert.equal(nextCronRun(parseCron('* * * * *'), new Date(2026, 0, 1, 3, 29, 30, 500))!.getTime(), at.getTime());
  });
});

describe('CLI arguments (node:util parseArgs)', () => {
  const usage = (argv: string[]) => {
    try {
      parseArgs(argv);
    } catch (e) {
      assert.ok(e instanceof UsageError);
      return e.message;
    }
    assert.fail(`${argv.join(' ')} was accepted`);
  };

  it('options, repeated --step, short flags and positionals', () => {
    const a = parseArgs(['run', 'p.pipeline.json', '--step', 'a', '--json', '--step', 'b', '-q', '-v', '--dry-run', '--concurrency', '8', '--limit', '5']);
    assert.equal(a.command, 'run');
    assert.equal(a.file, 'p.pipeline.json');
    assert.deepEqual(a.steps, ['a', 'b']);
    assert.deepEqual([a.json, a.quiet, a.verbose, a.dryRun, a.concurrency, a.limit], [true, true, true, true, 8, 5]);
    const s = parseArgs(['serve', 'a', 'b', '--port', '0', '--host', '::1', '--no-schedule']);
    assert.deepEqual([s.command, s.files, s.port, s.host, s.schedule], ['serve', ['a', 'b'], 0, '::1', false]);
    const d = parseArgs(['validate', 'f']);
    assert.deepEqual([d.json, d.quiet, d.steps, d.schedule, d.concurrency], [false, false, [], true, undefined]);
    assert.equal(parseArgs(['run', '-h']).command, 'help');
    assert.equal(parseArgs(['--help']).command, 'help');
    assert.equal(parseArgs([]).command, undefined);
    assert.deepEqual(parseArgs(['run', 'f', '--step', '--json']).steps, ['--json'], 'a value may start with a dash');
  });

  it('errors say what is wrong', () => {
    assert.equal(usage(['run', 'f', '--frobnicate']), 'unknown option --frobnicate');
    assert.equal(usage(['run', 'f', '-x']), 'unknown option -x');
    assert.equal(usage(['run', 'f', '--frob=1']), 'unknown option --frob=1');
    assert.equal(usage(['run', 'f', '--step']), '--step needs a value');
    assert.equal(usage(['run', 'f', '--concurrency', 'lots']), '--concurrency takes a whole number from 1 to 512');
    assert.equal(usage(['run', 'f', '--concurrency', '0']), '--concurrency takes a whole number from 1 to 512');
    assert.equal(usage(['serve', '--port', '70000']), '--port takes a port number');
    assert.equal(usage(['run', 'f', '--frob', '--step']), 'unknown option --frob', 'the first problem is reported');
  });
});
