import type { ReportCase, TestReport } from './model.js';

// Characters XML 1.0 cannot carry at all; they are dropped rather than breaking the file.
const INVALID_XML = /[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

export function escapeXml(s: string): string {
  return s
    .replace(INVALID_XML, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

const secs = (ms: number) => (ms / 1000).toFixed(3);

/** Name of a case in JUnit: unique within its suite and readable in CI listings. */
export function caseName(c: ReportCase): string {
  return c.kind === 'command' ? `line ${c.line}: ${c.test}` : `event: ${c.test}`;
}

/**
 * JUnit XML: one `<testsuite>` per script, one `<testcase>` per command line and per expected
 * event; classname `<script>.<peer>` so CI tools group by peer.
 */
export function toJUnit(report: TestReport): string {
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  out.push(
    `<testsuites name="isopeer test" tests="${report.cases}" failures="${report.failures}" errors="0" time="${secs(report.durationMs)}">`,
  );
  for (const s of report.scripts) {
    out.push(
      `  <testsuite name="${escapeXml(s.name)}" tests="${s.cases.length}" failures="${s.failures}" errors="0" skipped="${s.cancelled}" time="${secs(s.durationMs)}" timestamp="${new Date(s.startedAt).toISOString()}">`,
    );
    out.push('    <properties>');
    out.push(`      <property name="runId" value="${escapeXml(s.runId)}"/>`);
    if (s.file) out.push(`      <property name="file" value="${escapeXml(s.file)}"/>`);
    out.push(`      <property name="lineDeadlineMs" value="${s.lineDeadlineMs}"/>`);
    out.push('    </properties>');
    for (const c of s.cases) {
      const attrs = `classname="${escapeXml(`${s.name}.${c.peer}`)}" name="${escapeXml(caseName(c))}" time="${secs(c.durationMs ?? 0)}"`;
      if (c.status === 'OK') {
        out.push(`    <testcase ${attrs}/>`);
        continue;
      }
      const message = c.comment ? `${c.result}: ${c.comment}` : c.result;
      if (c.status === 'CANCELLED') {
        out.push(`    <testcase ${attrs}>`);
        out.push(`      <skipped message="${escapeXml(`cancelled: ${message}`)}"/>`);
        out.push('    </testcase>');
        continue;
      }
      out.push(`    <testcase ${attrs}>`);
      out.push(
        `      <failure type="FAILED" message="${escapeXml(message)}">${escapeXml(`${c.peer} ${c.test}\n${message}`)}</failure>`,
      );
      const log = s.peerLogs?.[c.peer];
      if (log)
        out.push(
          `      <system-out>${escapeXml(`last lines of ${c.peer}'s output:\n${log}`)}</system-out>`,
        );
      out.push('    </testcase>');
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return `${out.join('\n')}\n`;
}
