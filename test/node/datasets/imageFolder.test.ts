// Image folders: classes sorted as Python sorts them, bad files listed with reasons, empty classes reported.
import { describe, expect, it } from 'vitest';
import { classCounts, compareCodePoints, listImageFolder } from '../../../src/io/datasets';
import { XSS, catchDatasetError } from './helpers';

describe('listImageFolder', () => {
  it('labels by sorted class folder and lists items by path', () => {
    const f = listImageFolder(['pets/dog/b.jpg', 'pets/cat/001.png', 'pets/dog/a.JPEG', 'pets/bird/x.webp', 'pets/cat/002.gif', 'pets/dog/c.bmp']);
    expect(f.root).toBe('pets');
    expect(f.classes).toEqual(['bird', 'cat', 'dog']);
    expect(f.items).toEqual([
      { path: 'pets/bird/x.webp', label: 0 },
      { path: 'pets/cat/001.png', label: 1 },
      { path: 'pets/cat/002.gif', label: 1 },
      { path: 'pets/dog/a.JPEG', label: 2 },
      { path: 'pets/dog/b.jpg', label: 2 },
      { path: 'pets/dog/c.bmp', label: 2 },
    ]);
    expect(classCounts(f)).toEqual([1, 2, 3]);
    expect(f.rejected).toEqual([]);
    expect(f.emptyClasses).toEqual([]);
  });

  it('rejects top-level, nested, non-image, SVG, hidden, duplicate and foreign-root files with reasons', () => {
    const f = listImageFolder([
      'r/a/1.png',
      'r/readme.txt',
      'r/b/sub/2.png',
      'r/b/3.svg',
      'r/b/notes.txt',
      'r/b/.DS_Store',
      'r/b/noext',
      'r/b/4.jpg',
      'r/a/1.png',
      'other/a/5.png',
      'r/empty/thumbs.db',
    ]);
    expect(f.classes).toEqual(['a', 'b']);
    expect(f.items.map((i) => i.path)).toEqual(['r/a/1.png', 'r/b/4.jpg']);
    const reasons = Object.fromEntries(f.rejected.map((r) => [r.file, r.reason]));
    expect(Object.keys(reasons)).toHaveLength(9);
    expect(reasons['r/readme.txt']).toMatch(/top level/);
    expect(reasons['r/b/sub/2.png']).toMatch(/nested/);
    expect(reasons['r/b/3.svg']).toMatch(/SVG/);
    expect(reasons['r/b/notes.txt']).toMatch(/not an image extension \(\.txt\)/);
    expect(reasons['r/b/.DS_Store']).toBe('hidden file');
    expect(reasons['r/b/noext']).toMatch(/\(none\)/);
    expect(reasons['r/a/1.png']).toBe('listed twice');
    expect(reasons['other/a/5.png']).toMatch(/outside the root folder "r"/);
    expect(f.emptyClasses).toEqual(['empty']);
    expect(f.rejected.filter((r) => r.file === 'r/a/1.png')).toHaveLength(1);
  });

  it('normalises backslashes and ./ prefixes', () => {
    const f = listImageFolder(['.\\d\\x\\1.png', './d/y/2.png']);
    expect(f.items.map((i) => i.path)).toEqual(['d/x/1.png', 'd/y/2.png']);
  });

  it('sorts classes by code point like Python sorted(), not by locale or UTF-16 units', () => {
    const names = ['b', 'B', 'a', '_x', '10', '9', 'é', '\u{1F600}', '\uFF5E'];
    const f = listImageFolder(names.map((n) => `r/${n}/i.png`));
    // Python: sorted(['b','B','a','_x','10','9','é','😀','～']) == ['10','9','B','_x','a','b','é','～','😀']
    expect(f.classes).toEqual(['10', '9', 'B', '_x', 'a', 'b', 'é', '\uFF5E', '\u{1F600}']);
    expect(['\u{1F600}', '\uFF5E'].sort()).toEqual(['\u{1F600}', '\uFF5E']); // what plain JS sort would do
    expect(compareCodePoints('ab', 'a')).toBeGreaterThan(0);
    expect(compareCodePoints('a', 'a')).toBe(0);
  });

  it('needs at least 2 classes with images, reporting empty ones', () => {
    const e = catchDatasetError(() => listImageFolder(['r/a/1.png', 'r/b/readme.md']));
    expect(e.code).toBe('DATA_IMAGE');
    expect(e.message).toContain('1 class folder(s)');
    expect(e.message).toContain('without usable images: b');
    expect(catchDatasetError(() => listImageFolder([])).code).toBe('DATA_IMAGE');
    expect(catchDatasetError(() => listImageFolder(['r/x.png', 'r/y.png'])).code).toBe('DATA_IMAGE');
  });

  it('keeps script-looking folder and file names as plain strings', () => {
    const script = '<script>alert(1)<script>'; // a folder name cannot contain '/'
    const paths = [`r/${script}/${XSS[1]}.png`, `r/${XSS[1]}/${script}.png`];
    const f = listImageFolder(paths);
    expect(f.classes).toEqual([XSS[1], script]);
    expect(f.items).toEqual([
      { path: paths[1], label: 0 },
      { path: paths[0], label: 1 },
    ]);
  });
});
