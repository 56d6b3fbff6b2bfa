import { asCodeChange, parseUnifiedDiff } from './unified-diff';

const GIT = `diff --git a/src/a.ts b/src/a.ts
index 1111111..2222222 100644
--- a/src/a.ts
+++ b/src/a.ts
@@ -1,3 +1,4 @@
 const a = 1;
-const b = 2;
+const b = 3;
+const c = 4;
 export { a };
diff --git a/new.md b/new.md
new file mode 100644
--- /dev/null
+++ b/new.md
@@ -0,0 +1,2 @@
+# Title
+text
\\ No newline at end of file
diff --git a/old.txt b/old.txt
deleted file mode 100644
--- a/old.txt
+++ /dev/null
@@ -1 +0,0 @@
-gone
`;

describe('parseUnifiedDiff', () => {
  it('splits a git diff per file with counts and line numbers', () => {
    const files = parseUnifiedDiff(GIT);
    expect(files.map((f) => [f.path, f.additions, f.deletions])).toEqual([
      ['src/a.ts', 2, 1],
      ['new.md', 2, 0],
      ['old.txt', 0, 1],
    ]);
    const a = files[0]!;
    expect(a.lines.filter((l) => l.kind === 'hunk')).toHaveLength(1);
    expect(a.lines.find((l) => l.kind === 'del')).toEqual({ kind: 'del', text: 'const b = 2;', oldNo: 2 });
    expect(a.lines.filter((l) => l.kind === 'add').map((l) => l.newNo)).toEqual([2, 3]);
    expect(a.lines.at(-1)).toEqual({ kind: 'context', text: 'export { a };', oldNo: 3, newNo: 4 });
    expect(files[1]!.oldPath).toBeNull();
    expect(files[1]!.lines.at(-1)!.kind).toBe('meta');
    expect(files[2]!.newPath).toBeNull();
  });

  it('reads plain diff -u output (no diff --git header) and CRLF', () => {
    const files = parseUnifiedDiff('--- x.txt\t2020-01-01\r\n+++ x.txt\t2020-01-02\r\n@@ -1 +1 @@\r\n-a\r\n+b\r\n--- y.txt\n+++ y.txt\n@@ -1 +1,2 @@\n y\n+z\n');
    expect(files.map((f) => [f.path, f.additions, f.deletions])).toEqual([
      ['x.txt', 1, 1],
      ['y.txt', 1, 0],
    ]);
  });

  it('treats a removed line that looks like a header inside a hunk as a deletion', () => {
    const files = parseUnifiedDiff('--- a/f\n+++ b/f\n@@ -1,2 +1,1 @@\n--- not a header\n+++ b/f\n');
    expect(files).toHaveLength(1);
    expect(files[0]!.deletions).toBe(1);
    expect(files[0]!.additions).toBe(1);
  });

  it('returns nothing for an empty diff', () => {
    expect(parseUnifiedDiff('')).toEqual([]);
  });
});

describe('asCodeChange', () => {
  it('accepts the code-change shape and rejects others', () => {
    expect(asCodeChange({ summary: 's', files: [{ path: 'a', change: 'added' }, { nope: 1 }], diff: '' })).toEqual({ summary: 's', files: [{ path: 'a', change: 'added' }], diff: '' });
    expect(asCodeChange({ text: 'x' })).toBeNull();
    expect(asCodeChange(null)).toBeNull();
  });
});
