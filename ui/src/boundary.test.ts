// The window's boundary rules (style.md), checked over the source text: only src/lib/backend/
// talks to Tauri, so the rest runs in a plain browser on the fake; nothing loads remote content.
import { describe, expect, it } from 'vitest';

const files = import.meta.glob(['./**/*.ts', './**/*.svelte', './**/*.css', '../index.html', '!./**/*.test.ts'], {
  query: '?raw',
  import: 'default',
  eager: true,
}) as Record<string, string>;

describe('boundary', () => {
  it('sees the sources', () => {
    expect(Object.keys(files)).toEqual(expect.arrayContaining(['./App.svelte', './lib/backend/tauri.ts', '../index.html']));
  });

  it('imports @tauri-apps only inside src/lib/backend/', () => {
    const offenders = Object.entries(files)
      .filter(([path, text]) => !path.startsWith('./lib/backend/') && /from\s+['"]@tauri-apps\//.test(text))
      .map(([path]) => path);
    expect(offenders).toEqual([]);
  });

  it('loads nothing remote (no CDN, no web fonts)', () => {
    const remote = Object.entries(files)
      .filter(([, text]) => /(src|href)=["']https?:|@import\s+url\(|url\(["']?https?:/.test(text))
      .map(([path]) => path);
    expect(remote).toEqual([]);
  });
});
