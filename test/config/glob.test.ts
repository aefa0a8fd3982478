import assert from 'node:assert/strict';
import { braceExpansionsMax, expandBraces, globFiles, segmentToRegExp } from '../../src/config/glob';
import { memoryFs } from '../support/memory-fs';

describe('include patterns', () => {
  it('expands csh braces, nested, and keeps a lone brace literal', () => {
    assert.deepEqual(expandBraces('a{b,c{d,e}}f').sort(), ['abf', 'acdf', 'acef']);
    assert.deepEqual(expandBraces('x{y}z'), ['x{y}z']);
    assert.deepEqual(expandBraces('plain'), ['plain']);
  });

  it('bounds brace expansion', () => {
    const huge = '{a,b}'.repeat(20);
    assert.ok(expandBraces(huge).length <= braceExpansionsMax + 2);
  });

  it('matches *, ? and [...] within one path segment', () => {
    assert.ok(segmentToRegExp('*.conf').test('10-vrrp.conf'));
    assert.ok(!segmentToRegExp('*.conf').test('a/b.conf'));
    assert.ok(segmentToRegExp('v?.conf').test('v1.conf'));
    assert.ok(segmentToRegExp('[ab].conf').test('b.conf'));
    assert.ok(!segmentToRegExp('[!ab].conf').test('a.conf'));
  });

  const fs = memoryFs({
    '/etc/h/main.conf': '',
    '/etc/h/conf.d/20-b.conf': '',
    '/etc/h/conf.d/10-a.conf': '',
    '/etc/h/conf.d/.hidden.conf': '',
    '/etc/h/conf.d/notes.txt': '',
    '/etc/h/sub/x/one.conf': '',
  });

  it('finds files relative to the base directory, sorted, skipping hidden ones', () => {
    assert.deepEqual(globFiles(fs, '/etc/h', 'conf.d/*.conf'), ['/etc/h/conf.d/10-a.conf', '/etc/h/conf.d/20-b.conf']);
    assert.deepEqual(globFiles(fs, '/etc/h', 'conf.d/.*.conf'), ['/etc/h/conf.d/.hidden.conf']);
    assert.deepEqual(globFiles(fs, '/etc/h', 'sub/*/one.conf'), ['/etc/h/sub/x/one.conf']);
    assert.deepEqual(globFiles(fs, '/', '/etc/h/{main.conf,conf.d/10-a.conf}'), ['/etc/h/conf.d/10-a.conf', '/etc/h/main.conf']);
  });

  it('returns nothing for a pattern or a plain path that matches nothing', () => {
    assert.deepEqual(globFiles(fs, '/etc/h', 'missing/*.conf'), []);
    assert.deepEqual(globFiles(fs, '/etc/h', 'none.conf'), []);
  });
});
