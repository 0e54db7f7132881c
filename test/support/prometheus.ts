/**
 * A strict reader of the Prometheus text exposition format (0.0.4): every line must be a HELP/TYPE
 * comment or a sample `name{label="value",…} number [timestamp]`, TYPE must precede its samples and
 * name a known type. Returns the samples so tests can assert on them.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SAMPLE = new RegExp(`^(${NAME})(\\{(.*)\\})? (\\S+)( -?\\d+)?$`);
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/y;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  const typed = new Map<string, string>();
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (line === '') return;
    const where = `line ${i + 1}: ${line.slice(0, 80)}`;
    if (line.startsWith('# HELP ')) {
      if (!new RegExp(`^# HELP ${NAME} `).test(line)) throw new Error(`bad HELP, ${where}`);
      return;
    }
    if (line.startsWith('# TYPE ')) {
      const m = new RegExp(`^# TYPE (${NAME}) (\\w+)$`).exec(line);
      if (!m || !TYPES.has(m[2]!)) throw new Error(`bad TYPE, ${where}`);
      if (typed.has(m[1]!)) throw new Error(`TYPE given twice, ${where}`);
      typed.set(m[1]!, m[2]!);
      return;
    }
    if (line.startsWith('#')) return;
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`bad sample, ${where}`);
    const name = m[1]!;
    const family = [...typed.keys()].find(
      (f) => name === f || /^(_bucket|_sum|_count|_total|_created)$/.test(name.slice(f.length)),
    );
    if (!family) throw new Error(`sample before its TYPE, ${where}`);
    const labels: Record<string, string> = {};
    if (m[3]) {
      LABEL.lastIndex = 0;
      let pos = 0;
      while (pos < m[3].length) {
        LABEL.lastIndex = pos;
        const lm = LABEL.exec(m[3]);
        if (!lm) throw new Error(`bad labels, ${where}`);
        labels[lm[1]!] = lm[2]!;
        pos = LABEL.lastIndex;
      }
    }
    const raw = m[4]!;
    const value =
      raw === '+Inf' ? Number.POSITIVE_INFINITY : raw === '-Inf' ? Number.NEGATIVE_INFINITY : Number(raw);
    if (Number.isNaN(value) && raw !== 'NaN') throw new Error(`bad value, ${where}`);
    samples.push({ name, labels, value });
  });
  return samples;
}
